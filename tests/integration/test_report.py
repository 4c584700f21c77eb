"""The executive summary: JSON findings against planted truth and noise, every format and
language, escaping of data values, and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mci.datagen import generate
from mci.ingest.pipeline import ingest
from mci.ingest.progress import NoProgress
from mci.report import build_findings, build_report, render
from mci.report.render import chart_uris

KEYS = {
    "roi_differs_between_channels",
    "p_value",
    "best_roi_channel",
    "worst_roi_channel",
    "most_volatile_channel",
    "quadrant",
    "stability_ranking",
    "recommendations",
}


def _warehouse(folder: Path, profile: str, seed: int) -> tuple[str, dict[str, Any]]:
    export = folder / f"{profile}.csv"
    truth = generate(export, rows=25_000, seed=seed, profile=profile, dirty=0.01)
    url = f"duckdb:///{folder / f'{profile}.duckdb'}"
    ingest([export], url, progress=NoProgress())
    return url, truth


@pytest.fixture(scope="module", params=[(7, "planted"), (8, "planted")], ids=["p7", "p8"])
def planted(request, tmp_path_factory):
    seed, profile = request.param
    return _warehouse(tmp_path_factory.mktemp("report"), profile, seed)


@pytest.fixture(scope="module", params=[7, 8], ids=["n7", "n8"])
def noise(request, tmp_path_factory):
    return _warehouse(tmp_path_factory.mktemp("report"), "noise", request.param)


def test_planted_findings_name_the_planted_channels(planted):
    url, truth = planted
    findings = build_findings(url)
    assert set(findings) >= KEYS
    assert findings["roi_differs_between_channels"] is True and findings["p_value"] < 0.05
    assert findings["best_roi_channel"] == truth["best_roi_channel"]
    assert findings["worst_roi_channel"] == truth["worst_roi_channel"]
    assert findings["most_volatile_channel"] == truth["most_volatile_channel"]
    planted_channels = {c: v["expected_quadrant"] for c, v in truth["channels"].items()}
    assert {c: findings["quadrant"][c] for c in planted_channels} == planted_channels
    assert findings["recommendations"]["recommend"] is True
    # The planted new channel has a handful of rows: left out of the comparisons, and said so.
    thin = {c["channel"] for c in findings["excluded_channels"]}
    assert thin == set(truth["new_categories"]["channel"])
    quality = findings["data_quality"]["totals"]
    assert quality["rows_quarantined"] == truth["expected"]["rows_quarantined"]
    json.dumps(findings)


def test_noise_findings_name_no_channel(noise):
    url, _ = noise
    findings = build_findings(url)
    assert findings["roi_differs_between_channels"] is False and findings["p_value"] >= 0.05
    assert findings["best_roi_channel"] is None and findings["worst_roi_channel"] is None
    assert findings["most_volatile_channel"] is None
    assert findings["recommendations"]["recommend"] is False


def test_reports_say_what_the_findings_say(planted, noise):
    planted_report, noise_report = build_report(planted[0]), build_report(noise[0])
    best = planted_report.findings["best_roi_channel"]
    english = render(planted_report, "md", "en")
    assert f"Best: **{best}**" in english and "## Recommendations" in english
    quiet = render(noise_report, "md", "en")
    assert "no best or worst channel is named" in quiet and "Best:" not in quiet
    indonesian = render(noise_report, "md", "id")
    assert "Ringkasan eksekutif" in indonesian and "tidak ada kanal terbaik" in indonesian
    page = render(planted_report, "html", "id", chart_uris)
    assert page.startswith("<!doctype html>") and page.count("data:image/svg+xml;base64,") == 2


def test_html_escapes_values_from_data(planted):
    report = build_report(planted[0])
    hostile = "<script>alert(1)</script>"
    report.findings["channels"].append({**report.findings["channels"][0], "entity": hostile})
    page = render(report, "html", "en")
    assert hostile not in page and "&lt;script&gt;" in page


def test_cli_report_formats(planted, tmp_path):
    url, truth = planted
    out = tmp_path / "report.md"
    done = subprocess.run(
        [sys.executable, "-m", "mci", "report", "--db", url, "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("# Executive summary")
    as_json = subprocess.run(
        [sys.executable, "-m", "mci", "report", "--db", url, "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert json.loads(as_json.stdout)["best_roi_channel"] == truth["best_roi_channel"]

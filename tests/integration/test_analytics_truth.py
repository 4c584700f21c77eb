"""The diagnostics against planted truth, and against noise like the genuine export.

Each export (30,000 rows) is generated and loaded into DuckDB once per module and seed; the
analytics see it only through the semantic layer. Seeds 1, 2 and 3 were the first ones tried
for both profiles (not picked for passing): a 5% test on noise can fail by chance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mci.analytics import LABELS, load_quadrants, load_stability, quadrants, roi_stability
from mci.datagen import generate
from mci.ingest.pipeline import ingest
from mci.ingest.progress import NoProgress

ROWS = 30_000
SEEDS = (1, 2, 3)


def _warehouse(folder: Path, profile: str, seed: int) -> dict[str, Any]:
    export = folder / f"{profile}_{seed}.csv"
    truth = generate(export, rows=ROWS, seed=seed, profile=profile)
    url = f"duckdb:///{folder / f'{profile}_{seed}.duckdb'}"
    ingest([export], url, progress=NoProgress())
    by_entity, daily, portfolio_roi = load_quadrants(url)
    portfolio = quadrants(
        by_entity, daily, threshold="portfolio", portfolio_roi=portfolio_roi, seed=seed
    )
    return {
        "truth": truth,
        "stability": roi_stability(*load_stability(url), seed=seed),
        "quadrants": quadrants(by_entity, daily, seed=seed).set_index("entity"),
        "portfolio": portfolio.set_index("entity"),
    }


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _warehouse(tmp_path_factory.mktemp("planted"), "planted", request.param)


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def noise(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _warehouse(tmp_path_factory.mktemp("noise"), "noise", request.param)


# ---------------------------------------------------------------- planted


def test_planted_best_and_worst_roi_are_recovered(planted):
    report, truth = planted["stability"], planted["truth"]
    assert report.roi_differs and report.roi_p_value < 1e-6
    assert report.roi_kruskal_p_value < 1e-6
    assert report.best_roi == truth["best_roi_channel"]
    assert report.worst_roi == truth["worst_roi_channel"]


def test_planted_most_volatile_channel_is_recovered(planted):
    report, truth = planted["stability"], planted["truth"]
    assert report.cv_differs and report.cv_p_value < 0.01
    assert report.most_volatile == truth["most_volatile_channel"]
    table = report.table.set_index("entity")
    for name, channel in truth["channels"].items():
        # across-month CV matches what the written rows realise
        assert table.loc[name, "roi_cv_across"] == pytest.approx(
            channel["realised_roi_cv_across_months"], abs=1e-6
        )


def test_planted_roi_intervals_cover_the_realised_roi(planted):
    table = planted["stability"].table.set_index("entity")
    for name, channel in planted["truth"]["channels"].items():
        assert table.loc[name, "roi"] == pytest.approx(channel["realised_roi"], abs=1e-6)
        assert table.loc[name, "roi_low"] <= channel["realised_roi"] <= table.loc[name, "roi_high"]


def test_planted_quadrants_match_the_truth(planted):
    frame, truth = planted["quadrants"], planted["truth"]
    for name, channel in truth["channels"].items():
        assert frame.loc[name, "label"] == channel["expected_quadrant"], name
    assert set(frame["label"]) <= set(LABELS)


def test_planted_best_and_worst_differ_significantly_from_the_portfolio(planted):
    frame, truth = planted["quadrants"], planted["truth"]
    for name in (truth["best_roi_channel"], truth["worst_roi_channel"]):
        assert bool(frame.loc[name, "significant"]), name
        assert frame.loc[name, "p_adjusted"] < 1e-6


def test_planted_portfolio_threshold_sides(planted):
    frame, truth = planted["portfolio"], planted["truth"]
    assert frame.loc[truth["best_roi_channel"], "label"].endswith("High ROI")
    assert frame.loc[truth["worst_roi_channel"], "label"].endswith("Low ROI")


def test_planted_ranking_keeps_the_high_spend_half(planted):
    ranking = planted["stability"].ranking
    assert len(ranking) == 3
    assert set(ranking["entity"]) == {"Google Ads", "Facebook", "Instagram"}


# ---------------------------------------------------------------- noise


def test_noise_roi_does_not_differ_and_no_best_channel_is_named(noise):
    report = noise["stability"]
    assert not report.roi_differs, f"p = {report.roi_p_value}"
    assert report.roi_p_value > 0.05
    assert report.best_roi is None and report.worst_roi is None


def test_noise_has_no_most_volatile_channel(noise):
    report = noise["stability"]
    assert not report.cv_differs, f"p = {report.cv_p_value}"
    assert report.most_volatile is None


def test_noise_no_channel_differs_from_the_portfolio_after_holm(noise):
    for frame in (noise["quadrants"], noise["portfolio"]):
        assert not frame["significant"].any(), frame[["p_value", "p_adjusted"]]


def test_noise_still_gives_the_originals_views(noise):
    report = noise["stability"]
    assert len(report.table) == 6 and len(report.ranking) == 3
    assert report.smoothed["roi_ewma"].notna().all()

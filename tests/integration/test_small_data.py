"""Small data everywhere: an empty warehouse, one row, one day, one month, one channel.

Every report format and language, the channel diagnosis, the quality report and the
semantic layer run on each shape and engine, and say what they cannot compute instead of
failing; the dashboard's pages and the CLI report run on each shape (DuckDB).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.integration.test_semantic import HEADER, csv_line

from mci.analytics import channel_findings
from mci.ingest.pipeline import ingest
from mci.ingest.progress import NoProgress
from mci.ingest.quality import quality_report
from mci.report import build_report, render
from mci.semantic import query

START = dt.date(2021, 1, 1)
CHANNELS = ("Email", "Facebook", "YouTube")


def _lines(shape: str) -> list[str]:
    if shape == "empty":
        return []
    if shape == "one_row":
        return [csv_line(1, "Email", "2021-01-05", "$1,200.00", 120, 4000)]
    rows = []
    if shape == "one_day":
        days = [START] * 12
    elif shape == "one_month":
        days = [START + dt.timedelta(days=i % 20) for i in range(60)]
    else:  # one_channel: a year of one channel
        days = [START + dt.timedelta(days=i % 365) for i in range(400)]
    for i, day in enumerate(days, start=1):
        channel = "Email" if shape == "one_channel" else CHANNELS[i % 3]
        rows.append(
            csv_line(
                i,
                channel,
                day.isoformat(),
                f"${1000 + 7 * i:,}.00",
                100 + i % 50,
                4000,
                roi=f"{3 + (i % 7) / 10:.2f}",
            )
        )
    return rows


SHAPES = {
    "empty": "no_data",
    "one_row": "too_few_periods",
    "one_day": "too_few_periods",
    "one_month": "too_few_periods",
    "one_channel": "too_few_channels",
}


@pytest.fixture(params=list(SHAPES))
def small(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> tuple[str, str]:
    shape = request.param
    path = tmp_path / f"{shape}.csv"
    path.write_text("\n".join([HEADER, *_lines(shape)]) + "\n", encoding="utf-8")
    [result] = ingest([path], db_url, progress=NoProgress())
    assert result.rows_loaded == len(_lines(shape))
    return db_url, shape


def test_every_analysis_says_what_it_cannot_compute(small):
    url, shape = small
    found = channel_findings(url)
    assert found.status == SHAPES[shape]
    assert found.best is None and found.worst is None and not found.advice.recommend
    report = build_report(url)
    said = report.findings["channels"]["sentences"]
    assert len(said["verdict"]) == 1 and said["advice"]
    json.dumps(report.findings)
    for lang in ("en", "id"):
        for fmt in ("md", "html"):
            text = render(report, fmt, lang)
            assert " nan" not in text.lower() and "None" not in text
            if shape != "empty":  # the reason channels are not compared is in the document
                reason = report.findings["channels"]["sentences"]["verdict"][0]
                assert (reason if lang == "en" else "Kanal") in text or fmt == "html"
    quality = quality_report(url)
    assert quality.totals["rows_loaded"] == len(_lines(shape))
    frame = query(["spend", "roi", "ctr"], by=["channel"], grain="day", db=url)
    assert len(frame) == len({(line.split(",")[5], line.split(",")[-1]) for line in _lines(shape)})


@pytest.mark.parametrize("shape", list(SHAPES))
def test_cli_report_and_dashboard_pages_on_small_data(shape, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from mci.dashboard import app as app_module

    path = tmp_path / f"{shape}.csv"
    path.write_text("\n".join([HEADER, *_lines(shape)]) + "\n", encoding="utf-8")
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    ingest([path], url, progress=NoProgress())
    for fmt in ("md", "html", "json"):
        done = subprocess.run(
            [sys.executable, "-m", "mci", "report", "--db", url, "--format", fmt],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    monkeypatch.setenv("MCI_DB_URL", url)
    at = AppTest.from_file(str(Path(app_module.__file__)), default_timeout=60).run()
    assert not at.exception
    if shape == "empty":  # an empty warehouse gets one page: how to load data
        assert any("mci ingest" in m.value for m in at.info)
        return
    for page in ("overview.py", "channels.py", "trends.py", "monthly.py", "quality.py"):
        at.switch_page(f"views/{page}").run()
        assert not at.exception, (page, at.exception)

"""Two processes at one warehouse: a second writer waits for the lock, and the dashboard keeps
serving the last committed data while a 2,000,000-row load is written."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from mci.datagen import generate
from mci.ingest.pipeline import ingest
from mci.ingest.progress import NoProgress
from mci.semantic import query
from mci.warehouse.connection import WarehouseBusy, connect

HOLD = (
    "import sys, time\n"
    "from mci.warehouse.connection import connect\n"
    "wh = connect(sys.argv[1])\n"
    "print('holding', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
)


def _hold(url: str, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, url, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_second_writer_waits_for_the_lock_and_says_so(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    connect(url).close()
    holder = _hold(url, 2.0)
    try:
        with pytest.raises(WarehouseBusy, match=r"locked by another process \(PID \d+\)"):
            connect(url)
        told: list[str] = []
        started = time.monotonic()
        with connect(url, wait=30, on_wait=told.append):
            waited = time.monotonic() - started
        assert 0.5 < waited < 10 and len(told) == 1 and "waiting up to 30 s" in told[0]
    finally:
        holder.wait()
    holder = _hold(url, 5.0)
    try:
        with pytest.raises(WarehouseBusy, match=r"waited 0\.5 s"):
            connect(url, wait=0.5)
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_the_dashboard_serves_committed_data_while_a_big_load_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from mci.dashboard import app as app_module
    from mci.dashboard.format import fmt

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    first, big = tmp_path / "first.csv", tmp_path / "big.csv"
    generate(first, rows=20_000, seed=1)
    generate(big, rows=2_000_000, seed=2, start=__import__("datetime").date(2022, 1, 1))
    ingest([first], url, progress=NoProgress())
    before = fmt("spend", query(["spend"], db=url)["spend"].iloc[0])

    monkeypatch.setenv("MCI_DB_URL", url)
    at = AppTest.from_file(str(Path(app_module.__file__)), default_timeout=60).run()
    assert not at.exception

    def spend_tile() -> str:
        return next(m.value for m in at.metric if m.label == "Spend")

    assert spend_tile() == before
    load = subprocess.Popen(
        [sys.executable, "-m", "mci", "ingest", str(big), "--db", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen, refreshing = set(), 0
    while load.poll() is None:
        at.run()
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        refreshing += any("Refreshing" in e.value for e in at.info)
        if at.metric:
            seen.add(spend_tile())
        time.sleep(0.2)
    assert load.returncode == 0, load.stderr.read()
    assert refreshing > 0  # the load held the lock while the page was driven
    after = fmt("spend", query(["spend"], db=url)["spend"].iloc[0])
    at.button[0].click().run()  # Clear filters: the date range now spans both loads
    assert not at.exception and spend_tile() == after != before
    assert seen <= {before, after}  # never a partial state


def test_mci_ingest_waits_for_a_writer_and_says_so(tmp_path: Path) -> None:
    export = tmp_path / "e.csv"
    generate(export, rows=2_000, seed=4)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    connect(url).close()
    holder = _hold(url, 2.0)
    try:
        quick = subprocess.run(
            [sys.executable, "-m", "mci", "ingest", str(export), "--db", url, "--wait", "0"],
            capture_output=True,
            text=True,
        )
        assert quick.returncode == 1 and "locked by another process" in quick.stderr
        waited = subprocess.run(
            [sys.executable, "-m", "mci", "ingest", str(export), "--db", url, "--wait", "60"],
            capture_output=True,
            text=True,
        )
    finally:
        holder.wait()
    assert waited.returncode == 0, waited.stderr
    assert "waiting:" in waited.stderr and "locked by another process" in waited.stderr
    assert "2,000 loaded" in waited.stdout

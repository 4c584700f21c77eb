"""A load is one transaction: killed with SIGKILL part-way, the warehouse stays as it was."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import ENGINES, url_for
from tests.support.warehouse import snapshot

from mci.ingest.pipeline import ingest
from mci.ingest.progress import NoProgress
from mci.warehouse import connect

COUNTED = ("load_log", "raw_campaign_rows", "campaign_performance", "quarantine")


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mci.datagen import generate

    path = tmp_path_factory.mktemp("big") / "big.csv"
    generate(path, rows=300_000, seed=21, dirty=0.01)
    return path


def counts(url: str) -> dict[str, int]:
    with connect(url, read_only=True) as wh:
        return {t: int(wh.scalar(f"SELECT count(*) FROM {t}")) for t in COUNTED}


def run_ingest(path: Path, url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mci", "ingest", str(path), "--db", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_sigkill_part_way_leaves_the_previous_state(engine, request, tmp_path, big_export, sample):
    # The timing run starts from the victim's state (the sample loaded), so that a load which
    # finishes before its kill can be compared whole: some of its ids clash with the sample's.
    timing_url = url_for(engine, request, tmp_path, "timing")
    ingest([sample], timing_url, progress=NoProgress())
    started = time.monotonic()
    assert run_ingest(big_export, timing_url).wait() == 0
    full_run = time.monotonic() - started
    complete = counts(timing_url)

    url = url_for(engine, request, tmp_path, "victim")
    ingest([sample], url, progress=NoProgress())
    before = snapshot(url)
    before_counts = counts(url)

    killed_mid_way = 0
    for fraction in (0.15, 0.35, 0.55, 0.75):
        process = run_ingest(big_export, url)
        time.sleep(full_run * fraction)
        if process.poll() is None:
            process.kill()
            killed_mid_way += 1
        process.wait()
        now = counts(url)
        if now == before_counts:
            assert snapshot(url) == before
        else:  # it finished before the kill: then it is whole, never partial
            assert now == complete
            break
    assert killed_mid_way >= 2, "the load finished before it could be killed part-way"

    result = subprocess.run(
        [sys.executable, "-m", "mci", "ingest", str(big_export), "--db", url, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"status": "loaded"' in result.stdout or '"status": "unchanged"' in result.stdout
    assert counts(url) == complete


def _scratch_bytes(root: Path) -> int:
    """Bytes in the files under ``root`` (0 while no scratch file holds data yet)."""
    total = 0
    for path in root.rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except FileNotFoundError:  # removed meanwhile
            continue
    return total


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_killed_load_leaves_no_scratch_folder_behind_the_next_ingest(
    engine, request, tmp_path, big_export, sample
):
    # SQLite and PostgreSQL loads process in a scratch DuckDB; SIGKILL cannot remove it, so
    # the next ingest must. TMPDIR keeps this test's scratch folders apart from others'.
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch_root)}
    url = url_for(engine, request, tmp_path, "killed")
    ingest([sample], url, progress=NoProgress())
    before = snapshot(url)
    process = subprocess.Popen(
        [sys.executable, "-m", "mci", "ingest", str(big_export), "--db", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if _scratch_bytes(scratch_root) > 1 << 20:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the load ended before its scratch folder held data"
    process.kill()
    process.wait()
    assert _scratch_bytes(scratch_root) > 1 << 20  # what the kill left behind
    assert snapshot(url) == before

    done = subprocess.run(
        [sys.executable, "-m", "mci", "ingest", str(sample), "--db", url],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert list(scratch_root.iterdir()) == []
    assert snapshot(url) == before  # the sample was loaded already: nothing to do

"""Scratch folders: locked while their load runs, swept once their owner is gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mci.ingest.scratch import LOCK_NAME, PREFIX, scratch_folder, sweep_stale


def test_a_folder_in_use_survives_a_sweep_and_goes_when_its_block_ends(tmp_path: Path) -> None:
    with scratch_folder("test", parent=tmp_path) as folder:
        (folder / "data").write_bytes(b"x" * 1000)
        assert (folder / LOCK_NAME).is_file()
        assert sweep_stale(tmp_path) == []
        assert (folder / "data").exists()
    assert not folder.exists()


def test_the_folder_of_a_killed_process_is_swept(tmp_path: Path) -> None:
    # A child creates a folder and is killed (os._exit skips every cleanup, as SIGKILL does).
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from mci.ingest.scratch import scratch_folder\n"
        "with scratch_folder('killed', parent=Path(sys.argv[1])) as folder:\n"
        "    (folder / 'scratch.duckdb').write_bytes(b'x' * 4096)\n"
        "    os._exit(9)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False)
    assert done.returncode == 9
    [left] = list(tmp_path.glob(f"{PREFIX}killed-*"))
    assert (left / "scratch.duckdb").exists()
    assert sweep_stale(tmp_path) == [left]
    assert not left.exists()


def test_folders_that_are_not_scratch_folders_are_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "mci-ingest-older-version"
    other.mkdir()
    unlocked = tmp_path / f"{PREFIX}being-created"
    unlocked.mkdir()  # no lock file yet, and young: its creator may be about to lock it
    assert sweep_stale(tmp_path) == []
    assert other.exists() and unlocked.exists()
    old = 1_000_000_000
    os.utime(unlocked, (old, old))  # an unlocked folder from 2001: abandoned
    assert sweep_stale(tmp_path) == [unlocked]

"""Scratch folders of a load, and sweeping away those that a killed load left behind.

A load writes scratch files (a scratch DuckDB for SQLite and PostgreSQL, big files' records,
Parquet rows as CSV, re-encoded text) into a folder of the system's temporary directory. A
process killed with SIGKILL cannot remove its folder, so every folder carries a lock file
that its owner holds locked (``flock``) for the folder's whole life: the kernel releases the
lock when the owner dies, however it dies. :func:`sweep_stale`, run at the start of every
ingest, removes the folders whose lock nobody holds. The lock file appears in the folder
already locked (it is created and locked under another name, then renamed), so a folder being
created is never mistaken for an abandoned one.

Example:
    >>> parent = Path(tempfile.mkdtemp())
    >>> with scratch_folder("doc", parent) as folder:
    ...     _ = (folder / "x").write_text("scratch")
    ...     sweep_stale(parent), folder.exists()  # in use: left alone
    ([], True)
    >>> folder.exists()
    False
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PREFIX = "mci-scratch-"
LOCK_NAME = ".owner.lock"
_NEW_LOCK_NAME = ".owner.lock.new"
# A folder without a lock file (its owner died between creating it and locking it, a matter
# of microseconds) is swept once it is this old.
UNLOCKED_GRACE_SECONDS = 3600


@contextlib.contextmanager
def scratch_folder(kind: str, parent: Path | None = None) -> Iterator[Path]:
    """A new scratch folder, locked for as long as the block runs, then removed.

    Args:
        kind: a word naming what the folder holds (part of its name).
        parent: where to create it; the system's temporary directory by default.

    Yields:
        The folder.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-", dir=parent))
    descriptor = -1
    try:
        descriptor = os.open(folder / _NEW_LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(descriptor, str(os.getpid()).encode())
        os.rename(folder / _NEW_LOCK_NAME, folder / LOCK_NAME)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if descriptor >= 0:
            os.close(descriptor)


def sweep_stale(parent: Path | None = None) -> list[Path]:
    """Removes the scratch folders whose owner is gone (killed part-way through a load).

    A folder whose lock is held belongs to a load still running and is left alone.

    Args:
        parent: the directory to sweep; the system's temporary directory by default.

    Returns:
        The folders removed.
    """
    root = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = [p for p in root.glob(f"{PREFIX}*") if p.is_dir() and not p.is_symlink()]
    except OSError:
        return removed
    for folder in candidates:
        if _stale(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _stale(folder: Path) -> bool:
    """Whether nobody holds ``folder``'s lock (or it never got one and is old)."""
    try:
        descriptor = os.open(folder / LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        try:
            age = time.time() - folder.stat().st_mtime
        except OSError:
            return False
        return age > UNLOCKED_GRACE_SECONDS
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held: its load is running
        return False
    finally:
        os.close(descriptor)  # closing releases a lock taken here
    return True

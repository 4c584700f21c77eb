"""Progress of a load: a rich progress bar on a terminal, nothing elsewhere.

DuckDB reports the progress of the statement it is running (``query_progress``); a small
thread polls it while each stage runs, so long loads show a moving bar.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

STAGE_LABELS: dict[str, str] = {
    "hash": "checksum",
    "text": "re-encoding text",
    "read": "reading rows",
    "renumber": "numbering lines",
    "rejects": "malformed lines",
    "count": "counting",
    "prior": "checking earlier loads",
    "classify": "checking rows",
    "load": "loading clean rows",
    "quarantine": "quarantining faults",
    "outliers": "flagging outliers",
    "categories": "new categories",
    "publish": "writing to the warehouse",
}


class LoadProgress(Protocol):
    """What a load reports as it goes."""

    def start_file(self, name: str, size: int) -> None:
        """A new file starts (``size`` in bytes)."""

    def advance_bytes(self, count: int) -> None:
        """``count`` more bytes were checksummed."""

    def stage(self, name: str, percent: float | None = None) -> None:
        """The current stage, and how far along it is (0 to 100) when known."""

    def finish_file(self) -> None:
        """The file is done."""


class NoProgress:
    """Reports nothing."""

    live = False

    def start_file(self, name: str, size: int) -> None:
        """Does nothing."""

    def advance_bytes(self, count: int) -> None:
        """Does nothing."""

    def stage(self, name: str, percent: float | None = None) -> None:
        """Does nothing."""

    def finish_file(self) -> None:
        """Does nothing."""


class RichProgress:
    """A rich progress bar on standard error: one bar per file, labelled by stage."""

    live = True

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("[bold]{task.fields[file]}"),
            TextColumn("{task.description:<24}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task: Any = None
        self._size = 1

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start_file(self, name: str, size: int) -> None:
        """Adds a bar for the file."""
        self._size = max(size, 1)
        self._task = self._progress.add_task(STAGE_LABELS["hash"], total=self._size, file=name)

    def advance_bytes(self, count: int) -> None:
        """Moves the checksum bar."""
        self._progress.advance(self._task, count)

    def stage(self, name: str, percent: float | None = None) -> None:
        """Shows the stage and its progress."""
        completed = self._size * (percent or 0.0) / 100.0
        self._progress.update(
            self._task, description=STAGE_LABELS.get(name, name), completed=completed
        )

    def finish_file(self) -> None:
        """Completes and removes the file's bar."""
        self._progress.update(self._task, completed=self._size)
        self._progress.remove_task(self._task)


def default_progress(size: int) -> NoProgress | RichProgress:
    """A live bar when standard error is a terminal and the work is big enough to watch."""
    if sys.stderr.isatty() and size >= 8 << 20:
        return RichProgress()
    return NoProgress()


def tracked_runner(con: Any, progress: Any) -> Callable[[str, str, list[Any] | None], Any]:
    """A statement runner for :class:`mci.ingest.process.Processor` that reports progress."""
    if not getattr(progress, "live", False):

        def run_quietly(stage: str, sql: str, params: list[Any] | None) -> Any:
            return con.execute(sql, params)

        return run_quietly

    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")

    def run(stage: str, sql: str, params: list[Any] | None) -> Any:
        progress.stage(stage, 0.0)
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.1):
                percent = con.query_progress()
                if percent >= 0:
                    progress.stage(stage, percent)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            return con.execute(sql, params)
        finally:
            done.set()
            watcher.join()

    return run

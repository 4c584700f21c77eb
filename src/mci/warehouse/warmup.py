"""Starting DuckDB ahead of need, on a thread of its own.

Importing DuckDB's core and creating an instance take about 0.04 s. A command that is going
to open a writable DuckDB warehouse (``mci ingest``, ``mci demo``) starts this first thing,
so that the time overlaps loading and parsing the command line (Typer) instead of following
it: about 0.02 s less per command, since creating the instance lets other Python threads
run. :func:`mci.warehouse.connection.connect` then attaches the warehouse to that instance.

Example:
    >>> start()
    >>> con = take()
    >>> con.execute("SELECT 42").fetchall()
    [(42,)]
    >>> take() is None  # taken once
    True
"""

from __future__ import annotations

import threading
from typing import Any


class _Warmup:
    """One in-memory DuckDB instance being created on a background thread."""

    def __init__(self) -> None:
        self.connection: Any = None
        self._thread = threading.Thread(target=self._run, name="mci-duckdb-warmup", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from mci.warehouse.connection import duckdb_dbapi

        try:
            self.connection = duckdb_dbapi().connect()
        except Exception:  # the caller's own connect() reports the error
            self.connection = None

    def take(self) -> Any:
        """Waits for the instance and hands it over (``None`` if creating it failed)."""
        self._thread.join()
        connection, self.connection = self.connection, None
        return connection


_lock = threading.Lock()
_pending: _Warmup | None = None


def start() -> None:
    """Starts creating an in-memory DuckDB instance in the background (once at a time)."""
    global _pending
    with _lock:
        if _pending is None:
            _pending = _Warmup()


def take() -> Any:
    """The instance :func:`start` created, once; ``None`` if none was started or it failed."""
    global _pending
    with _lock:
        pending, _pending = _pending, None
    return pending.take() if pending is not None else None

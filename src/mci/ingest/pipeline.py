"""The load: check every file's columns, then load each one in one transaction.

Example:
    >>> import tempfile, pathlib, shutil
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> repo = pathlib.Path(__file__).resolve().parents[3]
    >>> sample = repo / "tests" / "data" / "kaggle_export_head.csv"  # the genuine export's head
    >>> result = ingest([sample], f"duckdb:///{tmp}/w.duckdb")[0]
    >>> (result.rows_read, result.rows_quarantined, result.status)
    (20, 0, 'loaded')
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mci.ingest.contract import CATEGORY_COLUMNS
from mci.ingest.errors import IngestError, plain_cause, shorten
from mci.ingest.process import LoadCounts, Processor, new_categories_json
from mci.ingest.progress import NoProgress, default_progress, tracked_runner
from mci.ingest.scratch import scratch_folder, sweep_stale
from mci.ingest.source import (
    FileScan,
    SourceLayout,
    check_encoding,
    read_layout,
    rewrite_text,
    scan_file,
)
from mci.semantic.views import apply_views
from mci.warehouse.connection import Warehouse, WarehouseError, connect, duckdb_dbapi
from mci.warehouse.dialects import DIALECTS
from mci.warehouse.schema import LOAD_TABLES, column_names, ensure_schema

MEMORY_LIMIT_ENV = "MCI_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1GB"
_FETCH_ROWS = 50_000


@dataclass
class LoadResult:
    """The outcome of loading one file.

    Attributes:
        load_id: the load's id (for an unchanged file, the id of the load that holds it).
        source: the file name.
        sha256: the file's checksum.
        rows_read: data lines read.
        rows_loaded: lines loaded into ``campaign_performance``.
        rows_quarantined: lines sent to ``quarantine``.
        rows_duplicate: exact duplicate lines dropped.
        rows_outlier: loaded lines flagged as outliers.
        status: ``loaded``, or ``unchanged`` when the same file was loaded before.
        new_categories: category values never seen before, per column (for showing: a value
            longer than 200 characters is shortened; ``load_log`` keeps it whole).
        seconds: wall time of the load.
    """

    load_id: int
    source: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_duplicate: int
    rows_outlier: int
    status: str
    new_categories: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The JSON summary printed by ``mci ingest --json``."""
        keys = (
            "load_id",
            "source",
            "sha256",
            "rows_read",
            "rows_loaded",
            "rows_quarantined",
            "rows_duplicate",
            "status",
        )
        data = asdict(self)
        return {key: data[key] for key in keys}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _configure_duckdb(con: Any) -> None:
    con.execute("SET memory_limit = ?", [os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)])
    con.execute("SET preserve_insertion_order = true")


def _previous_load(wh: Warehouse, sha256: str) -> tuple[Any, ...] | None:
    _, rows = wh.query(
        "SELECT load_id, rows_read, rows_loaded, rows_quarantined, rows_duplicate, "
        "rows_outlier FROM load_log WHERE sha256 = ? AND status = 'loaded' ORDER BY load_id",
        [sha256],
    )
    return rows[-1] if rows else None


def _unchanged(layout: SourceLayout, sha256: str, previous: tuple[Any, ...]) -> LoadResult:
    load_id, read, loaded, quarantined, duplicate, outlier = previous
    return LoadResult(
        int(load_id),
        layout.path.name,
        sha256,
        int(read),
        int(loaded),
        int(quarantined),
        int(duplicate),
        int(outlier),
        "unchanged",
    )


def _retire_previous(wh: Warehouse, sha256: str) -> None:
    """For ``--replace``: removes the rows of earlier loads of the same file."""
    _, rows = wh.query(
        "SELECT load_id FROM load_log WHERE sha256 = ? AND status = 'loaded'", [sha256]
    )
    for (load_id,) in rows:
        for table in LOAD_TABLES:
            wh.execute(f"DELETE FROM {table} WHERE load_id = ?", [load_id])  # noqa: S608
        wh.execute("UPDATE load_log SET status = 'replaced' WHERE load_id = ?", [load_id])


def _next_load_id(wh: Warehouse) -> int:
    return int(wh.scalar("SELECT coalesce(max(load_id), 0) + 1 FROM load_log"))


def _log_row(
    layout: SourceLayout,
    sha256: str,
    load_id: int,
    counts: LoadCounts,
    started: dt.datetime,
    finished: dt.datetime,
) -> dict[str, Any]:
    return {
        "load_id": load_id,
        "source": layout.path.name,
        "source_path": str(layout.path.resolve()),
        "sha256": sha256,
        "rows_read": counts.rows_read,
        "rows_loaded": counts.rows_loaded,
        "rows_quarantined": counts.rows_quarantined,
        "rows_duplicate": counts.rows_duplicate,
        "rows_outlier": counts.rows_outlier,
        "started_at": started,
        "finished_at": finished,
        "status": "loaded",
        "column_mapping": json.dumps(layout.renames, sort_keys=True) if layout.renames else None,
        "new_categories": new_categories_json(counts.new_categories),
    }


def _insert_log(wh: Warehouse, row: Mapping[str, Any]) -> None:
    columns = column_names("load_log")
    values = [row[c] for c in columns]
    if wh.engine == "sqlite":
        values = [v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v for v in values]
    marks = ", ".join("?" for _ in columns)
    wh.execute(f"INSERT INTO load_log ({', '.join(columns)}) VALUES ({marks})", values)  # noqa: S608


def _result(
    layout: SourceLayout,
    sha256: str,
    load_id: int,
    counts: LoadCounts,
    started: dt.datetime,
    finished: dt.datetime,
) -> LoadResult:
    return LoadResult(
        load_id,
        layout.path.name,
        sha256,
        counts.rows_read,
        counts.rows_loaded,
        counts.rows_quarantined,
        counts.rows_duplicate,
        counts.rows_outlier,
        "loaded",
        {column: [shorten(v) for v in values] for column, values in counts.new_categories.items()},
        (finished - started).total_seconds(),
    )


class _Hashing:
    """Hashes files, in order, on a thread of its own (hashlib releases the GIL).

    Args:
        paths: the files.
    """

    def __init__(self, paths: Sequence[Path]) -> None:
        self._paths = list(paths)
        self._done = [threading.Event() for _ in self._paths]
        self._scans: list[FileScan | BaseException | None] = [None] * len(self._paths)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mci-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for i, path in enumerate(self._paths):
            if self._stop.is_set():
                return
            try:
                self._scans[i] = scan_file(path)
            except BaseException as exc:  # handed to the thread that asks for it
                self._scans[i] = exc
            self._done[i].set()

    def result(self, index: int) -> FileScan:
        """The ``index``-th file's scan, once hashed; re-raises what hashing it raised."""
        self._done[index].wait()
        scan = self._scans[index]
        if isinstance(scan, BaseException):
            raise scan
        if scan is None:
            raise RuntimeError(f"{self._paths[index]} was never hashed")
        return scan

    def stop(self) -> None:
        """Hashes no file after the current one, and waits for that one."""
        self._stop.set()
        self._thread.join()


def _scanned(layout: SourceLayout, hashing: tuple[_Hashing, int], progress: Any) -> FileScan:
    """Waits for the file's hashing to end; its bytes count on the progress bar then."""
    hasher, index = hashing
    scan = hasher.result(index)
    progress.advance_bytes(layout.path.stat().st_size)
    return scan


@contextlib.contextmanager
def _as_csv(
    layout: SourceLayout, scan: FileScan, encoding: str = "utf-8", progress: Any = None
) -> Iterator[tuple[SourceLayout, FileScan]]:
    """The layout itself for a CSV that DuckDB reads as it is; else a temporary CSV that it does.

    Parquet rows become CSV lines (every value as text, nulls as empty fields), so one code
    path loads both and the raw store holds a line per row either way. A CSV that is not
    UTF-8 text with uniform line breaks (another encoding, a line that is not text, a lone CR,
    LF and CRLF mixed) is re-encoded as UTF-8 with LF line breaks, streaming; lines that were
    not text are listed in the scan (``bad_lines``) and quarantined as ``bad_encoding``.
    """
    if layout.format == "csv" and scan.readable_as_is(encoding):
        yield layout, scan
        return
    kind = "parquet" if layout.format == "parquet" else "text"
    with scratch_folder(kind) as folder:
        target = folder / "rows.csv"
        if layout.format == "csv":
            if progress is not None:
                progress.stage("text")
            rewritten = rewrite_text(layout.path, target, encoding)
            yield (
                dataclasses.replace(layout, path=target),
                dataclasses.replace(
                    scan,
                    line_separator=rewritten.line_separator,
                    bad_lines=rewritten.bad_lines,
                    long_lines=True,  # not measured while re-writing: allow long lines
                ),
            )
            return
        columns = ", ".join(
            f"coalesce(CAST({_quote(name)} AS VARCHAR), '') AS {_quote(name)}"
            for name in layout.header
        )
        con = duckdb_dbapi().connect()
        try:
            con.execute(
                f"COPY (SELECT {columns} FROM read_parquet(?)) TO '{_literal(str(target))}' "  # noqa: S608
                "(HEADER true, DELIMITER ',')",
                [str(layout.path)],
            )
        finally:
            con.close()
        yield dataclasses.replace(layout, path=target, format="csv"), scan_file(target)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return text.replace("'", "''")


@contextlib.contextmanager
def _transaction(wh: Warehouse, begin: str = "BEGIN") -> Iterator[Warehouse]:
    """One transaction: all of the block commits, or none of it.

    A failed rollback never hides the error that caused it: an engine may have ended the
    transaction itself (SQLite does on a full disk), or lost its connection.
    """
    wh.execute_native(begin)
    try:
        yield wh
        wh.execute_native("COMMIT")
    except BaseException:
        _rollback_quietly(wh)
        raise


def _rollback_quietly(wh: Warehouse) -> None:
    """Rolls back the open transaction, if the engine still has one; never raises."""
    if wh.engine == "sqlite" and not wh.raw.in_transaction:
        return
    with contextlib.suppress(Exception):
        wh.execute_native("ROLLBACK")


def _load_into_duckdb(
    wh: Warehouse,
    layout: SourceLayout,
    hashing: tuple[_Hashing, int],
    replace: bool,
    progress: Any,
    started: dt.datetime,
    encoding: str = "utf-8",
) -> LoadResult:
    """Loads one file into a DuckDB warehouse.

    A CSV's records start being read (in the background) before its sha256 is known, so
    the hashing overlaps the read; an unchanged file stops that read and loads nothing.
    """
    con = wh.raw
    _configure_duckdb(con)
    processor = Processor(con, tracked_runner(con, progress))
    done = False
    try:
        if layout.format == "csv":
            processor.read(layout)
        scan = _scanned(layout, hashing, progress)
        sha256 = scan.sha256
        previous = _previous_load(wh, sha256)
        if previous is not None and not replace:
            done = True
            return _unchanged(layout, sha256, previous)
        with _as_csv(layout, scan, encoding, progress) as (csv_layout, csv_scan):
            if csv_layout is not layout or csv_scan.long_lines:
                processor.read(csv_layout, csv_scan.long_lines)
            with _transaction(wh):
                if replace:
                    _retire_previous(wh, sha256)
                load_id = _next_load_id(wh)
                counts = processor.load(csv_layout, csv_scan, load_id)
                finished = _now()
                _insert_log(wh, _log_row(layout, sha256, load_id, counts, started, finished))
        done = True
    finally:
        if done:
            processor.drop_temps()
        else:
            with contextlib.suppress(Exception):  # the load's own error is the one to report
                processor.drop_temps()
    return _result(layout, sha256, load_id, counts, started, finished)


def _load_elsewhere(
    wh: Warehouse,
    layout: SourceLayout,
    hashing: tuple[_Hashing, int],
    replace: bool,
    progress: Any,
    started: dt.datetime,
    encoding: str = "utf-8",
) -> LoadResult:
    """SQLite and PostgreSQL: process in a scratch DuckDB, then publish in one transaction.

    The scratch DuckDB lives in a locked scratch folder (:mod:`mci.ingest.scratch`): removed
    at the end, or by the next ingest when this process is killed.
    """
    scan = _scanned(layout, hashing, progress)
    sha256 = scan.sha256
    previous = _previous_load(wh, sha256)
    if previous is not None and not replace:
        return _unchanged(layout, sha256, previous)
    with scratch_folder("ingest") as scratch_dir:
        con = duckdb_dbapi().connect(str(scratch_dir / "scratch.duckdb"))
        try:
            _configure_duckdb(con)
            ensure_schema(Warehouse(DIALECTS["duckdb"], wh.url, con, read_only=False))
            _copy_prior_rows(wh, con, sha256 if replace else None)
            # Process under the id the load will most likely get; publishing re-stamps it.
            scratch_id = _next_load_id(wh)
            processor = Processor(con, tracked_runner(con, progress))
            with _as_csv(layout, scan, encoding, progress) as (csv_layout, csv_scan):
                try:
                    processor.read(csv_layout, csv_scan.long_lines)
                    con.execute("BEGIN")
                    counts = processor.load(csv_layout, csv_scan, scratch_id)
                    con.execute("COMMIT")
                finally:
                    processor.stop_reading()  # the scratch connection closes with its temps
                    with contextlib.suppress(Exception):
                        processor.drop_temps()
            progress.stage("publish")
            with _exclusive(wh):
                if replace:
                    _retire_previous(wh, sha256)
                elif (raced := _previous_load(wh, sha256)) is not None:
                    return _unchanged(layout, sha256, raced)  # another run loaded it meanwhile
                load_id = _next_load_id(wh)
                for table in LOAD_TABLES:
                    _copy_table(con, wh, table, scratch_id, load_id)
                finished = _now()
                _insert_log(wh, _log_row(layout, sha256, load_id, counts, started, finished))
        finally:
            con.close()
    return _result(layout, sha256, load_id, counts, started, finished)


@contextlib.contextmanager
def _exclusive(wh: Warehouse) -> Any:
    """One transaction that keeps other loads out until it ends."""
    if wh.engine == "sqlite":
        with _transaction(wh, "BEGIN IMMEDIATE"):
            yield wh
        return
    with _transaction(wh):
        wh.execute_native("LOCK TABLE load_log IN EXCLUSIVE MODE")
        yield wh


def _copy_prior_rows(wh: Warehouse, con: Any, replaced_sha: str | None) -> None:
    """Copies the warehouse's loaded rows into the scratch DuckDB for the cross-load checks.

    Only the clean rows are needed (campaign ids and content, categories seen); rows of a
    file being replaced are left out.
    """
    columns = column_names("campaign_performance")
    exclude = ""
    params: list[Any] = []
    if replaced_sha is not None:
        exclude = (
            " WHERE load_id NOT IN (SELECT load_id FROM load_log WHERE sha256 = ? "
            "AND status = 'loaded')"
        )
        params = [replaced_sha]
    import pandas as pd

    cursor = wh.execute(
        f"SELECT {', '.join(columns)} FROM campaign_performance{exclude}",  # noqa: S608
        params,
    )
    while batch := cursor.fetchmany(_FETCH_ROWS):
        frame = pd.DataFrame([tuple(r) for r in batch], columns=columns)
        if wh.engine == "sqlite":  # SQLite hands dates and booleans back as text and 0/1
            frame["date"] = pd.to_datetime(frame["date"]).dt.date
            frame["is_outlier"] = frame["is_outlier"].astype(bool)
        con.register("_mci_prior_batch", frame)
        con.execute("INSERT INTO campaign_performance SELECT * FROM _mci_prior_batch")
        con.unregister("_mci_prior_batch")


def _copy_table(con: Any, wh: Warehouse, table: str, scratch_id: int, load_id: int) -> None:
    columns = column_names(table)
    cursor = con.execute(
        f"SELECT {', '.join(columns)} FROM {table} WHERE load_id = ? ORDER BY line_no",  # noqa: S608
        [scratch_id],
    )
    as_text = wh.engine == "sqlite"

    def rows() -> Any:
        while batch := cursor.fetchmany(_FETCH_ROWS):
            for row in batch:
                values = list(row)
                values[0] = load_id
                if as_text:
                    values = [v.isoformat() if isinstance(v, dt.date) else v for v in values]
                yield values

    wh.insert_rows(table, columns, rows())


def ingest(
    paths: Sequence[Path | str],
    db: str | None = None,
    *,
    renames: Mapping[str, str] | None = None,
    replace: bool = False,
    progress: Any = None,
    encoding: str = "utf-8",
    wait: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> list[LoadResult]:
    """Loads exports into the warehouse, one transaction per file.

    Every file's columns are checked against the contract before anything is written. A
    file loaded before (same sha256) is left alone unless ``replace`` is set. Scratch
    folders that killed loads left behind are removed first.

    Args:
        paths: ``.csv`` or ``.parquet`` exports.
        db: the database URL (``--db``); ``None`` uses ``MCI_DB_URL`` or the default.
        renames: renamed headers, file name to contract name (``--rename``).
        replace: reload files that were loaded before, replacing their rows.
        progress: a :class:`mci.ingest.progress.LoadProgress`; by default a progress bar
            when standard error is a terminal.
        encoding: the CSV files' text encoding: ``utf-8`` (the default), ``latin-1`` or
            ``cp1252`` (``--encoding``). In UTF-8, a line that is not valid UTF-8 is
            quarantined as ``bad_encoding``, its bytes kept escaped; the rest loads.
        wait: seconds to wait for another process writing to the warehouse (``--wait``);
            0 fails at once.
        on_wait: told once, in a sentence, when the load has to wait for that lock.

    Returns:
        One result per file, in order.

    Raises:
        ValueError: an encoding other than those three.
        ContractError: a file's columns do not match the contract (nothing is written).
        IngestError: a file cannot be read or loaded (the message names the file and the
            cause, the line where known); files before it stay loaded, it and the files
            after it are not.
    """
    encoding = check_encoding(encoding)
    layouts = [read_layout(Path(p), renames, encoding) for p in paths]
    sweep_stale()
    total = sum(layout.path.stat().st_size for layout in layouts)
    reporter = progress if progress is not None else default_progress(total)
    results: list[LoadResult] = []
    with contextlib.ExitStack() as stack:
        if hasattr(reporter, "__enter__"):
            stack.enter_context(reporter)
        # The files are hashed in file order on a thread of their own, starting now: the
        # first one's hashing overlaps opening the warehouse (importing DuckDB holds one core).
        hasher = _Hashing([layout.path for layout in layouts])
        stack.callback(hasher.stop)
        wh = stack.enter_context(connect(db, wait=wait, on_wait=on_wait))
        where = wh.url.redacted()
        with _errors_of(where, "preparing the warehouse", "nothing was loaded"):
            ensure_schema(wh)
        for index, layout in enumerate(layouts):
            reporter.start_file(layout.path.name, layout.path.stat().st_size)
            started = _now()
            load = _load_into_duckdb if wh.engine == "duckdb" else _load_elsewhere
            with _errors_of(layout.path, f"loading it into {where}", "nothing of it was written"):
                results.append(
                    load(wh, layout, (hasher, index), replace, reporter, started, encoding)
                )
            reporter.finish_file()
        with _errors_of(
            where, "refreshing the semantic views", "the loads are committed; run `mci views`"
        ):
            apply_views(wh)
    return results


@contextlib.contextmanager
def _errors_of(subject: Path | str, doing: str, outcome: str) -> Iterator[None]:
    """Any error of the block as an :class:`IngestError` about ``subject``, in plain words.

    The engines' and the OS's errors (a full disk, a file gone, a lost connection) reach the
    user as one sentence naming the file, the cause and ``outcome`` (what stands), never
    as a traceback; the original error stays chained for debugging.
    """
    try:
        yield
    except (IngestError, WarehouseError):
        raise
    except Exception as exc:
        cause = plain_cause(exc)
        raise IngestError(subject, f"{cause} ({doing}); {outcome}") from exc


__all__ = ["CATEGORY_COLUMNS", "LoadResult", "NoProgress", "ingest"]

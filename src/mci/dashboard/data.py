"""Cached, read-only data access for the dashboard.

Every number comes from :func:`mci.semantic.query` or the analytics. Results are cached per
database, warehouse version and filter set (``Filters.key()``, a frozen, sorted tuple): the
version is the warehouse file's size and modification time (the load log's last load on
PostgreSQL), so a load shows up at the next interaction while an unchanged warehouse is
never asked twice.

Within one script run, data access shares one read-only connection per database, opened on
first use and closed when the run ends (:func:`run_scope`): a connection held between runs
would keep ``mci ingest`` from writing to a DuckDB file.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from mci.config import parse_db_url, resolve_db_url
from mci.semantic import dimension_values as _dimension_values
from mci.semantic import query
from mci.warehouse.connection import Warehouse, WarehouseBusy, connect

if TYPE_CHECKING:
    import pandas as pd

    from mci.dashboard.filters import Filters

TTL = 300


def db_url() -> str:
    """The warehouse URL: ``MCI_DB_URL`` (set by ``mci dashboard --db``), else the default."""
    return resolve_db_url(None)


class _Run:
    """What one script run opened: connections and warehouse versions, per database."""

    def __init__(self) -> None:
        self.connections: dict[str, Warehouse] = {}
        self.versions: dict[str, tuple[Any, ...]] = {}
        self.busy: set[str] = set()


# The last version of each warehouse that was read with no load writing to it. While a load
# holds a DuckDB file's lock, no other process can open it: the dashboard then keys its caches
# on this version, so pages show the last committed data, and says it is refreshing.
_LAST_READABLE: dict[str, tuple[Any, ...]] = {}


_RUN: contextvars.ContextVar[_Run | None] = contextvars.ContextVar("mci_run", default=None)


@contextlib.contextmanager
def run_scope() -> Iterator[None]:
    """One script run: connections opened inside are shared, and closed on the way out."""
    run = _Run()
    token = _RUN.set(run)
    try:
        yield
    finally:
        _RUN.reset(token)
        for wh in run.connections.values():
            wh.close()


def _warehouse(db: str) -> Warehouse | str:
    """The run's shared read-only connection to ``db`` (opened now if needed), else ``db``."""
    run = _RUN.get()
    if run is None:
        return db
    if db not in run.connections:
        run.connections[db] = connect(db, read_only=True)
    return run.connections[db]


def version(db: str) -> tuple[Any, ...]:
    """A value that changes whenever a load changes the warehouse (once per run).

    When the file changed since it was last read and a load still holds its lock, this is
    the last readable version instead (see :func:`busy`).
    """
    run = _RUN.get()
    if run is not None and db in run.versions:
        return run.versions[db]
    parsed = parse_db_url(db)
    if parsed.engine == "postgresql":
        found = _load_log_version(db)
    else:
        path = Path(parsed.path)
        found = tuple(
            (stat.st_size, stat.st_mtime_ns)
            for stat in (_stat(path), _stat(path.with_name(path.name + ".wal")))
        )
        last = _LAST_READABLE.get(db)
        if run is not None and last is not None and found != last:
            try:
                _warehouse(db)  # the run needs this connection anyway: the caches will miss
            except WarehouseBusy:
                run.busy.add(db)
                found = last
    if run is not None:
        run.versions[db] = found
        if db not in run.busy:
            _LAST_READABLE[db] = found
    return found


def busy(db: str) -> bool:
    """Whether this run found a load writing to the warehouse (and shows the data before it)."""
    run = _RUN.get()
    return run is not None and db in run.busy


def _stat(path: Path) -> os.stat_result | Any:
    try:
        return path.stat()
    except FileNotFoundError:
        return os.stat_result((0,) * 10)


@contextlib.contextmanager
def _using(db: str) -> Iterator[Warehouse]:
    """The run's shared connection, or (outside a run) a read-only one of its own."""
    wh = _warehouse(db)
    if isinstance(wh, Warehouse):
        yield wh
        return
    with connect(db, read_only=True) as own:
        yield own


def _load_log_version(db: str) -> tuple[Any, ...]:
    with _using(db) as w:
        if not w.table_exists("load_log"):
            return ()
        return tuple(w.query("SELECT count(*), max(load_id) FROM load_log")[1][0])


def warehouse_rows(db: str) -> int | None:
    """Rows in ``campaign_performance``: None when there is no warehouse file, 0 when empty."""
    parsed = parse_db_url(db)
    if parsed.engine != "postgresql" and not Path(parsed.path).exists():
        return None
    return _warehouse_rows(db, version(db))


@st.cache_data(ttl=TTL, show_spinner=False)
def _warehouse_rows(db: str, version_key: tuple[Any, ...]) -> int:
    with _using(db) as w:
        if not w.table_exists("campaign_performance"):
            return 0
        return int(w.scalar("SELECT count(*) FROM campaign_performance") or 0)


def date_bounds(db: str) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day with data (from the semantic layer's daily campaigns)."""
    return _date_bounds(db, version(db))


@st.cache_data(ttl=TTL, show_spinner=False)
def _date_bounds(db: str, version_key: tuple[Any, ...]) -> tuple[dt.date | None, dt.date | None]:
    daily = query(["campaigns"], grain="day", db=_warehouse(db))
    if daily.empty:
        return None, None
    return daily["period"].min().date(), daily["period"].max().date()


def dimension_values(db: str, dimension: str) -> tuple[str, ...]:
    """The values of one filter dimension (all of them are read in one query)."""
    return _filter_options(db, version(db)).get(dimension, ())


@st.cache_data(ttl=TTL, show_spinner=False)
def _filter_options(db: str, version_key: tuple[Any, ...]) -> dict[str, tuple[str, ...]]:
    from mci.dashboard.filters import FILTER_DIMENSIONS

    found = _dimension_values(FILTER_DIMENSIONS, db=_warehouse(db))
    return {name: tuple(values) for name, values in found.items()}


@st.cache_data(ttl=TTL, show_spinner=False)
def _metrics(
    db: str,
    version_key: tuple[Any, ...],
    key: tuple,
    metrics: tuple[str, ...],
    by: tuple[str, ...],
    grain: str | None,
    compare: str | None,
) -> pd.DataFrame:
    selection, start, end = key
    return query(
        list(metrics),
        by=list(by),
        grain=grain,
        where={dim: list(values) for dim, values in selection},
        start=start,
        end=end,
        compare=compare,
        db=_warehouse(db),
    )


def metrics(
    db: str,
    filters: Filters,
    names: list[str] | tuple[str, ...],
    by: list[str] | tuple[str, ...] = (),
    grain: str | None = None,
    compare: str | None = None,
) -> pd.DataFrame:
    """``mci.semantic.query`` under the dashboard's filters, cached per filter set."""
    frame = _metrics(db, version(db), filters.key(), tuple(names), tuple(by), grain, compare)
    return frame.copy()


def row_count(db: str, filters: Filters) -> int:
    """Campaign rows matching the filters."""
    frame = metrics(db, filters, ["campaigns"])
    if frame.empty or frame["campaigns"].isna().all():
        return 0
    return int(frame["campaigns"].iloc[0])


@st.cache_data(ttl=TTL, show_spinner=False)
def _channels(db: str, version_key: tuple[Any, ...], key: tuple) -> dict[str, Any]:
    from mci.analytics import channel_findings

    selection, start, end = key
    where = {dim: list(values) for dim, values in selection}
    return channel_findings(_warehouse(db), where=where, start=start, end=end).to_dict()


def channels(db: str, filters: Filters) -> dict[str, Any]:
    """The channel diagnosis under the filters: the report's own findings object, as a dict.

    With no filters it is the ``channels`` section of ``mci report --format json``.
    """
    return _channels(db, version(db), filters.key())


def quality(db: str) -> dict[str, Any]:
    """The data-quality report (:func:`mci.ingest.quality.quality_report`) as plain data."""
    return _quality(db, version(db))


@st.cache_data(ttl=TTL, show_spinner=False)
def _quality(db: str, version_key: tuple[Any, ...]) -> dict[str, Any]:
    from mci.ingest.quality import quality_report

    report = quality_report(db)
    return {
        "loads": report.loads,
        "totals": report.totals,
        "quarantine_by_reason": report.quarantine_by_reason,
        "samples": report.samples,
        "outliers_by_channel": report.outliers_by_channel,
        "new_categories": report.new_categories,
    }


NO_ROWS = (
    "No campaigns match these filters. Widen the date range or remove some filters "
    "(the sidebar's Clear filters button resets them)."
)


def current() -> tuple[str, Filters]:
    """The database URL and filters that ``app.py`` set for this run."""
    from mci.dashboard.filters import Filters

    return st.session_state.get("_mci_db", db_url()), st.session_state.get(
        "_mci_current_filters", Filters()
    )


def require_rows(db: str, filters: Filters) -> bool:
    """Shows an info message and returns False when no rows match the filters."""
    if row_count(db, filters) == 0:
        st.info(NO_ROWS)
        return False
    return True

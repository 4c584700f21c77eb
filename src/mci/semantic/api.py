"""The query API: metrics by dimensions and grain, filtered, against a previous period.

Ratios are recomputed from sums at the grain asked for; filter values travel as parameters,
never as SQL text.

Example:
    >>> import tempfile, pathlib
    >>> from mci.demo import build_demo
    >>> url = build_demo(f"duckdb:///{pathlib.Path(tempfile.mkdtemp()) / 'w.duckdb'}", rows=2_000)
    >>> frame = query(["spend", "roi"], by=["channel"], db=url)
    >>> list(frame.columns)
    ['channel', 'spend', 'roi']
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mci.semantic.builder import distinct_values_sql, select_sql
from mci.semantic.compile import compile_semantic
from mci.semantic.registry import DIMENSIONS, METRICS, UnknownNameError, check_names
from mci.warehouse.connection import Warehouse, connect

if TYPE_CHECKING:
    import pandas as pd

COMPARISONS = ("previous_period",)
INTEGER_DIMENSIONS = ("duration_days",)

DateLike = dt.date | str | None


def _as_date(value: DateLike, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO date (YYYY-MM-DD)") from None


def _conditions(
    where: Mapping[str, Sequence[Any]], start: dt.date | None, end: dt.date | None, engine: str
) -> tuple[list[str], list[Any]]:
    check_names("dimension", list(where), DIMENSIONS)
    conditions: list[str] = []
    params: list[Any] = []
    for dimension, values in where.items():
        values = [values] if isinstance(values, str | int) else list(values)
        if not values:
            raise ValueError(f"the filter on {dimension} lists no values")
        if dimension in INTEGER_DIMENSIONS:
            values = [int(v) for v in values]
        conditions.append(f"{dimension} IN ({', '.join('?' for _ in values)})")
        params.extend(values)
    for bound, op in ((start, ">="), (end, "<=")):
        if bound is not None:
            conditions.append(f"date {op} ?")
            params.append(bound.isoformat() if engine == "sqlite" else bound)
    return conditions, params


def _frame(columns: list[str], rows: list[tuple[Any, ...]], metrics: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame.from_records(rows, columns=columns)
    for name in metrics:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(
            "Int64" if name == "campaigns" else "float64"
        )
    if "period" in frame:
        frame["period"] = pd.to_datetime(frame["period"])
    return frame


@contextlib.contextmanager
def _opened(db: str | Warehouse | None) -> Iterator[Warehouse]:
    """``db`` itself when it is an open warehouse (left open), else a read-only connection."""
    if isinstance(db, Warehouse):
        yield db
        return
    with connect(db, read_only=True) as wh:
        yield wh


def _run(
    wh: Warehouse,
    metrics: Sequence[str],
    by: Sequence[str],
    grain: str | None,
    where: Mapping[str, Sequence[Any]],
    start: dt.date | None,
    end: dt.date | None,
) -> pd.DataFrame:
    conditions, params = _conditions(where, start, end, wh.engine)
    sql = select_sql(metrics, by=by, grain=grain, conditions=conditions)
    columns, rows = wh.query(compile_semantic(sql, wh.dialect), params, native=True)
    return _frame(columns, rows, metrics)


def _months(day: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def previous_window(
    first: dt.date, last: dt.date, grain: str | None = None
) -> tuple[dt.date, dt.date]:
    """The window before ``[first, last]`` of equal length.

    Equal length is counted in days, except that a window of whole months (or quarters) at
    a month or quarter grain is compared with the same number of whole months before it, so
    that April to June is set against January to March, not 31 December to 31 March.

    Example:
        >>> previous_window(dt.date(2021, 4, 1), dt.date(2021, 6, 30), "month")
        (datetime.date(2021, 1, 1), datetime.date(2021, 3, 31))
        >>> previous_window(dt.date(2021, 4, 1), dt.date(2021, 6, 30))
        (datetime.date(2020, 12, 31), datetime.date(2021, 3, 31))
    """
    step = {"month": 1, "quarter": 3}.get(grain or "")
    after = last + dt.timedelta(days=1)
    if step and first.day == 1 and after.day == 1:
        months = (after.year - first.year) * 12 + after.month - first.month
        if months % step == 0 and (first.month - 1) % step == 0:
            return _months(first, -months), first - dt.timedelta(days=1)
    length = after - first
    return first - length, first - dt.timedelta(days=1)


def _compare(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    metrics: Sequence[str],
    by: Sequence[str],
    grain: str | None,
) -> pd.DataFrame:
    """Current rows beside the rows of the previous window (periods matched by position)."""
    keys = list(by)
    if grain:
        for frame in (current, previous):
            frame["period_index"] = (
                frame.groupby(keys)["period"].rank(method="first")
                if keys
                else frame["period"].rank(method="first")
            )
        keys.append("period_index")
    prior = previous.drop(columns=["period"], errors="ignore").rename(
        columns={m: f"{m}_previous" for m in metrics}
    )
    merged = current.merge(prior, on=keys, how="left") if keys else current.join(prior)
    for m in metrics:
        merged[f"{m}_delta"] = merged[m] - merged[f"{m}_previous"]
        base = merged[f"{m}_previous"].abs().astype("float64").where(lambda s: s != 0)
        merged[f"{m}_delta_pct"] = merged[f"{m}_delta"].astype("float64") / base
    ordered = [c for c in current.columns if c not in metrics and c != "period_index"]
    for m in metrics:
        ordered += [m, f"{m}_previous", f"{m}_delta", f"{m}_delta_pct"]
    return merged[ordered]


def query(
    metrics: Sequence[str],
    by: Sequence[str] = (),
    grain: str | None = None,
    where: Mapping[str, Sequence[Any]] | None = None,
    start: DateLike = None,
    end: DateLike = None,
    compare: str | None = None,
    db: str | Warehouse | None = None,
) -> pd.DataFrame:
    """Metrics from the semantic layer, as a DataFrame.

    Args:
        metrics: registry metric names (``mci metrics`` lists them).
        by: dimensions to group by.
        grain: ``day``, ``week``, ``month`` or ``quarter`` adds a ``period`` column (the
            first day of each period); ``None`` aggregates the whole range.
        where: dimension to the values to keep, e.g. ``{"channel": ["Email"]}``.
        start: first day included (ISO text or a date).
        end: last day included.
        compare: ``"previous_period"`` adds, per metric, the value over the previous window
            of equal length (see :func:`previous_window`), the delta and the relative delta
            (needs ``start`` and ``end``).
        db: the database URL (``None`` uses ``MCI_DB_URL`` or the default), or an open
            :class:`~mci.warehouse.connection.Warehouse` to reuse (it is left open).

    Returns:
        One row per period and dimension values.

    Raises:
        UnknownNameError: an unknown metric, dimension or grain (the message lists the
            valid names).
        ValueError: a bad date, an empty filter, or a comparison without its window.
    """
    metrics, by = list(metrics), list(by)
    if not metrics:
        raise UnknownNameError("give at least one metric; valid metrics: " + ", ".join(METRICS))
    first, last = _as_date(start, "start"), _as_date(end, "end")
    if first and last and first > last:
        raise ValueError(f"start {first} is after end {last}")
    if compare is not None and compare not in COMPARISONS:
        raise ValueError(f"unknown comparison {compare!r}; valid: {', '.join(COMPARISONS)}")
    with _opened(db) as wh:
        current = _run(wh, metrics, by, grain, where or {}, first, last)
        if compare is None:
            return current
        if first is None or last is None:
            raise ValueError("compare='previous_period' needs both start and end")
        prev_first, prev_last = previous_window(first, last, grain)
        previous = _run(wh, metrics, by, grain, where or {}, prev_first, prev_last)
    return _compare(current, previous, metrics, by, grain)


def dimension_values(
    dimensions: Sequence[str], db: str | Warehouse | None = None
) -> dict[str, list[str]]:
    """The distinct values of each dimension, sorted, in one query (for filter pickers).

    Args:
        dimensions: registry dimension names.
        db: the database URL, or an open warehouse to reuse.

    Returns:
        Dimension name to its values as text (NULLs left out).

    Example:
        >>> import tempfile, pathlib
        >>> from mci.demo import build_demo
        >>> url = build_demo(f"duckdb:///{pathlib.Path(tempfile.mkdtemp()) / 'w.duckdb'}", rows=500)
        >>> dimension_values(["channel", "language"], db=url)["channel"][:2]
        ['Email', 'Facebook']
    """
    dimensions = list(dimensions)
    if not dimensions:
        return {}
    sql = distinct_values_sql(dimensions)
    found: dict[str, list[str]] = {name: [] for name in dimensions}
    with _opened(db) as wh:
        _, rows = wh.query(compile_semantic(sql, wh.dialect), dimensions, native=True)
    for name, value in rows:
        found[name].append(str(value))
    return {name: sorted(values) for name, values in found.items()}

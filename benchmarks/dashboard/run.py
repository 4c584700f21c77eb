"""Dashboard benchmark: server time of each dashboard interaction, against the original's way.

Usage::

    .venv/bin/python benchmarks/dashboard/run.py [--sizes 2000000] [--repeat 5]
        [--baseline-repeat N] [--skip-baseline] [--target-ms 300] ...

The product's promise: every dashboard interaction takes at most 300 ms of server time on a
2,000,000-row warehouse. For every size N it reuses the queries benchmark's databases
(``benchmarks/out/queries_N.duckdb``, built with ``mci ingest`` of
``benchmarks/out/export_N.csv``, and ``benchmarks/out/queries_N.sqlite``, the original
pipeline's database; both are built with that benchmark's own functions when missing, and
the export with ``mci generate --rows N --seed 42``).

**mci.** The real app (``src/mci/dashboard/app.py``) is driven headless with
``streamlit.testing.v1.AppTest`` and ``MCI_DB_URL`` set to the warehouse. One session is a
fixed sequence of interactions (:data:`STEPS`), each one a script run; the server time of an
interaction is the wall time of that ``AppTest.run()`` (``time.perf_counter``): the whole
script run, data access and element building included, plus AppTest's own small overhead of
reading the elements back. Before the measured sessions, one session runs unmeasured so
that imports are done (a server has them loaded). Every measured session starts with
``st.cache_data.clear()`` and a new AppTest, so every repeat measures the same thing. After
the repeats, one more session runs with the data calls (``semantic.query``, the analytics,
the quality report, the row count, opening connections) and Streamlit's element calls
wrapped in timers, to show where the time of each interaction goes; it is not part of the
medians. After every run the app is checked: no exception, the expected page, and the
filter set in the URL.

**Baseline.** The same sequence, the original's way (``original_dashboard.py``): its SQLite
views read with ``pd.read_sql``, filtered and aggregated in pandas, for the same filter set,
twice: *re-read* reads the views on every interaction; *own cache* keeps frames as the
original's ``@st.cache_data`` on ``q(sql)`` did. Streamlit itself is not counted on that side.
Data quality has no counterpart in the original (no baseline, no ratio); Trends and the
channel filter did not exist there either and are served the cheapest way its views allow
(see ``original_dashboard.py`` and the README).

It prints one table: per interaction, the cache state, mci's median and max milliseconds,
the baseline's medians, the ratios baseline / mci, and PASS / MISS (the mci median against
the target), then where the time goes in the interactions that miss. Everything, every run
included, goes to ``benchmarks/out/dashboard_results.json``. It is a report, not a test: the
exit code is 0 even when a target is missed, and 1 only when something crashed (a database
could not be built, the app raised).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
REPO = BENCH.parent
APP = REPO / "src" / "mci" / "dashboard" / "app.py"

os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")  # AppTest's "no runtime" warnings

sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(HERE))

import original_dashboard as original  # noqa: E402

from _harness import MB, format_plain_table  # noqa: E402


def _load_queries_runner() -> ModuleType:
    """Import ``benchmarks/queries/run.py`` under its own name (this file is ``run.py`` too)."""
    spec = importlib.util.spec_from_file_location("bench_queries_run", BENCH / "queries" / "run.py")
    if spec is None or spec.loader is None:
        raise ImportError("cannot load benchmarks/queries/run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


_QUERIES = _load_queries_runner()
parse_sizes: Callable[[str], list[int]] = _QUERIES.parse_sizes
label: Callable[[int], str] = _QUERIES.label
find_mci: Callable[[str | None], str | None] = _QUERIES.find_mci
ensure_export: Callable[..., Path] = _QUERIES.ensure_export
machine_info: Callable[[], dict[str, Any]] = _QUERIES.machine_info
sha256_file: Callable[[Path], str] = _QUERIES.sha256_file
ensure_duckdb: Callable[..., dict[str, Any]] = _QUERIES.ensure_duckdb
ensure_sqlite: Callable[..., dict[str, Any]] = _QUERIES.ensure_sqlite

TARGET_MS = 300.0
RULE = "PASS when the median of the mci runs is at most the target (the max is shown, not judged)"
APP_TIMEOUT_S = 600.0

# --------------------------------------------------------------------------- the session

# Channels of the two filtered sets (values the generator always produces).
CHANNELS_1: tuple[str, ...] = ("Email", "Facebook")
CHANNELS_2: tuple[str, ...] = (*CHANNELS_1, "Google Ads")
# The date filter moves the start this many days after the first day with data.
START_OFFSET_DAYS = 90

PAGE_FILES = {
    "overview": "views/overview.py",
    "channels": "views/channels.py",
    "trends": "views/trends.py",
    "monthly": "views/monthly.py",
    "quality": "views/quality.py",
}
PAGE_TITLES = {
    "overview": "Overview",
    "channels": "Channels",
    "trends": "Trends",
    "monthly": "Monthly",
    "quality": "Data quality",
}

COLD = "cold start"
NEW = "new filter set"
NEW_GRAIN = "new grain"
CACHED = "cached"


@dataclass(frozen=True)
class Step:
    """One interaction of the session: one script run.

    Attributes:
        name: Identifier (results file).
        action: What the user does, for the table.
        page: The page shown after it (a key of :data:`PAGE_FILES`).
        cache: ``cold start``, ``new filter set``, ``new grain`` or ``cached``.
        filters: Which filter set is in force after it (``F0`` .. ``F3``).
        grain: The Trends grain after it.
        kind: ``open``, ``channel``, ``from``, ``page`` or ``grain``.
    """

    name: str
    action: str
    page: str
    cache: str
    filters: str
    grain: str = "week"
    kind: str = "page"


# F0: everything; F1: two channels; F2: F1 from day 90 on; F3: three channels, F2's dates.
STEPS: tuple[Step, ...] = (
    Step("open_overview", "open Overview (first open of a session)", "overview", COLD, "F0",
         kind="open"),
    Step("channel_filter", "Overview: channel filter -> Email, Facebook", "overview", NEW,
         "F1", kind="channel"),
    Step("date_range", "Overview: date range From -> day 90", "overview", NEW, "F2",
         kind="from"),
    Step("to_channels", "switch to Channels", "channels", NEW, "F2"),
    Step("to_trends", "switch to Trends (grain week)", "trends", NEW, "F2"),
    Step("trend_grain", "Trends: grain -> month", "trends", NEW_GRAIN, "F2", "month", "grain"),
    Step("to_monthly", "switch to Monthly", "monthly", NEW, "F2", "month"),
    Step("to_quality", "switch to Data quality", "quality", NEW, "F2", "month"),
    Step("back_overview", "back to Overview", "overview", CACHED, "F2", "month"),
    Step("back_channels", "back to Channels", "channels", CACHED, "F2", "month"),
    Step("channels_filter", "Channels: channel filter + Google Ads", "channels", NEW, "F3",
         "month", "channel"),
)  # fmt: skip


@dataclass(frozen=True)
class FilterSets:
    """The session's filter sets, from the warehouse's date range.

    Attributes:
        first: First day with data.
        last: Last day with data.
    """

    first: dt.date
    last: dt.date

    @property
    def start2(self) -> dt.date:
        """The start the date-range step moves to."""
        return min(self.first + dt.timedelta(days=START_OFFSET_DAYS), self.last)

    def selection(self, name: str) -> original.Selection:
        """The filter set ``F0`` .. ``F3`` as channels and dates."""
        return {
            "F0": original.Selection((), self.first, self.last),
            "F1": original.Selection(CHANNELS_1, self.first, self.last),
            "F2": original.Selection(CHANNELS_1, self.start2, self.last),
            "F3": original.Selection(CHANNELS_2, self.start2, self.last),
        }[name]

    def to_json(self) -> dict[str, Any]:
        """Plain data for the results file."""
        return {
            name: {
                "channels": list(s.channels),
                "from": s.start.isoformat(),
                "to": s.end.isoformat(),
            }
            for name in ("F0", "F1", "F2", "F3")
            for s in [self.selection(name)]
        }


# --------------------------------------------------------------------------- timings


@dataclass
class Runs:
    """Measured runs of one interaction on one side.

    Attributes:
        runs_s: Wall times in seconds, one per repeat.
    """

    runs_s: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float | None:
        """Median in milliseconds, or ``None`` when nothing was measured."""
        return statistics.median(self.runs_s) * 1000 if self.runs_s else None

    @property
    def max_ms(self) -> float | None:
        """Slowest run in milliseconds, or ``None``."""
        return max(self.runs_s) * 1000 if self.runs_s else None

    def to_json(self) -> dict[str, Any]:
        """Plain data for the results file (milliseconds)."""
        return {
            "median_ms": None if self.median_ms is None else round(self.median_ms, 2),
            "max_ms": None if self.max_ms is None else round(self.max_ms, 2),
            "runs_ms": [round(s * 1000, 2) for s in self.runs_s],
        }


def ratio(baseline: Runs | None, mci: Runs) -> float | None:
    """Baseline median / mci median, or ``None`` when either is missing."""
    if baseline is None or baseline.median_ms is None or not mci.median_ms:
        return None
    return baseline.median_ms / mci.median_ms


# --------------------------------------------------------------------------- mci: AppTest


@contextmanager
def db_env(url: str) -> Iterator[None]:
    """Set ``MCI_DB_URL`` for the block (the app reads it), then restore it.

    Args:
        url: The warehouse URL.

    Yields:
        Nothing.
    """
    before = os.environ.get("MCI_DB_URL")
    os.environ["MCI_DB_URL"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MCI_DB_URL", None)
        else:
            os.environ["MCI_DB_URL"] = before


def _prepare(at: Any, step: Step, filters: FilterSets) -> Any:
    """Apply a step's widget change or page switch to the AppTest, without running it."""
    if step.kind == "open":
        return at
    if step.kind == "channel":
        widget = at.multiselect(key="filter_channel")
        for channel in filters.selection(step.filters).channels:
            if channel not in widget.value:
                widget = widget.select(channel)
        return widget
    if step.kind == "from":
        return at.date_input(key="filter_from").set_value(filters.start2)
    if step.kind == "grain":
        return at.radio(key="trend_grain").set_value(step.grain)
    return at.switch_page(PAGE_FILES[step.page])


def _param_list(value: Any) -> list[str]:
    """A query parameter as a list (AppTest gives one value as a string)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _check(at: Any, step: Step, filters: FilterSets) -> None:
    """Raise when the run failed, showed the wrong page or did not apply the filter set."""
    if at.exception:
        raise RuntimeError(f"{step.name}: the app raised: {at.exception[0].value}")
    titles = [t.value for t in at.title]
    if PAGE_TITLES[step.page] not in titles:
        raise RuntimeError(f"{step.name}: expected page {PAGE_TITLES[step.page]!r}, got {titles}")
    want = filters.selection(step.filters)
    params = at.query_params
    got = (
        sorted(_param_list(params.get("channel"))),
        _param_list(params.get("from")),
        _param_list(params.get("to")),
    )
    if got != (sorted(want.channels), [want.start.isoformat()], [want.end.isoformat()]):
        raise RuntimeError(f"{step.name}: filters in the URL are {got}, expected {want}")


def run_session(url: str, filters: FilterSets) -> list[float]:
    """Run the whole session once on a cold cache and time each script run.

    Args:
        url: The warehouse URL.
        filters: The session's filter sets.

    Returns:
        Seconds per step, in :data:`STEPS` order.

    Raises:
        RuntimeError: If the app raised or showed the wrong page.
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    times: list[float] = []
    with db_env(url):
        at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT_S)
        for step in STEPS:
            runner = _prepare(at, step, filters)
            start = time.perf_counter()
            runner.run()
            times.append(time.perf_counter() - start)
            _check(at, step, filters)
    return times


# --------------------------------------------------------------------------- where time goes

# Calls wrapped in the instrumented session: (module, attribute, label). Only the outermost
# wrapped call is recorded, so a call made inside another is part of the outer one's time.
PROBES: tuple[tuple[str, str, str], ...] = (
    ("mci.dashboard.data", "query", "semantic.query"),
    ("mci.dashboard.data", "warehouse_rows", "warehouse_rows"),
    ("mci.analytics", "channel_findings", "analytics.channel_findings"),
    ("mci.ingest.quality", "quality_report", "quality_report"),
)
# Streamlit elements, wrapped both on ``streamlit`` (``st.line_chart``) and on
# ``DeltaGenerator`` (``column.metric``).
ELEMENTS: tuple[str, ...] = (
    "line_chart",
    "bar_chart",
    "vega_lite_chart",
    "dataframe",
    "metric",
    "download_button",
    "multiselect",
    "date_input",
    "radio",
)
# Calls timed wherever they happen (inside the others too), summed: opening a connection.
INNER: tuple[tuple[str, str], ...] = (
    ("mci.semantic.api", "connect"),
    ("mci.dashboard.data", "connect"),
)
CONNECT = "of which opening connections"


def _describe(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """A short name for one call (a semantic query names its metrics, by and grain)."""
    if name != "semantic.query":
        return name
    metrics = kwargs.get("metrics", args[0] if args else "?")
    parts = [",".join(metrics) if isinstance(metrics, list | tuple) else str(metrics)]
    for key in ("by", "grain", "compare"):
        if kwargs.get(key):
            value = kwargs[key]
            parts.append(f"{key}={','.join(value) if isinstance(value, list) else value}")
    return f"query({'; '.join(parts)})"


class Probe:
    """Wraps the calls of :data:`PROBES`, :data:`ELEMENTS` and :data:`INNER` with timers.

    Attributes:
        calls: (description, seconds) of each outermost wrapped call.
        inner_s: Seconds spent in the :data:`INNER` calls.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []
        self.inner_s = 0.0
        self._depth = 0
        self._saved: list[tuple[Any, str, Any]] = []

    def _outer(self, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    shown = _describe(name, args, kwargs)
                    self.calls.append((shown, time.perf_counter() - start))

        return timed

    def _inner(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.inner_s += time.perf_counter() - start

        return timed

    def _patch(self, owner: Any, attr: str, wrapper: Callable[..., Any]) -> None:
        original_fn = getattr(owner, attr)
        self._saved.append((owner, attr, original_fn))
        setattr(owner, attr, wrapper)

    def install(self) -> None:
        """Wrap everything."""
        import importlib

        import streamlit as st
        from streamlit.delta_generator import DeltaGenerator

        for module_name, attr, name in PROBES:
            module = importlib.import_module(module_name)
            self._patch(module, attr, self._outer(getattr(module, attr), name))
        for attr in ELEMENTS:
            self._patch(
                DeltaGenerator, attr, self._outer(getattr(DeltaGenerator, attr), f"st.{attr}")
            )
            main_fn = getattr(st, attr)
            self._patch(
                st, attr, self._outer(lambda *a, _f=main_fn, **k: _f(*a, **k), f"st.{attr}")
            )
        for module_name, attr in INNER:
            module = importlib.import_module(module_name)
            self._patch(module, attr, self._inner(getattr(module, attr)))

    def remove(self) -> None:
        """Put every original back."""
        while self._saved:
            owner, attr, original_fn = self._saved.pop()
            setattr(owner, attr, original_fn)


def _summarise(calls: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """Merge calls of the same description (count and total), largest total first."""
    merged: dict[str, list[float]] = {}
    for name, seconds in calls:
        merged.setdefault(name, []).append(seconds)
    rows = [
        {"call": name, "n": len(times), "ms": round(sum(times) * 1000, 1)}
        for name, times in merged.items()
    ]
    return sorted(rows, key=lambda r: -r["ms"])


def breakdown_session(url: str, filters: FilterSets) -> list[dict[str, Any]]:
    """Run the session once more with calls timed (not part of the medians).

    Args:
        url: The warehouse URL.
        filters: The session's filter sets.

    Returns:
        Per step: total milliseconds, the wrapped calls (merged by description, with count
        and milliseconds), the time spent opening connections, and the rest.
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    out: list[dict[str, Any]] = []
    with db_env(url):
        at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT_S)
        for step in STEPS:
            probe = Probe()
            runner = _prepare(at, step, filters)
            probe.install()
            try:
                start = time.perf_counter()
                runner.run()
                total = time.perf_counter() - start
            finally:
                probe.remove()
            _check(at, step, filters)
            wrapped_s = sum(s for _, s in probe.calls)
            out.append(
                {
                    "step": step.name,
                    "total_ms": round(total * 1000, 1),
                    "calls": _summarise(probe.calls),
                    "connect_ms": round(probe.inner_s * 1000, 1),
                    "rest_ms": round((total - wrapped_s) * 1000, 1),
                }
            )
    return out


# --------------------------------------------------------------------------- baseline


def _baseline_step(reader: original.Reader, step: Step, filters: FilterSets) -> bool:
    """Do one step's data work the original's way; False when the original had no counterpart."""
    fn = original.page(step.page)
    if fn is None:
        return False
    sel = filters.selection(step.filters)
    if step.page == "trends":
        fn(reader, sel, step.grain)
    else:
        fn(reader, sel)
    return True


def run_baseline_session(db: Path, filters: FilterSets, *, cache: bool) -> list[float | None]:
    """Run the session's data work the original's way and time each step.

    Args:
        db: The original's SQLite database.
        filters: The session's filter sets.
        cache: Keep frames as the original's ``@st.cache_data`` did (fresh for the session).

    Returns:
        Seconds per step (``None`` where the original had no counterpart).
    """
    con = original.connect(db)
    try:
        reader = original.Reader(con, cache=cache)
        times: list[float | None] = []
        with original.original_pandas():
            for step in STEPS:
                start = time.perf_counter()
                had = _baseline_step(reader, step, filters)
                elapsed = time.perf_counter() - start
                times.append(elapsed if had else None)
    finally:
        con.close()
    return times


# --------------------------------------------------------------------------- one size


@dataclass
class Case:
    """Everything measured at one size.

    Attributes:
        rows: The export size.
        record: Plain data for the results file.
        mci: mci's runs per step name.
        reread: The baseline re-reading its views, per step name (absent: no counterpart).
        cached: The baseline with its own cache, per step name.
        breakdown: The instrumented session.
        crashes: What went wrong.
    """

    rows: int
    record: dict[str, Any]
    mci: dict[str, Runs] = field(default_factory=dict)
    reread: dict[str, Runs] = field(default_factory=dict)
    cached: dict[str, Runs] = field(default_factory=dict)
    breakdown: list[dict[str, Any]] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)


def warehouse_dates(url: str) -> FilterSets:
    """The first and last day with data, from the semantic layer."""
    from mci.semantic import query

    daily = query(["campaigns"], grain="day", db=url)
    return FilterSets(daily["period"].min().date(), daily["period"].max().date())


def _collect(target: dict[str, Runs], times: Sequence[float | None]) -> None:
    for step, seconds in zip(STEPS, times, strict=True):
        if seconds is not None:
            target.setdefault(step.name, Runs()).runs_s.append(seconds)


def _setup(
    case: Case, args: argparse.Namespace, mci: str | None, out_dir: Path
) -> tuple[Path, Path | None]:
    """Export and both databases for one size (built only when missing or stale).

    Returns:
        The DuckDB file and the SQLite file (``None`` when the baseline is skipped).

    Raises:
        RuntimeError: If something could not be built.
    """
    size, record = label(case.rows), case.record
    export = ensure_export(mci, case.rows, args.seed, out_dir, None, False)
    print(f"[{size}] {export} ({export.stat().st_size / MB:,.0f} MB)", flush=True)
    print(f"  [{size}] hashing the export (to match it against the databases) ...", flush=True)
    sha = sha256_file(export)
    record.update(export=str(export), export_sha256=sha)
    if mci is None:
        raise RuntimeError("mci command not found")
    duck_db = out_dir / f"queries_{case.rows}.duckdb"
    print(
        f"  [{size}] checking {duck_db.name} (ingest if missing, then `mci views`) ...", flush=True
    )
    record["duckdb_setup"] = ensure_duckdb(
        mci, export, sha, duck_db, rebuild=False, refresh_views=True, timeout=args.timeout
    )
    if args.skip_baseline:
        record["sqlite_setup"] = {"build": "skipped (--skip-baseline)"}
        return duck_db, None
    lite_db = out_dir / f"queries_{case.rows}.sqlite"
    print(f"  [{size}] checking {lite_db.name} (the original pipeline, if missing) ...", flush=True)
    record["sqlite_setup"] = ensure_sqlite(
        export, sha, lite_db, rebuild=False, timeout=args.timeout
    )
    return duck_db, lite_db


def run_case(rows: int, args: argparse.Namespace, mci: str | None, out_dir: Path) -> Case:
    """Set up one size, then time the session on mci and on the baseline.

    Args:
        rows: The export size.
        args: The parsed command line.
        mci: The ``mci`` command, or ``None``.
        out_dir: Where exports, databases and results live.

    Returns:
        The case (crashes recorded in it, not raised).
    """
    size = label(rows)
    case = Case(rows, {"rows": rows, "label": size})
    try:
        duck_db, lite_db = _setup(case, args, mci, out_dir)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"  [{size}] setup failed: {exc}", flush=True)
        case.crashes.append(f"{size}: setup: {exc}")
        return case
    url = f"duckdb:///{duck_db}"
    filters = warehouse_dates(url)
    case.record.update(url=url, filter_sets=filters.to_json())
    case.record["load_avg_1m_before"] = os.getloadavg()[0]
    try:
        print(f"  [{size}] mci: one unmeasured session (imports) ...", flush=True)
        run_session(url, filters)
        for i in range(args.repeat):
            print(f"  [{size}] mci: session {i + 1}/{args.repeat} (cache cleared) ...", flush=True)
            _collect(case.mci, run_session(url, filters))
        print(f"  [{size}] mci: one instrumented session (where the time goes) ...", flush=True)
        case.breakdown = breakdown_session(url, filters)
    except Exception as exc:  # a report: record it and carry on with the next size
        case.crashes.append(f"{size}: mci session: {type(exc).__name__}: {exc}")
        return case
    if lite_db is not None:
        for cache, target in ((False, case.reread), (True, case.cached)):
            how = "its own cache" if cache else "views re-read"
            for i in range(args.baseline_repeat or args.repeat):
                print(f"  [{size}] baseline ({how}): session {i + 1} ...", flush=True)
                _collect(target, run_baseline_session(lite_db, filters, cache=cache))
    case.record["load_avg_1m_after"] = os.getloadavg()[0]
    return case


# --------------------------------------------------------------------------- report


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}x"


def verdict(runs: Runs | None, target_ms: float) -> str:
    """PASS / MISS for one interaction (the median against the target)."""
    if runs is None or runs.median_ms is None:
        return "N/A"
    return "PASS" if runs.median_ms <= target_ms else "MISS"


def step_rows(case: Case, target_ms: float) -> list[list[str]]:
    """The table's rows for one size."""
    rows = []
    for step in STEPS:
        mci = case.mci.get(step.name, Runs())
        reread, cached = case.reread.get(step.name), case.cached.get(step.name)
        rows.append(
            [
                step.action,
                step.cache,
                _ms(mci.median_ms),
                _ms(mci.max_ms),
                _ms(None if reread is None else reread.median_ms),
                _x(ratio(reread, mci)),
                _ms(None if cached is None else cached.median_ms),
                _x(ratio(cached, mci)),
                verdict(mci, target_ms),
            ]
        )
    return rows


HEADER = [
    "interaction",
    "cache state",
    "mci median ms",
    "mci max ms",
    "baseline re-read ms",
    "ratio",
    "baseline own-cache ms",
    "ratio",
    "vs target",
]


def print_breakdown(case: Case, target_ms: float, top: int = 8) -> None:
    """Print where the time goes in each interaction whose median missed the target."""
    missed = {s.name for s in STEPS if verdict(case.mci.get(s.name), target_ms) == "MISS"}
    for entry in case.breakdown:
        if entry["step"] not in missed:
            continue
        calls = entry["calls"]
        shown = ", ".join(
            f"{c['call']}{'' if c['n'] == 1 else ' x' + str(c['n'])} {c['ms']:,.0f}"
            for c in calls[:top]
        )
        more = f", {len(calls) - top} more" if len(calls) > top else ""
        print(
            f"  {entry['step']} ({entry['total_ms']:,.0f} ms in this run): {shown}{more}; "
            f"opening connections (inside those) {entry['connect_ms']:,.0f}; rest "
            f"(script, layout, AppTest) {entry['rest_ms']:,.0f}"
        )


def print_case(case: Case, args: argparse.Namespace) -> None:
    """Print one size's table, the notes and the breakdown of the misses."""
    print()
    title = (
        f"Dashboard interactions at {case.record['label']} rows: server time per script run "
        f"(mci: {args.repeat} sessions; target {args.target_ms:,.0f} ms on the median)"
    )
    print(format_plain_table(HEADER, step_rows(case, args.target_ms), title=title))
    print(
        "  ratio = baseline median / mci median. '-' : no counterpart in the original "
        "(Data quality) or baseline skipped.\n"
        "  baseline re-read: the original's views read with pd.read_sql on every interaction, "
        "then pandas;\n"
        "  baseline own-cache: as the original ran, q(sql) behind @st.cache_data (frames "
        "unpickled on a hit).\n"
        "  The baseline leaves Streamlit out (script run, charts); mci's figure includes it."
    )
    load = (case.record.get("load_avg_1m_before"), case.record.get("load_avg_1m_after"))
    if any(v is not None and v > 0.5 for v in load):
        print(f"  warning: load average {load[0]:.2f} / {load[1] or 0:.2f}: figures are noisy")
    if case.breakdown:
        print(
            "\nWhere the time goes in the misses (one instrumented session, ms, largest "
            "first; xN: N calls):"
        )
        print_breakdown(case, args.target_ms)


def case_json(case: Case, target_ms: float) -> dict[str, Any]:
    """Plain data for the results file."""
    steps = []
    for step in STEPS:
        mci = case.mci.get(step.name, Runs())
        reread, cached = case.reread.get(step.name), case.cached.get(step.name)
        steps.append(
            {
                "step": step.name,
                "action": step.action,
                "page": step.page,
                "cache_state": step.cache,
                "filter_set": step.filters,
                "grain": step.grain,
                "mci": mci.to_json(),
                "baseline_reread": None if reread is None else reread.to_json(),
                "baseline_own_cache": None if cached is None else cached.to_json(),
                "ratio_reread": ratio(reread, mci),
                "ratio_own_cache": ratio(cached, mci),
                "verdict": verdict(mci, target_ms),
            }
        )
    return {**case.record, "steps": steps, "breakdown": case.breakdown, "crashed": case.crashes}


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    p = argparse.ArgumentParser(
        description="Dashboard benchmark: server time per interaction vs the original's way."
    )
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        default=[2_000_000],
        help="comma-separated row counts (default 2000000; 200k, 2m work)",
    )
    p.add_argument("--repeat", type=int, default=5, help="measured mci sessions (default 5)")
    p.add_argument(
        "--baseline-repeat",
        type=int,
        default=None,
        help="baseline sessions of each kind (default: --repeat)",
    )
    p.add_argument("--skip-baseline", action="store_true", help="mci only")
    p.add_argument(
        "--target-ms", type=float, default=TARGET_MS, help="target per interaction (default 300)"
    )
    p.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    p.add_argument(
        "--out-dir",
        type=Path,
        default=REPO / "benchmarks" / "out",
        help="exports, databases and results (default benchmarks/out)",
    )
    p.add_argument("--mci", default=None, help="the mci command (default .venv/bin/mci)")
    p.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="give up a database build after this many seconds (default 3600)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the report and write the results file.

    Args:
        argv: Arguments (without the program name); ``sys.argv[1:]`` when ``None``.

    Returns:
        0 when everything ran (targets may be missed); 1 on a crash.
    """
    args = build_parser().parse_args(argv)
    out_dir: Path = args.out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    mci = find_mci(args.mci)
    started = dt.datetime.now(dt.UTC)
    cases = [run_case(rows, args, mci, out_dir) for rows in args.sizes]
    for case in cases:
        print_case(case, args)
    crashes = [crash for case in cases for crash in case.crashes]
    import streamlit

    results = {
        "benchmark": "dashboard",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            **machine_info(),
            "sqlite": sqlite3.sqlite_version,
            "streamlit": streamlit.__version__,
        },
        "settings": {
            "sizes": list(args.sizes),
            "seed": args.seed,
            "repeat": args.repeat,
            "baseline_repeat": args.baseline_repeat or args.repeat,
            "target_ms": args.target_ms,
            "rule": RULE,
            "timing": "mci: wall time of AppTest.run() per interaction (time.perf_counter), "
            "st.cache_data cleared and a new AppTest per session, one unmeasured session "
            "first; baseline: the same steps the original's way (original_dashboard.py)",
            "steps": [step.__dict__ for step in STEPS],
        },
        "cases": [case_json(c, args.target_ms) for c in cases],
        "crashed": crashes,
    }
    results_path = out_dir / "dashboard_results.json"
    results_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults: {results_path}")
    if crashes:
        print("\nsomething crashed:\n" + "\n".join(f"  - {c}" for c in crashes))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

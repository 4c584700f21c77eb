"""Query benchmark: reading the semantic views on DuckDB against the original's SQLite views.

Usage::

    .venv/bin/python benchmarks/queries/run.py [--sizes 200000,2000000] [--with-20m]
        [--repeat 5] [--skip-baseline] [--rebuild] ...

For every size N it makes (once, shared with the ingest benchmark) a synthetic export with
``mci generate --rows N --seed 42``, then builds two databases from it, once, and keeps them:

* ``benchmarks/out/queries_N.duckdb`` with ``mci ingest`` (reused while its load log holds
  exactly one load, of this export); then ``mci views`` re-creates the semantic views when
  that command exists;
* ``benchmarks/out/queries_N.sqlite`` with ``benchmarks/ingest/original_pipeline.py
  --driver sqlite3`` under this interpreter (the original's table and its four views; only
  the file matters here, so SQLAlchemy is not needed; reused while its side-car
  ``.meta.json`` names this export's sha256).

Then, in this process, with one connection per engine (DuckDB opened read-only), every query
runs once to warm up and ``--repeat`` times measured with ``time.perf_counter``, fetching all
rows into Python:

1. each of the four views read in full (``SELECT * FROM view``);
2. a filtered monthly query: per month and channel, channel in ('Email', 'Facebook'),
   2021-01-01 to 2021-06-30, filter values as parameters (DuckDB: ``vw_campaign_monthly``;
   the original: its own ``vw_campaign_monthly``);
3. the semantic query API, ``mci.semantic.query(...)`` on DuckDB, when it can be imported
   (each call opens its own connection, as a dashboard page would). Its SQLite figure is the
   original's filtered monthly query (2.), the nearest thing the original had.

It prints one table per size (median milliseconds per engine, the ratio SQLite / DuckDB) and
PASS / MISS per target, and writes everything to ``benchmarks/out/queries_results.json``. It is
a report, not a test: the exit code is 0 even when a target is missed or a view is still
missing, and 1 only when something crashed (a database could not be built, a query failed).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import importlib
import importlib.util
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
REPO = BENCH.parent
ORIGINAL = BENCH / "ingest" / "original_pipeline.py"
TWENTY_MILLION = 20_000_000

sys.path.insert(0, str(BENCH))

from _harness import MB, print_table  # noqa: E402


def _load_ingest_runner() -> ModuleType:
    """Import ``benchmarks/ingest/run.py`` under its own name (this file is ``run.py`` too)."""
    spec = importlib.util.spec_from_file_location("bench_ingest_run", BENCH / "ingest" / "run.py")
    if spec is None or spec.loader is None:
        raise ImportError("cannot load benchmarks/ingest/run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


_INGEST = _load_ingest_runner()
parse_size: Callable[[str], int] = _INGEST.parse_size
parse_sizes: Callable[[str], list[int]] = _INGEST.parse_sizes
label: Callable[[int], str] = _INGEST.label
find_mci: Callable[[str | None], str | None] = _INGEST.find_mci
ensure_export: Callable[..., Path] = _INGEST.ensure_export
last_json_line: Callable[[str], Any] = _INGEST.last_json_line
machine_info: Callable[[], dict[str, Any]] = _INGEST.machine_info

# The contract views (DESIGN.md, "Semantic views"); the original has views of the same names.
VIEWS: tuple[str, ...] = (
    "vw_marketing_kpi",
    "vw_campaign_monthly",
    "vw_campaign_roi_map",
    "vw_channel_stability",
)

# The filtered question every monthly query asks.
CHANNELS: tuple[str, ...] = ("Email", "Facebook")
START = dt.date(2021, 1, 1)
END = dt.date(2021, 6, 30)
API_METRICS: tuple[str, ...] = ("roi", "cpc", "ctr", "spend")

_IN = ", ".join("?" for _ in CHANNELS)

# DuckDB, on the contract view (month is a DATE, the first day of the month). Ratios are
# recomputed from the sums, as the metric dictionary defines them.
DUCK_MONTHLY_FROM_VIEW = f"""
SELECT
  month,
  channel,
  SUM(spend) AS spend,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(net_return) / NULLIF(SUM(spend), 0) AS roi,
  SUM(spend) / NULLIF(SUM(clicks), 0) AS cpc,
  SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr
FROM vw_campaign_monthly
WHERE channel IN ({_IN}) AND month BETWEEN ? AND ?
GROUP BY month, channel
ORDER BY month, channel
"""

# DuckDB, the same question on the clean table (used only while the view is missing).
DUCK_MONTHLY_FROM_TABLE = f"""
SELECT
  CAST(date_trunc('month', date) AS DATE) AS month,
  channel,
  SUM(spend) AS spend,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(roi * spend) / NULLIF(SUM(spend), 0) AS roi,
  SUM(spend) / NULLIF(SUM(clicks), 0) AS cpc,
  SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr
FROM campaign_performance
WHERE channel IN ({_IN}) AND date BETWEEN ? AND ?
GROUP BY 1, 2
ORDER BY 1, 2
"""

# The original, on its own vw_campaign_monthly (month_id is text 'YYYY-MM-01'; it only has
# averages of per-row ratios, which are re-weighted by row count to roll campaign types up).
SQLITE_MONTHLY = f"""
SELECT
  month_id,
  channel,
  SUM(spend) AS spend,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(roi_avg * n_rows) / SUM(n_rows) AS roi_avg,
  SUM(cpc_avg * n_rows) / SUM(n_rows) AS cpc_avg,
  CASE WHEN SUM(impressions) = 0 THEN 0.0 ELSE SUM(clicks) * 1.0 / SUM(impressions) END AS ctr
FROM vw_campaign_monthly
WHERE channel IN ({_IN}) AND month_id BETWEEN ? AND ?
GROUP BY month_id, channel
ORDER BY month_id, channel
"""

DUCK_MONTHLY_PARAMS: list[Any] = [*CHANNELS, START, END]
SQLITE_MONTHLY_PARAMS: list[Any] = [*CHANNELS, START.isoformat(), END.isoformat()]

# Query names, in table order.
MONTHLY = "monthly_filtered"
API = "semantic_api"
QUERY_ORDER: tuple[str, ...] = (*VIEWS, MONTHLY, API)
# Plain SQL read on both engines: what the "20x faster than the original" target is judged on.
SPEED_QUERIES: tuple[str, ...] = (*VIEWS, MONTHLY)

MISSING_VIEW = "missing view"


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """One query on one engine.

    Attributes:
        status: ``ok``, ``missing view``, ``skipped`` or ``error``.
        runs_s: Measured wall times in seconds (the warm-up excluded).
        rows: Rows the query returned.
        note: Why it did not run, or what it ran against.
        check_total: Sum of the result's spend column, to compare the two engines' answers.
    """

    status: str
    runs_s: list[float] = field(default_factory=list)
    rows: int | None = None
    note: str = ""
    check_total: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the query ran and was measured."""
        return self.status == "ok" and bool(self.runs_s)

    @property
    def median_s(self) -> float | None:
        """Median measured time, or ``None``."""
        return statistics.median(self.runs_s) if self.ok else None

    @property
    def best_s(self) -> float | None:
        """Fastest measured time, or ``None``."""
        return min(self.runs_s) if self.ok else None

    def to_json(self) -> dict[str, Any]:
        """Plain data for the results file (milliseconds)."""
        return {
            "status": self.status,
            "note": self.note,
            "rows": self.rows,
            "best_ms": None if self.best_s is None else round(self.best_s * 1000, 3),
            "median_ms": None if self.median_s is None else round(self.median_s * 1000, 3),
            "runs_ms": [round(s * 1000, 3) for s in self.runs_s],
            "check_spend_total": self.check_total,
        }


def time_query(
    run: Callable[[], Any],
    repeat: int,
    *,
    count: Callable[[Any], int] = len,
    spend_total: Callable[[Any], float | None] | None = None,
    note: str = "",
) -> Timing:
    """Run ``run`` once to warm up, then ``repeat`` times measured.

    Args:
        run: Runs the query and returns every row (already fetched into Python).
        repeat: Measured runs (at least 1).
        count: Number of rows in ``run``'s result.
        spend_total: Sum of the result's spend column (for the cross-engine check).
        note: Kept with the timing.

    Returns:
        The timing; a failure is recorded as status ``error``, not raised.
    """
    try:
        result = run()
        rows = count(result)
        total = spend_total(result) if spend_total is not None else None
        runs: list[float] = []
        for _ in range(max(1, repeat)):
            start = time.perf_counter()
            run()
            runs.append(time.perf_counter() - start)
    except Exception as exc:  # a report: one failing query must not stop the others
        return Timing("error", note=f"{type(exc).__name__}: {exc}".strip()[:500])
    return Timing("ok", runs_s=runs, rows=rows, note=note, check_total=total)


def _column_total(rows: Sequence[Sequence[Any]], index: int) -> float | None:
    try:
        return float(sum(r[index] or 0 for r in rows))
    except (TypeError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------- databases


def sha256_file(path: Path, chunk: int = 1 << 24) -> str:
    """The file's sha256 (the key ``mci ingest`` records in its load log)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _unlink(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _duckdb_loads(db: Path) -> list[str] | None:
    """The sha256 of every load still in force in a DuckDB warehouse, or ``None`` if unreadable."""
    import duckdb

    try:
        con = duckdb.connect(str(db), read_only=True)
    except Exception:
        return None
    try:
        rows = con.execute("SELECT sha256 FROM load_log WHERE status = 'loaded'").fetchall()
    except Exception:
        return None
    finally:
        con.close()
    return [r[0] for r in rows]


def ensure_duckdb(
    mci: str,
    export: Path,
    sha: str,
    db: Path,
    *,
    rebuild: bool,
    refresh_views: bool,
    timeout: float,
) -> dict[str, Any]:
    """Make sure ``db`` holds exactly this export, loaded by ``mci ingest``, and its views.

    Args:
        mci: The ``mci`` command.
        export: The export.
        sha: The export's sha256.
        db: The DuckDB file.
        rebuild: Ingest again into a fresh file even if it already holds this export.
        refresh_views: Run ``mci views`` (when the command exists) to (re)create the views.
        timeout: Seconds before a command is given up.

    Returns:
        What was done, for the results file.

    Raises:
        RuntimeError: If ``mci ingest`` or ``mci views`` failed.
    """
    url = f"duckdb:///{db}"
    info: dict[str, Any] = {"db": str(db), "url": url}
    loads = None if rebuild or not db.exists() else _duckdb_loads(db)
    if loads == [sha]:
        info["ingest"] = "reused (its load log holds this export)"
    else:
        if db.exists():
            why = "--rebuild" if rebuild else f"it holds other loads ({loads})"
            print(f"  rebuilding {db.name}: {why}", flush=True)
        _unlink(db, Path(f"{db}.wal"))
        cmd = [mci, "ingest", str(export), "--db", url, "--json"]
        print(f"  ingesting: {' '.join(cmd)}", flush=True)
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, cwd=REPO, capture_output=True, text=True, check=False, timeout=timeout
        )
        info["ingest_s"] = round(time.perf_counter() - start, 2)
        info["ingest_report"] = last_json_line(proc.stdout)
        if proc.returncode != 0:
            raise RuntimeError(f"mci ingest failed (exit {proc.returncode}):\n{_tail(proc.stderr)}")
        info["ingest"] = "ingested"
    if refresh_views:
        proc = subprocess.run(
            [mci, "views", "--db", url],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if proc.returncode == 0:
            info["views_command"] = "ran"
        elif "No such command" in proc.stderr + proc.stdout:
            info["views_command"] = "not available (no `mci views` command yet)"
        else:
            raise RuntimeError(f"mci views failed (exit {proc.returncode}):\n{_tail(proc.stderr)}")
    return info


def sqlite_views(db: Path) -> set[str]:
    """Names of the views in a SQLite file (opened read-only)."""
    con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def ensure_sqlite(
    export: Path, sha: str, db: Path, *, rebuild: bool, timeout: float
) -> dict[str, Any]:
    """Make sure ``db`` is the original pipeline's database for this export.

    Args:
        export: The export.
        sha: The export's sha256 (recorded in the side-car ``.meta.json``).
        db: The SQLite file.
        rebuild: Build it again even if it matches.
        timeout: Seconds before the build is given up.

    Returns:
        What was done, for the results file.

    Raises:
        RuntimeError: If the original pipeline failed.
    """
    meta_path = db.with_name(db.name + ".meta.json")
    info: dict[str, Any] = {"db": str(db)}
    if not rebuild and db.exists() and meta_path.exists():
        with contextlib.suppress(ValueError, OSError, sqlite3.Error):
            meta = json.loads(meta_path.read_text())
            if meta.get("export_sha256") == sha and set(VIEWS) <= sqlite_views(db):
                info["build"] = "reused (side-car names this export)"
                info["build_report"] = meta.get("report")
                return info
    _unlink(db, meta_path, Path(f"{db}-journal"), Path(f"{db}-wal"))
    cmd = [sys.executable, str(ORIGINAL), str(export), str(db), "--driver", "sqlite3"]
    print(f"  building the original's database: {' '.join(cmd)}", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, check=False, timeout=timeout
    )
    info["build_s"] = round(time.perf_counter() - start, 2)
    if proc.returncode != 0:
        _unlink(db)
        raise RuntimeError(
            f"original_pipeline.py failed (exit {proc.returncode}):\n{_tail(proc.stderr)}"
        )
    report = last_json_line(proc.stdout)
    info["build"] = "built"
    info["build_report"] = report
    meta = {"export": str(export), "export_sha256": sha, "report": report}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return info


# --------------------------------------------------------------------------- the queries


def run_sqlite(db: Path, repeat: int) -> dict[str, Timing]:
    """Time the original's views and its filtered monthly query on SQLite.

    Args:
        db: The original pipeline's database.
        repeat: Measured runs per query.

    Returns:
        One timing per query name.
    """
    con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        try:  # vw_channel_stability needs sqrt; add it where SQLite lacks it, as the original does
            con.execute("SELECT sqrt(4.0)").fetchone()
        except sqlite3.OperationalError:
            con.create_function(
                "sqrt", 1, lambda x: None if x is None else float(x) ** 0.5, deterministic=True
            )
        present = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
        timings: dict[str, Timing] = {}
        for view in VIEWS:
            if view not in present:
                timings[view] = Timing(MISSING_VIEW, note=MISSING_VIEW)
                continue
            sql = f"SELECT * FROM {view}"
            timings[view] = time_query(lambda sql=sql: con.execute(sql).fetchall(), repeat)
        if "vw_campaign_monthly" in present:
            timings[MONTHLY] = time_query(
                lambda: con.execute(SQLITE_MONTHLY, SQLITE_MONTHLY_PARAMS).fetchall(),
                repeat,
                spend_total=lambda rows: _column_total(rows, 2),
                note="the original's vw_campaign_monthly, filtered",
            )
        else:
            timings[MONTHLY] = Timing(MISSING_VIEW, note=f"{MISSING_VIEW}: vw_campaign_monthly")
    finally:
        con.close()
    return timings


def run_duckdb(db: Path, repeat: int) -> dict[str, Timing]:
    """Time the contract views and the filtered monthly query on DuckDB (read-only).

    Args:
        db: The warehouse ``mci ingest`` built.
        repeat: Measured runs per query.

    Returns:
        One timing per query name.
    """
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        present = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW'"
            ).fetchall()
        }
        timings: dict[str, Timing] = {}
        for view in VIEWS:
            if view not in present:
                timings[view] = Timing(MISSING_VIEW, note=MISSING_VIEW)
                continue
            sql = f"SELECT * FROM {view}"
            timings[view] = time_query(lambda sql=sql: con.execute(sql).fetchall(), repeat)
        if "vw_campaign_monthly" in present:
            sql, note = DUCK_MONTHLY_FROM_VIEW, "vw_campaign_monthly, filtered"
        else:
            sql = DUCK_MONTHLY_FROM_TABLE
            note = "campaign_performance grouped by month (vw_campaign_monthly missing)"
        timings[MONTHLY] = time_query(
            lambda: con.execute(sql, DUCK_MONTHLY_PARAMS).fetchall(),
            repeat,
            spend_total=lambda rows: _column_total(rows, 2),
            note=note,
        )
    finally:
        con.close()
    return timings


def load_semantic_query() -> tuple[Callable[..., Any] | None, str]:
    """Import ``mci.semantic.query`` if it exists yet.

    Returns:
        (the function, "") or (None, why it cannot be used).
    """
    try:
        module = importlib.import_module("mci.semantic")
    except Exception as exc:
        return None, f"cannot import mci.semantic ({type(exc).__name__}: {exc})"
    fn = getattr(module, "query", None)
    if not callable(fn):
        return None, "mci.semantic has no query function"
    return fn, ""


def _frame_spend_total(frame: Any) -> float | None:
    try:
        return float(frame["spend"].sum())
    except Exception:
        return None


def run_semantic_api(url: str, repeat: int) -> Timing:
    """Time ``mci.semantic.query`` on the DuckDB warehouse (each call opens its connection).

    Call it while this process holds no other connection to the file: DuckDB refuses a second
    connection with a different configuration (read-only vs read-write) in one process.

    Args:
        url: The warehouse URL.
        repeat: Measured runs.

    Returns:
        The timing, or status ``skipped`` with the reason when the API is not there yet.
    """
    query, why = load_semantic_query()
    if query is None:
        return Timing("skipped", note=why)

    def call() -> Any:
        return query(
            metrics=list(API_METRICS),
            by=["channel"],
            grain="month",
            where={"channel": list(CHANNELS)},
            start=START.isoformat(),
            end=END.isoformat(),
            db=url,
        )

    return time_query(
        call,
        repeat,
        spend_total=_frame_spend_total,
        note="mci.semantic.query(...) -> DataFrame, a new connection per call",
    )


# --------------------------------------------------------------------------- a case


@dataclass
class Case:
    """One export size.

    Attributes:
        rows: The export size.
        record: Plain data for the results file.
        duck: DuckDB timings per query.
        lite: SQLite timings per query.
        crashes: What went wrong, in words.
    """

    rows: int
    record: dict[str, Any]
    duck: dict[str, Timing] = field(default_factory=dict)
    lite: dict[str, Timing] = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)


def ratio(case: Case, name: str) -> float | None:
    """SQLite median / DuckDB median for one query (the API is set against the monthly query)."""
    duck = case.duck.get(name)
    lite = case.lite.get(MONTHLY if name == API else name)
    if duck is None or lite is None or not duck.ok or not lite.ok:
        return None
    return lite.median_s / duck.median_s  # type: ignore[operator]


def run_case(rows: int, args: argparse.Namespace, mci: str | None, out_dir: Path) -> Case:
    """Build (or reuse) both databases for one size, then time every query on both.

    Args:
        rows: The export size.
        args: The parsed command line.
        mci: The ``mci`` command, or ``None``.
        out_dir: Where exports, databases and results live.

    Returns:
        The case.
    """
    size = label(rows)
    case = Case(rows, {"rows": rows, "label": size})
    record = case.record
    try:
        export_dir = None if args.export_dir is None else args.export_dir.resolve()
        export = ensure_export(mci, rows, args.seed, out_dir, export_dir, args.regenerate)
    except RuntimeError as exc:
        print(f"[{size}] no export: {exc}", flush=True)
        case.crashes.append(f"{size}: export: {exc}")
        return case
    print(f"[{size}] {export} ({export.stat().st_size / MB:,.0f} MB)", flush=True)
    sha = sha256_file(export)
    record.update(export=str(export), export_bytes=export.stat().st_size, export_sha256=sha)

    # Build first, measure after: no build runs while anything is being timed.
    duck_db = out_dir / f"queries_{rows}.duckdb"
    lite_db = out_dir / f"queries_{rows}.sqlite"
    duck_ready = lite_ready = False
    if not args.skip_duckdb:
        if mci is None:
            case.crashes.append(f"{size}: mci command not found")
        else:
            try:
                record["duckdb_setup"] = ensure_duckdb(
                    mci,
                    export,
                    sha,
                    duck_db,
                    rebuild=args.rebuild,
                    refresh_views=args.refresh_views,
                    timeout=args.timeout,
                )
                duck_ready = True
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"  [{size}] DuckDB setup failed: {exc}", flush=True)
                case.crashes.append(f"{size}: DuckDB setup: {exc}")
    if args.skip_baseline:
        record["sqlite_setup"] = {"build": "skipped (--skip-baseline)"}
    elif rows > args.baseline_max_rows:
        record["sqlite_setup"] = {
            "build": f"skipped (above --baseline-max-rows {args.baseline_max_rows:,})"
        }
    else:
        try:
            record["sqlite_setup"] = ensure_sqlite(
                export, sha, lite_db, rebuild=args.rebuild, timeout=args.timeout
            )
            lite_ready = True
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"  [{size}] SQLite setup failed: {exc}", flush=True)
            case.crashes.append(f"{size}: SQLite setup: {exc}")

    load1 = os.getloadavg()[0]
    record["load_avg_1m"] = load1
    if load1 > 0.5:
        print(f"  warning: load average {load1:.2f}: other work is running, times are noisy")

    if lite_ready:
        print(f"  [{size}] timing the original's SQLite views ...", flush=True)
        case.lite = run_sqlite(lite_db, args.repeat)
    if duck_ready:
        print(f"  [{size}] timing DuckDB views ...", flush=True)
        try:
            case.duck = run_duckdb(duck_db, args.repeat)
        except Exception as exc:  # e.g. the file is locked by a writer
            case.crashes.append(f"{size}: DuckDB: {type(exc).__name__}: {exc}")
        if args.skip_api:
            case.duck[API] = Timing("skipped", note="--skip-api")
        else:
            print(f"  [{size}] timing the semantic query API ...", flush=True)
            case.duck[API] = run_semantic_api(f"duckdb:///{duck_db}", args.repeat)

    for engine, timings in (("duckdb", case.duck), ("sqlite", case.lite)):
        for name, timing in timings.items():
            if timing.status == "error":
                case.crashes.append(f"{size}: {engine} {name}: {timing.note}")
    _cross_check(case)
    record["queries"] = {
        name: {
            "duckdb": case.duck[name].to_json() if name in case.duck else None,
            "sqlite": case.lite[name].to_json() if name in case.lite else None,
            "sqlite_counterpart": MONTHLY if name == API else name,
            "ratio_sqlite_over_duckdb": ratio(case, name),
        }
        for name in QUERY_ORDER
    }
    return case


def _cross_check(case: Case) -> None:
    """Say so when the two engines disagree on row counts or on the monthly spend."""
    notes: list[str] = []
    compared = 0
    for name in VIEWS:
        duck, lite = case.duck.get(name), case.lite.get(name)
        if duck and lite and duck.ok and lite.ok:
            compared += 1
            if duck.rows != lite.rows:
                notes.append(f"{name}: {duck.rows} rows on DuckDB, {lite.rows} on SQLite")
    lite = case.lite.get(MONTHLY)
    for name in (MONTHLY, API):
        duck = case.duck.get(name)
        if not (duck and lite and duck.ok and lite.ok):
            continue
        compared += 1
        a, b = duck.check_total, lite.check_total
        if a is None or b is None or abs(a - b) > 1e-6 * max(1.0, abs(b)):
            notes.append(f"{name}: spend total {a} on DuckDB, {b} on the original")
    if notes:
        case.record["cross_check"] = notes
    elif compared:
        case.record["cross_check"] = f"{compared} queries compared: same rows and monthly spend"
    else:
        case.record["cross_check"] = "not compared (one engine only)"
    for note in notes:
        print(f"  [{case.record['label']}] note: {note}", flush=True)


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """A promise the benchmark checks.

    Attributes:
        name: Short identifier.
        rows: The export size it applies to.
        description: What must hold, in words.
        check: Given the case, returns (status, actual as text).
    """

    name: str
    rows: int
    description: str
    check: Callable[[Case], tuple[str, str]]


def _every_query_within(limit_s: float) -> Callable[[Case], tuple[str, str]]:
    def check(case: Case) -> tuple[str, str]:
        measured = {n: case.duck[n] for n in QUERY_ORDER if n in case.duck and case.duck[n].ok}
        missing = [n for n in QUERY_ORDER if n not in measured]
        if not measured:
            return "N/A", "nothing measured on DuckDB"
        slowest = max(measured, key=lambda n: measured[n].median_s or 0.0)
        worst = measured[slowest].median_s or 0.0
        over = [n for n, t in measured.items() if (t.median_s or 0.0) > limit_s]
        actual = f"slowest {worst * 1000:,.1f} ms ({slowest})"
        if over:
            return "MISS", actual + f"; over: {', '.join(over)}"
        if missing:
            return "N/A", actual + f"; not measured: {', '.join(missing)}"
        return "PASS", actual

    return check


def _faster_than_original(factor: float) -> Callable[[Case], tuple[str, str]]:
    def check(case: Case) -> tuple[str, str]:
        ratios = {n: ratio(case, n) for n in SPEED_QUERIES}
        known = {n: r for n, r in ratios.items() if r is not None}
        missing = [n for n, r in ratios.items() if r is None]
        if not known:
            return "N/A", "no query measured on both engines"
        lowest = min(known, key=lambda n: known[n])
        duck_total = sum(case.duck[n].median_s or 0.0 for n in known)
        lite_total = sum(case.lite[n].median_s or 0.0 for n in known)
        together = lite_total / duck_total
        actual = f"lowest {known[lowest]:,.1f}x ({lowest}); all together {together:,.1f}x"
        if known[lowest] < factor:
            return "MISS", actual
        if missing:
            return "N/A", actual + f"; not measured: {', '.join(missing)}"
        return "PASS", actual

    return check


TARGETS: tuple[Target, ...] = (
    Target(
        "latency_2m",
        2_000_000,
        "every dashboard query on DuckDB <= 100 ms (median)",
        _every_query_within(0.1),
    ),
    Target(
        "latency_20m",
        TWENTY_MILLION,
        "every dashboard query on DuckDB <= 1 s (median)",
        _every_query_within(1.0),
    ),
    Target(
        "speed_2m",
        2_000_000,
        "DuckDB >= 20x faster than the original's SQLite views (each view, monthly query)",
        _faster_than_original(20.0),
    ),
)


def evaluate_targets(cases: dict[int, Case]) -> list[dict[str, Any]]:
    """Judge every target whose size was run.

    Args:
        cases: The cases by export size.

    Returns:
        One record per target: name, rows, description, status (PASS, MISS or N/A), actual.
    """
    verdicts = []
    for target in TARGETS:
        case = cases.get(target.rows)
        if case is None:
            continue
        status, actual = target.check(case)
        verdicts.append(
            {
                "name": target.name,
                "rows": target.rows,
                "description": target.description,
                "status": status,
                "actual": actual,
            }
        )
    return verdicts


# --------------------------------------------------------------------------- report


def _cell(timing: Timing | None) -> str:
    if timing is None:
        return "-"
    if timing.ok:
        return f"{(timing.median_s or 0.0) * 1000:,.1f}"
    return {"error": "ERROR", MISSING_VIEW: MISSING_VIEW}.get(timing.status, timing.status)


def _rows_cell(duck: Timing | None, lite: Timing | None) -> str:
    def one(t: Timing | None) -> str:
        return "-" if t is None or t.rows is None else f"{t.rows:,}"

    return f"{one(duck)} / {one(lite)}"


def _note(name: str, duck: Timing | None, lite: Timing | None) -> str:
    parts = []
    if name == API and lite is not None and lite.ok:
        parts.append("its SQLite figure is the original's filtered monthly query")
    for engine, t in (("DuckDB", duck), ("SQLite", lite)):
        if t is not None and t.status in ("error", "skipped"):
            parts.append(f"{engine}: {t.note}")
    if name == MONTHLY and duck is not None and duck.ok and "missing" in duck.note:
        parts.append("DuckDB: " + duck.note)
    return "; ".join(parts)


def print_case(case: Case) -> None:
    """Print one size's table, then its notes."""
    size = case.record["label"]
    rows = []
    notes = []
    for name in QUERY_ORDER:
        duck = case.duck.get(name)
        lite = case.lite.get(MONTHLY if name == API else name)
        r = ratio(case, name)
        rows.append(
            [
                name,
                _cell(duck),
                _cell(lite),
                "-" if r is None else f"{r:,.1f}x",
                _rows_cell(duck, lite),
            ]
        )
        if note := _note(name, duck, lite):
            notes.append(f"  {name}: {note}")
    print()
    print_table(
        ["query", "DuckDB median ms", "SQLite median ms", "SQLite/DuckDB", "rows D / S"],
        rows,
        title=f"Queries at {size} rows: mci views on DuckDB vs the original's SQLite views",
    )
    for engine, key, field_name in (
        ("SQLite", "sqlite_setup", "build"),
        ("DuckDB", "duckdb_setup", "views_command"),
    ):
        status = str(case.record.get(key, {}).get(field_name, ""))
        if status.startswith(("skipped", "not available")):
            notes.append(f"  {engine}: {status}")
    if notes:
        print("\n".join(notes))


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    p = argparse.ArgumentParser(
        description="Query benchmark: semantic views on DuckDB vs the original's SQLite views."
    )
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        default=[200_000, 2_000_000],
        help="comma-separated row counts (default 200000,2000000; 200k, 2m work)",
    )
    p.add_argument("--with-20m", action="store_true", help="also run at 20,000,000 rows")
    p.add_argument("--repeat", type=int, default=5, help="measured runs per query (default 5)")
    p.add_argument(
        "--baseline-max-rows",
        type=parse_size,
        default=2_000_000,
        help="no SQLite baseline above this many rows (default 2000000: the original "
        "pipeline needs about 2 GB at 2M rows, so some 20 GB at 20M)",
    )
    p.add_argument("--skip-baseline", action="store_true", help="DuckDB only")
    p.add_argument("--skip-duckdb", action="store_true", help="the original's SQLite only")
    p.add_argument("--skip-api", action="store_true", help="leave out the semantic query API")
    p.add_argument(
        "--refresh-views",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run `mci views` before timing, when the command exists (default on)",
    )
    p.add_argument("--rebuild", action="store_true", help="build both databases again")
    p.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    p.add_argument(
        "--out-dir",
        type=Path,
        default=REPO / "benchmarks" / "out",
        help="exports, databases and results (default benchmarks/out)",
    )
    p.add_argument(
        "--export-dir",
        type=Path,
        default=None,
        help="use DIR/export_N.csv as they are instead of generating exports",
    )
    p.add_argument("--regenerate", action="store_true", help="generate exports even if present")
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
        0 when everything ran (targets may be missed, views may be missing); 1 on a crash.
    """
    args = build_parser().parse_args(argv)
    sizes = list(args.sizes)
    if args.with_20m and TWENTY_MILLION not in sizes:
        sizes.append(TWENTY_MILLION)
    out_dir: Path = args.out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    mci = find_mci(args.mci)
    started = dt.datetime.now(dt.UTC)

    cases = [run_case(rows, args, mci, out_dir) for rows in sizes]
    for case in cases:
        print_case(case)
    verdicts = evaluate_targets({c.rows: c for c in cases})
    if verdicts:
        print()
        print_table(
            ["status", "size", "target", "actual"],
            [[v["status"], label(v["rows"]), v["description"], v["actual"]] for v in verdicts],
            title="Targets",
        )
    crashes = [crash for case in cases for crash in case.crashes]

    results = {
        "benchmark": "queries",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {**machine_info(), "sqlite": sqlite3.sqlite_version},
        "settings": {
            "sizes": sizes,
            "seed": args.seed,
            "repeat": args.repeat,
            "baseline_max_rows": args.baseline_max_rows,
            "skip_baseline": args.skip_baseline,
            "skip_duckdb": args.skip_duckdb,
            "refresh_views": args.refresh_views,
            "mci": mci,
            "filter": {
                "channels": list(CHANNELS),
                "start": START.isoformat(),
                "end": END.isoformat(),
                "api_metrics": list(API_METRICS),
            },
            "timing": "in-process, one connection per engine (DuckDB read-only), 1 warm-up "
            "then `repeat` runs with time.perf_counter, every row fetched into Python; "
            "tables, ratios and targets use the medians",
            "sql": {
                "duckdb_monthly_from_view": DUCK_MONTHLY_FROM_VIEW.strip(),
                "duckdb_monthly_from_table": DUCK_MONTHLY_FROM_TABLE.strip(),
                "sqlite_monthly": SQLITE_MONTHLY.strip(),
            },
        },
        "cases": [c.record for c in cases],
        "targets": verdicts,
        "crashed": crashes,
    }
    results_path = out_dir / "queries_results.json"
    results_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults: {results_path}")
    if crashes:
        print("\nsomething crashed:\n" + "\n".join(f"  - {c}" for c in crashes))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

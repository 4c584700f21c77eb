"""The original project's ingest pipeline, reproduced as one standalone process (the baseline).

Usage::

    python benchmarks/ingest/original_pipeline.py EXPORT.csv DB.sqlite [--via-clean-csv]
        [--driver {sqlalchemy,sqlite3}] [--pandas-default-strings]

The project this product replaces (github.com/niciiu/MarketingAnalyticsIntelligence) ran on
pandas + SQLAlchemy + SQLite + SQL views + Streamlit. Its ingest was spread over three places;
this script runs the same steps, in the same order, with the same pandas and SQLAlchemy calls,
in one process:

1. ``notebooks/01_data_cleaning.ipynb``: ``pd.read_csv`` of the raw Kaggle export, required
   column check, money text to float, ``Date`` to datetime, negative values clamped to 0, rows
   without a date and exact duplicates dropped, snake_case rename, numeric coercion, per-row
   KPI columns (``ctr``, ``cpc``, ``cpm``, ``engagement_rate``), sort by date. (The notebook
   then wrote a clean CSV that ``load_to_sqlite.py``, a separate process, read back with
   ``parse_dates=["date"]``; ``--via-clean-csv`` keeps that hand-off. By default it is
   skipped, so the baseline is not padded with a CSV round trip our product does not need to
   beat; it adds about 45 % to the baseline's time with SQLAlchemy, 70 to 100 % with
   sqlite3.)
2. ``etl/load_to_sqlite.py``: ``create_engine("sqlite:///...", future=True)``, then in one
   ``engine.begin()`` block ``exec_driver_sql`` of ``CREATE TABLE IF NOT EXISTS
   campaign_performance`` and ``DELETE``, and ``DataFrame.to_sql(if_exists="append")`` on
   that connection.
3. ``etl/apply_sql_views.py``: per view file, ``engine.raw_connection()``, ``executescript``,
   ``commit``, ``close``. The files are ``vw_marketing_kpi`` (verbatim),
   ``vw_campaign_roi_map`` (verbatim) and ``vw_campaign_monthly`` (its SQL file was not
   published; reconstructed from how the dashboard reads it). The original declared a fourth,
   channel x month ROI stability table but only ever computed it in pandas into a CSV; here
   it is the view ``vw_channel_stability`` so its cost is counted.
4. ``streamlit/streamlit_app.py``: every view read back with ``pd.read_sql`` on its own
   ``engine.connect()`` connection, using the dashboard's own queries.

Each of the three stages gets its own engine, disposed at the end of the stage, as the
original's three separate processes did.

The two drivers store ``date`` as different text (SQLAlchemy's ``DateTime`` as
``2021-01-01 00:00:00.000000``, as the original's database had it; ``sqlite3`` as
``2021-01-01 00:00:00``); the views give the same results on both.

``--driver`` (default ``sqlalchemy``) chooses how the database is reached:

* ``sqlalchemy``: as above, as the original ran. SQLAlchemy is imported only for this driver;
  the original pinned ``SQLAlchemy==2.0.44`` (see ``original-requirements.txt``).
* ``sqlite3``: the standard library driver, which pandas supports directly, with one
  connection for the whole run (``to_sql`` and ``read_sql`` on it, ``executescript`` for the
  views). It skips SQLAlchemy's layer (statement compilation, per-row bind processing, result
  rows), so it makes the baseline cheaper; it needs no SQLAlchemy, so the other benchmarks
  build their SQLite database with it.

Differences from the original:

* one process instead of three; superseded frames are released when the original's
  separate scripts would have released them, so running in one process does not inflate the
  peak memory;
* one addition: ``Duration`` is parsed to an integer ``duration_days`` (the canonical schema)
  where the original kept the text; about 0.7 s at 2M rows;
* with ``--driver sqlite3`` only: no SQLAlchemy (see above).

The original pinned ``pandas==2.3.3``, where text columns are NumPy ``object`` arrays; the
benchmark runs this script under those pins (``benchmarks/.venv-original/``). Under pandas 3,
which defaults to Arrow-backed strings, the script switches that off
(``future.infer_string = False``) to behave the same, unless ``--pandas-default-strings`` is
given.

The last line on stdout is a JSON summary (driver, library versions, row counts and
per-stage seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sqlite3
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

T = TypeVar("T")

SQLALCHEMY = "sqlalchemy"
SQLITE3 = "sqlite3"
DRIVERS: tuple[str, ...] = (SQLALCHEMY, SQLITE3)

REQUIRED_COLUMNS: tuple[str, ...] = (
    "Campaign_ID",
    "Company",
    "Campaign_Type",
    "Target_Audience",
    "Duration",
    "Channel_Used",
    "Conversion_Rate",
    "Acquisition_Cost",
    "ROI",
    "Location",
    "Language",
    "Clicks",
    "Impressions",
    "Engagement_Score",
    "Customer_Segment",
    "Date",
)

RENAME: dict[str, str] = {
    "Campaign_ID": "campaign_id",
    "Company": "company",
    "Campaign_Type": "campaign_type",
    "Target_Audience": "target_audience",
    "Duration": "duration_days",
    "Channel_Used": "channel",
    "Conversion_Rate": "conversion_rate",
    "Acquisition_Cost": "spend",
    "ROI": "roi",
    "Location": "location",
    "Language": "language",
    "Clicks": "clicks",
    "Impressions": "impressions",
    "Engagement_Score": "engagement_score",
    "Customer_Segment": "customer_segment",
    "Date": "date",
}

# etl/load_to_sqlite.py (duration is an INTEGER number of days here, see module docstring).
CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS campaign_performance (
    date TEXT,
    campaign_id INTEGER,
    company TEXT,
    campaign_type TEXT,
    target_audience TEXT,
    duration_days INTEGER,
    channel TEXT,
    conversion_rate REAL,
    spend REAL,
    roi REAL,
    location TEXT,
    language TEXT,
    clicks INTEGER,
    impressions INTEGER,
    engagement_score INTEGER,
    customer_segment TEXT,
    ctr REAL,
    cpc REAL,
    cpm REAL,
    engagement_rate REAL
);
"""

# sql_views/vw_marketing_kpi.sql, verbatim.
VW_MARKETING_KPI = """
DROP VIEW IF EXISTS vw_marketing_kpi;
CREATE VIEW vw_marketing_kpi AS
SELECT
  DATE(date) AS dt,
  SUM(spend) AS spend,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  CASE WHEN SUM(impressions)=0 THEN 0.0 ELSE SUM(clicks)*1.0/SUM(impressions) END AS ctr,
  AVG(cpc) AS cpc_avg,
  AVG(cpm) AS cpm_avg,
  AVG(roi) AS roi_avg,
  AVG(engagement_rate) AS engagement_rate_avg
FROM campaign_performance
GROUP BY DATE(date);
"""

# sql_views/vw_campaign_monthly.sql was not published; reconstructed in the style of the
# other two views, with the columns the dashboard reads (month_id, channel, spend).
VW_CAMPAIGN_MONTHLY = """
DROP VIEW IF EXISTS vw_campaign_monthly;
CREATE VIEW vw_campaign_monthly AS
SELECT
  strftime('%Y-%m-01', date) AS month_id,
  channel,
  campaign_type,
  SUM(spend) AS spend,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  CASE WHEN SUM(impressions)=0 THEN 0.0 ELSE SUM(clicks)*1.0/SUM(impressions) END AS ctr,
  AVG(cpc) AS cpc_avg,
  AVG(cpm) AS cpm_avg,
  AVG(roi) AS roi_avg,
  COUNT(*) AS n_rows
FROM campaign_performance
GROUP BY strftime('%Y-%m-01', date), channel, campaign_type;
"""

# sql_views/vw_campaign_roi_map.sql, verbatim.
VW_CAMPAIGN_ROI_MAP = """
DROP VIEW IF EXISTS vw_campaign_roi_map;
CREATE VIEW vw_campaign_roi_map AS
SELECT
  channel,
  SUM(spend) AS spend,
  AVG(roi) AS roi_avg,
  COUNT(*) AS n_rows
FROM campaign_performance
GROUP BY channel;
"""

# The notebook's roi_stability_summary.csv (columns channel, month_id, spend, impressions, n,
# roi_mean, roi_std, roi_cv, roi_mom; sample std; roi_mom = month-over-month change of
# roi_mean per channel) as a view.
VW_CHANNEL_STABILITY = """
DROP VIEW IF EXISTS vw_channel_stability;
CREATE VIEW vw_channel_stability AS
WITH m AS (
  SELECT
    channel,
    strftime('%Y-%m', date) AS month_id,
    SUM(spend) AS spend,
    SUM(impressions) AS impressions,
    COUNT(*) AS n,
    AVG(roi) AS roi_mean,
    CASE WHEN COUNT(*) > 1 THEN
      sqrt(MAX((SUM(roi*roi) - SUM(roi)*SUM(roi)/COUNT(*)) / (COUNT(*) - 1), 0.0))
    END AS roi_std
  FROM campaign_performance
  GROUP BY channel, strftime('%Y-%m', date)
)
SELECT
  channel,
  month_id,
  spend,
  impressions,
  n,
  roi_mean,
  roi_std,
  roi_std / roi_mean AS roi_cv,
  roi_mean / LAG(roi_mean) OVER (PARTITION BY channel ORDER BY month_id) - 1.0 AS roi_mom
FROM m;
"""

VIEW_SCRIPTS: dict[str, str] = {
    "vw_marketing_kpi": VW_MARKETING_KPI,
    "vw_campaign_monthly": VW_CAMPAIGN_MONTHLY,
    "vw_campaign_roi_map": VW_CAMPAIGN_ROI_MAP,
    "vw_channel_stability": VW_CHANNEL_STABILITY,
}

# The dashboard's queries (streamlit/streamlit_app.py), plus the stability view.
READ_BACK: dict[str, str] = {
    "vw_marketing_kpi": "SELECT * FROM vw_marketing_kpi ORDER BY dt;",
    "vw_campaign_monthly": "SELECT * FROM vw_campaign_monthly ORDER BY month_id, channel;",
    "vw_campaign_roi_map": "SELECT * FROM vw_campaign_roi_map ORDER BY roi_avg DESC;",
    "vw_channel_stability": "SELECT * FROM vw_channel_stability ORDER BY channel, month_id;",
}


def read_export(path: Path) -> pd.DataFrame:
    """Read the raw export the way the notebook did.

    Args:
        path: The Kaggle-format CSV export.

    Returns:
        The raw frame, one column per source column.
    """
    return pd.read_csv(path)


def clean(df: pd.DataFrame) -> pd.DataFrame:
    """Apply the notebook's cleaning and KPI derivation cells, in order.

    Args:
        df: The raw frame from :func:`read_export`.

    Returns:
        The clean frame with canonical snake_case columns and the per-row KPI columns.

    Raises:
        ValueError: If a required source column is missing.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"missing required columns: {missing}")

    # Money text "$16,174.00" -> 16174.0
    df["Acquisition_Cost"] = (
        df["Acquisition_Cost"]
        .astype(str)
        .str.replace("$", "", regex=False)
        .str.replace(",", "", regex=False)
        .astype(float)
    )
    # "30 days" -> 30 (canonical duration_days)
    df["Duration"] = (
        df["Duration"].astype(str).str.replace(" days", "", regex=False).str.strip().astype(int)
    )
    df["Date"] = pd.to_datetime(df["Date"], errors="coerce")

    for col in [
        "Acquisition_Cost",
        "Clicks",
        "Impressions",
        "Engagement_Score",
        "Conversion_Rate",
        "ROI",
    ]:
        if col in df.columns:
            df.loc[df[col] < 0, col] = 0

    df = df[df["Date"].notna()]
    df = df.drop_duplicates()

    df = df.rename(columns=RENAME)

    for c in ["spend", "clicks", "impressions", "engagement_score", "conversion_rate", "roi"]:
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0)

    df["ctr"] = np.where(df["impressions"] > 0, df["clicks"] / df["impressions"], 0.0)
    df["cpc"] = np.where(df["clicks"] > 0, df["spend"] / df["clicks"], 0.0)
    df["cpm"] = np.where(df["impressions"] > 0, df["spend"] / df["impressions"] * 1000.0, 0.0)
    df["engagement_rate"] = np.where(
        df["impressions"] > 0, df["engagement_score"] / df["impressions"], 0.0
    )

    return df.sort_values("date")


def load(df: pd.DataFrame, conn: sqlite3.Connection) -> None:
    """Load the clean frame into SQLite the way ``etl/load_to_sqlite.py`` did.

    Args:
        df: The clean frame.
        conn: An open connection to the target database.
    """
    with conn:
        conn.execute(CREATE_TABLE)
        conn.execute("DELETE FROM campaign_performance;")
    df.to_sql("campaign_performance", conn, if_exists="append", index=False)
    conn.commit()


def ensure_sqrt(conn: sqlite3.Connection) -> None:
    """Give ``conn`` a ``sqrt`` function where SQLite was built without its math functions.

    Args:
        conn: A standard library SQLite connection.
    """
    try:
        conn.execute("SELECT sqrt(4.0)").fetchone()
    except sqlite3.OperationalError:
        conn.create_function(
            "sqrt", 1, lambda x: None if x is None else float(x) ** 0.5, deterministic=True
        )


def apply_views(conn: sqlite3.Connection) -> None:
    """Create the semantic views with ``executescript``, on a ``sqlite3`` connection.

    Args:
        conn: An open connection to the database holding ``campaign_performance``.
    """
    ensure_sqrt(conn)
    for script in VIEW_SCRIPTS.values():
        conn.executescript(script)
        conn.commit()


def read_views(conn: sqlite3.Connection) -> dict[str, pd.DataFrame]:
    """Read every view back with ``pd.read_sql``, using the dashboard's queries.

    Args:
        conn: An open connection to the database holding the views.

    Returns:
        One frame per view name.
    """
    return {name: pd.read_sql(sql, conn) for name, sql in READ_BACK.items()}


def import_sqlalchemy() -> Any:
    """Import SQLAlchemy, which only the ``sqlalchemy`` driver needs.

    Returns:
        The ``sqlalchemy`` module.

    Raises:
        ImportError: If it is not installed, with what to do about it.
    """
    try:
        import sqlalchemy
    except ImportError as exc:
        raise ImportError(
            f"--driver {SQLALCHEMY} needs SQLAlchemy, which {sys.executable} does not have. "
            "Run this script with the original's pins (pip install -r "
            "benchmarks/ingest/original-requirements.txt; benchmarks/ingest/run.py makes "
            f"benchmarks/.venv-original/ with them), or pass --driver {SQLITE3}."
        ) from exc
    return sqlalchemy


@contextlib.contextmanager
def sqlalchemy_engine(db: Path) -> Iterator[Engine]:
    """An engine on ``db`` as the original created it, disposed on exit.

    Args:
        db: The SQLite database file.

    Yields:
        ``create_engine(f"sqlite:///{db}", future=True)``, with ``sqrt`` on every connection
        where SQLite lacks it.
    """
    sqlalchemy = import_sqlalchemy()
    engine = sqlalchemy.create_engine(f"sqlite:///{db}", future=True)
    sqlalchemy.event.listen(engine, "connect", lambda dbapi_conn, _record: ensure_sqrt(dbapi_conn))
    try:
        yield engine
    finally:
        engine.dispose()


def load_sqlalchemy(df: pd.DataFrame, db: Path) -> None:
    """Load the clean frame the way ``etl/load_to_sqlite.py`` did, through SQLAlchemy.

    Args:
        df: The clean frame.
        db: The SQLite database file.
    """
    with sqlalchemy_engine(db) as engine, engine.begin() as conn:
        conn.exec_driver_sql(CREATE_TABLE)
        conn.exec_driver_sql("DELETE FROM campaign_performance;")
        df.to_sql("campaign_performance", conn, if_exists="append", index=False)


def apply_views_sqlalchemy(db: Path) -> None:
    """Create the views the way ``etl/apply_sql_views.py`` did: a raw connection per script.

    Args:
        db: The SQLite database file holding ``campaign_performance``.
    """
    with sqlalchemy_engine(db) as engine:
        for script in VIEW_SCRIPTS.values():
            raw = engine.raw_connection()
            try:
                raw.executescript(script)
                raw.commit()
            finally:
                raw.close()


def read_views_sqlalchemy(db: Path) -> dict[str, pd.DataFrame]:
    """Read every view back the way the dashboard's ``q(sql)`` did: a connection per query.

    Args:
        db: The SQLite database file holding the views.

    Returns:
        One frame per view name.
    """
    frames: dict[str, pd.DataFrame] = {}
    with sqlalchemy_engine(db) as engine:
        for name, sql in READ_BACK.items():
            with engine.connect() as conn:
                frames[name] = pd.read_sql(sql, conn)
    return frames


def library_versions() -> dict[str, str | None]:
    """The installed versions of the libraries the baseline's figures depend on.

    Returns:
        Python, pandas, numpy and SQLAlchemy versions (``None`` for one not installed).
    """
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name, dist in (("pandas", "pandas"), ("numpy", "numpy"), ("sqlalchemy", "SQLAlchemy")):
        try:
            versions[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def use_object_strings() -> bool:
    """Make pandas store text as NumPy ``object`` arrays, as pandas 2.x (the original's) did.

    Returns:
        True if text is now stored as ``object``; False if this pandas cannot do that any more.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pd.set_option("future.infer_string", False)
        except (KeyError, ValueError):  # pandas >= 4 removed the option (OptionError is both)
            return False
    return True


def _timed(stages: dict[str, float], name: str, fn: Callable[[], T]) -> T:
    """Run ``fn`` and record its wall time under ``name``.

    Args:
        stages: Where stage timings are collected.
        name: The stage name.
        fn: The stage to run.

    Returns:
        Whatever ``fn`` returned.
    """
    start = time.perf_counter()
    result = fn()
    stages[name] = round(time.perf_counter() - start, 4)
    return result


def _store_sqlite3(
    slot: list[pd.DataFrame], db: Path, stages: dict[str, float]
) -> dict[str, pd.DataFrame]:
    """Load, create the views and read them back on one standard library connection.

    Args:
        slot: Holds the clean frame; emptied once it is loaded.
        db: The SQLite database file.
        stages: Where stage timings are collected.

    Returns:
        One frame per view name.
    """
    conn = sqlite3.connect(db)
    try:
        _timed(stages, "to_sql", lambda: load(slot[0], conn))
        slot.clear()
        _timed(stages, "create_views", lambda: apply_views(conn))
        return _timed(stages, "read_views", lambda: read_views(conn))
    finally:
        conn.close()


def _store_sqlalchemy(
    slot: list[pd.DataFrame], db: Path, stages: dict[str, float]
) -> dict[str, pd.DataFrame]:
    """Load, create the views and read them back through SQLAlchemy, as the original did.

    Args:
        slot: Holds the clean frame; emptied once it is loaded.
        db: The SQLite database file.
        stages: Where stage timings are collected.

    Returns:
        One frame per view name.
    """
    _timed(stages, "to_sql", lambda: load_sqlalchemy(slot[0], db))
    slot.clear()
    _timed(stages, "create_views", lambda: apply_views_sqlalchemy(db))
    return _timed(stages, "read_views", lambda: read_views_sqlalchemy(db))


def run(
    export: Path,
    db: Path,
    *,
    via_clean_csv: bool = False,
    object_strings: bool = False,
    driver: str = SQLITE3,
) -> dict[str, Any]:
    """Run the whole original pipeline once.

    Args:
        export: The raw Kaggle-format CSV export.
        db: The SQLite database file to create or overwrite.
        via_clean_csv: Keep the original's clean-CSV hand-off between notebook and loader.
        object_strings: Whether text columns are ``object`` (only reported in the summary).
        driver: ``sqlalchemy`` (as the original ran; the command line's default) or
            ``sqlite3`` (the default here, for callers that only need the database file).

    Returns:
        A JSON-serialisable summary: driver, library versions, row counts, rows per view,
        seconds per stage.

    Raises:
        ValueError: If ``driver`` is not one of :data:`DRIVERS`.
        ImportError: If the ``sqlalchemy`` driver is asked for without SQLAlchemy installed.
    """
    if driver not in DRIVERS:
        raise ValueError(f"unknown driver {driver!r}; one of {', '.join(DRIVERS)}")
    if driver == SQLALCHEMY:
        import_sqlalchemy()
    stages: dict[str, float] = {}
    total_start = time.perf_counter()
    # Frames are handed on through a one-slot list so that no stale reference keeps a
    # superseded frame alive: peak memory is what the original's own scripts would reach.
    slot: list[pd.DataFrame] = [_timed(stages, "read_csv", lambda: read_export(export))]
    rows_read = len(slot[0])
    slot.append(_timed(stages, "clean", lambda: clean(slot.pop())))
    if via_clean_csv:
        # The notebook wrote the clean CSV; load_to_sqlite.py (a separate process) read it.
        clean_csv = db.with_suffix(".clean.csv")
        _timed(stages, "write_clean_csv", lambda: slot[0].to_csv(clean_csv, index=False))
        slot.clear()
        slot.append(
            _timed(stages, "read_clean_csv", lambda: pd.read_csv(clean_csv, parse_dates=["date"]))
        )
        clean_csv.unlink()
    rows_loaded = len(slot[0])
    store = _store_sqlalchemy if driver == SQLALCHEMY else _store_sqlite3
    views = store(slot, db, stages)
    versions = library_versions()
    if driver != SQLALCHEMY:
        versions["sqlalchemy"] = None
    return {
        "pipeline": f"original (pandas + {'SQLAlchemy' if driver == SQLALCHEMY else 'sqlite3'}"
        " + SQLite views)",
        "driver": driver,
        **versions,
        "sqlite": sqlite3.sqlite_version,
        "string_storage": "object" if object_strings else "pandas default",
        "via_clean_csv": via_clean_csv,
        "rows_read": rows_read,
        "rows_loaded": rows_loaded,
        "view_rows": {name: len(frame) for name, frame in views.items()},
        "stages_s": stages,
        "total_s": round(time.perf_counter() - total_start, 4),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments (without the program name); ``sys.argv[1:]`` when ``None``.

    Returns:
        The process exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path, help="raw Kaggle-format CSV export")
    parser.add_argument("db", type=Path, help="SQLite database file (overwritten)")
    parser.add_argument(
        "--via-clean-csv",
        action="store_true",
        help="keep the original's clean-CSV hand-off between clean and load",
    )
    parser.add_argument(
        "--driver",
        choices=DRIVERS,
        default=SQLALCHEMY,
        help="how the database is reached: sqlalchemy, as the original ran (default), or the "
        "standard library's sqlite3 (cheaper, needs no SQLAlchemy)",
    )
    parser.add_argument(
        "--pandas-default-strings",
        action="store_true",
        help="use this pandas' default string dtype instead of object "
        "(the original ran pandas 2.3 with object strings)",
    )
    args = parser.parse_args(argv)
    if args.driver == SQLALCHEMY:
        try:
            import_sqlalchemy()
        except ImportError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    object_strings = not args.pandas_default_strings and use_object_strings()
    summary = run(
        args.export,
        args.db,
        via_clean_csv=args.via_clean_csv,
        object_strings=object_strings,
        driver=args.driver,
    )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

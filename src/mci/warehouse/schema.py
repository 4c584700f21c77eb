"""The warehouse tables of DESIGN.md, declared once and created on any engine.

Example:
    >>> import tempfile, pathlib
    >>> from mci.warehouse import connect
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.sqlite"
    >>> with connect(f"sqlite:///{path}") as wh:
    ...     ensure_schema(wh)
    ...     wh.table_exists("load_log")
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mci.warehouse.connection import Warehouse

CLEAN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", "BIGINT NOT NULL"),
    ("line_no", "BIGINT NOT NULL"),
    ("campaign_id", "BIGINT NOT NULL"),
    ("company", "VARCHAR"),
    ("campaign_type", "VARCHAR"),
    ("target_audience", "VARCHAR"),
    ("duration_days", "INTEGER"),
    ("channel", "VARCHAR NOT NULL"),
    ("conversion_rate", "DOUBLE NOT NULL"),
    ("spend", "DOUBLE NOT NULL"),
    ("roi", "DOUBLE NOT NULL"),
    ("location", "VARCHAR"),
    ("language", "VARCHAR"),
    ("clicks", "BIGINT NOT NULL"),
    ("impressions", "BIGINT NOT NULL"),
    ("engagement_score", "INTEGER"),
    ("customer_segment", "VARCHAR"),
    ("date", "DATE NOT NULL"),
    ("is_outlier", "BOOLEAN NOT NULL"),
    ("outlier_reason", "VARCHAR"),
)

# Every non-blank data line exactly as it arrived (without its line break).
RAW_TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", "BIGINT NOT NULL"),
    ("line_no", "BIGINT NOT NULL"),
    ("raw_line", "VARCHAR NOT NULL"),
)

QUARANTINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", "BIGINT NOT NULL"),
    ("line_no", "BIGINT NOT NULL"),
    ("reason_code", "VARCHAR NOT NULL"),
    ("reason_message", "VARCHAR NOT NULL"),
    ("column_name", "VARCHAR"),
    ("raw_text", "VARCHAR NOT NULL"),
)

LOAD_LOG_COLUMNS: tuple[tuple[str, str], ...] = (
    ("load_id", "BIGINT NOT NULL PRIMARY KEY"),
    ("source", "VARCHAR NOT NULL"),
    ("source_path", "VARCHAR NOT NULL"),
    ("sha256", "VARCHAR NOT NULL"),
    ("rows_read", "BIGINT NOT NULL"),
    ("rows_loaded", "BIGINT NOT NULL"),
    ("rows_quarantined", "BIGINT NOT NULL"),
    ("rows_duplicate", "BIGINT NOT NULL"),
    ("rows_outlier", "BIGINT NOT NULL"),
    ("started_at", "TIMESTAMP NOT NULL"),
    ("finished_at", "TIMESTAMP NOT NULL"),
    ("status", "VARCHAR NOT NULL"),
    ("column_mapping", "VARCHAR"),
    ("new_categories", "VARCHAR"),
)

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "load_log": LOAD_LOG_COLUMNS,
    "raw_campaign_rows": RAW_TABLE_COLUMNS,
    "campaign_performance": CLEAN_COLUMNS,
    "quarantine": QUARANTINE_COLUMNS,
}

# Tables whose rows belong to one load (deleted together by ``--replace``).
LOAD_TABLES: tuple[str, ...] = ("raw_campaign_rows", "campaign_performance", "quarantine")

INDEXES: tuple[tuple[str, str, str], ...] = (
    ("ix_campaign_performance_date", "campaign_performance", "date"),
    ("ix_campaign_performance_campaign_id", "campaign_performance", "campaign_id"),
    ("ix_quarantine_load", "quarantine", "load_id, line_no"),
    ("ix_raw_campaign_rows_load", "raw_campaign_rows", "load_id, line_no"),
)


def column_names(table: str) -> list[str]:
    """The column names of one of the warehouse tables, in order."""
    return [name for name, _ in TABLES[table]]


# Column storage hints per engine (only DuckDB takes them): the raw lines compress well with
# zstd, which is also the cheapest of DuckDB's string codecs to write.
STORAGE_HINTS: dict[str, dict[tuple[str, str], str]] = {
    "duckdb": {("raw_campaign_rows", "raw_line"): "USING COMPRESSION zstd"},
}


def create_table_sql(table: str, *, engine: str = "duckdb", temporary: bool = False) -> str:
    """The DuckDB-dialect ``CREATE TABLE`` statement of a warehouse table for ``engine``."""
    hints = STORAGE_HINTS.get(engine, {})
    body = ",\n  ".join(
        " ".join(filter(None, (name, kind, hints.get((table, name)))))
        for name, kind in TABLES[table]
    )
    prefix = "CREATE TEMP TABLE" if temporary else "CREATE TABLE IF NOT EXISTS"
    return f"{prefix} {table} (\n  {body}\n)"


def ensure_schema(wh: Warehouse) -> None:
    """Creates the warehouse tables (and, off DuckDB, their indexes) if they are missing.

    DuckDB gets no secondary indexes: its zone maps serve the scans, and ART indexes would
    slow bulk loads. Idempotent.
    """
    for table in TABLES:
        wh.execute(create_table_sql(table, engine=wh.engine))
    if wh.engine != "duckdb":
        for name, table, column in INDEXES:
            wh.execute_native(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})")

"""How a writable DuckDB warehouse is opened: its row group size and its second connections."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from mci.warehouse import warmup
from mci.warehouse.connection import (
    DUCKDB_ROW_GROUP_ROWS,
    connect,
    duckdb_cursor,
    duckdb_dbapi,
)

ROWS = 150_000


def _row_groups(con: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    """Rows per row group of ``table`` (from its first column's segments)."""
    rows = con.execute(
        "SELECT row_group_id, max(count) FROM pragma_storage_info(?) "
        "WHERE column_id = 0 AND segment_type <> 'VALIDITY' GROUP BY 1 ORDER BY 1",
        [table],
    ).fetchall()
    return [count for _, count in rows]


@pytest.mark.parametrize("warmed", [False, True], ids=["fresh-instance", "warmed-up-instance"])
def test_a_writing_connection_appends_row_groups_of_the_configured_size(
    tmp_path: Path, warmed: bool
) -> None:
    path = tmp_path / "w.duckdb"
    if warmed:  # as `mci ingest` does: DuckDB started on a thread while the CLI loads
        warmup.start()
    with connect(f"duckdb:///{path}") as wh:
        assert warmup.take() is None  # a started instance is the one this connection took
        wh.execute_native(f"CREATE TABLE t AS SELECT range AS i FROM range({ROWS})")
    con = duckdb.connect(str(path), read_only=True)
    try:
        groups = _row_groups(con, "t")
    finally:
        con.close()
    assert sum(groups) == ROWS
    assert max(groups) == DUCKDB_ROW_GROUP_ROWS < 122_880  # DuckDB's own default
    assert len(groups) == -(-ROWS // DUCKDB_ROW_GROUP_ROWS)


def test_a_file_written_with_default_row_groups_opens_and_grows(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE t AS SELECT range AS i FROM range({ROWS})")
    con.close()
    with connect(f"duckdb:///{path}") as wh:
        wh.execute_native(f"INSERT INTO t SELECT range + {ROWS} FROM range({ROWS})")
        assert wh.scalar("SELECT count(DISTINCT i) FROM t") == 2 * ROWS


def test_a_second_connection_sees_the_warehouse_tables(tmp_path: Path) -> None:
    with connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as wh:
        wh.execute_native("CREATE TABLE t AS SELECT 42 AS answer")
        cursor = duckdb_cursor(wh.raw)
        try:
            assert cursor.execute("SELECT answer FROM t").fetchall() == [(42,)]
        finally:
            cursor.close()
        # Why the helper exists: a bare cursor() starts in the in-memory catalog.
        bare = wh.raw.cursor()
        try:
            with pytest.raises(duckdb.CatalogException):
                bare.execute("SELECT answer FROM t")
        finally:
            bare.close()


def test_once_the_duckdb_package_is_loaded_it_is_the_dbapi_used() -> None:
    # This process imported ``duckdb`` above; a fresh CLI process takes the compiled core
    # (tests/integration/test_cli.py). Either way a connection is the same class.
    assert duckdb_dbapi() is duckdb
    import _duckdb

    assert _duckdb.connect is duckdb.connect
    assert type(_duckdb.connect()) is duckdb.DuckDBPyConnection

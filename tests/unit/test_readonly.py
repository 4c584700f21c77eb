"""``mci query``'s read-only lock, and SQL compilation per engine (mci.warehouse.sql)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from mci.warehouse.connection import WarehouseError
from mci.warehouse.dialects import DIALECTS
from mci.warehouse.readonly import WriteRefused, check_read_only, run_read_only
from mci.warehouse.sql import compile_sql

# --- check_read_only ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "select channel, sum(spend) from campaign_performance group by channel",
        "WITH c AS (SELECT 1 AS x) SELECT x FROM c",
        "SELECT 1 UNION SELECT 2",
        "SELECT 1 UNION ALL SELECT 2 EXCEPT SELECT 3",
        "DESCRIBE campaign_performance",
        "SHOW TABLES",
        "SELECT 1;",  # one statement with its terminator
        "-- a comment\nSELECT 1",
        "SELECT 'DELETE FROM campaign_performance' AS text",  # a write only inside a string
        "SELECT range AS n FROM range(10)",  # a table function that reads no file
    ],
)
def test_reads_are_accepted(sql: str) -> None:
    assert check_read_only(sql) is None


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("INSERT INTO t VALUES (1)", "INSERT"),
        ("UPDATE t SET a = 1", "UPDATE"),
        ("DELETE FROM t", "DELETE"),
        ("delete from t where true", "DELETE"),
        ("DROP TABLE t", "DROP"),
        ("CREATE TABLE t2 AS SELECT 1", "CREATE"),
        ("CREATE VIEW v AS SELECT 1", "CREATE"),
        ("ALTER TABLE t ADD COLUMN b INTEGER", "ALTER"),
        ("COPY t TO 'out.csv'", "COPY"),
        ("COPY (SELECT 1) TO 'out.csv'", "COPY"),
        ("ATTACH 'other.duckdb' AS other", "ATTACH"),
        ("SET threads = 1", "SET"),
        ("PRAGMA version", "PRAGMA"),
        ("WITH d AS (SELECT 1 AS a) INSERT INTO t SELECT a FROM d", "INSERT"),
    ],
)
def test_writes_are_refused(sql: str, kind: str) -> None:
    with pytest.raises(WriteRefused) as info:
        check_read_only(sql)
    assert isinstance(info.value, PermissionError)
    assert str(info.value).startswith("refused")
    assert kind in str(info.value)


@pytest.mark.parametrize(
    "sql",
    [
        # PostgreSQL runs data-modifying CTEs: the outer SELECT must not hide them
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "SELECT 1 UNION SELECT * FROM (WITH d AS (DELETE FROM t RETURNING a) SELECT a FROM d)",
        "DESCRIBE INSERT INTO t VALUES (1)",
    ],
)
def test_writes_nested_in_a_read_are_refused(sql: str) -> None:
    with pytest.raises(WriteRefused, match="this statement writes"):
        check_read_only(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "LOAD httpfs",
        "INSTALL httpfs",
        "CALL pragma_version()",
        "VACUUM",
        "CHECKPOINT",
        "RESET threads",
        "DETACH other",
        "USE other",
        "BEGIN",
        "TRUNCATE t",
        "EXPORT DATABASE 'dump'",
        "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE",
        "CREATE MACRO m(a) AS a",
    ],
)
def test_other_statements_are_refused(sql: str) -> None:
    # Anything that is not a plain read is refused, whether or not sqlglot understands it.
    with pytest.raises(WriteRefused):
        check_read_only(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; SELECT 2",
        "SELECT * FROM t; DROP TABLE t",
        "SELECT 1; DELETE FROM t;",
    ],
)
def test_more_than_one_statement_is_refused(sql: str) -> None:
    with pytest.raises(WriteRefused, match="exactly one statement"):
        check_read_only(sql)


@pytest.mark.parametrize("sql", ["", "   ", ";"])
def test_no_statement_is_refused(sql: str) -> None:
    with pytest.raises(WriteRefused, match="exactly one statement"):
        check_read_only(sql)


@pytest.mark.parametrize("sql", ["SELEC 1", "SELECT FROM WHERE (", "SELECT (1"])
def test_unparseable_text_is_refused(sql: str) -> None:
    with pytest.raises(WriteRefused, match="cannot parse"):
        check_read_only(sql)


def test_select_into_is_refused() -> None:
    with pytest.raises(WriteRefused):
        check_read_only("SELECT 1 AS a INTO new_table")


# --- run_read_only against a real DuckDB file -----------------------------------------------


@pytest.fixture
def duckdb_file(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE campaign_performance (channel VARCHAR, spend DOUBLE)")
    con.execute(
        "INSERT INTO campaign_performance VALUES ('Email', 10.0), ('YouTube', 2.5), ('Email', 5.0)"
    )
    con.close()
    return path


def _count(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM campaign_performance").fetchone()[0]
    finally:
        con.close()


def test_run_read_only_returns_columns_and_rows(duckdb_file: Path) -> None:
    columns, rows = run_read_only(
        "SELECT channel, sum(spend) AS spend FROM campaign_performance "
        "GROUP BY channel ORDER BY channel",
        db=f"duckdb:///{duckdb_file}",
    )
    assert columns == ["channel", "spend"]
    assert rows == [("Email", 15.0), ("YouTube", 2.5)]


def test_run_read_only_uses_the_environment_url(
    duckdb_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCI_DB_URL", f"duckdb:///{duckdb_file}")
    _, rows = run_read_only("SELECT count(*) FROM campaign_performance")
    assert rows == [(3,)]


def test_run_read_only_refuses_delete_and_leaves_the_table(duckdb_file: Path) -> None:
    before = hashlib.sha256(duckdb_file.read_bytes()).hexdigest()
    with pytest.raises(WriteRefused):
        run_read_only("DELETE FROM campaign_performance", db=f"duckdb:///{duckdb_file}")
    with pytest.raises(WriteRefused):
        run_read_only("SELECT 1; DELETE FROM campaign_performance", db=f"duckdb:///{duckdb_file}")
    assert _count(duckdb_file) == 3
    assert hashlib.sha256(duckdb_file.read_bytes()).hexdigest() == before


def test_run_read_only_on_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "absent.duckdb"
    with pytest.raises(WarehouseError):
        run_read_only("SELECT 1", db=f"duckdb:///{path}")
    assert not path.exists()


# --- compile_sql ----------------------------------------------------------------------------


def test_postgres_placeholders() -> None:
    sql = compile_sql("SELECT x FROM t WHERE y = ? AND z > ?", DIALECTS["postgresql"])
    assert "?" not in sql
    assert sql.count("%s") == 2


def test_postgres_leaves_a_question_mark_in_a_string_literal() -> None:
    sql = compile_sql("SELECT '?' AS q FROM t WHERE y = ?", DIALECTS["postgresql"])
    assert "'?'" in sql
    assert sql.count("%s") == 1


def test_postgres_keeps_every_statement() -> None:
    sql = compile_sql("SELECT 1 AS a; SELECT 2 AS b", DIALECTS["postgresql"])
    assert "1 AS a" in sql and "2 AS b" in sql


def test_sqlite_keeps_question_mark_placeholders() -> None:
    sql = compile_sql("SELECT x FROM t WHERE y = ?", DIALECTS["sqlite"])
    assert sql.count("?") == 1


def test_sqlite_maps_timestamp_to_text() -> None:
    sql = compile_sql("CREATE TABLE t (started_at TIMESTAMP NOT NULL)", DIALECTS["sqlite"])
    assert "started_at TEXT" in sql
    assert "TIMESTAMP" not in sql.upper()


def test_sqlite_leaves_other_types() -> None:
    sql = compile_sql("CREATE TABLE t (n BIGINT, d DATE)", DIALECTS["sqlite"])
    assert "TEXT" not in sql.upper()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT x FROM t WHERE y = ?",
        "select  strftime(dt, '%Y-%m')   AS month_id from t",  # odd spacing kept as written
        "CREATE TABLE t (a TIMESTAMP)",
    ],
)
def test_duckdb_is_unchanged(sql: str) -> None:
    assert compile_sql(sql, DIALECTS["duckdb"]) == sql


# --- the sandbox: what a read-only connection refuses even past the statement check --------

FILE_READERS = [
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    "SELECT * FROM sqlite_scan('/tmp/x.sqlite', 't')",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT set_config('work_mem', '1GB', false)",
    'SELECT * FROM "data.csv"',
]


@pytest.mark.parametrize("sql", FILE_READERS)
def test_file_and_network_readers_are_refused(sql: str) -> None:
    with pytest.raises(WriteRefused, match="reads the warehouse only"):
        check_read_only(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM 'https://example.com/x.csv'",
        "ATTACH '/tmp/other.duckdb' AS other",
        "SET enable_external_access = true",
        "INSTALL httpfs",
        "LOAD sqlite",
        "SELECT * FROM sqlite_scan('/tmp/x.sqlite', 't')",
        "COPY (SELECT 1) TO '/tmp/mci-sandbox-out.csv'",
    ],
)
def test_a_read_only_duckdb_connection_is_a_sandbox(duckdb_file: Path, sql: str) -> None:
    from mci.warehouse.connection import connect

    with connect(f"duckdb:///{duckdb_file}", read_only=True) as wh:
        with pytest.raises(duckdb.Error):
            wh.query(sql, native=True)
        assert wh.query("SELECT count(*) FROM campaign_performance")[1] == [(3,)]
    assert not Path("/tmp/mci-sandbox-out.csv").exists()


def test_the_sandbox_never_creates_an_extension_folder(duckdb_file: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    script = (
        "from mci.warehouse.connection import connect\n"
        f"wh = connect('duckdb:///{duckdb_file}', read_only=True)\n"
        "for sql in (\"SELECT * FROM sqlite_scan('/x.sqlite', 't')\", "
        "\"SELECT * FROM 'https://example.com/x.csv'\", 'INSTALL httpfs'):\n"
        "    try:\n"
        "        wh.query(sql, native=True)\n"
        "    except Exception:\n"
        "        pass\n"
    )
    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert list(home.iterdir()) == []


def test_a_read_only_sqlite_connection_attaches_nothing(tmp_path: Path) -> None:
    import sqlite3

    from mci.warehouse.connection import connect

    path = tmp_path / "w.sqlite"
    with connect(f"sqlite:///{path}") as wh:
        wh.execute_native("CREATE TABLE t (a INTEGER)")
    other = tmp_path / "other.sqlite"
    with connect(f"sqlite:///{path}", read_only=True) as wh:
        for sql in (f"ATTACH '{other}' AS o", "PRAGMA journal_mode = DELETE"):
            with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
                wh.query(sql, native=True)
        with pytest.raises(sqlite3.OperationalError):
            wh.query("SELECT load_extension('/tmp/evil.so')", native=True)
        assert wh.query("SELECT count(*) FROM t", native=True)[1] == [(0,)]
    assert not other.exists()


@pytest.mark.postgres
def test_postgres_file_functions_are_refused_before_they_run(pg_server: str) -> None:
    from tests.support.postgres import fresh_database

    url = fresh_database(pg_server, "t_sandbox")
    for sql in ("SELECT pg_read_file('/etc/passwd')", "SELECT * FROM pg_ls_dir('/')"):
        with pytest.raises(WriteRefused, match="reads the warehouse only"):
            run_read_only(sql, url)

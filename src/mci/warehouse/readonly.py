"""Read-only SQL for ``mci query``: a statement that writes is refused before it runs.

Three locks: the statement must parse as a read (SELECT, a set operation, DESCRIBE, SHOW)
that calls no function reading files, the network or the server's settings; and it runs on
a read-only connection anyway, which is also a sandbox on the embedded engines (DuckDB: no
external access, no extensions, configuration locked; SQLite: no ATTACH, PRAGMA or
extensions; see :mod:`mci.warehouse.connection`). On PostgreSQL, whose superusers may read
server files from SQL, the function list below is what stands between a query and the disk.

Example:
    >>> check_read_only("SELECT 1")
    >>> check_read_only("DELETE FROM quarantine")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mci.warehouse.readonly.WriteRefused: refused: `mci query` is read-only and runs no DELETE...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mci.warehouse.connection import connect


class WriteRefused(PermissionError):
    """The statement would write, read outside the warehouse, or is not one statement."""


# Functions that read or write files, reach the network, load code or change settings, in
# any of the engines (lower case; a name that starts with one of PREFIXES counts too).
DENIED_FUNCTIONS = frozenset(
    {
        # DuckDB file and network readers (also blocked by its sandbox)
        "read_text",
        "read_blob",
        "read_csv",
        "read_csv_auto",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_ndjson",
        "read_ndjson_auto",
        "read_ndjson_objects",
        "read_parquet",
        "parquet_scan",
        "parquet_metadata",
        "parquet_schema",
        "parquet_file_metadata",
        "parquet_kv_metadata",
        "glob",
        "sniff_csv",
        "sqlite_scan",
        "sqlite_attach",
        "postgres_scan",
        "postgres_attach",
        "mysql_scan",
        "iceberg_scan",
        "delta_scan",
        "read_xlsx",
        "load_extension",
        "install_extension",
        # SQLite
        "readfile",
        "writefile",
        "edit",
        "fts3_tokenizer",
        # PostgreSQL server files, large objects, other servers, settings, sessions
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "lo_import",
        "lo_export",
        "lo_get",
        "lo_from_bytea",
        "set_config",
        "pg_reload_conf",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_sleep",
        "query_to_xml",
        "query_to_xmlschema",
        "query_to_xml_and_xmlschema",
        "cursor_to_xml",
        "cursor_to_xmlschema",
        "dblink",
        "dblink_exec",
        "dblink_connect",
        "current_setting",
    }
)
DENIED_PREFIXES = ("pg_ls_", "pg_read_", "lo_", "dblink")
_READER_CLASSES = frozenset({"readcsv", "readparquet", "readjson"})


def _function_names(statement: Any) -> Iterator[str]:
    """Every function a parsed statement calls, lower case (table functions included)."""
    from sqlglot import exp

    for node in statement.walk():
        if isinstance(node, exp.Anonymous):
            yield str(node.name).lower()
        elif isinstance(node, exp.Func):
            yield node.sql_name().lower()
            # sqlglot gives known file readers classes of their own (ReadCSV, ...)
            yield type(node).__name__.lower()


def _file_table(statement: Any) -> str | None:
    """A table named by a quoted path or URL (DuckDB reads such a file), if any."""
    from sqlglot import exp

    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):  # a table function: checked by name
            continue
        name = table.name
        if "/" in name or "\\" in name or (table.this.quoted and "." in name):
            return name
    return None


def check_read_only(sql: str) -> None:
    """Refuses anything but one read-only statement.

    Raises:
        WriteRefused: the statement writes, or there is not exactly one statement.
    """
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise WriteRefused(
            f"refused: cannot parse the statement ({exc.errors[0]['description']})"
        ) from None
    if len(statements) != 1:
        raise WriteRefused(f"refused: give exactly one statement, got {len(statements)}")
    statement = statements[0]
    readable = (exp.Select, exp.SetOperation, exp.Describe, exp.Show)
    if not isinstance(statement, readable):
        kind = statement.key.upper()
        raise WriteRefused(f"refused: `mci query` is read-only and runs no {kind} statement")
    if statement.args.get("into") is not None:
        raise WriteRefused("refused: `mci query` is read-only, and SELECT ... INTO writes a table")
    for node in statement.walk():
        if isinstance(
            node,
            exp.Insert | exp.Update | exp.Delete | exp.Merge | exp.Create | exp.Drop | exp.Alter,
        ):
            raise WriteRefused("refused: `mci query` is read-only, and this statement writes")
    for name in _function_names(statement):
        if name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES) or name in _READER_CLASSES:
            raise WriteRefused(
                f"refused: `mci query` reads the warehouse only, and {name}() reaches files, "
                "the network or the server's settings"
            )
    path = _file_table(statement)
    if path is not None:
        raise WriteRefused(
            f"refused: `mci query` reads the warehouse only, not files or URLs ({path!r})"
        )


def run_read_only(sql: str, db: str | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Runs one read-only statement on a read-only connection.

    Args:
        sql: the statement, written for the warehouse's engine.
        db: the database URL; ``None`` uses ``MCI_DB_URL`` or the default.

    Returns:
        Column names and rows.

    Raises:
        WriteRefused: the statement would write.
    """
    check_read_only(sql)
    with connect(db, read_only=True) as wh:
        return wh.query(sql, native=True)

"""Read-only SQL for ``mci query``: a statement that writes is refused before it runs.

Two locks: the statement must parse as a read (SELECT, a set operation, DESCRIBE, SHOW),
and it runs on a read-only connection anyway.

Example:
    >>> check_read_only("SELECT 1")
    >>> check_read_only("DELETE FROM quarantine")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mci.warehouse.readonly.WriteRefused: refused: `mci query` is read-only and runs no DELETE...
"""

from __future__ import annotations

from typing import Any

from mci.warehouse.connection import connect


class WriteRefused(PermissionError):
    """The statement would write (or is not one statement)."""


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

"""One small connection wrapper over DuckDB, SQLite and PostgreSQL.

SQL is written once in DuckDB's dialect with ``?`` placeholders and compiled for the engine
(:func:`mci.warehouse.sql.compile_sql`); values always travel as parameters.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"
    >>> with connect(f"duckdb:///{path}") as wh:
    ...     wh.query("SELECT ? + 1 AS answer", [41])
    (['answer'], [(42,)])
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from mci.config import DbUrl, parse_db_url, resolve_db_url
from mci.warehouse.dialects import DIALECTS, Dialect
from mci.warehouse.sql import compile_sql


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or used as asked."""


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse's lock (a load is being written)."""


def _is_lock_conflict(exc: BaseException) -> bool:
    """Whether a driver error says another process holds the database's lock."""
    text = str(exc)
    return (
        "Could not set lock" in text or "Conflicting lock" in text or "database is locked" in text
    )


class Warehouse:
    """A connection to one warehouse, with the engine's quirks hidden.

    Use :func:`connect` to open one.

    Attributes:
        dialect: the engine's flags.
        url: the parsed database URL.
        read_only: whether the connection refuses writes.
        raw: the driver's own connection (DuckDB, sqlite3 or psycopg).
    """

    def __init__(self, dialect: Dialect, url: DbUrl, raw: Any, read_only: bool) -> None:
        self.dialect = dialect
        self.url = url
        self.raw = raw
        self.read_only = read_only

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def engine(self) -> str:
        """The engine name: ``duckdb``, ``sqlite`` or ``postgresql``."""
        return self.dialect.name

    def close(self) -> None:
        """Closes the connection."""
        self.raw.close()

    def sql(self, sql: str) -> str:
        """Compiles DuckDB-dialect SQL for this engine."""
        return compile_sql(sql, self.dialect)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Runs one statement (compiled for the engine) and returns the driver's cursor."""
        return self.execute_native(self.sql(sql), params)

    def execute_native(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Runs one statement already written in the engine's own dialect."""
        if self.engine == "duckdb":
            return self.raw.execute(sql, list(params) if params is not None else None)
        cursor = self.raw.cursor()
        if params is None:  # psycopg reads every % as a placeholder once parameters are given
            cursor.execute(sql)
        else:
            cursor.execute(sql, tuple(params))
        return cursor

    def query(
        self, sql: str, params: Sequence[Any] | None = None, *, native: bool = False
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Runs a query and returns its column names and rows."""
        cursor = self.execute_native(sql, params) if native else self.execute(sql, params)
        columns = [d[0] for d in cursor.description] if cursor.description else []
        return columns, [tuple(r) for r in cursor.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Runs a query and returns the first column of its first row (or ``None``)."""
        _, rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk-inserts rows inside the current transaction; returns the number inserted.

        PostgreSQL uses ``COPY``; the embedded engines use batched ``executemany``.
        """
        column_list = ", ".join(columns)
        if self.engine == "postgresql":
            count = 0
            with (
                self.raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        marks = ", ".join([self.dialect.placeholder] * len(columns))
        statement = f"INSERT INTO {table} ({column_list}) VALUES ({marks})"  # noqa: S608 - identifiers are ours
        # A DuckDB cursor() is another connection: outside this one's transaction.
        cursor = self.raw if self.engine == "duckdb" else self.raw.cursor()
        count = 0
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= max(self.dialect.bulk_rows, 1):
                cursor.executemany(statement, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(statement, batch)
            count += len(batch)
        return count

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """Runs the block in one transaction: all of it commits, or none of it."""
        self.execute_native("BEGIN")
        try:
            yield self
        except BaseException:
            self.execute_native("ROLLBACK")
            raise
        self.execute_native("COMMIT")

    def table_exists(self, name: str) -> bool:
        """Whether a table or view of that name exists."""
        if self.engine == "sqlite":
            sql = "SELECT count(*) FROM sqlite_master WHERE name = ?"
            return bool(self.query(sql, [name], native=True)[1][0][0])
        sql = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
        return bool(self.query(sql, [name])[1][0][0])


# Rows per row group in what a writing connection appends (DuckDB's default is 122,880). A
# row group is DuckDB's unit of parallel work: at this size a 200,000-row load is written
# on both cores of a small machine instead of one (0.2 s -> 0.1 s), and scans of small
# warehouses split into more tasks. Files written with other sizes read and append fine.
DUCKDB_ROW_GROUP_ROWS = 61_440
DUCKDB_CATALOG = "warehouse"


def duckdb_dbapi() -> Any:
    """DuckDB's DB-API module (``connect``, connections, errors), loaded as cheaply as it can be.

    Since 1.4 the ``duckdb`` package is a compiled core, ``_duckdb``, which holds the whole
    DB-API (connections, ``execute``, ``fetchall``, ``cursor``, ``interrupt``, the error
    classes), plus a pure-Python layer for the relational and expression APIs. Importing the
    package loads that layer and reads its own version from the installed metadata: about
    0.07 s more than the core alone, and about 0.01 s more to tear down at exit, in a
    200,000-row ingest process that now takes under 0.7 s. mci uses only the DB-API, so it
    takes the core when it is there and has ``connect``; otherwise, or once something has
    imported the package anyway, it takes the package. Both give the same connection class.

    Example:
        >>> duckdb_dbapi().connect().execute("SELECT 42").fetchall()
        [(42,)]
    """
    import sys

    if "duckdb" not in sys.modules:
        try:
            import _duckdb
        except ImportError:
            pass
        else:
            if callable(getattr(_duckdb, "connect", None)):
                return _duckdb
    import duckdb

    return duckdb


# A read-only DuckDB connection is also a sandbox: no file or network access beyond the
# warehouse itself (read_text, read_csv, glob, COPY, ATTACH, URLs), no extension installed or
# loaded behind the user's back (which would create ~/.duckdb/extensions), and the
# configuration locked so a statement cannot turn any of it back on.
DUCKDB_SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}


def _open_duckdb(path: Path, read_only: bool) -> Any:
    duckdb = duckdb_dbapi()
    if read_only:
        return duckdb.connect(str(path), read_only=True, config=dict(DUCKDB_SANDBOX))
    path.parent.mkdir(parents=True, exist_ok=True)
    # The row group size is an option of ATTACH, not of connect(): the file is attached to
    # an in-memory instance (one started ahead by the command, if any: see
    # ``mci.warehouse.warmup``) and made the default catalog. A cursor() of this connection
    # starts in the in-memory catalog: see ``duckdb_cursor``.
    from mci.warehouse import warmup

    raw = warmup.take()
    if raw is None:
        raw = duckdb.connect()
    literal = str(path).replace("'", "''")
    raw.execute(f"ATTACH '{literal}' AS {DUCKDB_CATALOG} (ROW_GROUP_SIZE {DUCKDB_ROW_GROUP_ROWS})")
    raw.execute(f"USE {DUCKDB_CATALOG}")
    return raw


def duckdb_cursor(con: Any) -> Any:
    """A second connection to ``con``'s DuckDB instance, on the same default catalog."""
    catalog = con.execute("SELECT current_database()").fetchall()[0][0]
    cursor = con.cursor()
    cursor.execute(f'USE "{catalog.replace(chr(34), chr(34) * 2)}"')
    return cursor


def _sqlite_sandbox(action: int, *args: Any) -> int:
    """SQLite authorizer of read-only connections: no ATTACH, DETACH or PRAGMA, no extensions.

    Python's sqlite3 already leaves extension loading off; this also keeps a query from
    attaching (and so reading or creating) another file or changing a setting.
    """
    import sqlite3

    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH, sqlite3.SQLITE_PRAGMA):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and str(args[1]).lower() == "load_extension":
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _open_sqlite(path: Path, read_only: bool, wait: float = 0.0) -> Any:
    import sqlite3

    timeout = wait if wait > 0 else 5.0  # Python's default: how long a locked file is retried
    if read_only:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        raw = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = sqlite3.connect(str(path), isolation_level=None, timeout=timeout)
        raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA foreign_keys=ON")
    if read_only:
        raw.set_authorizer(_sqlite_sandbox)
    return raw


def _open_postgresql(url: str, read_only: bool) -> Any:
    import psycopg

    raw = psycopg.connect(url, autocommit=True)
    if read_only:
        raw.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    return raw


def connect(
    url: str | None = None,
    *,
    read_only: bool = False,
    wait: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> Warehouse:
    """Opens the warehouse at ``url`` (``--db``, else ``MCI_DB_URL``, else the default).

    A DuckDB file is locked by the process writing it, for as long as it is open: another
    writer, or a reader in another process, cannot open it meanwhile. With ``wait``, the
    open is retried (backing off from 0.1 s to 2 s) until the lock is free or ``wait``
    seconds have passed, and ``on_wait`` hears once why. SQLite waits up to ``wait`` seconds
    on a locked file; PostgreSQL waits up to ``wait`` seconds for a table lock
    (``lock_timeout``).

    Args:
        url: a database URL; ``None`` resolves it from the environment.
        read_only: open a connection that refuses writes (for queries and the dashboard).
        wait: seconds to wait for another process's lock (0: fail at once).
        on_wait: called once with a message when the open has to wait.

    Returns:
        The open warehouse.

    Raises:
        WarehouseBusy: another process still held the lock after ``wait`` seconds.
        WarehouseError: a read-only open of an embedded file that does not exist, or a
            connection failure (the message never contains a password).
    """
    deadline = time.monotonic() + max(wait, 0.0)
    pause, told = 0.1, False
    while True:
        try:
            return _connect_once(url, read_only, wait)
        except WarehouseBusy as exc:
            if time.monotonic() + pause > deadline:
                if wait > 0:
                    raise WarehouseBusy(f"{exc} (waited {wait:g} s)") from exc
                raise
            if on_wait is not None and not told:
                on_wait(f"{exc}: waiting up to {wait:g} s for it to finish")
                told = True
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def _connect_once(url: str | None, read_only: bool, wait: float) -> Warehouse:
    parsed = parse_db_url(resolve_db_url(url))
    dialect = DIALECTS[parsed.engine]
    try:
        if parsed.engine == "postgresql":
            raw = _open_postgresql(parsed.url, read_only)
        else:
            path = Path(parsed.path)
            if read_only and not path.exists():
                raise WarehouseError(
                    f"no warehouse at {path}: load data first with `mci ingest FILE --db "
                    f"{parsed.redacted()}`"
                )
            if parsed.engine == "duckdb":
                raw = _open_duckdb(path, read_only)
            else:
                raw = _open_sqlite(path, read_only, wait)
    except WarehouseError:
        raise
    except Exception as exc:  # driver errors differ per engine; report them uniformly
        if _is_lock_conflict(exc):
            holder = _lock_holder(str(exc))
            raise WarehouseBusy(
                f"{parsed.redacted()} is locked by another process{holder} writing to it"
            ) from exc
        from mci.secrets import redact, scrub, secrets_in

        # Drivers quote the URL, or pieces of it, back: both are cleaned.
        message = scrub(redact(str(exc)), secrets_in(parsed.url))
        raise WarehouseError(f"cannot open {parsed.redacted()}: {message}") from exc
    if wait > 0 and parsed.engine == "postgresql":
        raw.execute(f"SET lock_timeout = '{int(wait * 1000)}ms'")
    return Warehouse(dialect, parsed, raw, read_only)


def _lock_holder(message: str) -> str:
    """`` (PID 123)`` from DuckDB's lock message, when it names the holder."""
    import re

    found = re.search(r"PID (\d+)", message)
    return f" (PID {found.group(1)})" if found else ""

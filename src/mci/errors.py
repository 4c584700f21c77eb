"""What the command line does with an error: one plain message on stderr, one exit code.

Exit codes (the README's table):

====  =================================================================================
code  meaning
====  =================================================================================
0     done
1     an error: a file that cannot be read or written, a warehouse that cannot be
      opened or reached, a query the engine rejects, anything unexpected
2     usage or contract: a bad option or argument (Typer's own usage errors included), a
      malformed database URL, a file whose columns do not match the contract, a
      statement ``mci query`` refuses because it would write
130   interrupted (Ctrl-C; Typer's own mapping of ``KeyboardInterrupt``)
====  =================================================================================

Every message passes through :func:`clean` first: :func:`mci.secrets.redact`, then the
secrets of the database URLs of the run (``--db`` values and ``MCI_DB_URL``) scrubbed
wherever they appear. A traceback is shown only with ``mci --debug`` (or ``MCI_DEBUG=1``),
and it is cleaned the same way.

This module is imported by every command, so it imports nothing heavier than ``os`` until
an error needs it (the URL parser and the redaction patterns are loaded then).

Example:
    >>> from mci.config import ConfigError
    >>> describe(ConfigError("unsupported database URL 'x'"))
    ("unsupported database URL 'x'", 2)
    >>> describe(IsADirectoryError(21, "Is a directory", "data"))
    ('data: is a directory', 1)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from pathlib import Path

OK = 0
ERROR = 1
USAGE = 2
DEBUG_ENV = "MCI_DEBUG"
DB_URL_ENV = "MCI_DB_URL"  # mci.config.DB_URL_ENV, not imported: see above


class CliError(Exception):
    """An error the command line has already put in plain words.

    Attributes:
        message: what went wrong (and, where known, which file, line and column).
        code: the exit code (:data:`ERROR` or :data:`USAGE`).
    """

    def __init__(self, message: str, code: int = ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fail(message: str, code: int = ERROR) -> NoReturn:
    """Stops the command with ``error: message`` and the exit code.

    Raises:
        CliError: always.
    """
    raise CliError(message, code)


class Run:
    """What one run of the command line needs to report its errors.

    Attributes:
        debug: show tracebacks.
        db: the last ``--db`` value of the command line, if any.
        db_values: the database URLs given (``--db`` values, then ``MCI_DB_URL``).
    """

    def __init__(
        self, debug: bool = False, db: str | None = None, db_values: Sequence[str] = ()
    ) -> None:
        self.debug = debug
        self.db = db
        self.db_values = list(db_values)
        self._secrets: list[str] | None = None

    @property
    def secrets(self) -> list[str]:
        """The secret values of :attr:`db_values`, in every spelling (worked out once)."""
        if self._secrets is None:
            from mci.secrets import secrets_in

            self._secrets = [s for value in self.db_values for s in secrets_in(value)]
        return self._secrets


_RUN = Run()


def debug_from_env() -> bool:
    """Whether ``MCI_DEBUG`` asks for tracebacks (``1``, ``true``, ``yes`` or ``on``)."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def db_values(argv: Sequence[str], *, environment: bool = True) -> list[str]:
    """The ``--db`` values of a command line, then ``MCI_DB_URL`` when it is set.

    Example:
        >>> db_values(["query", "--db", "sqlite:///a", "--db=sqlite:///b"])[:2]
        ['sqlite:///a', 'sqlite:///b']
    """
    found = []
    for index, arg in enumerate(argv):
        if arg == "--db" and index + 1 < len(argv):
            found.append(argv[index + 1])
        elif arg.startswith("--db="):
            found.append(arg[len("--db=") :])
    if environment and os.environ.get(DB_URL_ENV):
        found.append(os.environ[DB_URL_ENV])
    return found


def begin(argv: Sequence[str]) -> Run:
    """Starts a run: reads ``MCI_DEBUG`` and collects the secrets to keep out of messages."""
    global _RUN
    values = db_values(argv)
    options = db_values(argv, environment=False)
    _RUN = Run(debug=debug_from_env(), db=options[-1] if options else None, db_values=values)
    return _RUN


def set_debug(on: bool = True) -> None:
    """Shows tracebacks for the rest of the run (``mci --debug``)."""
    _RUN.debug = _RUN.debug or on


def current() -> Run:
    """The current run."""
    return _RUN


def clean(text: str) -> str:
    """The text with every secret hidden: redacted, and the run's secrets scrubbed."""
    try:
        from mci.secrets import redact, scrub

        return scrub(redact(text), _RUN.secrets)
    except Exception:  # never let a message leak because redaction itself failed
        return "(message hidden: it could not be checked for secrets)"


def _is(exc: BaseException, module: str, name: str) -> bool:
    """``isinstance`` against a class of a module only if that module is already loaded."""
    cls = getattr(sys.modules.get(module), name, None)
    return isinstance(cls, type) and isinstance(exc, cls)


_DRIVER_MODULES = ("duckdb", "_duckdb", "sqlite3", "psycopg")


def _from_driver(exc: BaseException) -> bool:
    return any(
        (getattr(cls, "__module__", "") or "").split(".")[0] in _DRIVER_MODULES
        for cls in type(exc).__mro__
        if cls not in (Exception, BaseException, object)
    )


def _warehouse_shown(db: str | None) -> str:
    from mci.config import ConfigError, parse_db_url, resolve_db_url
    from mci.secrets import redact

    url = resolve_db_url(db)
    try:
        return parse_db_url(url).redacted()
    except ConfigError:
        return redact(url, strict=True)


def _folder_instead_of_file(db: str | None) -> Path | None:
    from pathlib import Path

    from mci.config import ConfigError, parse_db_url, resolve_db_url

    try:
        parsed = parse_db_url(resolve_db_url(db))
    except ConfigError:
        return None
    if parsed.engine == "postgresql" or not parsed.path:
        return None
    path = Path(parsed.path)
    return path if path.is_dir() else None


def _os_message(exc: OSError) -> str:
    cause = (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
    cause = cause[:1].lower() + cause[1:]
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{' -> '.join(names)}: {cause}" if names else cause


def describe(exc: BaseException, db: str | None = None) -> tuple[str, int]:
    """An exception in plain words, and the exit code it gets.

    Args:
        exc: what was raised.
        db: the ``--db`` value of the command (``None``: ``MCI_DB_URL`` or the default),
            named in messages about the warehouse.

    Returns:
        The message (not yet cleaned of secrets: see :func:`clean`) and the exit code.
    """
    from mci.config import ConfigError

    if isinstance(exc, CliError):
        return exc.message, exc.code
    if isinstance(exc, ConfigError):
        return str(exc), USAGE
    if _is(exc, "mci.ingest.errors", "IngestError"):
        return str(exc), int(getattr(exc, "exit_code", ERROR))
    if _is(exc, "mci.warehouse.readonly", "WriteRefused"):
        return str(exc), USAGE
    if _is(exc, "mci.semantic.registry", "UnknownNameError"):
        return str(exc), USAGE
    if _is(exc, "mci.warehouse.connection", "WarehouseError"):
        folder = _folder_instead_of_file(db)
        if folder is not None:
            return (
                f"cannot open {_warehouse_shown(db)}: {folder} is a folder, not a database file",
                ERROR,
            )
        return str(exc), ERROR
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text ({exc.reason} at byte {exc.start})", ERROR
    if isinstance(exc, OSError) and not _from_driver(exc):
        return _os_message(exc), ERROR
    if isinstance(exc, MemoryError):
        return "out of memory", ERROR
    text = str(exc).strip() or type(exc).__name__
    if _from_driver(exc):
        return f"the warehouse {_warehouse_shown(db)} failed: {text}", ERROR
    return (
        f"{text} ({type(exc).__name__}; `mci --debug ...` shows where it happened)",
        ERROR,
    )


def report(exc: BaseException, db: str | None = None) -> tuple[str, int]:
    """Prints ``error: ...`` (after the traceback, with ``--debug``) to stderr, cleaned.

    Args:
        exc: what was raised.
        db: the command's ``--db`` value (default: the run's).

    Returns:
        The cleaned message and the exit code.
    """
    try:
        message, code = describe(exc, db if db is not None else _RUN.db)
    except Exception:  # describing must not fail in turn
        message, code = type(exc).__name__, ERROR
    message = clean(message).strip()
    if _RUN.debug:
        import traceback

        trace = "".join(traceback.format_exception(exc))
        print(clean(trace), end="", file=sys.stderr)
    print(f"error: {message}", file=sys.stderr)
    return message, code

"""A real, throw-away PostgreSQL server for the test session.

The server is created with ``initdb`` in a private folder, listens on
``127.0.0.1`` only (on a free TCP port), trusts every local connection and is
tuned for speed rather than durability (``fsync``, ``synchronous_commit`` and
``full_page_writes`` are off). It is stopped with a fast shutdown and its files
are removed when the context manager exits, even if the body raised.

PostgreSQL refuses to run as root: when the tests run as root, every server
binary is run as the ``postgres`` system user through ``runuser``; otherwise the
binaries run as the current user.

The binaries are found through the ``MCI_PG_BIN`` environment variable (a
folder holding ``initdb``, ``pg_ctl`` and ``postgres``), else the highest
version under ``/usr/lib/postgresql/*/bin``, else ``PATH``. A missing PostgreSQL
is an error, never a reason to skip tests.

Typical use::

    with running_postgres(tmp_path) as server_url:
        url = fresh_database(server_url, "test_kpis")
        with psycopg.connect(url) as conn:
            ...
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

SUPERUSER = "mci"
"""Name of the superuser created by ``initdb`` (trust authentication, no password)."""

DATABASE = "mci_test"
"""Database created on every server and named in the URL it yields."""

HOST = "127.0.0.1"
"""The only address the server listens on."""

PG_BIN_ENV = "MCI_PG_BIN"
"""Environment variable naming a folder that holds the PostgreSQL binaries."""

SERVER_OS_USER = "postgres"
"""System user that runs the server binaries when the tests run as root."""

START_TIMEOUT_S = 30
"""Seconds to wait for the server to accept connections."""

STOP_TIMEOUT_S = 30
"""Seconds to wait for a fast shutdown before the server is killed."""

INSTALL_HINT = (
    "Install it with `apt-get install -y postgresql` (or run "
    "scripts/install-system-deps.sh), or point MCI_PG_BIN at a folder holding "
    "initdb, pg_ctl and postgres."
)

_REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
_PORT_ATTEMPTS = 3
_BIND_ERRORS = ("could not bind", "address already in use", "could not create any tcp/ip sockets")
# sun_path holds 108 bytes including the trailing NUL; keep a little margin.
_MAX_SOCKET_PATH = 100
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# libpq settings that could redirect our server binaries or clients elsewhere.
_PG_ENV_VARS = (
    "PGDATA",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGDATABASE",
    "PGOPTIONS",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGPASSFILE",
    "PGSSLMODE",
    "PGTZ",
)


def find_postgres_bin() -> Path:
    """Find the folder holding the PostgreSQL server binaries.

    Looks at the ``MCI_PG_BIN`` environment variable first, then at the highest
    version under ``/usr/lib/postgresql/*/bin``, then at ``PATH``.

    Returns:
        A folder that holds ``initdb``, ``pg_ctl`` and ``postgres``.

    Raises:
        RuntimeError: If no such folder is found (with install instructions).
    """
    configured = os.environ.get(PG_BIN_ENV)
    if configured:
        folder = Path(configured)
        if _has_binaries(folder):
            return folder
        raise RuntimeError(
            f"{PG_BIN_ENV}={configured!r} does not hold executable "
            f"{', '.join(_REQUIRED_BINARIES)}. {INSTALL_HINT}"
        )

    versioned = []
    for folder in Path("/usr/lib/postgresql").glob("*/bin"):
        version = folder.parent.name
        if _has_binaries(folder):
            key = tuple(int(part) for part in re.findall(r"\d+", version))
            versioned.append((key, folder))
    if versioned:
        return max(versioned)[1]

    on_path = shutil.which("initdb")
    if on_path:
        folder = Path(on_path).resolve().parent
        if _has_binaries(folder):
            return folder

    raise RuntimeError(f"PostgreSQL server binaries (initdb, pg_ctl) not found. {INSTALL_HINT}")


def _has_binaries(folder: Path) -> bool:
    """Tell whether ``folder`` holds every server binary, executable."""
    return all(os.access(folder / name, os.X_OK) for name in _REQUIRED_BINARIES)


@contextmanager
def running_postgres(base_dir: Path) -> Iterator[str]:
    """Run a throw-away PostgreSQL server for the duration of the ``with`` block.

    Args:
        base_dir: Folder under which the server's files are kept (created if
            missing). A private sub-folder is made inside and removed at exit.

    Yields:
        The URL of the ``mci_test`` database, as
        ``postgresql://mci@127.0.0.1:<port>/mci_test``.

    Raises:
        RuntimeError: If PostgreSQL is not installed, or the server cannot be
            initialised or started (the message carries the server log tail).
    """
    server = _Server(Path(base_dir))
    try:
        server.start()
        yield server.url(DATABASE)
    finally:
        server.close()


def fresh_database(server_url: str, name: str) -> str:
    """(Re)create an empty database on the server behind ``server_url``.

    Any existing database of that name is dropped first, even if sessions are
    still connected to it.

    Args:
        server_url: URL of any database on the server, such as the one yielded
            by :func:`running_postgres`.
        name: Database name: lower-case letters, digits and underscores, not
            starting with a digit, at most 63 characters.

    Returns:
        The URL of the new, empty database.

    Raises:
        ValueError: If ``name`` is not a plain lower-case identifier.
    """
    if not _DB_NAME.fullmatch(name):
        raise ValueError(
            f"Database name {name!r} must match {_DB_NAME.pattern} (plain lower-case identifier)."
        )
    if name in ("postgres", "template0", "template1"):
        raise ValueError(f"Refusing to recreate the system database {name!r}.")
    maintenance_url = _with_database(server_url, "postgres")
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name)
            )
        )
    return _with_database(server_url, name)


def _with_database(url: str, name: str) -> str:
    """Return ``url`` with its database (path) replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class _Server:
    """One initdb-created cluster, its server process and its files."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.bin_dir = find_postgres_bin()
        self.as_root = os.geteuid() == 0
        self.root: Path | None = None
        self.data_dir: Path | None = None
        self.log_file: Path | None = None
        self.extra_socket_dir: Path | None = None
        self.port: int | None = None
        self.pid: int | None = None
        self.owner: tuple[int, int] | None = None
        if self.as_root:
            try:
                entry = pwd.getpwnam(SERVER_OS_USER)
            except KeyError:
                raise RuntimeError(
                    f"Running as root, but there is no {SERVER_OS_USER!r} system user to run "
                    f"PostgreSQL as (PostgreSQL refuses to run as root). {INSTALL_HINT}"
                ) from None
            if shutil.which("runuser") is None:
                raise RuntimeError(
                    "Running as root, but `runuser` (util-linux) is missing; it is needed to run "
                    f"PostgreSQL as the {SERVER_OS_USER!r} user."
                )
            self.owner = (entry.pw_uid, entry.pw_gid)

    # -- public steps -------------------------------------------------------------------------

    def url(self, database: str) -> str:
        """Return the URL of ``database`` on this server."""
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def start(self) -> None:
        """Create the cluster, start the server, wait for it and create ``mci_test``."""
        self._make_folders()
        self._initdb()
        self._start_server()
        self._wait_until_ready(time.monotonic() + START_TIMEOUT_S)
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))

    def close(self) -> None:
        """Stop the server (fast shutdown, then kill if needed) and remove its files."""
        try:
            self._stop_server()
        finally:
            for folder in (self.root, self.extra_socket_dir):
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)

    # -- folders ------------------------------------------------------------------------------

    def _make_folders(self) -> None:
        """Make ``<base>/postgres-XXXX/{data,server.log}``, owned by the server user."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="postgres-", dir=self.base_dir)).resolve()
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self.data_dir.mkdir(mode=0o700)
        self.log_file.touch(mode=0o600)
        if self.as_root:
            self.root.chmod(0o711)
            self._give_to_server_user(self.data_dir)
            self._give_to_server_user(self.log_file)
            self._make_traversable(self.root)

        socket_file = self.data_dir / ".s.PGSQL.65535"
        if len(str(socket_file)) > _MAX_SOCKET_PATH:
            short_parent = "/tmp" if Path("/tmp").is_dir() else None
            self.extra_socket_dir = Path(tempfile.mkdtemp(prefix="mci-pg-", dir=short_parent))
            if self.as_root:
                self._give_to_server_user(self.extra_socket_dir)
                self._make_traversable(self.extra_socket_dir)

    def _give_to_server_user(self, path: Path) -> None:
        """Hand ``path`` to the system user that runs the server."""
        assert self.owner is not None
        os.chown(path, *self.owner)

    @staticmethod
    def _make_traversable(path: Path) -> None:
        """Add search (``o+x``) permission on every ancestor of ``path`` that lacks it.

        pytest makes ``/tmp/pytest-of-<user>`` mode 0700, which would stop the
        ``postgres`` user from reaching its data folder. Only the execute bit is
        added: folder listings stay private.
        """
        for folder in path.parents:
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)

    # -- commands -----------------------------------------------------------------------------

    def _command(self, binary: str, *args: str) -> list[str]:
        """Build the argv that runs a server binary as the right system user."""
        argv = [str(self.bin_dir / binary), *args]
        if self.as_root:
            return ["runuser", "-u", SERVER_OS_USER, "--", *argv]
        return argv

    def _run(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` with a clean libpq environment, capturing its output."""
        env = {key: value for key, value in os.environ.items() if key not in _PG_ENV_VARS}
        env["LC_ALL"] = "C"
        return subprocess.run(
            argv,
            cwd=self.data_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _initdb(self) -> None:
        """Create the cluster and append the test settings to ``postgresql.conf``."""
        assert self.data_dir is not None
        result = self._run(
            self._command(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ),
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"initdb failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        socket_dir = self.extra_socket_dir or self.data_dir
        settings = {
            "listen_addresses": HOST,
            "unix_socket_directories": str(socket_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "log_min_messages": "warning",
            "log_timezone": "UTC",
            "timezone": "UTC",
        }
        lines = [
            f"{key} = '{value.replace(chr(39), chr(39) * 2)}'" for key, value in settings.items()
        ]
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# Added by tests/support/postgres.py\n" + "\n".join(lines) + "\n")

    def _start_server(self) -> None:
        """Start the server on a free port, retrying a few times if the port is taken."""
        assert self.data_dir is not None
        assert self.log_file is not None
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self.port = _free_port()
            log_offset = self.log_file.stat().st_size
            result = self._run(
                self._command(
                    "pg_ctl",
                    "start",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    str(START_TIMEOUT_S),
                    "-o",
                    f"-p {self.port}",
                ),
                timeout=START_TIMEOUT_S + 15,
            )
            if result.returncode == 0:
                self.pid = self._read_pid()
                return
            log = self._log_tail(log_offset)
            self.pid = self._read_pid()
            if self.pid is not None:  # started but not ready within the timeout
                self._stop_server()
            if attempt < _PORT_ATTEMPTS and any(err in log.lower() for err in _BIND_ERRORS):
                continue
            raise RuntimeError(
                f"PostgreSQL did not start on {HOST}:{self.port} "
                f"(pg_ctl exit {result.returncode}: {result.stdout.strip()} "
                f"{result.stderr.strip()}).\nServer log tail:\n{log}"
            )

    def _wait_until_ready(self, deadline: float) -> None:
        """Retry connecting until the server answers, or raise with the log tail."""
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                last_error = exc
                time.sleep(0.1)
        raise RuntimeError(
            f"PostgreSQL on {HOST}:{self.port} did not accept connections within "
            f"{START_TIMEOUT_S} s (last error: {last_error}).\nServer log tail:\n{self._log_tail()}"
        )

    def _stop_server(self) -> None:
        """Fast-shutdown the server; kill it if it does not stop in time."""
        if self.data_dir is None:
            return
        pid = self._read_pid() or self.pid
        if pid is None:
            return
        if self.as_root and self.root is not None:
            # pytest may have reset its base folder to 0700 since we started.
            with suppress(OSError):
                self._make_traversable(self.root)
        stopped_cleanly = False
        with suppress(subprocess.TimeoutExpired, OSError):
            result = self._run(
                self._command(
                    "pg_ctl",
                    "stop",
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    str(STOP_TIMEOUT_S),
                ),
                timeout=STOP_TIMEOUT_S + 15,
            )
            stopped_cleanly = result.returncode == 0
        # pg_ctl returns once postmaster.pid is gone; the process exits a moment later.
        if _wait_gone(pid, timeout=5 if stopped_cleanly else 0.5):
            self.pid = None
            return
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
            if _wait_gone(pid, timeout=5):
                break
        self.pid = None

    # -- introspection ------------------------------------------------------------------------

    def _read_pid(self) -> int | None:
        """Return the postmaster PID from ``postmaster.pid``, if the server runs."""
        assert self.data_dir is not None
        try:
            first_line = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first_line)
        except (OSError, IndexError, ValueError):
            return None
        return pid if _is_alive(pid) else None

    def _log_tail(self, offset: int = 0, lines: int = 40) -> str:
        """Return the last ``lines`` lines of the server log written after ``offset``."""
        if self.log_file is None:
            return "(no log)"
        try:
            with self.log_file.open("rb") as log:
                log.seek(offset)
                text = log.read().decode("utf-8", errors="replace")
        except OSError as exc:
            return f"(cannot read {self.log_file}: {exc})"
        return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def _free_port() -> int:
    """Return a TCP port on ``127.0.0.1`` that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _is_alive(pid: int) -> bool:
    """Tell whether process ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    if Path("/proc/self/stat").exists():
        try:
            stat_line = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return False
        except OSError:
            stat_line = ""
        if stat_line:
            # Format: "pid (comm) state ..."; comm may contain spaces or parentheses.
            state = stat_line.rsplit(")", 1)[-1].split()[0]
            return state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for process ``pid`` to end; tell whether it did."""
    deadline = time.monotonic() + timeout
    while _is_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True

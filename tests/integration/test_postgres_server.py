"""The throw-away PostgreSQL server used by the test session really works."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import psycopg
import pytest
from tests.support.postgres import (
    DATABASE,
    HOST,
    SUPERUSER,
    fresh_database,
    running_postgres,
)

pytestmark = pytest.mark.postgres


def _port_open(host: str, port: int, family: int = socket.AF_INET) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        try:
            sock.connect((host, port))
        except OSError:
            return False
        return True


def _process_running(pid: int) -> bool:
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat_line.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                found.append(address)
    return found


def _postmaster_pid(conn: psycopg.Connection) -> int:
    row = conn.execute("SHOW data_directory").fetchone()
    assert row is not None
    return int((Path(row[0]) / "postmaster.pid").read_text().splitlines()[0])


def test_server_round_trip_then_stops_and_cleans_up(tmp_path: Path) -> None:
    started = time.monotonic()
    with running_postgres(tmp_path) as url:
        startup_s = time.monotonic() - started
        assert url.startswith(f"postgresql://{SUPERUSER}@{HOST}:")
        assert url.endswith(f"/{DATABASE}")
        port = int(url.rsplit(":", 1)[1].split("/")[0])

        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE kpi (id int PRIMARY KEY, name text NOT NULL, spend numeric)")
            conn.execute(
                "INSERT INTO kpi VALUES (%s, %s, %s), (%s, %s, %s)",
                (1, "CTR", "12.50", 2, "CPA ✓", None),
            )
            conn.commit()
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT id, name, spend::text FROM kpi ORDER BY id").fetchall()
            assert rows == [(1, "CTR", "12.50"), (2, "CPA ✓", None)]
            assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)
            assert conn.execute("SHOW listen_addresses").fetchone() == (HOST,)
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
            assert conn.execute("SELECT current_database()").fetchone() == (DATABASE,)
            server_major = conn.info.server_version // 10000
            pid = _postmaster_pid(conn)

        assert server_major >= 15
        assert _process_running(pid)
        # Listens on 127.0.0.1 only: one IPv4 loopback listener, nothing else.
        assert _listening_addresses(port) == ["0100007F"]
        assert _port_open(HOST, port)
        assert not _port_open("127.0.0.2", port)
        if socket.has_ipv6:
            assert not _port_open("::1", port, socket.AF_INET6)

    stop_s = time.monotonic() - started - startup_s
    assert not _port_open(HOST, port)
    assert not _process_running(pid)
    assert list(tmp_path.iterdir()) == [], "the server's files were not removed"
    assert startup_s < 30
    assert stop_s < 30


def test_server_stops_when_body_raises(tmp_path: Path) -> None:
    port = pid = None
    with pytest.raises(RuntimeError, match="boom"), running_postgres(tmp_path) as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with psycopg.connect(url) as conn:
            pid = _postmaster_pid(conn)
        # An open session must not hold up the fast shutdown.
        lingering = psycopg.connect(url)
        lingering.execute("SELECT 1")
        raise RuntimeError("boom")

    assert port is not None and pid is not None
    assert not _port_open(HOST, port)
    assert not _process_running(pid)
    assert list(tmp_path.iterdir()) == []
    lingering.close()


def test_fresh_database_recreates_an_empty_database(tmp_path: Path) -> None:
    with running_postgres(tmp_path) as server_url:
        url = fresh_database(server_url, "mci_fresh")
        assert url == server_url.rsplit("/", 1)[0] + "/mci_fresh"
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE leftover (x int)")
            conn.execute("INSERT INTO leftover VALUES (1)")
            conn.commit()
        # A session still connected to the old database must not block the re-creation.
        holder = psycopg.connect(url)
        try:
            assert fresh_database(server_url, "mci_fresh") == url
        finally:
            holder.close()
        with psycopg.connect(url) as conn:
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchall()
            assert tables == []
            assert conn.execute("SELECT current_database()").fetchone() == ("mci_fresh",)
        # The session database is untouched.
        with psycopg.connect(server_url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (DATABASE,)

        with pytest.raises(ValueError, match="lower-case identifier"):
            fresh_database(server_url, "Bad-Name; DROP")


def test_missing_postgres_is_an_error_not_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCI_PG_BIN", str(tmp_path / "no-such-folder"))
    with (
        pytest.raises(RuntimeError, match="apt-get install -y postgresql"),
        running_postgres(tmp_path),
    ):
        pass  # pragma: no cover

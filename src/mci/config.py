"""Settings: where the warehouse lives and how a database URL is read.

Example:
    >>> resolve_db_url("sqlite:///tmp/x.sqlite")
    'sqlite:///tmp/x.sqlite'
    >>> parse_db_url("duckdb:///data/ads_analytics.duckdb").path
    'data/ads_analytics.duckdb'
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import quote

from mci.secrets import redact, split_url, valid_hosts

DEFAULT_DB_URL = "duckdb:///data/ads_analytics.duckdb"
DB_URL_ENV = "MCI_DB_URL"
ENGINES = ("duckdb", "sqlite", "postgresql")


class ConfigError(ValueError):
    """A setting is malformed (for example an unknown database URL scheme)."""


@dataclass(frozen=True)
class DbUrl:
    """A parsed database URL.

    Attributes:
        engine: ``duckdb``, ``sqlite`` or ``postgresql``.
        path: the database file for embedded engines (relative to the working directory
            unless it starts with ``/``); empty for PostgreSQL.
        url: the URL as given (for PostgreSQL, handed to the driver unchanged).
    """

    engine: str
    path: str
    url: str

    def redacted(self) -> str:
        """Returns the URL with every secret replaced by ``***``, safe to print or log.

        Passwords, secret query parameters (``password``, ``sslpassword``, any name with
        pass, secret, token or key) and fragments are hidden: see :func:`mci.secrets.redact`.
        """
        return redact(self.url, strict=True)


def resolve_db_url(cli_value: str | None = None) -> str:
    """Picks the database URL: the ``--db`` option, else ``MCI_DB_URL``, else the default.

    Args:
        cli_value: the value of ``--db``, if given.

    Returns:
        The URL to use.
    """
    return cli_value or os.environ.get(DB_URL_ENV) or DEFAULT_DB_URL


def parse_db_url(url: str) -> DbUrl:
    """Parses ``duckdb:///path``, ``sqlite:///path`` or ``postgresql://user@host:port/db``.

    Paths follow the SQLAlchemy convention: three slashes then a relative path, four for an
    absolute one (``duckdb:////tmp/x.duckdb``).

    Args:
        url: the database URL.

    Returns:
        The parsed URL.

    A PostgreSQL password written without percent-encoding (``postgresql://u:p@ss@host/db``)
    is encoded for the driver, which would otherwise read part of it as the host. Messages
    show the URL redacted (:func:`mci.secrets.redact`).

    Raises:
        ConfigError: the scheme is not one of the supported engines, a path is missing, or
            a PostgreSQL host or port is malformed.
    """
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme in ("postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        scheme = "postgresql"
    if not sep or scheme not in ENGINES:
        raise ConfigError(
            f"unsupported database URL {redact(url, strict=True)!r}: expected duckdb:///path, "
            "sqlite:///path or postgresql://user@host:port/db"
        )
    if scheme == "postgresql":
        return DbUrl("postgresql", "", _for_driver("postgresql://" + rest))
    if not rest.startswith("/") or len(rest) < 2:
        raise ConfigError(
            f"database URL {redact(url, strict=True)!r} has no file path: write {scheme}:///path"
        )
    return DbUrl(scheme, rest[1:], url)


_USERINFO_KEEP = re.compile(r"%[0-9A-Fa-f]{2}|[A-Za-z0-9\-._~!$&'()*+,;=:]")


def _encode_userinfo(userinfo: str) -> str:
    """Percent-encodes what may not stand in a URL's userinfo, keeping valid ``%XX``."""
    out, position = [], 0
    while position < len(userinfo):
        match = _USERINFO_KEEP.match(userinfo, position)
        if match:
            out.append(match[0])
            position = match.end()
        else:
            out.append(quote(userinfo[position], safe="", errors="surrogateescape"))
            position += 1
    return "".join(out)


def _for_driver(url: str) -> str:
    """The PostgreSQL URL the driver gets: userinfo encoded, host list checked."""
    parts = split_url(url, cautious=False)
    if parts is None:  # pragma: no cover - the caller built it with a scheme
        return url
    if not valid_hosts(parts.hosts):
        raise ConfigError(
            f"database URL {redact(url, strict=True)!r} has a malformed host or port "
            f"{redact(parts.hosts)!r}: write postgresql://user@host:port/db (a port from 1 to "
            "65535; percent-encode @ / ? # in a password as %40 %2F %3F %23)"
        )
    if "%00" in url:
        raise ConfigError(
            f"database URL {redact(url, strict=True)!r} holds %00, a NUL character, which no "
            "PostgreSQL setting may contain"
        )
    if parts.userinfo is None:
        return url
    encoded = _encode_userinfo(parts.userinfo)
    if encoded == parts.userinfo:
        return url
    return type(parts)(parts.scheme, encoded, parts.hosts, parts.tail).join()

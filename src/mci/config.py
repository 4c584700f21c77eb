"""Settings: where the warehouse lives and how a database URL is read.

Example:
    >>> resolve_db_url("sqlite:///tmp/x.sqlite")
    'sqlite:///tmp/x.sqlite'
    >>> parse_db_url("duckdb:///data/ads_analytics.duckdb").path
    'data/ads_analytics.duckdb'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

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
        """Returns the URL with any password replaced by ``***``, safe to print or log."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()


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

    Raises:
        ConfigError: the scheme is not one of the supported engines, or a path is missing.
    """
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme in ("postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        scheme = "postgresql"
    if not sep or scheme not in ENGINES:
        raise ConfigError(
            f"unsupported database URL {url!r}: expected duckdb:///path, sqlite:///path "
            "or postgresql://user@host:port/db"
        )
    if scheme == "postgresql":
        return DbUrl("postgresql", "", "postgresql://" + rest)
    if not rest.startswith("/") or len(rest) < 2:
        raise ConfigError(f"database URL {url!r} has no file path: write {scheme}:///path")
    return DbUrl(scheme, rest[1:], url)

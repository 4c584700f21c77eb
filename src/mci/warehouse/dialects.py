"""Each engine's quirks as a small set of flags, in one place.

Everything engine-specific that the rest of the code needs to know is a field here; SQL is
written once (in DuckDB's dialect) and compiled with sqlglot using ``sqlglot_dialect``.

Example:
    >>> DIALECTS["sqlite"].placeholder
    '?'
    >>> DIALECTS["postgresql"].sqlglot_dialect
    'postgres'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    """What differs between engines.

    Attributes:
        name: the engine name used in URLs.
        sqlglot_dialect: the sqlglot dialect SQL is compiled to.
        placeholder: the DB-API parameter marker for positional parameters.
        bulk_rows: rows per batch when copying rows into this engine.
        embedded: whether the database is a local file.
    """

    name: str
    sqlglot_dialect: str
    placeholder: str
    bulk_rows: int
    embedded: bool


DIALECTS: dict[str, Dialect] = {
    "duckdb": Dialect("duckdb", "duckdb", "?", 0, embedded=True),
    "sqlite": Dialect("sqlite", "sqlite", "?", 50_000, embedded=True),
    "postgresql": Dialect("postgresql", "postgres", "%s", 50_000, embedded=False),
}

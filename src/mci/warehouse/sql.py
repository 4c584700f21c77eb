"""Compiling SQL written once in DuckDB's dialect for each engine.

Example:
    >>> from mci.warehouse.dialects import DIALECTS
    >>> compile_sql("SELECT x FROM t WHERE y = ?", DIALECTS["postgresql"])
    'SELECT x FROM t WHERE y = %s'
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mci.warehouse.dialects import Dialect


def _timestamp_types() -> tuple[object, ...]:
    from sqlglot import exp

    kinds = exp.DataType.Type
    return (kinds.TIMESTAMP, kinds.TIMESTAMPNTZ)


@functools.lru_cache(maxsize=512)
def _transpile(sql: str, target: str) -> str:
    import sqlglot
    from sqlglot import exp

    _TIMESTAMPS = _timestamp_types()
    statements = sqlglot.parse(sql, read="duckdb")
    out = []
    for statement in statements:
        if statement is None:
            continue
        if target == "sqlite":
            # SQLite keeps timestamps as ISO-8601 text; its "TIMESTAMPNTZ" spelling is noise.
            statement = statement.transform(
                lambda node: (
                    exp.DataType.build("TEXT")
                    if isinstance(node, exp.DataType) and node.this in _TIMESTAMPS
                    else node
                )
            )
        out.append(statement.sql(dialect=target))
    return ";\n".join(out)


def compile_sql(sql: str, dialect: Dialect) -> str:
    """Compiles DuckDB-dialect SQL for ``dialect`` (unchanged for DuckDB itself)."""
    if dialect.sqlglot_dialect == "duckdb":
        return sql
    return _transpile(sql, dialect.sqlglot_dialect)

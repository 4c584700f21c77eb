"""Compiling semantic SQL for an engine: portable macros, then sqlglot.

Semantic SQL is written once in DuckDB's dialect. The few things engines spell differently
(truncating a date to a grain, a 'YYYY-MM' month id, a month's running number, the
sample standard deviation) are
written as ``MCI_*`` macros; :data:`MACROS` holds each engine's template for each macro, and
:func:`compile_semantic` swaps them in on sqlglot's syntax tree before generating the
engine's SQL.

Example:
    >>> from mci.warehouse.dialects import DIALECTS
    >>> compile_semantic("SELECT MCI_MONTH_ID(date) AS m FROM t", DIALECTS["postgresql"])
    "SELECT TO_CHAR(date, 'YYYY-MM') AS m FROM t"
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mci.warehouse.dialects import Dialect

_SQLITE_SD = (
    "SQRT(MAX((SUM({0} * {0}) - SUM({0}) * SUM({0}) / COUNT({0})) / NULLIF(COUNT({0}) - 1, 0), 0))"
)

# Each engine's spelling of each macro; ``{0}`` is the macro's argument.
MACROS: dict[str, dict[str, str]] = {
    "duckdb": {
        "MCI_TRUNC_DAY": "CAST({0} AS DATE)",
        "MCI_TRUNC_WEEK": "CAST(DATE_TRUNC('week', {0}) AS DATE)",
        "MCI_TRUNC_MONTH": "CAST(DATE_TRUNC('month', {0}) AS DATE)",
        "MCI_TRUNC_QUARTER": "CAST(DATE_TRUNC('quarter', {0}) AS DATE)",
        "MCI_MONTH_ID": "STRFTIME({0}, '%Y-%m')",
        "MCI_MONTH_INDEX": "(YEAR({0}) * 12 + MONTH({0}))",
        "MCI_STDDEV": "STDDEV_SAMP({0})",
    },
    "postgres": {
        "MCI_TRUNC_DAY": "CAST({0} AS DATE)",
        "MCI_TRUNC_WEEK": "CAST(DATE_TRUNC('week', {0}) AS DATE)",
        "MCI_TRUNC_MONTH": "CAST(DATE_TRUNC('month', {0}) AS DATE)",
        "MCI_TRUNC_QUARTER": "CAST(DATE_TRUNC('quarter', {0}) AS DATE)",
        "MCI_MONTH_ID": "TO_CHAR({0}, 'YYYY-MM')",
        "MCI_MONTH_INDEX": (
            "(CAST(EXTRACT(YEAR FROM {0}) AS INTEGER) * 12 "
            "+ CAST(EXTRACT(MONTH FROM {0}) AS INTEGER))"
        ),
        "MCI_STDDEV": "STDDEV_SAMP({0})",
    },
    "sqlite": {
        # SQLite keeps dates as ISO text; weeks start on Monday as elsewhere.
        "MCI_TRUNC_DAY": "DATE({0})",
        "MCI_TRUNC_WEEK": (
            "DATE({0}, '-' || ((CAST(STRFTIME('%w', {0}) AS INTEGER) + 6) % 7) || ' days')"
        ),
        "MCI_TRUNC_MONTH": "DATE({0}, 'start of month')",
        "MCI_TRUNC_QUARTER": (
            "DATE({0}, 'start of month', "
            "'-' || ((CAST(STRFTIME('%m', {0}) AS INTEGER) - 1) % 3) || ' months')"
        ),
        "MCI_MONTH_ID": "STRFTIME('%Y-%m', {0})",
        "MCI_MONTH_INDEX": (
            "(CAST(STRFTIME('%Y', {0}) AS INTEGER) * 12 + CAST(STRFTIME('%m', {0}) AS INTEGER))"
        ),
        "MCI_STDDEV": _SQLITE_SD,
    },
}


class UnknownMacroError(ValueError):
    """An ``MCI_*`` call that :data:`MACROS` does not define."""


def _template(templates: dict[str, str], name: str) -> str:
    try:
        return templates[name.upper()]
    except KeyError:
        raise UnknownMacroError(
            f"unknown macro {name}; defined: {', '.join(sorted(templates))}"
        ) from None


@functools.lru_cache(maxsize=256)
def _compile(sql: str, target: str) -> str:
    import sqlglot
    from sqlglot import exp

    templates = MACROS[target]

    def expand(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and str(node.this).upper().startswith("MCI_"):
            # Arguments first, so a macro inside a macro's argument is expanded too.
            args = [arg.transform(expand).sql(dialect=target) for arg in node.expressions]
            template = _template(templates, str(node.this))
            return sqlglot.parse_one(template.format(*args), read=target)
        return node

    tree = sqlglot.parse_one(sql, read="duckdb")
    return tree.transform(expand).sql(dialect=target)


_MACRO_START = re.compile(r"\b(MCI_[A-Z_]+)\s*\(", re.IGNORECASE)


def _expand_text(sql: str, templates: dict[str, str]) -> str:
    """Expands every macro call as text, its argument (macros inside it too) first."""
    out: list[str] = []
    position = 0
    while match := _MACRO_START.search(sql, position):
        depth, end, quoted = 1, match.end(), False
        while depth:
            if end >= len(sql):
                raise UnknownMacroError(f"unbalanced parentheses after {match.group(1)}")
            char = sql[end]
            if char == "'":
                quoted = not quoted
            elif not quoted:
                depth += (char == "(") - (char == ")")
            end += 1
        argument = _expand_text(sql[match.end() : end - 1], templates).strip()
        out += [
            sql[position : match.start()],
            _template(templates, match.group(1)).format(argument),
        ]
        position = end
    out.append(sql[position:])
    return "".join(out)


def compile_semantic(sql: str, dialect: Dialect) -> str:
    """Compiles DuckDB-dialect SQL with ``MCI_*`` macros for ``dialect``.

    DuckDB is the source dialect, so there only the macros are expanded (as text, without
    loading sqlglot on the ingest path); other engines get sqlglot's full compilation.

    Raises:
        UnknownMacroError: an ``MCI_*`` call with no template.
    """
    if dialect.sqlglot_dialect == "duckdb":
        return _expand_text(sql, MACROS["duckdb"])
    return _compile(sql, dialect.sqlglot_dialect)

"""Building semantic SQL from the registry: one builder for the views and the query API.

Example:
    >>> print(select_sql(["spend", "cpc"], by=["channel"]))  # doctest: +NORMALIZE_WHITESPACE
    SELECT channel, SUM(spend) AS spend,
      CAST(SUM(spend) AS DOUBLE) / NULLIF(SUM(clicks), 0) AS cpc
    FROM campaign_performance GROUP BY 1 ORDER BY 1
"""

from __future__ import annotations

from collections.abc import Sequence

from mci.semantic.registry import DIMENSIONS, GRAINS, METRICS, check_names

SOURCE_TABLE = "campaign_performance"


def grain_sql(grain: str) -> str:
    """The macro truncating ``date`` to the first day of its ``grain``."""
    check_names("grain", [grain], GRAINS)
    return f"MCI_TRUNC_{grain.upper()}(date)"


def select_sql(
    metrics: Sequence[str],
    *,
    by: Sequence[str] = (),
    grain: str | None = None,
    grain_alias: str = "period",
    conditions: Sequence[str] = (),
) -> str:
    """An aggregate query: ``metrics`` per ``grain`` and ``by`` dimensions.

    Args:
        metrics: registry metric names.
        by: dimension names.
        grain: ``day``, ``week``, ``month``, ``quarter`` or ``None`` (the whole range).
        grain_alias: the name of the period column.
        conditions: SQL predicates (with ``?`` placeholders), joined with AND.

    Returns:
        DuckDB-dialect SQL with ``MCI_*`` macros (see :mod:`mci.semantic.compile`).

    Raises:
        UnknownNameError: an unknown metric, dimension or grain.
    """
    check_names("metric", list(metrics), tuple(METRICS))
    check_names("dimension", list(by), DIMENSIONS)
    keys = ([f"{grain_sql(grain)} AS {grain_alias}"] if grain else []) + list(by)
    values = [f"{METRICS[name].sql()} AS {name}" for name in metrics]
    sql = f"SELECT {', '.join(keys + values)}\nFROM {SOURCE_TABLE}"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    if keys:
        ordinals = ", ".join(str(i) for i in range(1, len(keys) + 1))
        sql += f" GROUP BY {ordinals} ORDER BY {ordinals}"
    return sql


def distinct_values_sql(dimensions: Sequence[str]) -> str:
    """The distinct non-NULL values of each dimension, as ``(dimension, value)`` rows.

    Each branch takes its dimension's name as a ``?`` parameter, in the order given.

    Example:
        >>> print(distinct_values_sql(["channel"]))  # doctest: +NORMALIZE_WHITESPACE
        SELECT DISTINCT ? AS dimension, CAST(channel AS VARCHAR) AS value
        FROM campaign_performance WHERE channel IS NOT NULL

    Raises:
        UnknownNameError: an unknown dimension.
    """
    check_names("dimension", list(dimensions), DIMENSIONS)
    return " UNION ALL ".join(
        f"SELECT DISTINCT ? AS dimension, CAST({name} AS VARCHAR) AS value\n"
        f"FROM {SOURCE_TABLE} WHERE {name} IS NOT NULL"
        for name in dimensions
    )

"""The metric registry: every KPI defined once, as data.

Measures are sums (or counts) over ``campaign_performance``; ratio metrics are ratios of
those sums, recomputed at whatever grain is asked for and NULL when the denominator is 0;
statistics describe the spread of campaign ROI. Everything else (views, the query API, the
dashboard, the README's table) is generated from here.

Example:
    >>> METRICS["cpc"].sql()
    'CAST(SUM(spend) AS DOUBLE) / NULLIF(SUM(clicks), 0)'
    >>> sorted(DIMENSIONS)[:3]
    ['campaign_type', 'channel', 'company']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["measure", "ratio", "statistic"]
Direction = Literal["up", "down", "neutral"]


@dataclass(frozen=True)
class Metric:
    """One KPI.

    Attributes:
        name: the metric's name in SQL results and the API.
        kind: ``measure`` (a sum), ``ratio`` (a ratio of sums) or ``statistic``.
        definition: the formula, as shown to people.
        description: what it means.
        expression: DuckDB-dialect SQL over ``campaign_performance`` rows; for ratios the
            numerator, with ``denominator`` and ``scale`` alongside.
        denominator: a ratio's denominator (SQL over rows, summed), or empty.
        scale: a ratio's multiplier (1000 for CPM).
        offset: added to a ratio (1 for ROAS = 1 + ROI).
        unit: ``currency``, ``percent``, ``count`` or ``number``, for formatting.
        better: whether a rise is good (``up``), bad (``down``) or neither.
    """

    name: str
    kind: Kind
    definition: str
    description: str
    expression: str
    denominator: str = ""
    scale: float = 1.0
    offset: float = 0.0
    unit: str = "number"
    better: Direction = "neutral"

    def sql(self) -> str:
        """The metric as one aggregate SQL expression (DuckDB dialect, with MCI_ macros)."""
        if self.kind == "ratio":
            numerator = f"SUM({self.expression})"
            if self.scale != 1:
                numerator = f"{self.scale:g} * {numerator}"
            ratio = f"CAST({numerator} AS DOUBLE) / NULLIF(SUM({self.denominator}), 0)"
            return f"{self.offset:g} + {ratio}" if self.offset else ratio
        return self.expression


def _measure(
    name: str,
    expression: str,
    definition: str,
    description: str,
    unit: str,
    better: Direction = "neutral",
) -> Metric:
    return Metric(name, "measure", definition, description, expression, unit=unit, better=better)


def _ratio(
    name: str,
    numerator: str,
    denominator: str,
    definition: str,
    description: str,
    unit: str,
    better: Direction,
    scale: float = 1.0,
    offset: float = 0.0,
) -> Metric:
    return Metric(
        name, "ratio", definition, description, numerator, denominator, scale, offset, unit, better
    )


_CONVERSIONS = "clicks * conversion_rate"
_NET_RETURN = "roi * spend"

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        _measure("spend", "SUM(spend)", "sum(spend)", "Money spent", "currency"),
        _measure(
            "impressions", "SUM(impressions)", "sum(impressions)", "Times an ad was shown", "count"
        ),
        _measure("clicks", "SUM(clicks)", "sum(clicks)", "Clicks on ads", "count", "up"),
        _measure(
            "conversions",
            f"SUM({_CONVERSIONS})",
            "sum(clicks × conversion_rate)",
            "Conversions implied by each campaign's clicks and conversion rate",
            "count",
            "up",
        ),
        _measure(
            "net_return",
            f"SUM({_NET_RETURN})",
            "sum(roi × spend)",
            "Net return: ROI is net return per unit of spend",
            "currency",
            "up",
        ),
        _measure("campaigns", "COUNT(*)", "count(*)", "Campaign rows", "count"),
        _measure(
            "outliers",
            "SUM(CASE WHEN is_outlier THEN 1 ELSE 0 END)",
            "count(is_outlier)",
            "Campaign rows the ingest flagged as outliers (kept, not removed)",
            "count",
        ),
        _ratio(
            "ctr",
            "clicks",
            "impressions",
            "clicks / impressions",
            "Click-through rate",
            "percent",
            "up",
        ),
        _ratio("cpc", "spend", "clicks", "spend / clicks", "Cost per click", "currency", "down"),
        _ratio(
            "cpm",
            "spend",
            "impressions",
            "1000 × spend / impressions",
            "Cost per thousand impressions",
            "currency",
            "down",
            scale=1000,
        ),
        _ratio(
            "cvr",
            _CONVERSIONS,
            "clicks",
            "conversions / clicks",
            "Conversion rate",
            "percent",
            "up",
        ),
        _ratio(
            "cpa",
            "spend",
            _CONVERSIONS,
            "spend / conversions",
            "Cost per acquisition",
            "currency",
            "down",
        ),
        _ratio(
            "roi",
            _NET_RETURN,
            "spend",
            "net_return / spend",
            "Return on investment, spend-weighted",
            "number",
            "up",
        ),
        _ratio(
            "roas",
            _NET_RETURN,
            "spend",
            "1 + roi",
            "Return on ad spend",
            "number",
            "up",
            offset=1.0,
        ),
        Metric(
            "roi_mean",
            "statistic",
            "mean(roi)",
            "Plain mean of campaign ROI (for stability)",
            "AVG(roi)",
            better="up",
        ),
        Metric(
            "roi_std",
            "statistic",
            "sample sd(roi)",
            "Sample standard deviation of campaign ROI",
            "MCI_STDDEV(roi)",
        ),
        Metric(
            "engagement",
            "statistic",
            "mean(engagement_score)",
            "Mean engagement score of campaigns (1 to 10)",
            "AVG(engagement_score)",
            better="up",
        ),
        Metric(
            "roi_cv",
            "statistic",
            "roi_std / |roi_mean|",
            "Coefficient of variation of campaign ROI",
            "MCI_STDDEV(roi) / NULLIF(ABS(AVG(roi)), 0)",
            better="down",
        ),
    )
}

DIMENSIONS: tuple[str, ...] = (
    "channel",
    "campaign_type",
    "company",
    "customer_segment",
    "location",
    "language",
    "target_audience",
    "duration_days",
)

GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter")


class UnknownNameError(ValueError):
    """A metric, dimension or grain that the registry does not define."""


def check_names(kind: str, names: list[str] | tuple[str, ...], valid: tuple[str, ...]) -> None:
    """Raises :class:`UnknownNameError` listing the valid names when one is unknown."""
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise UnknownNameError(
            f"unknown {kind} {', '.join(map(repr, unknown))}; valid {kind}s: {', '.join(valid)}"
        )


def metrics_markdown() -> str:
    """The README's metric table, generated from the registry."""
    lines = ["| metric | kind | definition | meaning |", "| --- | --- | --- | --- |"]
    for m in METRICS.values():
        lines.append(f"| `{m.name}` | {m.kind} | {m.definition} | {m.description} |")
    return "\n".join(lines)

"""The executive summary's findings: every diagnostic, gathered once, as plain data.

Everything comes through the semantic layer and the analytics; this module only assembles.
The JSON format of ``mci report`` is :func:`build_findings` as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mci.analytics import load_quadrants, quadrants, reallocation, roi_stability
from mci.analytics.trends import headline
from mci.ingest.quality import quality_report
from mci.semantic.api import query


@dataclass
class Report:
    """Findings plus the frames the charts are drawn from."""

    findings: dict[str, Any]
    quadrant_table: pd.DataFrame
    monthly: pd.DataFrame


def _plain(value: Any) -> Any:
    """JSON-ready: numpy and pandas scalars to Python, NaN to None, dates to ISO text."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


# A channel active on fewer days than this is too thin to compare: its ROI and CV would be
# noise dressed as a finding, and it would move the median thresholds of everyone else.
MIN_DAYS = 30


def _enough_data(
    by_entity: pd.DataFrame, daily: pd.DataFrame, monthly: pd.DataFrame, dimension: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    active = daily[daily["spend"] > 0].groupby(dimension)["period"].nunique()
    keep = set(active[active >= MIN_DAYS].index)
    excluded = [
        {"channel": str(name), "days": int(active.get(name, 0))}
        for name in by_entity[dimension]
        if name not in keep
    ]
    return (
        by_entity[by_entity[dimension].isin(keep)].reset_index(drop=True),
        daily[daily[dimension].isin(keep)].reset_index(drop=True),
        monthly[monthly[dimension].isin(keep)].reset_index(drop=True),
        excluded,
    )


def build_report(db: str | None = None, *, n_boot: int = 1000, seed: int = 0) -> Report:
    """Runs every diagnostic and gathers the findings.

    Args:
        db: the database URL; ``None`` uses ``MCI_DB_URL`` or the default.
        n_boot: bootstrap resamples (and permutations) per interval or test.
        seed: seed of every random draw: the same warehouse gives the same report.

    Returns:
        The findings (see :func:`build_findings`) and the chart data.
    """
    by_entity, daily, portfolio_roi = load_quadrants(db)
    monthly = query(
        ["spend", "net_return", "roi", "roi_mean", "roi_std", "roi_cv", "campaigns"],
        by=["channel"],
        grain="month",
        db=db,
    )
    by_entity, daily, monthly, excluded = _enough_data(by_entity, daily, monthly, "channel")
    stability = roi_stability(monthly, daily, n_boot=n_boot, n_perm=n_boot, seed=seed)
    quadrant_table = quadrants(by_entity, daily, n_boot=n_boot, seed=seed)
    advice = reallocation(by_entity, daily, n_boot=n_boot, seed=seed)
    kpis = headline(db)
    totals = query(["campaigns", "spend", "net_return", "roi"], db=db).iloc[0]
    quality = quality_report(db)
    channels = stability.table.merge(
        quadrant_table[["entity", "label", "p_value", "p_adjusted", "significant"]],
        on="entity",
    )
    findings: dict[str, Any] = {
        "period": {
            "first_day": _plain(daily["period"].min()),
            "last_day": _plain(daily["period"].max()),
        },
        "totals": {k: _plain(totals[k]) for k in ("campaigns", "spend", "net_return", "roi")},
        "portfolio_roi": _plain(portfolio_roi),
        "headline": {
            "window": {k: _plain(v) for k, v in kpis.attrs.items()},
            "kpis": _records(kpis),
        },
        "roi_differs_between_channels": bool(stability.roi_differs),
        "p_value": _plain(stability.roi_p_value),
        "kruskal_p_value": _plain(stability.roi_kruskal_p_value),
        "best_roi_channel": stability.best_roi,
        "worst_roi_channel": stability.worst_roi,
        "cv_differs_between_channels": bool(stability.cv_differs),
        "cv_p_value": _plain(stability.cv_p_value),
        "most_volatile_channel": stability.most_volatile,
        "quadrant": dict(zip(quadrant_table["entity"], quadrant_table["label"], strict=True)),
        "quadrant_thresholds": {k: _plain(v) for k, v in quadrant_table.attrs.items()},
        "stability_ranking": list(stability.ranking["entity"]),
        "excluded_channels": excluded,
        "min_days": MIN_DAYS,
        "channels": _records(channels),
        "recommendations": advice.to_dict(),
        "data_quality": {
            "totals": quality.totals,
            "quarantine_by_reason": quality.quarantine_by_reason,
            "new_categories": quality.new_categories,
            "loads": len([x for x in quality.loads if x["status"] == "loaded"]),
        },
    }
    return Report(findings, quadrant_table, monthly)


def build_findings(db: str | None = None, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The findings as one JSON-ready dict.

    Keys include ``roi_differs_between_channels`` (bool), ``p_value``,
    ``best_roi_channel`` and ``worst_roi_channel`` (None when channels do not differ
    significantly), ``most_volatile_channel`` (None when not significant), ``quadrant``
    (channel to label at the median thresholds), ``stability_ranking`` and
    ``recommendations``; also the headline KPIs with period-over-period deltas, per-channel
    figures with intervals, and the data-quality summary.
    """
    return build_report(db, n_boot=n_boot, seed=seed).findings

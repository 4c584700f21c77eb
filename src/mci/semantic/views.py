"""The contract views of DESIGN.md, generated from the registry and applied on any engine.

Example:
    >>> sorted(VIEWS)
    ['vw_campaign_monthly', 'vw_campaign_roi_map', 'vw_channel_stability', 'vw_marketing_kpi']
    >>> VIEW_COLUMNS["vw_campaign_roi_map"][:3]
    ('channel', 'spend', 'net_return')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mci.semantic.builder import select_sql
from mci.semantic.compile import compile_semantic

if TYPE_CHECKING:
    from mci.warehouse.connection import Warehouse

_KPI_METRICS = (
    "spend",
    "impressions",
    "clicks",
    "conversions",
    "net_return",
    "ctr",
    "cpc",
    "cpm",
    "cvr",
    "cpa",
    "roi",
    "roi_mean",
    "campaigns",
)
_ROI_MAP_METRICS = (
    "spend",
    "net_return",
    "roi",
    "roi_mean",
    "roi_std",
    "campaigns",
    "ctr",
    "cpc",
    "cpm",
    "cpa",
)

# Grouped on the month's first day (cheap date arithmetic); the 'YYYY-MM' text is made once
# per group, and the CV reuses the standard deviation. roi_mom compares with the calendar
# month before: after a month without data it is NULL, not a change against an older month.
_PREVIOUS = "OVER (PARTITION BY channel ORDER BY month)"
_STABILITY = f"""SELECT channel, MCI_MONTH_ID(month) AS month_id, spend, impressions, n,
  roi_mean, roi_std, roi_std / NULLIF(ABS(roi_mean), 0) AS roi_cv,
  (roi_mean - previous) / NULLIF(ABS(previous), 0) AS roi_mom
FROM (
  SELECT *, CASE WHEN LAG(month_index) {_PREVIOUS} = month_index - 1
    THEN LAG(roi_mean) {_PREVIOUS} END AS previous
  FROM (
    SELECT channel, MCI_TRUNC_MONTH(date) AS month, MCI_MONTH_INDEX(date) AS month_index,
      SUM(spend) AS spend, SUM(impressions) AS impressions, COUNT(*) AS n,
      AVG(roi) AS roi_mean, MCI_STDDEV(roi) AS roi_std
    FROM campaign_performance GROUP BY 1, 2, 3
  ) AS monthly
) AS with_previous"""  # noqa: S608 - constants only

VIEWS: dict[str, str] = {
    "vw_marketing_kpi": select_sql(_KPI_METRICS, grain="day", grain_alias="dt"),
    "vw_campaign_monthly": select_sql(
        _KPI_METRICS, by=("channel", "campaign_type"), grain="month", grain_alias="month"
    ),
    "vw_campaign_roi_map": select_sql(_ROI_MAP_METRICS, by=("channel",)),
    "vw_channel_stability": _STABILITY,
}

VIEW_COLUMNS: dict[str, tuple[str, ...]] = {
    "vw_marketing_kpi": ("dt", *_KPI_METRICS),
    "vw_campaign_monthly": ("month", "channel", "campaign_type", *_KPI_METRICS),
    "vw_campaign_roi_map": ("channel", *_ROI_MAP_METRICS),
    "vw_channel_stability": (
        "channel",
        "month_id",
        "spend",
        "impressions",
        "n",
        "roi_mean",
        "roi_std",
        "roi_cv",
        "roi_mom",
    ),
}


def view_sql(name: str, wh: Warehouse) -> str:
    """The view's SELECT compiled for the warehouse's engine."""
    return compile_semantic(VIEWS[name], wh.dialect)


def apply_views(wh: Warehouse) -> list[str]:
    """Creates (or re-creates) every contract view, in one transaction; idempotent.

    Returns:
        The view names.
    """
    with wh.transaction():
        for name in VIEWS:
            wh.execute_native(f"DROP VIEW IF EXISTS {name}")
            wh.execute_native(f"CREATE VIEW {name} AS {view_sql(name, wh)}")
    return list(VIEWS)

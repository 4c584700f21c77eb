"""Cached, read-only data access for the dashboard.

Every number comes from :func:`mci.semantic.query` or the analytics; results are cached per
database URL and filter set (``Filters.key()``, a frozen, sorted tuple).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from mci.config import parse_db_url, resolve_db_url
from mci.semantic import query
from mci.warehouse.connection import connect

if TYPE_CHECKING:
    import pandas as pd

    from mci.dashboard.filters import Filters

TTL = 300
N_BOOT = 500


def db_url() -> str:
    """The warehouse URL: ``MCI_DB_URL`` (set by ``mci dashboard --db``), else the default."""
    return resolve_db_url(None)


def warehouse_rows(db: str) -> int | None:
    """Rows in ``campaign_performance``: None when there is no warehouse file, 0 when empty.

    Not cached, so that the dashboard notices data loaded while it runs.
    """
    parsed = parse_db_url(db)
    if parsed.engine != "postgresql" and not Path(parsed.path).exists():
        return None
    with connect(db, read_only=True) as wh:
        if not wh.table_exists("campaign_performance"):
            return 0
        return int(wh.scalar("SELECT count(*) FROM campaign_performance") or 0)


@st.cache_data(ttl=TTL, show_spinner=False)
def date_bounds(db: str) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day with data (from the semantic layer's daily spend)."""
    daily = query(["campaigns"], grain="day", db=db)
    if daily.empty:
        return None, None
    return daily["period"].min().date(), daily["period"].max().date()


@st.cache_data(ttl=TTL, show_spinner=False)
def dimension_values(db: str, dimension: str) -> tuple[str, ...]:
    """The values of one dimension (``query(["campaigns"], by=[dimension])``)."""
    frame = query(["campaigns"], by=[dimension], db=db)
    return tuple(sorted(str(v) for v in frame[dimension].dropna()))


@st.cache_data(ttl=TTL, show_spinner=False)
def _metrics(
    db: str,
    key: tuple,
    metrics: tuple[str, ...],
    by: tuple[str, ...],
    grain: str | None,
    compare: str | None,
) -> pd.DataFrame:
    selection, start, end = key
    return query(
        list(metrics),
        by=list(by),
        grain=grain,
        where={dim: list(values) for dim, values in selection},
        start=start,
        end=end,
        compare=compare,
        db=db,
    )


def metrics(
    db: str,
    filters: Filters,
    names: list[str] | tuple[str, ...],
    by: list[str] | tuple[str, ...] = (),
    grain: str | None = None,
    compare: str | None = None,
) -> pd.DataFrame:
    """``mci.semantic.query`` under the dashboard's filters, cached per filter set."""
    return _metrics(db, filters.key(), tuple(names), tuple(by), grain, compare).copy()


def row_count(db: str, filters: Filters) -> int:
    """Campaign rows matching the filters."""
    frame = metrics(db, filters, ["campaigns"])
    if frame.empty or frame["campaigns"].isna().all():
        return 0
    return int(frame["campaigns"].iloc[0])


@st.cache_data(ttl=TTL, show_spinner=False)
def _channels(db: str, key: tuple, dimension: str) -> dict[str, Any]:
    from mci.analytics import quadrants, reallocation, roi_stability
    from mci.analytics.quadrant import DAILY_METRICS, ENTITY_METRICS
    from mci.analytics.stability import DAILY_METRICS as STAB_DAILY
    from mci.analytics.stability import MONTHLY_METRICS

    selection, start, end = key
    where = {dim: list(values) for dim, values in selection}

    def q(names: tuple[str, ...], by: list[str], grain: str | None = None) -> pd.DataFrame:
        return query(list(names), by=by, grain=grain, where=where, start=start, end=end, db=db)

    by_entity = q(ENTITY_METRICS, [dimension])
    daily = q(DAILY_METRICS, [dimension], "day")
    out: dict[str, Any] = {"by_entity": by_entity}
    if len(by_entity) < 2:
        return out
    table = quadrants(by_entity, daily, dimension=dimension, n_boot=N_BOOT)
    out["quadrants"] = table
    out["spend_threshold"] = float(table.attrs.get("spend_threshold", by_entity["spend"].median()))
    out["roi_threshold"] = float(table.attrs.get("roi_threshold", by_entity["roi"].median()))
    monthly = q(MONTHLY_METRICS, [dimension], "month")
    stab_daily = daily if STAB_DAILY == DAILY_METRICS else q(STAB_DAILY, [dimension], "day")
    try:
        report = roi_stability(
            monthly, stab_daily, dimension=dimension, n_boot=N_BOOT, n_perm=N_BOOT
        )
        out["stability"] = report.table
        out["ranking"] = report.ranking
        out["stability_summary"] = {
            "roi_p_value": report.roi_p_value,
            "roi_differs": report.roi_differs,
            "cv_p_value": report.cv_p_value,
            "cv_differs": report.cv_differs,
            "best_roi": report.best_roi,
            "worst_roi": report.worst_roi,
            "most_volatile": report.most_volatile,
        }
    except ValueError as exc:  # too few months or entities for the tests
        out["stability_error"] = str(exc)
    advice = reallocation(by_entity, daily, dimension=dimension, n_boot=N_BOOT)
    out["advice"] = {
        "recommend": advice.recommend,
        "reason": advice.reason,
        "shifts": advice.shifts,
        "expected_gain": advice.expected_gain,
        "gain_low": advice.gain_low,
        "gain_high": advice.gain_high,
        "assumption": advice.assumption,
    }
    return out


def channels(db: str, filters: Filters, dimension: str = "channel") -> dict[str, Any]:
    """Quadrants, stability and budget advice for one dimension under the filters."""
    return _channels(db, filters.key(), dimension)


@st.cache_data(ttl=TTL, show_spinner=False)
def quality(db: str) -> dict[str, Any]:
    """The data-quality report (:func:`mci.ingest.quality.quality_report`) as plain data."""
    from mci.ingest.quality import quality_report

    report = quality_report(db)
    return {
        "loads": report.loads,
        "totals": report.totals,
        "quarantine_by_reason": report.quarantine_by_reason,
        "samples": report.samples,
        "outliers_by_channel": report.outliers_by_channel,
        "new_categories": report.new_categories,
    }


NO_ROWS = (
    "No campaigns match these filters. Widen the date range or remove some filters "
    "(the sidebar's Clear filters button resets them)."
)


def current() -> tuple[str, Filters]:
    """The database URL and filters that ``app.py`` set for this run."""
    from mci.dashboard.filters import Filters

    return st.session_state.get("_mci_db", db_url()), st.session_state.get(
        "_mci_current_filters", Filters()
    )


def require_rows(db: str, filters: Filters) -> bool:
    """Shows an info message and returns False when no rows match the filters."""
    if row_count(db, filters) == 0:
        st.info(NO_ROWS)
        return False
    return True

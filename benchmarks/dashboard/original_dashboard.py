"""The baseline for the dashboard benchmark: the original's dashboard data work, in pandas.

The project ``mci`` replaces (github.com/niciiu/MarketingAnalyticsIntelligence) served one
Streamlit page, ``streamlit/streamlit_app.py``. On every rerun it read its SQLite views with
``pd.read_sql`` through ``q(sql)``, then filtered and aggregated in pandas. This module
reproduces that data work for each figure the ``mci`` dashboard also shows, on the original's
database as ``benchmarks/ingest/original_pipeline.py`` builds it (the queries benchmark's
``queries_N.sqlite``):

* **Overview**: ``vw_marketing_kpi`` and ``vw_campaign_monthly`` read in full; the date
  range applied in pandas; the KPI cards as the original computed them (plain means of the
  daily per-row averages ``roi_avg``, ``cpc_avg``, ``cpm_avg`` and of the daily ``ctr``, the
  "delta" of the second half of the days against the first half, the mean daily spend); the
  spend share by channel from the monthly rows; the daily series behind its trend and
  "performance signals" charts.
* **Channels**: the ROI vs spend quadrant from ``vw_campaign_roi_map`` (medians, a row-wise
  ``DataFrame.apply``; the original did not apply the date range to it, and neither does
  this) and the stability table (``vw_channel_stability``, the original's
  ``roi_stability_summary.csv`` as a view: months in the range, grouped by channel).
* **Monthly**: the monthly detail table (``vw_campaign_monthly`` in the range, sorted).
* **Trends** (not in the original, which only drew daily lines): the daily KPI frame in the
  range, resampled in pandas to the grain (sums of spend, means of the per-row averages).
* **Data quality**: the original had nothing like it; no baseline.

Two things the original did not have are added the cheapest way its views allow, so that
``mci``'s filtered interactions have a counterpart:

* a **channel filter**: ``vw_marketing_kpi`` has no channel, so the daily frame is the view's
  own ``SELECT`` with ``WHERE channel IN (...)`` (values as parameters); the other views have
  a channel column and are filtered in pandas;
* the Trends grain (above).

The original decorated ``q`` with ``@st.cache_data`` (no TTL): a rerun whose SQL it had seen
got the frames back from Streamlit's cache (unpickled) instead of from SQLite.
:class:`Reader` does both: ``cache=False`` reads the views again on every call, and
``cache=True`` keeps pickled frames per SQL text and parameters, as ``st.cache_data`` does.

Not counted: Streamlit itself (the script run, Altair charts, sending elements), which the
``mci`` figure includes. That makes the baseline cheaper than it was.

The original pinned ``pandas==2.3.3`` (text as NumPy ``object``); :func:`original_pandas`
switches pandas 3's Arrow-backed strings off around the baseline only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import pickle
import sqlite3
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

# streamlit/streamlit_app.py, verbatim.
KPI_SQL = "SELECT * FROM vw_marketing_kpi ORDER BY dt;"
MONTHLY_SQL = "SELECT * FROM vw_campaign_monthly ORDER BY month_id, channel;"
ROI_MAP_SQL = "SELECT * FROM vw_campaign_roi_map ORDER BY roi_avg DESC;"
# The stability summary, which the original read from a CSV, as the view it is here.
STABILITY_SQL = "SELECT * FROM vw_channel_stability ORDER BY channel, month_id;"

# vw_marketing_kpi's own SELECT with a channel filter (the view has no channel column).
KPI_BY_CHANNEL_SQL = """
SELECT
  DATE(date) AS dt,
  SUM(spend) AS spend,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  CASE WHEN SUM(impressions)=0 THEN 0.0 ELSE SUM(clicks)*1.0/SUM(impressions) END AS ctr,
  AVG(cpc) AS cpc_avg,
  AVG(cpm) AS cpm_avg,
  AVG(roi) AS roi_avg,
  AVG(engagement_rate) AS engagement_rate_avg
FROM campaign_performance
WHERE channel IN ({marks})
GROUP BY DATE(date)
ORDER BY dt;
"""

# pandas offsets for the Trends grains (weeks start on Monday, periods named by first day).
GRAIN_RULES: dict[str, str] = {"week": "W-MON", "month": "MS", "quarter": "QS"}


@dataclass(frozen=True)
class Selection:
    """One filter set, as the baseline applies it.

    Attributes:
        channels: Chosen channels; empty for all.
        start: First day of the range.
        end: Last day of the range.
    """

    channels: tuple[str, ...]
    start: dt.date
    end: dt.date


@contextlib.contextmanager
def original_pandas() -> Iterator[None]:
    """Text as NumPy ``object`` arrays (pandas 2.x, as the original pinned), for a block.

    Yields:
        Nothing; the option is restored afterwards.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            context = pd.option_context("future.infer_string", False)
        except (KeyError, ValueError):  # a pandas without the option
            context = contextlib.nullcontext()
        with context:
            yield


def connect(db: Path) -> sqlite3.Connection:
    """Open the original's database read-only (with ``sqrt`` where SQLite lacks it).

    Args:
        db: The SQLite file.

    Returns:
        The connection.
    """
    con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, check_same_thread=False)
    try:
        con.execute("SELECT sqrt(4.0)").fetchone()
    except sqlite3.OperationalError:
        con.create_function(
            "sqrt", 1, lambda x: None if x is None else float(x) ** 0.5, deterministic=True
        )
    return con


class Reader:
    """The original's ``q(sql)``: ``pd.read_sql``, optionally behind a ``st.cache_data``-like cache.

    Args:
        con: The connection to the original's database.
        cache: Keep each result pickled, per SQL text and parameters, and unpickle it on a
            hit (what ``@st.cache_data`` does); otherwise read the view on every call.
    """

    def __init__(self, con: sqlite3.Connection, *, cache: bool) -> None:
        self._con = con
        self._cache = cache
        self._store: dict[tuple[str, tuple[Any, ...]], bytes] = {}

    def q(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Read one query's rows into a frame.

        Args:
            sql: The statement.
            params: Its parameters.

        Returns:
            A frame the caller may modify.
        """
        key = (sql, tuple(params))
        if self._cache and key in self._store:
            return pickle.loads(self._store[key])
        frame = pd.read_sql(sql, self._con, params=list(params) or None)
        if self._cache:
            self._store[key] = pickle.dumps(frame)
        return frame


def _daily(reader: Reader, sel: Selection) -> pd.DataFrame:
    """The daily KPI frame (``kpi_f``) for the selection."""
    if sel.channels:
        marks = ", ".join("?" for _ in sel.channels)
        kpi = reader.q(KPI_BY_CHANNEL_SQL.format(marks=marks), sel.channels)
    else:
        kpi = reader.q(KPI_SQL)
    kpi["dt"] = pd.to_datetime(kpi["dt"])
    start, end = pd.Timestamp(sel.start), pd.Timestamp(sel.end)
    return kpi[(kpi["dt"] >= start) & (kpi["dt"] <= end)].copy()


def _monthly(reader: Reader, sel: Selection) -> pd.DataFrame:
    """The monthly rows (``monthly_f``) for the selection."""
    monthly = reader.q(MONTHLY_SQL)
    monthly["month_id"] = pd.to_datetime(monthly["month_id"])
    start, end = pd.Timestamp(sel.start), pd.Timestamp(sel.end)
    monthly_f = monthly[(monthly["month_id"] >= start) & (monthly["month_id"] <= end)].copy()
    if sel.channels:
        monthly_f = monthly_f[monthly_f["channel"].isin(sel.channels)]
    return monthly_f


def period_delta(series: pd.Series) -> float:
    """The original's card delta: mean of the second half of the days against the first."""
    if series.empty or len(series) < 2:
        return 0.0
    half = max(len(series) // 2, 1)
    cur = series.iloc[-half:].mean()
    prev = series.iloc[:half].mean()
    if prev == 0:
        return 0.0
    return float((cur - prev) / prev)


def overview(reader: Reader, sel: Selection) -> dict[str, Any]:
    """The original's KPI cards, trend series, spend share and performance signals.

    Args:
        reader: How views are read.
        sel: The filter set.

    Returns:
        The figures, by name.
    """
    kpi_f = _daily(reader, sel)
    monthly_f = _monthly(reader, sel)
    cards: dict[str, float] = {}
    if not kpi_f.empty:
        cards = {
            "avg_roi": float(kpi_f["roi_avg"].mean()),
            "ctr": float(kpi_f["ctr"].mean()),
            "cpc_avg": float(kpi_f["cpc_avg"].mean()),
            "cpm_avg": float(kpi_f["cpm_avg"].mean()),
            "avg_daily_spend": float(kpi_f["spend"].mean()),
            "roi_delta": period_delta(kpi_f["roi_avg"]),
            "ctr_delta": period_delta(kpi_f["ctr"]),
            "cpc_delta": period_delta(kpi_f["cpc_avg"]),
            "cpm_delta": period_delta(kpi_f["cpm_avg"]),
        }
    share = (
        monthly_f.groupby("channel", as_index=False)["spend"]
        .sum()
        .sort_values("spend", ascending=False)
    )
    return {
        "cards": cards,
        "trend": kpi_f[["dt", "spend", "roi_avg"]],
        "share": share,
        "signals": kpi_f[["dt", "impressions", "clicks", "ctr", "roi_avg"]],
    }


def _quadrant(spend_median: float, roi_median: float) -> Callable[[pd.Series], str]:
    def quad(row: pd.Series) -> str:
        if row["spend"] >= spend_median and row["roi_avg"] >= roi_median:
            return "High Scale • High ROI"
        if row["spend"] >= spend_median:
            return "High Scale • Low ROI"
        if row["roi_avg"] >= roi_median:
            return "Low Scale • High ROI"
        return "Low Scale • Low ROI"

    return quad


def channels(reader: Reader, sel: Selection) -> dict[str, Any]:
    """The original's ROI vs spend quadrant and channel stability table.

    Args:
        reader: How views are read.
        sel: The filter set (the quadrant ignores the date range, as the original's did).

    Returns:
        The quadrant table and the stability ranking.
    """
    roi_map = reader.q(ROI_MAP_SQL)
    if sel.channels:
        roi_map = roi_map[roi_map["channel"].isin(sel.channels)]
    df_q = roi_map.copy()
    if not df_q.empty:
        quad = _quadrant(df_q["spend"].median(), df_q["roi_avg"].median())
        df_q["quadrant"] = df_q.apply(quad, axis=1)
    stab = reader.q(STABILITY_SQL)
    stab["month_id"] = pd.to_datetime(stab["month_id"])
    start, end = pd.Timestamp(sel.start), pd.Timestamp(sel.end)
    stab_f = stab[(stab["month_id"] >= start) & (stab["month_id"] <= end)]
    if sel.channels:
        stab_f = stab_f[stab_f["channel"].isin(sel.channels)]
    ranking = stab_f.groupby("channel", as_index=False).agg(
        total_spend=("spend", "sum"),
        roi_mean=("roi_mean", "mean"),
        roi_cv=("roi_cv", "mean"),
        months=("month_id", "nunique"),
    )
    ranking = ranking.sort_values(["roi_cv", "roi_mean"], ascending=[True, False])
    return {"quadrants": df_q, "stability": ranking}


def trends(reader: Reader, sel: Selection, grain: str = "week") -> pd.DataFrame:
    """Daily KPI frame resampled to ``grain`` (not in the original: it drew daily lines).

    Args:
        reader: How views are read.
        sel: The filter set.
        grain: ``day``, ``week``, ``month`` or ``quarter``.

    Returns:
        One row per period: summed spend, impressions, clicks; means of the daily averages.
    """
    kpi_f = _daily(reader, sel)
    if grain == "day":
        return kpi_f
    rule = GRAIN_RULES[grain]
    return (
        kpi_f.set_index("dt")
        .resample(rule, label="left", closed="left")
        .agg(
            {
                "spend": "sum",
                "impressions": "sum",
                "clicks": "sum",
                "ctr": "mean",
                "roi_avg": "mean",
                "engagement_rate_avg": "mean",
            }
        )
        .reset_index()
    )


def monthly(reader: Reader, sel: Selection) -> pd.DataFrame:
    """The original's monthly detail table.

    Args:
        reader: How views are read.
        sel: The filter set.

    Returns:
        The monthly rows in the range, sorted by month and channel.
    """
    return _monthly(reader, sel).sort_values(["month_id", "channel"])


def page(name: str) -> Callable[..., Any] | None:
    """The baseline function for an ``mci`` page, or ``None`` when the original had none.

    Args:
        name: ``overview``, ``channels``, ``trends``, ``monthly`` or ``quality``.

    Returns:
        The function (``reader, selection[, grain]``), or ``None``.
    """
    return {"overview": overview, "channels": channels, "trends": trends, "monthly": monthly}.get(
        name
    )

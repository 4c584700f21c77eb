"""Trends: series by grain, period-over-period moves, rolling means, spend/CTR dynamics.

Every number comes from the semantic layer (:func:`mci.semantic.query`): the loaders here
(:func:`trend_series`, :func:`period_over_period`, :func:`headline`) only ask it, and the
rest are pure functions over the frames it returns.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame(
    ...     {"period": pd.date_range("2021-01-01", periods=4), "spend": [1.0, 3.0, 5.0, 7.0]}
    ... )
    >>> rolling(frame, ["spend"], window=2)["spend_rolling"].tolist()
    [1.0, 2.0, 4.0, 6.0]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from mci.semantic.api import query
from mci.semantic.registry import METRICS

TREND_GRAINS: tuple[str, ...] = ("day", "week", "month")
TREND_METRICS: tuple[str, ...] = ("spend", "roi", "ctr", "engagement")
HEADLINE_METRICS: tuple[str, ...] = ("roi", "spend", "conversions", "ctr", "cpc", "cpm", "cpa")
MAD_TO_SD = 0.6745  # the modified z-score's constant (Iglewicz and Hoaglin)
SIGNIFICANCE = 0.05

DateLike = dt.date | str | None


def _keys(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _entity_columns(frame: pd.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    """The columns that name an entity: ``by`` if given, else the non-numeric columns."""
    if by is not None:
        return _keys(by)
    return [
        c for c in frame.columns if c != "period" and not pd.api.types.is_numeric_dtype(frame[c])
    ]


def _groups(frame: pd.DataFrame, keys: list[str]) -> list[tuple[tuple, pd.DataFrame]]:
    if not keys:
        return [((), frame)]
    return [(k if isinstance(k, tuple) else (k,), g) for k, g in frame.groupby(keys, sort=True)]


def _as_date(value: DateLike) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def trend_series(
    db: str | None,
    metrics: Sequence[str] | None = None,
    grain: str = "day",
    by: str | Sequence[str] | None = None,
    start: DateLike = None,
    end: DateLike = None,
) -> pd.DataFrame:
    """Metrics as a time series at day, week or month grain, from the semantic layer.

    Args:
        db: the database URL; ``None`` uses ``MCI_DB_URL`` or the default.
        metrics: registry metric names; by default spend, roi, ctr and engagement (those
            of them the registry defines).
        grain: ``day``, ``week`` or ``month``.
        by: a dimension (e.g. ``"channel"``) or several, or ``None`` for the whole.
        start: first day included.
        end: last day included.

    Returns:
        One row per entity and period, sorted by entity then ``period``.

    Raises:
        ValueError: an unsupported grain.
    """
    if grain not in TREND_GRAINS:
        raise ValueError(f"grain {grain!r} is not one of {', '.join(TREND_GRAINS)}")
    if metrics is None:
        metrics = [m for m in TREND_METRICS if m in METRICS]
    keys = _keys(by)
    frame = query(list(metrics), by=keys, grain=grain, start=start, end=end, db=db)
    return frame.sort_values([*keys, "period"]).reset_index(drop=True)


def rolling(
    frame: pd.DataFrame,
    metrics: Sequence[str],
    window: int,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Adds ``<metric>_rolling``: the trailing mean over ``window`` periods, per entity.

    Args:
        frame: a series with a ``period`` column (as from :func:`trend_series`).
        metrics: the columns to smooth.
        window: the number of periods in the mean (``min_periods=1``).
        by: the entity columns; by default the frame's non-numeric columns.

    Returns:
        A copy of ``frame``, sorted by entity and period, with the rolling columns.

    Raises:
        ValueError: a window below 1.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, not {window}")
    keys = _entity_columns(frame, by)
    out = frame.sort_values([*keys, "period"]).reset_index(drop=True)
    for m in metrics:
        values = out[m].astype("float64")
        if keys:
            out[f"{m}_rolling"] = values.groupby([out[k] for k in keys], sort=False).transform(
                lambda s: s.rolling(window, min_periods=1).mean()
            )
        else:
            out[f"{m}_rolling"] = values.rolling(window, min_periods=1).mean()
    return out


def period_over_period(
    db: str | None,
    metrics: Sequence[str],
    start: DateLike,
    end: DateLike,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """The window ``start``..``end`` against the previous window of equal length.

    Args:
        db: the database URL.
        metrics: registry metric names.
        start: first day of the current window.
        end: last day of the current window.
        by: dimensions to split by, or ``None``.

    Returns:
        Per metric ``<m>``, ``<m>_previous``, ``<m>_delta`` and ``<m>_delta_pct`` (a
        fraction; NaN when the previous value is 0 or missing), one row per entity.
    """
    return query(
        list(metrics), by=_keys(by), start=start, end=end, compare="previous_period", db=db
    )


def latest_window(db: str | None, days: int = 30) -> tuple[dt.date, dt.date]:
    """The last ``days`` days of the data: ends at the last date that has campaigns.

    Args:
        db: the database URL.
        days: the window's length.

    Returns:
        ``(start, end)``, both included.

    Raises:
        ValueError: an empty warehouse or a length below 1.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    daily = query(["campaigns"], grain="day", db=db)
    if daily.empty:
        raise ValueError("the warehouse holds no campaigns")
    end = pd.Timestamp(daily["period"].max()).date()
    return end - dt.timedelta(days=days - 1), end


def headline_table(pop: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """One row per KPI from a one-row period-over-period frame, with whether it is good.

    Args:
        pop: one row with ``<m>``, ``<m>_previous``, ``<m>_delta`` and ``<m>_delta_pct``
            per metric (as from :func:`period_over_period` without ``by``).
        metrics: registry metric names.

    Returns:
        ``metric, current, previous, delta, delta_pct, better, good``: ``better`` is the
        registry's ``up``, ``down`` or ``neutral``; ``good`` is True when the move is in
        the better direction, False when against it, ``None`` when neutral, flat or unknown.
    """
    row = pop.iloc[0]
    records = []
    for m in metrics:
        delta = row[f"{m}_delta"]
        direction = METRICS[m].better
        good: bool | None = None
        if direction != "neutral" and pd.notna(delta) and delta != 0:
            good = bool(delta > 0) == (direction == "up")
        records.append(
            {
                "metric": m,
                "current": row[m],
                "previous": row[f"{m}_previous"],
                "delta": delta,
                "delta_pct": row[f"{m}_delta_pct"],
                "better": direction,
                "good": good,
            }
        )
    out = pd.DataFrame.from_records(records)
    for name in ("current", "previous", "delta", "delta_pct"):
        out[name] = pd.to_numeric(out[name], errors="coerce").astype("float64")
    return out


def headline(
    db: str | None,
    start: DateLike = None,
    end: DateLike = None,
    days: int = 30,
    metrics: Sequence[str] = HEADLINE_METRICS,
) -> pd.DataFrame:
    """Headline KPIs for a window against the previous window of equal length.

    With neither ``start`` nor ``end``, the window is the latest ``days`` days, ending at the
    last date in the data; with one of them, the window is ``days`` long from (or to) it.

    Args:
        db: the database URL.
        start: first day of the current window.
        end: last day of the current window.
        days: the window's length when a bound is missing.
        metrics: the KPIs to report.

    Returns:
        One row per KPI: ``metric, current, previous, delta, delta_pct, better`` (the
        registry's ``up``, ``down`` or ``neutral``) and ``good`` (True when the move is in
        the better direction, False when against it, ``None`` when neutral, flat or unknown).
        ``frame.attrs`` holds ``start``, ``end``, ``previous_start`` and ``previous_end``.
    """
    first, last = _as_date(start), _as_date(end)
    if first is None and last is None:
        first, last = latest_window(db, days)
    elif first is None:
        first = last - dt.timedelta(days=days - 1)
    elif last is None:
        last = first + dt.timedelta(days=days - 1)
    out = headline_table(period_over_period(db, metrics, first, last), metrics)
    length = last - first + dt.timedelta(days=1)
    out.attrs.update(
        start=first,
        end=last,
        previous_start=first - length,
        previous_end=first - dt.timedelta(days=1),
    )
    return out


def _regression(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    if len(x) < 3 or np.ptp(x) == 0:
        nan = float("nan")
        return dict.fromkeys(("slope", "stderr", "p_value", "intercept", "r"), nan)
    fit = stats.linregress(x, y)
    return {
        "slope": float(fit.slope),
        "stderr": float(fit.stderr),
        "p_value": float(fit.pvalue),
        "intercept": float(fit.intercept),
        "r": float(fit.rvalue),
    }


def spend_ctr_dynamics(
    daily: pd.DataFrame, by: str | Sequence[str] | None = "channel"
) -> pd.DataFrame:
    """How CTR moves with spend: the elasticity of CTR to spend, per entity.

    The elasticity is the slope of log(ctr) on log(spend) over the periods (days) of each
    entity: a 1% rise in spend goes with an ``elasticity``% move in CTR.

    Args:
        daily: a series with ``spend`` and ``ctr`` (as from :func:`trend_series`).
        by: the entity columns (``None`` or a frame without them: one overall row).

    Returns:
        One row per entity: ``elasticity, stderr, p_value, correlation`` (Pearson r of the
        logs), ``spearman`` (rank correlation of spend and CTR), ``n`` (periods used) and
        ``significant`` (p below 0.05).
    """
    keys = [k for k in _keys(by) if k in daily.columns]
    records = []
    for key, group in _groups(daily, keys):
        g = group[(group["spend"] > 0) & (group["ctr"] > 0)].dropna(subset=["spend", "ctr"])
        x = np.log(g["spend"].to_numpy(dtype="float64"))
        y = np.log(g["ctr"].to_numpy(dtype="float64"))
        fit = _regression(x, y)
        spearman = (
            float(stats.spearmanr(x, y).statistic) if len(x) >= 3 and np.ptp(x) > 0 else np.nan
        )
        records.append(
            {
                **dict(zip(keys, key, strict=True)),
                "elasticity": fit["slope"],
                "stderr": fit["stderr"],
                "p_value": fit["p_value"],
                "correlation": fit["r"],
                "spearman": spearman,
                "n": len(x),
                "significant": bool(fit["p_value"] < SIGNIFICANCE),
            }
        )
    return pd.DataFrame.from_records(records)


def engagement_trend(
    monthly: pd.DataFrame,
    metric: str = "engagement",
    by: str | Sequence[str] | None = "channel",
) -> pd.DataFrame:
    """The monthly trend of engagement per entity: slope per month and its p-value.

    Args:
        monthly: a month-grain series with ``period`` and ``metric``.
        metric: the column to fit (the engagement score by default).
        by: the entity columns.

    Returns:
        One row per entity: ``slope`` (change per month), ``stderr``, ``p_value``,
        ``first``, ``last`` (the fitted values at the first and last month), ``n`` (months)
        and ``direction``: ``rising`` or ``falling`` when p < 0.05, else ``flat`` (no
        trend distinguishable from noise).
    """
    keys = [k for k in _keys(by) if k in monthly.columns]
    records = []
    for key, group in _groups(monthly, keys):
        g = group.dropna(subset=[metric]).sort_values("period")
        period = pd.to_datetime(g["period"])
        x = (period.dt.year * 12 + period.dt.month).to_numpy(dtype="float64")
        x = x - x.min() if len(x) else x
        y = g[metric].to_numpy(dtype="float64")
        fit = _regression(x, y)
        direction = "flat"
        if fit["p_value"] < SIGNIFICANCE:
            direction = "rising" if fit["slope"] > 0 else "falling"
        records.append(
            {
                **dict(zip(keys, key, strict=True)),
                "slope": fit["slope"],
                "stderr": fit["stderr"],
                "p_value": fit["p_value"],
                "first": fit["intercept"],
                "last": fit["intercept"] + fit["slope"] * (x.max() if len(x) else np.nan),
                "n": len(y),
                "direction": direction,
            }
        )
    return pd.DataFrame.from_records(records)


def _mad(window: np.ndarray) -> float:
    window = window[np.isfinite(window)]
    if not len(window):
        return float("nan")
    return float(np.median(np.abs(window - np.median(window))))


def robust_scores(
    daily: pd.DataFrame,
    metric: str,
    window: int = 31,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every period's modified z-score against a centred rolling median and MAD.

    ``z = 0.6745 * (value - median) / MAD`` over the ``window`` periods centred on each
    one (per entity). A MAD of 0 gives ``z = 0`` when the value equals the median and
    ±inf otherwise.

    Args:
        daily: a series with ``period`` and ``metric``.
        metric: the column to score.
        window: periods in the centred window (odd numbers centre exactly).
        by: the entity columns; by default the frame's non-numeric columns.

    Returns:
        The entity columns, ``period``, ``value``, ``baseline`` (the rolling median),
        ``mad`` and ``z``, sorted by entity and period.
    """
    keys = _entity_columns(daily, by)
    parts = []
    min_periods = max(3, window // 2 + 1)
    for _, group in _groups(daily, keys):
        g = group.sort_values("period")
        value = g[metric].astype("float64").reset_index(drop=True)
        roll = value.rolling(window, center=True, min_periods=min_periods)
        baseline = roll.median()
        mad = roll.apply(_mad, raw=True)
        dev = value - baseline
        with np.errstate(divide="ignore", invalid="ignore"):
            z = MAD_TO_SD * dev / mad
        z = z.where(~((mad == 0) & (dev == 0)), 0.0)
        part = g[[*keys, "period"]].reset_index(drop=True)
        part["value"] = value
        part["baseline"] = baseline
        part["mad"] = mad
        part["z"] = z
        parts.append(part)
    columns = [*keys, "period", "value", "baseline", "mad", "z"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def anomalous_days(
    daily: pd.DataFrame,
    metric: str,
    z: float = 3.5,
    window: int = 31,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Days whose ``metric`` deviates from its robust baseline by more than ``z``.

    Args:
        daily: a day-grain series with ``period`` and ``metric``.
        metric: the column to check.
        z: the modified z-score threshold (3.5 is the usual one).
        window: days in the centred rolling median and MAD. A month (31) keeps the MAD
            steady enough that daily noise rarely passes 3.5; 15 flags about twice as many
            ordinary days on the planted exports.
        by: the entity columns; by default the frame's non-numeric columns.

    Returns:
        The flagged rows of :func:`robust_scores`, plus ``metric``, ``direction``
        (``spike`` or ``dip``) and ``effect`` (value / baseline), largest ``|z|`` first.
    """
    scores = robust_scores(daily, metric, window=window, by=by)
    flagged = scores[scores["z"].abs() > z].copy()
    flagged.insert(0, "metric", metric)
    flagged["direction"] = np.where(flagged["z"] > 0, "spike", "dip")
    with np.errstate(divide="ignore", invalid="ignore"):
        flagged["effect"] = flagged["value"] / flagged["baseline"]
    order = flagged["z"].abs().sort_values(ascending=False).index
    return flagged.loc[order].reset_index(drop=True)


def per_campaign(frame: pd.DataFrame, metric: str = "spend") -> pd.DataFrame:
    """Adds ``<metric>_per_campaign``: a summed metric over the ``campaigns`` count.

    A shock to every campaign of one day shows cleanly here, free of how many campaigns
    ran that day (the weekly and yearly rhythm of the calendar).

    Args:
        frame: a series with ``metric`` and ``campaigns`` (from the semantic layer).
        metric: a summed metric.

    Returns:
        A copy of ``frame`` with the new column (NaN where there are no campaigns).
    """
    out = frame.copy()
    count = out["campaigns"].astype("float64")
    out[f"{metric}_per_campaign"] = out[metric].astype("float64") / count.where(count > 0)
    return out

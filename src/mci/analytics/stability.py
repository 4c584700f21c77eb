"""ROI stability per channel (or any dimension), and whether its differences are real.

The original project ranked channels by ROI stability; on its data (pure noise) that ranking
ordered noise. :func:`roi_stability` gives the same views (within-month ROI spread, the
across-month coefficient of variation, smoothed monthly series, the original's consistency
ranking) and says, with p-values and bootstrap intervals, whether entities differ at all.

Data comes from the semantic layer only: :func:`load_stability` asks
:func:`mci.semantic.query` for monthly and daily figures; everything else is a pure function
of those frames.

Example:
    >>> import pandas as pd
    >>> monthly, daily = _toy_frames()
    >>> report = roi_stability(monthly, daily, n_boot=200, n_perm=200, seed=1)
    >>> report.best_roi, report.worst_roi, report.roi_differs
    ('A', 'B', True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mci.analytics._stats import (
    bootstrap_ratio_ci,
    bootstrap_stat_ci,
    cv,
    cv_rows,
    kruskal,
    permutation_test,
    welch_anova,
)

MONTHLY_METRICS = ("spend", "net_return", "roi", "roi_mean", "roi_std", "roi_cv", "campaigns")
DAILY_METRICS = ("spend", "net_return", "roi")
ALPHA = 0.05


@dataclass
class StabilityReport:
    """What :func:`roi_stability` found.

    Attributes:
        dimension: the dimension the entities come from (``channel`` by default).
        table: one row per entity: ``entity, spend, roi, roi_low, roi_high`` (spend-weighted
            ROI over the period and its bootstrap interval over days), ``roi_mean, roi_std,
            roi_cv_within`` (means over months of the within-month campaign ROI mean, sd
            and CV), ``roi_cv_across, cv_low, cv_high`` (CV over months of the monthly
            spend-weighted ROI and its bootstrap interval over months), ``months, days``.
        smoothed: ``entity, period, roi, roi_rolling, roi_ewma`` per entity and month.
        ranking: the original's consistency ranking: entities with spend at or above the
            median, by ``roi_cv_within`` ascending then ``roi_mean`` descending, with ``rank``.
        roi_p_value: Welch ANOVA p-value of daily ROI across entities.
        roi_kruskal_p_value: Kruskal-Wallis p-value of the same.
        roi_differs: ``roi_p_value < alpha``.
        cv_p_value: permutation p-value that the across-month CVs spread more than under
            random relabelling of (mean-normalised) months across entities.
        cv_differs: ``cv_p_value < alpha``.
        best_roi: the entity with the highest ROI, or None when ROI does not differ.
        worst_roi: the entity with the lowest ROI, or None when ROI does not differ.
        most_volatile: the entity with the highest across-month CV, or None when CVs do not
            differ.
        alpha: the significance level used.
    """

    dimension: str
    table: pd.DataFrame
    smoothed: pd.DataFrame
    ranking: pd.DataFrame
    roi_p_value: float
    roi_kruskal_p_value: float
    roi_differs: bool
    cv_p_value: float
    cv_differs: bool
    best_roi: str | None
    worst_roi: str | None
    most_volatile: str | None
    alpha: float = ALPHA


def load_stability(
    db: str | None = None, dimension: str = "channel"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly and daily figures per entity, from the semantic layer.

    Args:
        db: the database URL; ``None`` uses ``MCI_DB_URL`` or the default.
        dimension: a registry dimension.

    Returns:
        ``(monthly, daily)``: ``query(MONTHLY_METRICS, by=[dimension], grain="month")`` and
        ``query(DAILY_METRICS, by=[dimension], grain="day")``.

    Example:
        >>> import tempfile, pathlib
        >>> from mci.demo import build_demo
        >>> url = build_demo(f"duckdb:///{pathlib.Path(tempfile.mkdtemp()) / 'w.duckdb'}",
        ...                  rows=2_000)
        >>> monthly, daily = load_stability(url)
        >>> list(daily.columns)
        ['period', 'channel', 'spend', 'net_return', 'roi']
    """
    from mci.semantic import query

    monthly = query(list(MONTHLY_METRICS), by=[dimension], grain="month", db=db)
    daily = query(list(DAILY_METRICS), by=[dimension], grain="day", db=db)
    return monthly, daily


def _groups(frame: pd.DataFrame, dimension: str, column: str) -> dict[str, np.ndarray]:
    """Sorted entity -> finite values of ``column`` (rows with spend > 0)."""
    usable = frame[(frame["spend"] > 0) & frame[column].notna()]
    return {
        str(k): g.sort_values("period")[column].to_numpy(dtype=float)
        for k, g in usable.groupby(dimension, sort=True)
    }


def _cv_spread(groups: list[np.ndarray]) -> float:
    values = [cv(g) for g in groups]
    return float(np.nanstd(values))


def _cv_spread_rows(groups: list[np.ndarray]) -> np.ndarray:
    """:func:`_cv_spread` of many relabellings: each group is one relabelling per row."""
    values = np.stack([cv_rows(g) for g in groups])
    with np.errstate(invalid="ignore"):
        return np.nanstd(values, axis=0)


def smooth(
    monthly: pd.DataFrame,
    *,
    dimension: str = "channel",
    window: int = 3,
    halflife: float | None = 2.0,
    ewm_alpha: float | None = None,
) -> pd.DataFrame:
    """Rolling mean and EWMA of each entity's monthly spend-weighted ROI.

    Args:
        monthly: ``query([... "roi"], by=[dimension], grain="month")``.
        dimension: the entity column.
        window: months in the rolling mean (NaN until a full window).
        halflife: the EWMA's half-life in months (ignored when ``ewm_alpha`` is given).
        ewm_alpha: the EWMA's smoothing factor instead of a half-life.

    Returns:
        ``entity, period, roi, roi_rolling, roi_ewma``.

    Example:
        >>> frame = pd.DataFrame({"channel": ["A"] * 4, "spend": [1.0] * 4,
        ...     "period": pd.date_range("2021-01-01", periods=4, freq="MS"),
        ...     "roi": [1.0, 2.0, 3.0, 4.0]})
        >>> smooth(frame, window=2, ewm_alpha=0.5)["roi_rolling"].tolist()
        [nan, 1.5, 2.5, 3.5]
    """
    frame = monthly[[dimension, "period", "roi"]].rename(columns={dimension: "entity"})
    frame = frame.assign(entity=frame["entity"].astype(str)).sort_values(["entity", "period"])
    grouped = frame.groupby("entity", sort=True)["roi"]
    frame["roi_rolling"] = grouped.transform(lambda s: s.rolling(window, min_periods=window).mean())
    ewm = {"alpha": ewm_alpha} if ewm_alpha is not None else {"halflife": halflife}
    frame["roi_ewma"] = grouped.transform(lambda s: s.ewm(adjust=False, **ewm).mean())
    return frame.reset_index(drop=True)


def consistency_ranking(table: pd.DataFrame) -> pd.DataFrame:
    """The original project's ranking: spend >= median, CV ascending, then mean ROI descending.

    Args:
        table: ``entity, spend, roi_cv_within, roi_mean`` per entity.

    Returns:
        The kept entities in order, with a 1-based ``rank``.

    Example:
        >>> t = pd.DataFrame({"entity": ["A", "B", "C"], "spend": [1.0, 2.0, 3.0],
        ...     "roi_cv_within": [0.1, 0.3, 0.2], "roi_mean": [5.0, 4.0, 3.0]})
        >>> consistency_ranking(t)["entity"].tolist()
        ['C', 'B']
    """
    kept = table[table["spend"] >= table["spend"].median()]
    ranked = kept.sort_values(
        ["roi_cv_within", "roi_mean"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked[["rank", "entity", "spend", "roi_cv_within", "roi_mean"]]


def roi_stability(
    monthly: pd.DataFrame,
    daily: pd.DataFrame,
    *,
    dimension: str = "channel",
    window: int = 3,
    halflife: float | None = 2.0,
    ewm_alpha: float | None = None,
    n_boot: int = 2000,
    n_perm: int = 2000,
    alpha: float = ALPHA,
    seed: int = 0,
) -> StabilityReport:
    """ROI stability per entity, with tests of whether entities really differ.

    Args:
        monthly: ``query(MONTHLY_METRICS, by=[dimension], grain="month")``.
        daily: ``query(DAILY_METRICS, by=[dimension], grain="day")``.
        dimension: the entity column.
        window: months in the rolling mean.
        halflife: EWMA half-life in months.
        ewm_alpha: EWMA smoothing factor (instead of ``halflife``).
        n_boot: bootstrap resamples per interval.
        n_perm: relabellings in the CV permutation test.
        alpha: significance level.
        seed: seed of every random draw (same inputs and seed, same report).

    Returns:
        A :class:`StabilityReport`.

    Example:
        >>> monthly, daily = _toy_frames()
        >>> r = roi_stability(monthly, daily, n_boot=100, n_perm=100)
        >>> r.table["entity"].tolist(), r.most_volatile
        (['A', 'B'], None)
    """
    daily_roi = _groups(daily, dimension, "roi")
    daily_num = _groups(daily, dimension, "net_return")
    daily_den = _groups(daily, dimension, "spend")
    monthly_roi = _groups(monthly, dimension, "roi")
    entities = sorted(set(daily_roi) | set(monthly_roi))
    seeds = np.random.SeedSequence(seed).spawn(len(entities) + 1)

    by_entity = monthly.assign(entity=monthly[dimension].astype(str)).groupby("entity")
    rows = []
    for entity, entity_seed in zip(entities, seeds[:-1], strict=True):
        rng = np.random.default_rng(entity_seed)
        num = daily_num.get(entity, np.array([]))
        den = daily_den.get(entity, np.array([]))
        roi, roi_low, roi_high = bootstrap_ratio_ci(num, den, n_boot=n_boot, rng=rng)
        months = monthly_roi.get(entity, np.array([]))
        cv_est, cv_low, cv_high = bootstrap_stat_ci(
            months, cv, n_boot=n_boot, rng=rng, rowwise=cv_rows
        )
        group = by_entity.get_group(entity) if entity in by_entity.groups else None
        rows.append(
            {
                "entity": entity,
                "spend": float(group["spend"].sum()) if group is not None else float("nan"),
                "roi": roi,
                "roi_low": roi_low,
                "roi_high": roi_high,
                "roi_mean": float(group["roi_mean"].mean()) if group is not None else np.nan,
                "roi_std": float(group["roi_std"].mean()) if group is not None else np.nan,
                "roi_cv_within": float(group["roi_cv"].mean()) if group is not None else np.nan,
                "roi_cv_across": cv_est,
                "cv_low": cv_low,
                "cv_high": cv_high,
                "months": int(months.size),
                "days": int(den.size),
            }
        )
    table = pd.DataFrame(rows)

    roi_groups = [daily_roi[e] for e in entities if e in daily_roi]
    _, roi_p = welch_anova(roi_groups)
    kw_p = kruskal(roi_groups)
    normalised = [
        monthly_roi[e] / abs(monthly_roi[e].mean())
        for e in entities
        if e in monthly_roi and monthly_roi[e].size >= 2 and monthly_roi[e].mean() != 0
    ]
    cv_p = float("nan")
    if len(normalised) >= 2:
        cv_p = permutation_test(
            _cv_spread,
            normalised,
            n_perm,
            np.random.default_rng(seeds[-1]),
            batched=_cv_spread_rows,
        )
    roi_differs = bool(np.isfinite(roi_p) and roi_p < alpha)
    cv_differs = bool(np.isfinite(cv_p) and cv_p < alpha)
    ranked_roi = table.dropna(subset=["roi"])
    ranked_cv = table.dropna(subset=["roi_cv_across"])
    return StabilityReport(
        dimension=dimension,
        table=table,
        smoothed=smooth(
            monthly, dimension=dimension, window=window, halflife=halflife, ewm_alpha=ewm_alpha
        ),
        ranking=consistency_ranking(table),
        roi_p_value=roi_p,
        roi_kruskal_p_value=kw_p,
        roi_differs=roi_differs,
        cv_p_value=cv_p,
        cv_differs=cv_differs,
        best_roi=str(ranked_roi.loc[ranked_roi["roi"].idxmax(), "entity"]) if roi_differs else None,
        worst_roi=str(ranked_roi.loc[ranked_roi["roi"].idxmin(), "entity"])
        if roi_differs
        else None,
        most_volatile=str(ranked_cv.loc[ranked_cv["roi_cv_across"].idxmax(), "entity"])
        if cv_differs
        else None,
        alpha=alpha,
    )


def _toy_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two entities, A clearly better than B, equally (un)stable: for the examples."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2021-01-01", periods=120, freq="D")
    frames = []
    for entity, level in (("A", 5.0), ("B", 3.0)):
        spend = rng.uniform(100, 200, days.size)
        roi = level + rng.normal(0, 0.5, days.size)
        frames.append(
            pd.DataFrame(
                {"channel": entity, "period": days, "spend": spend, "net_return": roi * spend}
            )
        )
    daily = pd.concat(frames, ignore_index=True)
    daily["roi"] = daily["net_return"] / daily["spend"]
    monthly = (
        daily.assign(period=daily["period"].dt.to_period("M").dt.to_timestamp())
        .groupby(["channel", "period"], as_index=False)
        .agg(spend=("spend", "sum"), net_return=("net_return", "sum"), campaigns=("roi", "size"))
    )
    monthly["roi"] = monthly["net_return"] / monthly["spend"]
    monthly["roi_mean"] = monthly["roi"]
    monthly["roi_std"] = 0.5
    monthly["roi_cv"] = monthly["roi_std"] / monthly["roi_mean"]
    return monthly, daily

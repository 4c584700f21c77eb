"""Which channels earn, and is it real: one diagnosis that the report and the dashboard render.

:func:`channel_findings` asks the semantic layer for spend and net return per channel,
campaign type and month, and :func:`diagnose` turns them into one :class:`ChannelFindings`:

1. **Evidence.** A channel is compared only with enough campaigns, active months and spend
   (:class:`Evidence`); thinner channels are listed with the reason and never named or
   handed budget.
2. **Levels at the level the variation lives.** Each channel's ROI is its spend-weighted ROI,
   with a period-clustered interval (:mod:`mci.analytics._inference`).
3. **Names only with evidence.** Every pair of channels is tested (Holm over the pairs); a
   channel is *best* (*worst*) only when it beats (trails) every other one; otherwise the
   smallest group that beats (trails) all the rest is named, or nobody.
4. **Small channels shrunk.** Every channel's ROI is also pulled toward the portfolio by its
   own uncertainty (partial pooling); the ranking is by that shrunk ROI.
5. **Mix.** A mix-adjusted ROI per channel; pairs whose order flips are reported.
6. **Shifts and volatility.** Level shifts (with their month) are separated from volatility
   around the level; "most volatile" needs evidence against every other channel.
7. **Advice** from current levels (:mod:`mci.analytics.budget`).

Example:
    >>> from mci.datagen.scenarios import SCENARIOS, cells, simulate, spread
    >>> rows = simulate(SCENARIOS["better_10"], seed=3, rows=60_000)
    >>> found = diagnose(cells(rows), spread(rows))
    >>> found.best, found.worst, found.advice.recommend
    ('Email', None, True)
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from mci.analytics._inference import (
    LevelFit,
    above,
    fit_levels,
    holm,
    pairwise,
    separated_top,
    shrink,
)
from mci.analytics.budget import DEFAULT_SHARE, BudgetAdvice, advise
from mci.analytics.mix import MixResult, mix_adjust
from mci.analytics.quadrant import quadrants
from mci.analytics.stability import (
    N_PERM,
    consistency_ranking,
    cv_around_level,
    cv_interval,
    deviations,
    level_shifts,
    segment_levels,
    shift_p_value,
    volatility_pairs,
)

ALPHA = 0.05
PERIOD = "month"
MIX = "campaign_type"
CELL_METRICS = ("spend", "net_return", "campaigns")
SPREAD_METRICS = ("roi_mean", "roi_std")


@dataclass(frozen=True)
class Evidence:
    """The least a channel needs to be compared, named or handed budget.

    Attributes:
        min_campaigns: campaign rows over the period.
        min_periods: periods (months) with spend: fewer cannot tell a channel from its
            months' shocks.
        min_spend_share: share of the portfolio's spend.
    """

    min_campaigns: int = 100
    min_periods: int = 6
    min_spend_share: float = 0.01


@dataclass
class ChannelFindings:
    """Everything the channel diagnostics found; the report and the dashboard render this.

    Attributes:
        dimension: the entity dimension (``channel``).
        period: the unit of inference (``month``).
        alpha: the significance level (family-wise, Holm).
        evidence: the evidence thresholds.
        status: ``ok``, ``no_data``, ``too_few_periods`` or ``too_few_channels``.
        periods: periods in the data.
        first_period: the first period with spend.
        last_period: the last period with spend.
        portfolio_roi: the portfolio's spend-weighted ROI (every channel).
        table: one row per channel (see :meth:`to_dict` for the columns).
        pairs: every compared pair (whole period): ``a, b, difference, se, p_value,
            p_adjusted, significant``.
        leading: the smallest group beating every other compared channel, or None.
        trailing: the smallest group trailing every other, or None.
        best: the channel that beats every other, or None.
        worst: the channel that trails every other, or None.
        mix: the mix adjustment.
        shifts: ``entity, date, before, after, p_value, p_adjusted`` per channel that shifted.
        volatility_pairs: pairwise volatility comparisons.
        more_volatile: the smallest group more volatile than every other, or None.
        most_volatile: the one channel more volatile than every other, or None.
        quadrant_thresholds: ``spend_threshold``, ``roi_threshold``.
        ranking: the original's consistency ranking.
        advice: the budget advice.
    """

    dimension: str
    period: str
    alpha: float
    evidence: Evidence
    status: str
    periods: int = 0
    first_period: dt.date | None = None
    last_period: dt.date | None = None
    portfolio_roi: float = float("nan")
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    leading: list[str] | None = None
    trailing: list[str] | None = None
    best: str | None = None
    worst: str | None = None
    mix: MixResult | None = None
    shifts: pd.DataFrame = field(default_factory=pd.DataFrame)
    volatility_pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    more_volatile: list[str] | None = None
    most_volatile: str | None = None
    quadrant_thresholds: dict[str, float] = field(default_factory=dict)
    ranking: pd.DataFrame = field(default_factory=pd.DataFrame)
    advice: BudgetAdvice = field(default_factory=lambda: BudgetAdvice(False, "too_few_channels"))

    @property
    def compared(self) -> list[str]:
        """The channels with enough evidence to be compared."""
        if self.table.empty:
            return []
        return list(self.table.loc[self.table["compared"], "entity"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field, tables as lists of records, NaN as None."""
        mix = self.mix
        return {
            "dimension": self.dimension,
            "period": self.period,
            "alpha": self.alpha,
            "status": self.status,
            "evidence": {
                "min_campaigns": self.evidence.min_campaigns,
                "min_periods": self.evidence.min_periods,
                "min_spend_share": self.evidence.min_spend_share,
            },
            "periods": self.periods,
            "first_period": json_value(self.first_period),
            "last_period": json_value(self.last_period),
            "portfolio_roi": json_value(self.portfolio_roi),
            "channels": records(self.table),
            "pairs": records(self.pairs),
            "leading": self.leading,
            "trailing": self.trailing,
            "best": self.best,
            "worst": self.worst,
            "mix": None
            if mix is None
            else {
                "dimension": mix.dimension,
                "flips": [
                    {k: list(v) if isinstance(v, tuple) else json_value(v) for k, v in f.items()}
                    for f in mix.flips
                ],
                "pairs": records(mix.pairs),
            },
            "shifts": records(self.shifts),
            "volatility_pairs": records(self.volatility_pairs),
            "more_volatile": self.more_volatile,
            "most_volatile": self.most_volatile,
            "quadrant_thresholds": {k: json_value(v) for k, v in self.quadrant_thresholds.items()},
            "ranking": records(self.ranking),
            "advice": self.advice.to_dict(),
        }


def json_value(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, non-finite floats to None, dates to ISO text."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready records."""
    if frame is None or frame.empty:
        return []
    return [{k: json_value(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def load_cells(
    db: Any = None,
    *,
    dimension: str = "channel",
    mix: str | None = MIX,
    period: str = PERIOD,
    where: dict[str, list[Any]] | None = None,
    start: Any = None,
    end: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cells and within-period spread from the semantic layer.

    Returns:
        ``(cells, spread)``: ``query(CELL_METRICS, by=[dimension, mix], grain=period)`` and
        ``query(SPREAD_METRICS + CELL_METRICS, by=[dimension], grain=period)``.
    """
    from mci.semantic import query

    common = {"grain": period, "where": where or {}, "start": start, "end": end, "db": db}
    by = [dimension, mix] if mix else [dimension]
    cells = query(list(CELL_METRICS), by=by, **common)
    spread = query([*SPREAD_METRICS, "campaigns"], by=[dimension], **common)
    return cells, spread


def channel_findings(
    db: Any = None,
    *,
    where: dict[str, list[Any]] | None = None,
    start: Any = None,
    end: Any = None,
    seed: int = 0,
) -> ChannelFindings:
    """The channel diagnosis of a warehouse (under optional filters): what every page shows.

    Example:
        >>> import tempfile, pathlib
        >>> from mci.demo import build_demo
        >>> url = build_demo(f"duckdb:///{pathlib.Path(tempfile.mkdtemp()) / 'w.duckdb'}",
        ...                  rows=30_000)
        >>> found = channel_findings(url)
        >>> found.status, found.best, len(found.compared)
        ('ok', 'Email', 6)
    """
    cells, spread = load_cells(db, where=where, start=start, end=end)
    return diagnose(cells, spread, seed=seed)


def _evidence(totals: pd.DataFrame, evidence: Evidence) -> pd.Series:
    notes = []
    for row in totals.itertuples(index=False):
        missing = []
        if row.campaigns < evidence.min_campaigns:
            missing.append("campaigns")
        if row.periods < evidence.min_periods:
            missing.append("periods")
        if row.spend_share < evidence.min_spend_share:
            missing.append("spend_share")
        notes.append(",".join(missing))
    return pd.Series(notes, index=totals.index)


def _thin_se(
    by_period: pd.DataFrame,
    table: pd.DataFrame,
    levels: dict[str, float],
    spread: pd.DataFrame | None,
) -> pd.Series:
    """Standard errors for channels too thin for their own clustered one.

    A channel's period ROI varies by a shared-shock part (estimated from the compared
    channels' periods) and a campaign part (the within-period spread over its campaigns):
    ``se^2 = shock variance / periods + campaign variance / campaigns``.
    """
    campaign_var = 0.0
    if spread is not None and not spread.empty and "roi_std" in spread:
        ok = spread["roi_std"].notna() & (spread["campaigns"] > 1)
        if ok.any():
            w = spread.loc[ok, "campaigns"].astype(float)
            campaign_var = float((spread.loc[ok, "roi_std"] ** 2 * w).sum() / w.sum())
    shock_var = 0.0
    if levels:
        compared = by_period[by_period["entity"].isin(levels) & (by_period["spend"] > 0)]
        resid = compared["net_return"] / compared["spend"] - compared["entity"].map(levels)
        noise = campaign_var / compared["campaigns"].clip(lower=1).astype(float)
        free = max(len(compared) - len(levels), 1)
        shock_var = max(float((resid**2).sum() / free - noise.mean()), 0.0)
    periods = table["periods"].clip(lower=1).astype(float)
    campaigns = table["campaigns"].clip(lower=1).astype(float)
    return np.sqrt(shock_var / periods + campaign_var / campaigns)


def diagnose(
    cells: pd.DataFrame,
    spread: pd.DataFrame | None = None,
    *,
    dimension: str = "channel",
    mix: str = MIX,
    period: str = PERIOD,
    alpha: float = ALPHA,
    evidence: Evidence = Evidence(),
    share: float = DEFAULT_SHARE,
    n_boot: int = 1000,
    n_perm: int = N_PERM,
    seed: int = 0,
) -> ChannelFindings:
    """The channel diagnosis from semantic-layer cells.

    Args:
        cells: ``period, <dimension>[, <mix>], spend, net_return, campaigns``.
        spread: ``period, <dimension>, roi_mean, roi_std, campaigns`` (within-period spread
            of campaign ROI), or None.
        dimension: the entity column.
        mix: the mix column (left out when ``cells`` lacks it).
        period: the name of the period grain (for the findings).
        alpha: family-wise significance level.
        evidence: what a channel needs to be compared.
        share: the fraction of a donor's spend the advice moves.
        n_boot: bootstrap resamples of volatility intervals.
        n_perm: permutations of each level-shift test.
        seed: seed of every random draw (same data and seed, same findings).

    Returns:
        The findings.
    """
    found = ChannelFindings(
        dimension=dimension, period=period, alpha=alpha, evidence=evidence, status="no_data"
    )
    frame = cells.rename(columns={dimension: "entity"})
    frame = frame[frame["spend"].notna()].assign(entity=lambda f: f["entity"].astype(str))
    if frame.empty or frame["spend"].sum() <= 0:
        return found
    by_period = (
        frame.groupby(["entity", "period"], as_index=False)[["spend", "net_return", "campaigns"]]
        .sum()
        .sort_values(["entity", "period"], ignore_index=True)
    )
    active = by_period[by_period["spend"] > 0]
    found.periods = int(active["period"].nunique())
    found.first_period = json_value(active["period"].min())
    found.last_period = json_value(active["period"].max())
    total_spend = float(by_period["spend"].sum())
    found.portfolio_roi = float(by_period["net_return"].sum() / total_spend)

    table = by_period.groupby("entity", as_index=False).agg(
        spend=("spend", "sum"), net_return=("net_return", "sum"), campaigns=("campaigns", "sum")
    )
    table["periods"] = table["entity"].map(active.groupby("entity")["period"].nunique()).fillna(0)
    table["periods"] = table["periods"].astype(int)
    table["spend_share"] = table["spend"] / total_spend
    table["roi"] = (table["net_return"] / table["spend"]).where(table["spend"] > 0)
    table["campaigns"] = table["campaigns"].astype(int)
    table["evidence_missing"] = _evidence(table, evidence)
    table["compared"] = (table["evidence_missing"] == "") & (table["spend"] > 0)
    compared = sorted(table.loc[table["compared"], "entity"])
    if found.periods < evidence.min_periods:
        found.status = "too_few_periods"
    elif len(compared) < 2:
        found.status = "too_few_channels"
    else:
        found.status = "ok"
    if found.status != "ok":
        compared = []
        table["compared"] = False

    rng = np.random.default_rng(seed)
    shifts, devs, segments = _shifts(by_period, compared, alpha, rng, n_perm)
    fit, whole, current = _fit(by_period, compared, shifts)
    levels = {e: float(whole[e] @ fit.params) for e in compared} if fit else {}
    se = _thin_se(by_period, table, levels, spread)
    if fit is not None:
        own_se = fit.test(np.stack([whole[e] for e in compared]))["se"].to_numpy()
        own = dict(zip(compared, own_se, strict=True))
        se = se.where(~table["compared"], table["entity"].map(own))
    table["roi_se"] = se
    half = stats.t.ppf(1 - alpha / 2, fit.df if fit else max(found.periods - 1, 1)) * se
    table["roi_low"], table["roi_high"] = table["roi"] - half, table["roi"] + half
    table["roi_shrunk"], _ = shrink(
        table["roi"].to_numpy(float),
        table["roi_se"].to_numpy(float),
        found.portfolio_roi,
        basis=table["compared"].to_numpy(bool),
    )
    table = table.sort_values("roi_shrunk", ascending=False, kind="stable", ignore_index=True)
    table.insert(1, "rank", np.arange(1, len(table) + 1))
    _within_period(table, spread, dimension)
    if fit is None:
        found.table = _finish(table)
        return found

    _name_groups(found, fit, whole, [e for e in table["entity"] if e in compared])
    spend = table.set_index("entity")["spend"]
    vs_rest = _vs_rest(fit, spend, whole, alpha)
    table = table.merge(
        vs_rest.add_prefix("vs_rest_"), left_on="entity", right_index=True, how="left"
    )
    quads = quadrants(table[table["compared"]], fit, whole, alpha)
    found.quadrant_thresholds = dict(quads.attrs)
    table = table.merge(quads, on="entity", how="left")
    if mix in frame.columns:
        mixed = frame.rename(columns={mix: "mix"})
        found.mix = mix_adjust(mixed, compared, mix="mix", alpha=alpha, raw_pairs=found.pairs)
        found.mix.dimension = mix
        table["roi_mix_adjusted"] = table["entity"].map(found.mix.adjusted)
    found.shifts = shifts
    _volatility(found, table, devs, segments, compared, rng, n_boot)

    table["roi_now"] = table["entity"].map({e: float(current[e] @ fit.params) for e in compared})
    vs_now = _vs_rest(fit, spend, current, alpha)
    beats_now = above(found.pairs if shifts.empty else pairwise(fit, current, alpha))
    flipped: set[str] = set()
    if found.mix is not None:
        beats_now -= found.mix.reversed
        for flip in found.mix.flips:
            flipped |= {flip["raw_winner"], flip["adjusted_winner"]}
    found.advice = advise(
        fit,
        current,
        pd.DataFrame(
            {
                "entity": compared,
                "spend": [float(spend[e]) for e in compared],
                "roi_now": [float(current[e] @ fit.params) for e in compared],
                "vs_rest_now": vs_now.loc[compared, "estimate"].to_numpy(),
                "vs_rest_now_significant": vs_now.loc[compared, "significant"].to_numpy(bool),
            }
        ),
        beats_now,
        headroom=_headroom(by_period, compared),
        excluded_for_mix=flipped,
        share=share,
    )
    ranked = table[table["compared"]].drop(columns="rank")
    found.ranking = consistency_ranking(ranked) if not ranked.empty else pd.DataFrame()
    found.table = _finish(table)
    return found


def _name_groups(
    found: ChannelFindings, fit: LevelFit, whole: dict[str, np.ndarray], order: list[str]
) -> None:
    """Pairwise comparisons, and the leading and trailing groups they separate."""
    found.pairs = pairwise(fit, whole, found.alpha)
    beats = above(found.pairs)
    found.leading = separated_top(order, beats)
    trailing = separated_top(order[::-1], {(b, a) for a, b in beats})
    found.trailing = trailing[::-1] if trailing else None
    found.best = found.leading[0] if found.leading and len(found.leading) == 1 else None
    found.worst = found.trailing[0] if found.trailing and len(found.trailing) == 1 else None


def _volatility(
    found: ChannelFindings,
    table: pd.DataFrame,
    devs: dict[str, np.ndarray],
    segments: dict[str, int],
    compared: list[str],
    rng: np.random.Generator,
    n_boot: int,
) -> None:
    """Across-period CV around each level, its interval, and who is more volatile."""
    cvs = {e: cv_around_level(devs[e], segments[e]) for e in compared}
    intervals = {e: cv_interval(devs[e], segments[e], rng, n_boot) for e in compared}
    table["roi_cv_across"] = table["entity"].map(cvs)
    table["cv_low"] = table["entity"].map({e: v[0] for e, v in intervals.items()})
    table["cv_high"] = table["entity"].map({e: v[1] for e, v in intervals.items()})
    found.volatility_pairs = volatility_pairs(devs, cvs, found.alpha, rng)
    beats = set()
    for row in found.volatility_pairs[found.volatility_pairs["significant"]].itertuples():
        beats.add((row.a, row.b) if row.difference > 0 else (row.b, row.a))
    by_cv = sorted(compared, key=lambda e: -cvs[e] if np.isfinite(cvs[e]) else np.inf)
    found.more_volatile = separated_top(by_cv, beats)
    if found.more_volatile and len(found.more_volatile) == 1:
        found.most_volatile = found.more_volatile[0]


def _fit(
    by_period: pd.DataFrame, compared: list[str], shifts: pd.DataFrame
) -> tuple[LevelFit | None, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The level fit, with a level-shift term per shifted entity.

    Returns:
        ``(fit, whole, current)``: each entity's whole-period level (its spend-weighted ROI
        over the period) and its current level (since its last shift), as contrast vectors.
    """
    if not compared:
        return None, {}, {}
    frame = by_period[by_period["entity"].isin(compared)].reset_index(drop=True)
    extra = pd.DataFrame(index=frame.index)
    after_share = {}
    for row in shifts.itertuples(index=False):
        since = (frame["entity"] == row.entity) & (frame["period"] >= pd.Timestamp(row.date))
        extra[f"since:{row.entity}"] = since.astype(float)
        own = frame["entity"] == row.entity
        after_share[row.entity] = float(
            frame.loc[since, "spend"].sum() / frame.loc[own, "spend"].sum()
        )
    fit = fit_levels(frame, extra=extra if not extra.empty else None)
    if fit is None:
        return None, {}, {}
    whole, current = {}, {}
    for e in compared:
        if e in after_share:
            whole[e] = fit.vector({e: 1.0, f"since:{e}": after_share[e]})
            current[e] = fit.vector({e: 1.0, f"since:{e}": 1.0})
        else:
            whole[e] = current[e] = fit.vector({e: 1.0})
    return fit, whole, current


def _within_period(table: pd.DataFrame, spread: pd.DataFrame | None, dimension: str) -> None:
    """Adds the original's within-month views: mean campaign ROI and its CV, per channel."""
    if spread is None or spread.empty:
        table["roi_mean"] = np.nan
        table["roi_cv_within"] = np.nan
        return
    s = spread.rename(columns={dimension: "entity"}).assign(
        entity=lambda f: f["entity"].astype(str)
    )
    s = s.assign(cv=(s["roi_std"] / s["roi_mean"].abs()).where(s["roi_mean"] != 0))
    grouped = s.groupby("entity")
    table["roi_mean"] = table["entity"].map(grouped["roi_mean"].mean())
    table["roi_cv_within"] = table["entity"].map(grouped["cv"].mean())


def _vs_rest(
    fit: LevelFit, spend: pd.Series, levels: dict[str, np.ndarray], alpha: float
) -> pd.DataFrame:
    """Each entity against the spend-weighted rest of the compared portfolio (Holm).

    Returns:
        ``estimate, p_value, p_adjusted, significant``, indexed by entity.
    """
    compared = list(levels)
    vectors = []
    for e in compared:
        rest = [c for c in compared if c != e]
        total = float(spend[rest].sum())
        vectors.append(levels[e] - sum(levels[c] * float(spend[c]) / total for c in rest))
    tested = fit.test(np.stack(vectors))
    tested.index = pd.Index(compared, name="entity")
    tested["p_adjusted"] = holm(tested["p_value"].to_numpy())
    tested["significant"] = (tested["p_adjusted"] < alpha).to_numpy(bool)
    return tested[["estimate", "p_value", "p_adjusted", "significant"]]


def _shifts(
    by_period: pd.DataFrame,
    compared: list[str],
    alpha: float,
    rng: np.random.Generator,
    n_perm: int,
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, int]]:
    """Level shifts per entity (Holm over entities), and deviations around the levels.

    A shift is looked for in the entity's period ROI relative to the median ROI of the other
    compared entities in the same period: shocks and seasons that the portfolio shares are
    not shifts of one channel, and one channel's shift does not move the others' reference.
    """
    frame = by_period[by_period["entity"].isin(compared) & (by_period["spend"] > 0)]
    spend = frame.pivot(index="period", columns="entity", values="spend").sort_index()
    spend = spend.reindex(columns=compared)
    roi = (
        frame.pivot(index="period", columns="entity", values="net_return").reindex(
            index=spend.index, columns=compared
        )
        / spend
    )
    values = roi.to_numpy(float)
    relative, first = {}, {}
    for j, e in enumerate(compared):
        own = values[:, j]
        if len(compared) > 2:
            others = np.delete(values, j, axis=1)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                reference = np.nanmedian(others, axis=1)
            rel = own - reference
        else:
            rel = own
        keep = np.isfinite(rel)
        relative[e] = (keep, rel[keep])
        first[e] = shift_p_value(rel[keep], rng, n_perm)
    adjusted = dict(zip(compared, holm(np.array([first[e] for e in compared])), strict=True))
    rows, devs, segments = [], {}, {}
    for j, e in enumerate(compared):
        keep, rel = relative[e]
        starts: list[int] = []
        if np.isfinite(adjusted[e]) and adjusted[e] < alpha:
            starts = level_shifts(rel, alpha=alpha, rng=rng, first_p=adjusted[e], n_perm=n_perm)
        own_roi, own_spend = values[keep, j], spend.to_numpy(float)[keep, j]
        levels = segment_levels(own_roi, own_spend, starts)
        devs[e] = deviations(own_roi, levels)
        segments[e] = len(starts) + 1
        if starts:
            last = starts[-1]
            rows.append(
                {
                    "entity": e,
                    "date": json_value(spend.index[keep][last]),
                    "before": float(levels[last - 1]),
                    "after": float(levels[last]),
                    "shifts": len(starts),
                    "p_value": float(first[e]),
                    "p_adjusted": float(adjusted[e]),
                }
            )
    columns = ["entity", "date", "before", "after", "shifts", "p_value", "p_adjusted"]
    return pd.DataFrame(rows, columns=columns), devs, segments


def _headroom(by_period: pd.DataFrame, compared: list[str]) -> dict[str, float]:
    """Spend that would raise each of an entity's active periods to its busiest one."""
    out = {}
    for e in compared:
        spend = by_period.loc[(by_period["entity"] == e) & (by_period["spend"] > 0), "spend"]
        out[e] = float((spend.max() - spend).sum()) if len(spend) else 0.0
    return out


TABLE_COLUMNS = (
    "entity",
    "rank",
    "compared",
    "evidence_missing",
    "spend",
    "spend_share",
    "campaigns",
    "periods",
    "net_return",
    "roi",
    "roi_se",
    "roi_low",
    "roi_high",
    "roi_shrunk",
    "roi_mix_adjusted",
    "roi_now",
    "vs_rest_estimate",
    "vs_rest_p_value",
    "vs_rest_p_adjusted",
    "vs_rest_significant",
    "quadrant",
    "roi_side_p",
    "roi_side_clear",
    "roi_mean",
    "roi_cv_within",
    "roi_cv_across",
    "cv_low",
    "cv_high",
)


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    """The per-channel table with every column of :data:`TABLE_COLUMNS`, in that order."""
    for column in TABLE_COLUMNS:
        if column not in table:
            table[column] = np.nan
    for column in ("vs_rest_significant", "roi_side_clear"):
        table[column] = table[column].astype("boolean").fillna(False).astype(bool)
    return table[list(TABLE_COLUMNS)].reset_index(drop=True)

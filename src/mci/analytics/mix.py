"""Mix adjustment: channel ROI compared like for like over campaign type (or another dimension).

A channel that beats another inside every campaign type can still show the lower ROI when
it runs mostly in a low-return type. The adjusted comparison fits, on channel x type x
period cells, each channel's level plus an effect per type (weighted least squares, period-
clustered as in :mod:`mci.analytics._inference`); a channel's mix-adjusted ROI is its level
under the portfolio's own type mix. When the adjusted comparison of a pair is significant
and in the other direction from the raw one, the raw ranking of that pair is a mix effect,
and it is said.

Example:
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> rows = []
    >>> for period in range(1, 7):
    ...     for entity, kind, share, roi in (("A", "low", 0.8, 3.3), ("A", "high", 0.2, 7.7),
    ...             ("B", "low", 0.2, 3.0), ("B", "high", 0.8, 7.0)):
    ...         rows.append((entity, kind, period, share, share * (roi + rng.normal(0, 0.05))))
    >>> cells = pd.DataFrame(rows, columns=["entity", "mix", "period", "spend", "net_return"])
    >>> result = mix_adjust(cells, ["A", "B"], mix="mix", alpha=0.05)
    >>> [(f["raw_winner"], f["adjusted_winner"]) for f in result.flips]
    [('B', 'A')]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mci.analytics._inference import fit_levels, levels_of, pairwise


@dataclass
class MixResult:
    """What the mix adjustment found.

    Attributes:
        dimension: the mix dimension (``campaign_type``).
        adjusted: each entity's mix-adjusted ROI.
        pairs: pairwise comparisons of adjusted levels (Holm over the pairs).
        flips: pairs whose order flips, with each side's main mix value and its share.
        main: each entity's largest mix value and its share of the entity's spend.
        reversed: ``(raw higher, raw lower)`` pairs whose adjusted order is the other way,
            significant or not.
    """

    dimension: str
    adjusted: dict[str, float] = field(default_factory=dict)
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    flips: list[dict[str, Any]] = field(default_factory=list)
    main: dict[str, tuple[str, float]] = field(default_factory=dict)
    reversed: set[tuple[str, str]] = field(default_factory=set)


def mix_adjust(
    cells: pd.DataFrame,
    entities: list[str],
    *,
    mix: str,
    alpha: float,
    raw_pairs: pd.DataFrame | None = None,
) -> MixResult:
    """Mix-adjusted ROI per entity, its pairwise tests and the flips against the raw order.

    Args:
        cells: ``entity, <mix>, period, spend, net_return`` for the entities compared.
        entities: the entities compared.
        mix: the mix column.
        alpha: significance level.
        raw_pairs: the raw pairwise comparisons (:func:`mci.analytics._inference.pairwise`);
            computed from the cells when None.

    Returns:
        The result; no flips when the adjustment cannot be fitted.
    """
    frame = cells[cells["entity"].isin(entities) & (cells["spend"] > 0)].reset_index(drop=True)
    result = MixResult(dimension=mix)
    if frame.empty:
        return result
    kinds = sorted(frame[mix].astype(str).unique())
    by_mix = frame.groupby([frame["entity"], frame[mix].astype(str)])["spend"].sum()
    for entity in entities:
        own = by_mix.get(entity)
        if own is not None and own.sum() > 0:
            result.main[entity] = (str(own.idxmax()), float(own.max() / own.sum()))
    if len(kinds) < 2:
        return result
    dummies = pd.DataFrame(
        {f"{mix}:{k}": (frame[mix].astype(str) == k).astype(float) for k in kinds[1:]}
    )
    fit = fit_levels(frame, extra=dummies)
    if fit is None:
        return result
    weights = frame.groupby(frame[mix].astype(str))["spend"].sum()
    weights = weights / weights.sum()
    mix_effect = sum(weights[k] * fit.params[fit.index(f"{mix}:{k}")] for k in kinds[1:])
    result.adjusted = {e: fit.level(e) + float(mix_effect) for e in entities if e in fit.names}
    compared = [e for e in entities if e in result.adjusted]
    result.pairs = pairwise(fit, levels_of(fit, compared), alpha)
    if raw_pairs is None:
        summed = frame.groupby(["entity", "period"], as_index=False)[["spend", "net_return"]]
        raw_fit = fit_levels(summed.sum())
        raw_pairs = (
            None if raw_fit is None else pairwise(raw_fit, levels_of(raw_fit, compared), alpha)
        )
    if raw_pairs is None or raw_pairs.empty:
        return result
    raw = raw_pairs.set_index(["a", "b"])
    for row in result.pairs.itertuples(index=False):
        if (row.a, row.b) not in raw.index:
            continue
        base = raw.loc[(row.a, row.b)]
        if np.sign(base["difference"]) == np.sign(row.difference):
            continue
        raw_winner, adjusted_winner = (row.a, row.b) if base["difference"] > 0 else (row.b, row.a)
        result.reversed.add((raw_winner, adjusted_winner))
        if not row.significant:
            continue
        result.flips.append(
            {
                "raw_winner": raw_winner,
                "adjusted_winner": adjusted_winner,
                "raw_difference": float(abs(base["difference"])),
                "adjusted_difference": float(abs(row.difference)),
                "raw_significant": bool(base["significant"]),
                "adjusted_significant": bool(row.significant),
                "raw_winner_main": result.main.get(raw_winner),
                "adjusted_winner_main": result.main.get(adjusted_winner),
            }
        )
    return result

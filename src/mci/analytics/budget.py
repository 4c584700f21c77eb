"""Budget reallocation: from channels that earn less to those that earn more, when it is real.

A shift is suggested from every entity whose ROI is significantly below the rest of the
portfolio to every entity significantly above it (Holm-corrected, from :func:`quadrants`).
Its expected effect assumes each entity's marginal ROI equals its average ROI over the
period, and its uncertainty comes from resampling days. When no entity differs
significantly, the advice is to shift nothing, and the reason says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mci.analytics.quadrant import quadrants

DEFAULT_SHARE = 0.10
ASSUMPTION = (
    "Expected changes assume each channel's marginal ROI equals its average ROI over the "
    "period; shifts are capped at a tenth of a donor's spend so that assumption stays close."
)


@dataclass
class BudgetAdvice:
    """The reallocation advice.

    Attributes:
        recommend: whether any shift is suggested.
        reason: why (or why not), in plain words.
        shifts: one row per donor-recipient pair: ``from``, ``to``, ``amount``,
            ``roi_from``, ``roi_to``, ``expected_gain``, ``gain_low``, ``gain_high``.
        expected_gain: the total expected change in net return.
        gain_low: the low end of its 95 % interval.
        gain_high: the high end of its 95 % interval.
        assumption: the assumption behind the expected changes.
    """

    recommend: bool
    reason: str
    shifts: pd.DataFrame = field(default_factory=pd.DataFrame)
    expected_gain: float = 0.0
    gain_low: float = 0.0
    gain_high: float = 0.0
    assumption: str = ASSUMPTION

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "recommend": self.recommend,
            "reason": self.reason,
            "shifts": self.shifts.to_dict(orient="records"),
            "expected_gain": self.expected_gain,
            "gain_interval": [self.gain_low, self.gain_high],
            "assumption": self.assumption,
        }


def _daily_roi_draws(
    days: pd.DataFrame, entities: list[str], n_boot: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Bootstrap draws of each entity's spend-weighted ROI, resampling its days."""
    draws: dict[str, np.ndarray] = {}
    for entity in entities:
        own = days[days["entity"] == entity]
        ret, spend = own["net_return"].to_numpy(float), own["spend"].to_numpy(float)
        idx = rng.integers(0, len(own), size=(n_boot, len(own)))
        draws[entity] = ret[idx].sum(axis=1) / spend[idx].sum(axis=1)
    return draws


def reallocation(
    by_entity: pd.DataFrame,
    daily: pd.DataFrame,
    *,
    dimension: str = "channel",
    share: float = DEFAULT_SHARE,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> BudgetAdvice:
    """Suggested budget shifts with their expected change in net return and its interval.

    Args:
        by_entity: ``query(["spend", "net_return", "roi"], by=[dimension])``.
        daily: ``query(["spend", "net_return", "roi"], by=[dimension], grain="day")``.
        dimension: the entity column.
        share: the fraction of each donor's spend to move.
        n_boot: bootstrap resamples for the interval.
        alpha: significance level (after Holm's correction).
        seed: seed of every random draw.

    Returns:
        The advice; ``recommend`` is False with a reason when the differences are noise.

    Example:
        >>> from mci.analytics.stability import _toy_frames
        >>> _, daily = _toy_frames()
        >>> totals = daily.groupby("channel", as_index=False)[["spend", "net_return"]].sum()
        >>> totals["roi"] = totals["net_return"] / totals["spend"]
        >>> advice = reallocation(totals, daily, n_boot=200)
        >>> advice.recommend, advice.shifts[["from", "to"]].values.tolist()
        (True, [['B', 'A']])
    """
    if not 0 < share <= 0.5:
        raise ValueError(f"share must be in (0, 0.5], got {share}")
    table = quadrants(
        by_entity,
        daily,
        dimension=dimension,
        threshold="portfolio",
        n_boot=n_boot,
        alpha=alpha,
        seed=seed,
    )
    portfolio = table.attrs["roi_threshold"]
    donors = table[table["significant"] & (table["roi"] < portfolio)]
    recipients = table[table["significant"] & (table["roi"] > portfolio)]
    if donors.empty or recipients.empty:
        lowest = float(table["p_adjusted"].min()) if len(table) else float("nan")
        side = "below" if recipients.empty and not donors.empty else "above"
        reason = (
            "No shift recommended: no channel's ROI differs significantly from the rest of "
            f"the portfolio (smallest Holm-adjusted p = {lowest:.3g}); ranking them would "
            "order noise."
            if donors.empty and recipients.empty
            else "No shift recommended: some channels differ significantly, but none on the "
            f"other side of the portfolio ROI ({portfolio:.3f}) to move budget "
            f"{'to' if side == 'below' else 'from'}."
        )
        return BudgetAdvice(False, reason)

    days = daily[(daily["spend"] > 0)].assign(entity=lambda f: f[dimension].astype(str))
    rng = np.random.default_rng(seed)
    entities = [*donors["entity"], *recipients["entity"]]
    draws = _daily_roi_draws(days, entities, n_boot, rng)
    recipient_spend = recipients["spend"].sum()
    rows, total_draws = [], np.zeros(n_boot)
    for _, donor in donors.iterrows():
        moved = share * donor["spend"]
        for _, recipient in recipients.iterrows():
            amount = moved * recipient["spend"] / recipient_spend
            gain = amount * (recipient["roi"] - donor["roi"])
            gain_draws = amount * (draws[recipient["entity"]] - draws[donor["entity"]])
            total_draws += gain_draws
            low, high = np.quantile(gain_draws, [0.025, 0.975])
            rows.append(
                {
                    "from": donor["entity"],
                    "to": recipient["entity"],
                    "amount": amount,
                    "roi_from": donor["roi"],
                    "roi_to": recipient["roi"],
                    "expected_gain": gain,
                    "gain_low": float(low),
                    "gain_high": float(high),
                }
            )
    shifts = pd.DataFrame(rows)
    low, high = np.quantile(total_draws, [0.025, 0.975])
    reason = (
        f"Move {share:.0%} of the spend of {', '.join(donors['entity'])} (ROI significantly "
        f"below the portfolio's {portfolio:.3f}) to {', '.join(recipients['entity'])} "
        "(significantly above), in proportion to their current spend."
    )
    return BudgetAdvice(
        True, reason, shifts, float(shifts["expected_gain"].sum()), float(low), float(high)
    )

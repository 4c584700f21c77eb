"""Budget reallocation: from channels that earn less to those that earn more, when it is real.

Budget moves from a channel only when its current ROI (the level since its last shift) is
significantly below the spend-weighted rest of the portfolio, to a channel significantly
above it, and only between pairs that differ significantly from each other (Holm over the
pairs): so on data where no channel differs, advice is given no more often than a best or
worst channel is named. Channels whose ranking flips once campaign-type mix is accounted for
are left out: their raw ROI says more about their mix than about the channel.

The giving side moves a tenth of a donor's spend; the receiving side takes at most a quarter
of its own spend, and never more than it takes to raise each of its periods to the most it
has spent in one: advice stays inside the range each channel has run at, where its average
ROI is the best guide to its marginal ROI. The expected gain's interval comes from the same
period-clustered covariance as the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mci.analytics._inference import LevelFit

DEFAULT_SHARE = 0.10
RECEIVE_CAP = 0.25


@dataclass
class BudgetAdvice:
    """The reallocation advice.

    Attributes:
        recommend: whether any shift is suggested.
        reason: why (or why not), as a code: ``shift``, ``too_few_channels``,
            ``no_difference``, ``one_sided``, ``no_separated_pair``, ``mix`` or
            ``no_headroom``.
        shifts: one row per donor-recipient pair: ``from``, ``to``, ``amount``,
            ``roi_from``, ``roi_to`` (current levels), ``expected_gain``, ``gain_low``,
            ``gain_high``.
        expected_gain: the total expected change in net return.
        gain_low: the low end of its 95 % interval.
        gain_high: the high end of its 95 % interval.
        donors: channels significantly below the rest of the portfolio.
        recipients: channels significantly above it.
        capped: recipients whose share was limited by the most they have spent in a period.
        excluded_for_mix: channels left out because their ranking flips under mix adjustment.
        share: the fraction of each donor's spend moved.
        receive_cap: the most a recipient takes, as a fraction of its own spend.
    """

    recommend: bool
    reason: str
    shifts: pd.DataFrame = field(default_factory=pd.DataFrame)
    expected_gain: float = 0.0
    gain_low: float = 0.0
    gain_high: float = 0.0
    donors: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    capped: list[str] = field(default_factory=list)
    excluded_for_mix: list[str] = field(default_factory=list)
    share: float = DEFAULT_SHARE
    receive_cap: float = RECEIVE_CAP

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "recommend": self.recommend,
            "reason": self.reason,
            "shifts": [
                {k: (float(v) if isinstance(v, float | np.floating) else v) for k, v in r.items()}
                for r in self.shifts.to_dict(orient="records")
            ],
            "expected_gain": float(self.expected_gain),
            "gain_interval": [float(self.gain_low), float(self.gain_high)],
            "donors": list(self.donors),
            "recipients": list(self.recipients),
            "capped": list(self.capped),
            "excluded_for_mix": list(self.excluded_for_mix),
            "share": self.share,
            "receive_cap": self.receive_cap,
        }


def advise(
    fit: LevelFit,
    current: dict[str, np.ndarray],
    levels: pd.DataFrame,
    beats: set[tuple[str, str]],
    *,
    headroom: dict[str, float],
    excluded_for_mix: set[str] = frozenset(),
    share: float = DEFAULT_SHARE,
    receive_cap: float = RECEIVE_CAP,
    level: float = 0.95,
) -> BudgetAdvice:
    """Suggested shifts with their expected change in net return and its interval.

    Args:
        fit: the period-clustered fit of current levels.
        current: each compared entity's contrast vector of its current level in ``fit``.
        levels: one row per compared entity: ``entity, spend, roi_now, vs_rest_now,
            vs_rest_now_significant``.
        beats: ``(higher, lower)`` pairs whose current levels differ significantly.
        headroom: per entity, the spend that raises each of its periods to its busiest.
        excluded_for_mix: entities whose ranking flips under mix adjustment.
        share: the fraction of a donor's spend to move.
        receive_cap: the most a recipient takes, as a fraction of its spend.
        level: the gain interval's confidence level.

    Returns:
        The advice; ``recommend`` is False with a reason code when nothing should move.
    """
    if not 0 < share <= 0.5:
        raise ValueError(f"share must be in (0, 0.5], got {share}")
    common = {"share": share, "receive_cap": receive_cap}
    if len(levels) < 2:
        return BudgetAdvice(False, "too_few_channels", **common)
    significant = levels[levels["vs_rest_now_significant"]]
    below = significant[significant["vs_rest_now"] < 0]
    above = significant[significant["vs_rest_now"] > 0]
    mix_out = sorted(excluded_for_mix & set(significant["entity"]))
    donors = below[~below["entity"].isin(excluded_for_mix)]
    recipients = above[~above["entity"].isin(excluded_for_mix)]
    names = {"donors": list(below["entity"]), "recipients": list(above["entity"])}
    if significant.empty:
        return BudgetAdvice(False, "no_difference", **names, **common)
    if below.empty or above.empty:
        return BudgetAdvice(False, "one_sided", **names, **common)
    if donors.empty or recipients.empty:
        return BudgetAdvice(False, "mix", **names, excluded_for_mix=mix_out, **common)

    spend = levels.set_index("entity")["spend"]
    roi = levels.set_index("entity")["roi_now"]
    room = {
        r: min(receive_cap * spend[r], max(headroom.get(r, 0.0), 0.0)) for r in recipients["entity"]
    }
    wanted: dict[tuple[str, str], float] = {}
    for d in donors["entity"]:
        targets = [r for r in recipients["entity"] if (r, d) in beats]
        total = sum(spend[r] for r in targets)
        for r in targets:
            wanted[(d, r)] = share * spend[d] * spend[r] / total
    if not wanted:
        return BudgetAdvice(False, "no_separated_pair", **names, excluded_for_mix=mix_out, **common)
    asked = {r: sum(a for (_, rr), a in wanted.items() if rr == r) for r in room}
    scale = {r: min(1.0, room[r] / asked[r]) if asked[r] > 0 else 1.0 for r in room}
    capped = sorted(r for r in room if asked[r] > 0 and scale[r] < 1.0)
    amounts = {pair: a * scale[pair[1]] for pair, a in wanted.items()}
    amounts = {pair: a for pair, a in amounts.items() if a > 0}
    if not amounts:
        return BudgetAdvice(
            False, "no_headroom", **names, capped=capped, excluded_for_mix=mix_out, **common
        )

    rows, total_vector = [], np.zeros(len(fit.names))
    for (d, r), amount in amounts.items():
        vector = amount * (current[r] - current[d])
        total_vector += vector
        tested = fit.test(vector[None, :]).iloc[0]
        half = float(fit.margin(tested["se"], level))
        rows.append(
            {
                "from": d,
                "to": r,
                "amount": float(amount),
                "roi_from": float(roi[d]),
                "roi_to": float(roi[r]),
                "expected_gain": float(tested["estimate"]),
                "gain_low": float(tested["estimate"] - half),
                "gain_high": float(tested["estimate"] + half),
            }
        )
    total = fit.test(total_vector[None, :]).iloc[0]
    half = float(fit.margin(total["se"], level))
    return BudgetAdvice(
        True,
        "shift",
        pd.DataFrame(rows),
        float(total["estimate"]),
        float(total["estimate"] - half),
        float(total["estimate"] + half),
        capped=capped,
        excluded_for_mix=mix_out,
        **names,
        **common,
    )

"""Efficiency vs scale quadrants: spend against spend-weighted ROI, per channel.

Thresholds are the medians over the channels compared (the original's rule; a value equal
to the median counts as High). Spend is known exactly, so its side is certain; ROI is an
estimate, so each channel's ROI side says whether it can be told from the threshold at all
(a t-test of the channel's level against the threshold, Holm-adjusted over channels, with
the period-clustered covariance of :mod:`mci.analytics._inference`).

Example:
    >>> label(10.0, 4.0, 10.0, 5.0)
    'High Scale • Low ROI'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mci.analytics._inference import LevelFit, holm

LABELS: tuple[str, ...] = (
    "High Scale • High ROI",
    "High Scale • Low ROI",
    "Low Scale • High ROI",
    "Low Scale • Low ROI",
)


def label(spend: float, roi: float, spend_threshold: float, roi_threshold: float) -> str:
    """The quadrant of one entity (a value equal to its threshold counts as High).

    Example:
        >>> label(10.0, 5.0, 10.0, 5.0)
        'High Scale • High ROI'
    """
    scale = "High" if spend >= spend_threshold else "Low"
    level = "High" if roi >= roi_threshold else "Low"
    return f"{scale} Scale • {level} ROI"


def quadrants(
    table: pd.DataFrame, fit: LevelFit, levels: dict[str, np.ndarray], alpha: float
) -> pd.DataFrame:
    """Each entity's quadrant and whether its ROI side is clear of the threshold.

    Args:
        table: ``entity, spend, roi`` of the entities compared (their levels are in ``fit``).
        fit: the period-clustered level fit.
        levels: each entity's level as a contrast vector of ``fit``.
        alpha: significance level (Holm over the entities).

    Returns:
        ``entity, quadrant, roi_side_p, roi_side_clear``; the thresholds are in
        ``attrs["spend_threshold"]`` and ``attrs["roi_threshold"]``.
    """
    spend_threshold = float(table["spend"].median())
    roi_threshold = float(table["roi"].median())
    vectors = np.stack([levels[e] for e in table["entity"]])
    tested = fit.test(vectors, roi_threshold)
    frame = pd.DataFrame(
        {
            "entity": table["entity"].to_numpy(),
            "quadrant": [
                label(s, r, spend_threshold, roi_threshold)
                for s, r in zip(table["spend"], table["roi"], strict=True)
            ],
            "roi_side_p": holm(tested["p_value"].to_numpy()),
        }
    )
    frame["roi_side_clear"] = (frame["roi_side_p"] < alpha).to_numpy(bool)
    frame.attrs.update(spend_threshold=spend_threshold, roi_threshold=roi_threshold)
    return frame

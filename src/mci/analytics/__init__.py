"""Diagnostics over semantic-layer results that tell signal from noise.

The channel diagnostics are one function with one result: :func:`channel_findings` (or
:func:`diagnose` over frames already queried) returns a :class:`ChannelFindings` that the
report and the dashboard both render.

Example:
    >>> from mci.analytics import LABELS
    >>> LABELS[0]
    'High Scale • High ROI'
"""

from mci.analytics.budget import BudgetAdvice
from mci.analytics.channels import (
    ChannelFindings,
    Evidence,
    channel_findings,
    diagnose,
    load_cells,
)
from mci.analytics.quadrant import LABELS, label
from mci.analytics.stability import consistency_ranking, smooth

__all__ = [
    "LABELS",
    "BudgetAdvice",
    "ChannelFindings",
    "Evidence",
    "channel_findings",
    "consistency_ranking",
    "diagnose",
    "label",
    "load_cells",
    "smooth",
]

"""Diagnostics over semantic-layer results that tell signal from noise.

Example:
    >>> from mci.analytics import LABELS
    >>> LABELS[0]
    'High Scale • High ROI'
"""

from mci.analytics._stats import bootstrap_ratio_ci, holm, permutation_test, welch_anova
from mci.analytics.budget import BudgetAdvice, reallocation
from mci.analytics.quadrant import LABELS, label, load_quadrants, quadrants
from mci.analytics.stability import (
    StabilityReport,
    consistency_ranking,
    load_stability,
    roi_stability,
    smooth,
)

__all__ = [
    "LABELS",
    "BudgetAdvice",
    "StabilityReport",
    "bootstrap_ratio_ci",
    "consistency_ranking",
    "holm",
    "label",
    "load_quadrants",
    "load_stability",
    "permutation_test",
    "quadrants",
    "reallocation",
    "roi_stability",
    "smooth",
    "welch_anova",
]

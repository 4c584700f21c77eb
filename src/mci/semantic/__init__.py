"""The semantic layer: every KPI defined once, the contract views, a safe query API.

Example:
    >>> from mci.semantic import METRICS
    >>> METRICS["ctr"].definition
    'clicks / impressions'
"""

from mci.semantic.api import dimension_values, query
from mci.semantic.registry import DIMENSIONS, GRAINS, METRICS, UnknownNameError, metrics_markdown
from mci.semantic.views import VIEW_COLUMNS, VIEWS, apply_views

__all__ = [
    "DIMENSIONS",
    "GRAINS",
    "METRICS",
    "VIEWS",
    "VIEW_COLUMNS",
    "UnknownNameError",
    "apply_views",
    "dimension_values",
    "metrics_markdown",
    "query",
]

"""Display formatting for metric values: currency, percentages, compact large numbers.

Example:
    >>> compact(1_234_567)
    '1.2M'
    >>> fmt("spend", 1_234_567.0)
    '$1.2M'
    >>> fmt("ctr", 0.01234)
    '1.23%'
    >>> fmt("roi", None)
    'n/a'
"""

from __future__ import annotations

import math
import re
from typing import Any

from mci.semantic.registry import METRICS

_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def is_missing(value: Any) -> bool:
    """True for None, NaN and values that are not numbers."""
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def compact(value: float) -> str:
    """A number in compact form: ``950``, ``12.3K``, ``1.2M``, ``3.4B``.

    Example:
        >>> compact(950), compact(12_345), compact(-2_500_000)
        ('950', '12.3K', '-2.5M')
    """
    size = abs(value)
    for threshold, suffix in _SUFFIXES:
        if size >= threshold:
            return f"{value / threshold:.1f}{suffix}"
    return f"{value:,.0f}" if float(value).is_integer() or size >= 100 else f"{value:,.2f}"


def fmt(name: str, value: Any, *, full: bool = False) -> str:
    """A metric value formatted by its registry unit.

    Args:
        name: a registry metric name (unknown names format as plain numbers).
        value: the value; ``None`` or NaN gives ``n/a``.
        full: write large numbers in full (``$1,234,567``) instead of compact.

    Returns:
        The text to show.
    """
    if is_missing(value):
        return "n/a"
    value = float(value)
    unit = METRICS[name].unit if name in METRICS else "number"
    if unit == "percent":
        return f"{value:.2%}"
    if unit == "currency":
        if abs(value) < 1e4:
            return f"${value:,.2f}"
        return f"${value:,.0f}" if full else f"${compact(value)}"
    if unit == "count":
        return f"{value:,.0f}" if full or abs(value) < 1e4 else compact(value)
    return f"{value:,.3f}"


def fmt_delta(value: Any) -> str | None:
    """A relative change as signed percent text for ``st.metric`` (``None`` when unknown).

    Example:
        >>> fmt_delta(0.0345), fmt_delta(-0.5), fmt_delta(float("nan"))
        ('+3.5%', '-50.0%', None)
    """
    if is_missing(value):
        return None
    return f"{float(value):+.1%}"


def delta_color(name: str) -> str:
    """The ``st.metric`` delta colour: inverse when a fall is good, off when neutral.

    Example:
        >>> delta_color("cpc"), delta_color("roi"), delta_color("spend")
        ('inverse', 'normal', 'off')
    """
    better = METRICS[name].better if name in METRICS else "neutral"
    return {"down": "inverse", "up": "normal"}.get(better, "off")


# Streamlit's column presets keep the values numbers, so tables sort by value, not by text.
_COLUMN_FORMATS = {"currency": "dollar", "percent": "percent", "count": "localized"}


def column_format(name: str) -> str:
    """The ``st.column_config.NumberColumn`` format for a metric column.

    Example:
        >>> column_format("spend"), column_format("ctr"), column_format("roi")
        ('dollar', 'percent', '%.3f')
    """
    unit = METRICS[name].unit if name in METRICS else "number"
    return _COLUMN_FORMATS.get(unit, "%.3f")


def number_columns(names: Any) -> dict[str, Any]:
    """``column_config`` for the metric columns among ``names`` (others are left alone)."""
    import streamlit as st

    return {
        name: st.column_config.NumberColumn(format=column_format(name))
        for name in names
        if name in METRICS
    }


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$])")


def plain(text: str) -> str:
    r"""Text, typically built from data values, escaped so Markdown shows it literally.

    Streamlit renders ``st.info``, ``st.caption`` and friends as Markdown (never raw HTML
    unless asked); escaping keeps a value such as a channel name from turning into a link,
    emphasis or a coloured directive.

    Example:
        >>> print(plain("10% of *Email* to [x](javascript:alert(1))"))
        10% of \*Email\* to \[x\]\(javascript\:alert\(1\)\)
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))

"""Numbers as readers of each language write them: one place for the report's formats.

English groups thousands with commas and writes a decimal point; Indonesian groups with
points and writes a decimal comma.

Example:
    >>> money(1234567.891, "en"), money(1234567.891, "id")
    ('$1,234,568', '$1.234.568')
    >>> number(4.5678, lang="id"), percent(0.0312, lang="id")
    ('4,568', '3,1%')
    >>> p_value(0.00001), p_value(0.0314, "id")
    ('< 0.0001', '= 0,0314')
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "n/a"


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def _localise(text: str, lang: str) -> str:
    if lang == "id":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def number(value: Any, digits: int = 3, lang: str = "en") -> str:
    """A plain number with ``digits`` decimals."""
    if _missing(value):
        return MISSING
    return _localise(f"{float(value):,.{digits}f}", lang)


def count(value: Any, lang: str = "en") -> str:
    """A whole number with thousands grouped."""
    if _missing(value):
        return MISSING
    return _localise(f"{float(value):,.0f}", lang)


def money(value: Any, lang: str = "en") -> str:
    """Dollars: cents below $10,000, whole dollars above."""
    if _missing(value):
        return MISSING
    value = float(value)
    sign = "-" if value < 0 else ""
    text = f"{abs(value):,.2f}" if abs(value) < 1e4 else f"{abs(value):,.0f}"
    return f"{sign}${_localise(text, lang)}"


def percent(value: Any, digits: int = 1, lang: str = "en") -> str:
    """A fraction as a percentage."""
    if _missing(value):
        return MISSING
    return _localise(f"{float(value) * 100:.{digits}f}", lang) + "%"


def p_value(value: Any, lang: str = "en") -> str:
    """``< 0.0001`` or ``= 0.0314`` (three significant digits): templates write ``p {p}``."""
    if _missing(value):
        return MISSING
    if float(value) < 1e-4:
        return "< " + _localise("0.0001", lang)
    return "= " + _localise(f"{float(value):.3g}", lang)


def interval(low: Any, high: Any, digits: int = 3, lang: str = "en") -> str:
    """Two numbers joined by an en dash."""
    return f"{number(low, digits, lang)} – {number(high, digits, lang)}"

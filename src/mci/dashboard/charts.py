"""Vega-Lite specs for the dashboard's charts, built as plain dicts.

Streamlit's ``st.line_chart`` goes through Altair and costs some 50 ms a chart; a spec dict
costs next to nothing, and the data travels as values, never as text in the spec.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"period": pd.to_datetime(["2021-01-04"]), "roi": [4.5]})
    >>> spec = line_spec(frame, "roi", "ROI")
    >>> spec["data"]["values"], spec["encoding"]["y"]["axis"]["format"]
    ([{'period': '2021-01-04', 'roi': 4.5}], '.2f')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mci.semantic.registry import METRICS

if TYPE_CHECKING:
    import pandas as pd

# d3-format strings per registry unit.
_AXIS_FORMATS = {"currency": "$,.3~s", "percent": ".2%", "count": ",.3~s"}
_TOOLTIP_FORMATS = {"currency": "$,.2f", "percent": ".2%", "count": ",.0f"}


def _number_format(name: str, formats: dict[str, str]) -> str:
    unit = METRICS[name].unit if name in METRICS else "number"
    return formats.get(unit, ".2f")


def line_spec(frame: pd.DataFrame, field: str, title: str, *, height: int = 260) -> dict[str, Any]:
    """A line of ``field`` over ``period``.

    Args:
        frame: a ``period`` column (dates) and ``field``.
        field: the metric column.
        title: the y axis title.
        height: pixels.

    Returns:
        The Vega-Lite spec.
    """
    values = [
        {"period": period.strftime("%Y-%m-%d"), field: None if value != value else float(value)}
        for period, value in zip(frame["period"], frame[field], strict=True)
    ]
    return {
        "height": height,
        "mark": {"type": "line", "tooltip": True},
        "encoding": {
            "x": {"field": "period", "type": "temporal", "title": None},
            "y": {
                "field": field,
                "type": "quantitative",
                "title": title,
                "axis": {"format": _number_format(field, _AXIS_FORMATS)},
            },
            "tooltip": [
                {"field": "period", "type": "temporal", "title": "period"},
                {
                    "field": field,
                    "type": "quantitative",
                    "title": title,
                    "format": _number_format(field, _TOOLTIP_FORMATS),
                },
            ],
        },
        "data": {"values": values},
    }


def donut_spec(frame: pd.DataFrame, dimension: str = "channel") -> dict[str, Any]:
    """Spend share by ``dimension`` as a donut (``frame``: dimension, spend, share)."""
    return {
        "mark": {"type": "arc", "innerRadius": 70},
        "height": 320,
        "encoding": {
            "theta": {"field": "spend", "type": "quantitative", "stack": True},
            "color": {"field": dimension, "type": "nominal", "title": dimension.title()},
            "tooltip": [
                {"field": dimension, "type": "nominal"},
                {"field": "spend", "type": "quantitative", "format": "$,.0f"},
                {"field": "share", "type": "quantitative", "format": ".1%"},
            ],
        },
        "data": {"values": frame.to_dict("records")},
    }

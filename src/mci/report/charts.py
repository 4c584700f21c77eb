"""Charts for the executive report, as Vega-Lite specs rendered to SVG.

Specs are plain dicts (no altair). Data is always embedded inline as
``{"values": records}`` and entity names only ever travel as data values, so
Vega escapes them when it writes text into the SVG. Rendering uses
``vl-convert-python``, which bundles its own JavaScript engine and works
offline; external data requests are refused at render time.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["quadrant_chart", "to_data_uri", "to_svg", "trend_chart"]

_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"

_QUADRANT_COLUMNS = ("entity", "spend", "roi", "roi_low", "roi_high", "label", "significant")
_TREND_COLUMNS = ("period", "channel", "roi", "spend")

_QUADRANT_DEFAULT_LABELS = {
    "spend": "Spend",
    "roi": "ROI",
    "label": "Quadrant",
    "spend_threshold": "Spend threshold",
    "roi_threshold": "ROI threshold",
}
_TREND_DEFAULT_LABELS = {
    "period": "Month",
    "roi": "ROI",
    "spend": "Spend",
    "channel": "Channel",
}

_WIDTH = 560
_HEIGHT = 360
_PANEL_HEIGHT = 180


def _plain(value: Any) -> Any:
    """Convert one cell to a JSON-safe plain Python value.

    Args:
        value: A cell from a DataFrame (numpy scalar, timestamp, string, ...).

    Returns:
        ``None`` for missing or non-finite numbers, an ISO string for
        timestamps and dates, and a builtin ``bool``/``int``/``float``/``str``
        otherwise.
    """
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, pd.Timestamp | dt.datetime | np.datetime64):
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            return None
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        # No offset: Vega parses it as local time, matching its local time units.
        return stamp.isoformat()
    if isinstance(value, dt.date):
        # A bare "YYYY-MM-DD" is parsed as UTC by JavaScript; keep it local.
        return dt.datetime(value.year, value.month, value.day).isoformat()
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Turn the given columns of a frame into JSON-safe inline records.

    Args:
        frame: Source table.
        columns: Columns to keep, in order.

    Returns:
        One dict per row with plain Python values.
    """
    subset = frame.loc[:, list(columns)]
    return [
        {column: _plain(value) for column, value in zip(columns, row, strict=True)}
        for row in subset.itertuples(index=False, name=None)
    ]


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    """Raise if the frame lacks any required column.

    Args:
        frame: Table to check.
        columns: Required column names.
        what: Name of the argument, for the error message.

    Raises:
        ValueError: If a required column is missing.
    """
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{what} is missing columns: {', '.join(missing)}")


def _label(labels: Mapping[str, str], defaults: Mapping[str, str], key: str) -> str:
    """Pick a caller-supplied (possibly translated) label, else the default."""
    return str(labels.get(key, defaults[key]))


def _format_threshold(value: float) -> str:
    """Format a threshold for display: ``50000.0`` -> ``"50,000"``, ``4.59487`` -> ``"4.595"``."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def quadrant_chart(
    table: pd.DataFrame,
    spend_threshold: float,
    roi_threshold: float,
    title: str,
    labels: dict[str, str],
) -> dict[str, Any]:
    """Build the spend-vs-ROI quadrant scatter as a Vega-Lite spec.

    Points are coloured by quadrant label, filled when ``significant`` and
    hollow otherwise, with vertical error bars from ``roi_low`` to
    ``roi_high``, entity names as text labels and dashed rules at the two
    thresholds.

    Args:
        table: Columns ``entity``, ``spend``, ``roi``, ``roi_low``,
            ``roi_high``, ``label`` and ``significant`` (bool). May be empty;
            missing values become nulls and are left out of the marks.
        spend_threshold: Spend at which the vertical dashed rule is drawn.
        roi_threshold: ROI at which the horizontal dashed rule is drawn.
        title: Chart title.
        labels: Display texts so the caller can translate them. Keys
            ``spend`` and ``roi`` give the axis titles; optional ``label``
            (legend title), ``spend_threshold`` and ``roi_threshold``
            (threshold captions) fall back to English.

    Returns:
        A Vega-Lite spec as a plain, JSON-serialisable dict.

    Raises:
        ValueError: If ``table`` lacks a required column.
    """
    _require_columns(table, _QUADRANT_COLUMNS, "table")
    records = _records(table, _QUADRANT_COLUMNS)
    for record in records:
        record["significant"] = bool(record["significant"])

    spend_title = _label(labels, _QUADRANT_DEFAULT_LABELS, "spend")
    roi_title = _label(labels, _QUADRANT_DEFAULT_LABELS, "roi")
    legend_title = _label(labels, _QUADRANT_DEFAULT_LABELS, "label")
    spend_cut = float(spend_threshold)
    roi_cut = float(roi_threshold)
    spend_caption = (
        f"{_label(labels, _QUADRANT_DEFAULT_LABELS, 'spend_threshold')}: "
        f"{_format_threshold(spend_cut)}"
    )
    roi_caption = (
        f"{_label(labels, _QUADRANT_DEFAULT_LABELS, 'roi_threshold')}: {_format_threshold(roi_cut)}"
    )

    x = {"field": "spend", "type": "quantitative", "title": spend_title}
    y = {"field": "roi", "type": "quantitative", "title": roi_title}
    color = {"field": "label", "type": "nominal", "title": legend_title}
    tooltip = [
        {"field": "entity", "type": "nominal"},
        {"field": "spend", "type": "quantitative", "title": spend_title, "format": ",.0f"},
        {"field": "roi", "type": "quantitative", "title": roi_title, "format": ".2f"},
    ]
    threshold_values = {"values": [{"spend": spend_cut, "roi": roi_cut}]}
    dashed = {"type": "rule", "strokeDash": [6, 4], "color": "#888888"}
    caption = {"type": "text", "color": "#666666", "fontSize": 10}

    return {
        "$schema": _SCHEMA,
        "title": title,
        "width": _WIDTH,
        "height": _HEIGHT,
        "data": {"values": records},
        "layer": [
            {
                "mark": {"type": "rule", "strokeWidth": 1.5, "opacity": 0.6},
                "encoding": {
                    "x": x,
                    "y": {"field": "roi_low", "type": "quantitative", "title": roi_title},
                    "y2": {"field": "roi_high"},
                    "color": color,
                },
            },
            {
                "transform": [{"filter": "datum.significant"}],
                "mark": {"type": "point", "filled": True, "size": 80, "opacity": 1},
                "encoding": {"x": x, "y": y, "color": color, "tooltip": tooltip},
            },
            {
                "transform": [{"filter": "!datum.significant"}],
                "mark": {"type": "point", "filled": False, "size": 80, "strokeWidth": 2},
                "encoding": {"x": x, "y": y, "color": color, "tooltip": tooltip},
            },
            {
                "mark": {"type": "text", "align": "left", "dx": 7, "dy": -7, "fontSize": 10},
                "encoding": {"x": x, "y": y, "text": {"field": "entity", "type": "nominal"}},
            },
            {
                "data": threshold_values,
                "mark": dashed,
                "encoding": {"x": {"field": "spend", "type": "quantitative"}},
            },
            {
                "data": threshold_values,
                "mark": dashed,
                "encoding": {"y": {"field": "roi", "type": "quantitative"}},
            },
            {
                "data": {"values": [{"spend": spend_cut, "text": spend_caption}]},
                "mark": {**caption, "align": "left", "baseline": "top", "dx": 4, "y": 4},
                "encoding": {
                    "x": {"field": "spend", "type": "quantitative"},
                    "text": {"field": "text", "type": "nominal"},
                },
            },
            {
                "data": {"values": [{"roi": roi_cut, "text": roi_caption}]},
                "mark": {**caption, "align": "right", "baseline": "bottom", "dy": -3, "x": _WIDTH},
                "encoding": {
                    "y": {"field": "roi", "type": "quantitative"},
                    "text": {"field": "text", "type": "nominal"},
                },
            },
        ],
    }


def trend_chart(monthly: pd.DataFrame, title: str, labels: dict[str, str]) -> dict[str, Any]:
    """Build the two-panel monthly trend chart as a Vega-Lite spec.

    The top panel shows ROI per channel by month and the bottom panel spend
    per channel by month; both share the month axis and the channel colours.

    Args:
        monthly: Columns ``period`` (datetime), ``channel``, ``roi`` and
            ``spend``. May be empty; missing values become nulls.
        title: Chart title.
        labels: Display texts so the caller can translate them; keys
            ``period``, ``roi``, ``spend`` and ``channel``, each falling back
            to English.

    Returns:
        A Vega-Lite ``vconcat`` spec as a plain, JSON-serialisable dict.

    Raises:
        ValueError: If ``monthly`` lacks a required column.
    """
    _require_columns(monthly, _TREND_COLUMNS, "monthly")
    records = _records(monthly, _TREND_COLUMNS)

    x = {
        "field": "period",
        "type": "temporal",
        "timeUnit": "yearmonth",
        "title": _label(labels, _TREND_DEFAULT_LABELS, "period"),
        "axis": {"format": "%b %Y"},
    }
    color = {
        "field": "channel",
        "type": "nominal",
        "title": _label(labels, _TREND_DEFAULT_LABELS, "channel"),
    }

    def panel(field: str, value_format: str) -> dict[str, Any]:
        axis_title = _label(labels, _TREND_DEFAULT_LABELS, field)
        return {
            "width": _WIDTH,
            "height": _PANEL_HEIGHT,
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": x,
                "y": {"field": field, "type": "quantitative", "title": axis_title},
                "color": color,
                "tooltip": [
                    {"field": "period", "type": "temporal", "timeUnit": "yearmonth"},
                    {"field": "channel", "type": "nominal"},
                    {
                        "field": field,
                        "type": "quantitative",
                        "title": axis_title,
                        "format": value_format,
                    },
                ],
            },
        }

    return {
        "$schema": _SCHEMA,
        "title": title,
        "data": {"values": records},
        "vconcat": [panel("roi", ".2f"), panel("spend", ",.0f")],
        "resolve": {"scale": {"color": "shared"}},
    }


def to_svg(spec: dict[str, Any]) -> str:
    """Render a Vega-Lite spec to an SVG string.

    External data requests are refused (``allowed_base_urls=[]``): report
    specs carry their data inline.

    Args:
        spec: A Vega-Lite spec, e.g. from :func:`quadrant_chart`.

    Returns:
        The SVG document as text.
    """
    import vl_convert

    return vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])


def to_data_uri(spec: dict[str, Any]) -> str:
    """Render a spec to SVG and wrap it as a base64 ``data:`` URI.

    Args:
        spec: A Vega-Lite spec.

    Returns:
        ``data:image/svg+xml;base64,...`` for an HTML ``<img src>`` or a
        Markdown image.
    """
    encoded = base64.b64encode(to_svg(spec).encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"

"""Tests for the executive-report charts (Vega-Lite specs rendered to SVG)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from mci.report import charts

XSS = "<script>alert(1)</script>"


def _quadrant_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entity": ["Paid Search", XSS, "Television", "Radio"],
            "spend": [120_000.0, 40_000.0, np.nan, 80_000.0],
            "roi": [2.5, 0.4, 1.2, np.float32(0.9)],
            "roi_low": [2.0, np.nan, 0.8, 0.5],
            "roi_high": [3.0, 0.9, 1.6, 1.3],
            "label": ["Star", "Drain", "Star", "Question"],
            "significant": np.array([True, False, True, False]),
        }
    )


def _monthly() -> pd.DataFrame:
    periods = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])
    return pd.DataFrame(
        {
            "period": list(periods) * 2,
            "channel": ["Search"] * 3 + ["Social"] * 3,
            "roi": [1.5, 1.7, np.nan, 0.8, 0.9, 1.1],
            "spend": np.array([100, 110, 120, 50, 55, 60], dtype=np.int64),
        }
    )


@pytest.fixture(scope="module")
def quadrant_spec() -> dict:
    return charts.quadrant_chart(
        _quadrant_table(),
        spend_threshold=60_000,
        roi_threshold=1.0,
        title="Channel quadrants",
        labels={"spend": "Ausgaben", "roi": "Rendite"},
    )


@pytest.fixture(scope="module")
def quadrant_svg(quadrant_spec: dict) -> str:
    return charts.to_svg(quadrant_spec)


@pytest.fixture(scope="module")
def trend_spec() -> dict:
    return charts.trend_chart(
        _monthly(),
        title="Monthly trend",
        labels={"period": "Monat", "roi": "Rendite", "spend": "Ausgaben", "channel": "Kanal"},
    )


def test_quadrant_spec_is_json_with_plain_inline_values(quadrant_spec: dict) -> None:
    # Strict JSON: no NaN/Infinity, no numpy or pandas objects.
    json.dumps(quadrant_spec, allow_nan=False)
    records = quadrant_spec["data"]["values"]
    assert len(records) == 4
    assert records[1]["entity"] == XSS
    assert records[1]["roi_low"] is None
    assert records[2]["spend"] is None
    assert type(records[3]["roi"]) is float
    assert all(type(r["significant"]) is bool for r in records)


def test_quadrant_renders_svg_with_names_thresholds_and_titles(quadrant_svg: str) -> None:
    assert quadrant_svg.lstrip().startswith("<svg")
    for text in ("Paid Search", "Radio", "Channel quadrants", "Ausgaben", "Rendite"):
        assert text in quadrant_svg
    assert "60,000" in quadrant_svg
    assert "ROI threshold: 1" in quadrant_svg
    assert "Star" in quadrant_svg  # legend


def test_quadrant_escapes_hostile_entity_names(quadrant_svg: str) -> None:
    assert "<script" not in quadrant_svg.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in quadrant_svg


def test_quadrant_empty_table_still_renders() -> None:
    empty = _quadrant_table().iloc[0:0]
    spec = charts.quadrant_chart(empty, 10.0, 1.0, "Empty", {"spend": "S", "roi": "R"})
    assert spec["data"]["values"] == []
    svg = charts.to_svg(spec)
    assert svg.lstrip().startswith("<svg")
    assert "Empty" in svg


def test_quadrant_missing_column_raises() -> None:
    with pytest.raises(ValueError, match="significant"):
        charts.quadrant_chart(_quadrant_table().drop(columns="significant"), 1, 1, "t", {})


def test_trend_spec_values_are_iso_strings_and_plain_numbers(trend_spec: dict) -> None:
    json.dumps(trend_spec, allow_nan=False)
    assert len(trend_spec["vconcat"]) == 2
    records = trend_spec["data"]["values"]
    assert records[0]["period"] == "2024-01-01T00:00:00"
    assert records[2]["roi"] is None
    assert type(records[0]["spend"]) is int


def test_trend_renders_two_panels_with_translated_titles(trend_spec: dict) -> None:
    svg = charts.to_svg(trend_spec)
    assert svg.lstrip().startswith("<svg")
    for text in ("Monthly trend", "Monat", "Rendite", "Ausgaben", "Kanal", "Search", "Social"):
        assert text in svg
    assert "Jan 2024" in svg


def test_trend_empty_and_tz_aware_inputs() -> None:
    empty = charts.trend_chart(_monthly().iloc[0:0], "Empty trend", {})
    assert charts.to_svg(empty).lstrip().startswith("<svg")

    monthly = _monthly()
    monthly["period"] = monthly["period"].dt.tz_localize("Europe/Berlin")
    records = charts.trend_chart(monthly, "t", {})["data"]["values"]
    assert records[0]["period"] == "2023-12-31T23:00:00"


def test_data_uri_round_trips(quadrant_spec: dict, quadrant_svg: str) -> None:
    uri = charts.to_data_uri(quadrant_spec)
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    assert base64.b64decode(uri[len(prefix) :]).decode("utf-8") == quadrant_svg

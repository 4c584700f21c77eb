"""Rendering query results as a table, CSV and JSON."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json

import pytest

from mci.cli_render import render_rows

COLUMNS = ["dt", "channel", "spend", "ctr"]
ROWS = [
    (dt.date(2021, 1, 1), "Email", decimal.Decimal("16174.50"), 0.25),
    (dt.date(2021, 12, 31), "Google Ads, Search", 9.0, None),
]


def render(fmt: str, columns=COLUMNS, rows=ROWS) -> str:
    out = io.StringIO()
    render_rows(columns, rows, fmt, out)
    return out.getvalue()


def test_csv_has_a_header_and_iso_dates() -> None:
    text = render("csv")
    records = list(csv.reader(io.StringIO(text)))
    assert records[0] == COLUMNS
    assert len(records) == 1 + len(ROWS)
    assert records[1][0] == "2021-01-01"
    assert records[2][0] == "2021-12-31"
    # a value with a comma survives as one field
    assert records[2][1] == "Google Ads, Search"
    assert float(records[1][2]) == 16174.5
    assert records[2][3] == ""  # NULL is an empty field
    assert "\r" not in text


def test_csv_timestamps_are_iso() -> None:
    text = render("csv", ["at"], [(dt.datetime(2021, 3, 4, 5, 6, 7),)])
    records = list(csv.reader(io.StringIO(text)))
    assert records[1][0] == "2021-03-04T05:06:07"  # ISO 8601, with its 'T'


def test_json_timestamps_and_decimals_are_plain_values() -> None:
    at = dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    data = json.loads(render("json", ["at", "amount"], [(at, decimal.Decimal("0.1"))]))
    assert dt.datetime.fromisoformat(data[0]["at"]) == at
    assert data[0]["amount"] == 0.1


def test_csv_of_no_rows_is_just_the_header() -> None:
    assert list(csv.reader(io.StringIO(render("csv", rows=[])))) == [COLUMNS]


def test_json_is_a_list_of_objects() -> None:
    data = json.loads(render("json"))
    assert data == [
        {"dt": "2021-01-01", "channel": "Email", "spend": 16174.5, "ctr": 0.25},
        {"dt": "2021-12-31", "channel": "Google Ads, Search", "spend": 9.0, "ctr": None},
    ]


def test_json_of_no_rows_is_an_empty_list() -> None:
    assert json.loads(render("json", rows=[])) == []


def test_json_refuses_rows_that_do_not_match_the_columns() -> None:
    with pytest.raises(ValueError):
        render("json", ["a", "b"], [(1,)])


def test_table_contains_the_columns_and_values() -> None:
    text = render("table", ["channel", "dt", "clicks"], [("Email", dt.date(2021, 1, 1), 506)])
    for value in ["channel", "dt", "clicks", "Email", "2021-01-01", "506"]:
        assert value in text
    assert "None" not in render("table", ["a"], [(None,)])

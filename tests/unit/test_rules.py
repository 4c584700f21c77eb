"""The cleaning rules, evaluated in DuckDB against single raw rows.

Every expectation comes from the rules' intent (DESIGN.md's source contract and the reason
codes of ``mci.ingest.contract``), not from running the code: a value the contract calls money
must parse to that amount, a value it does not must come back NULL and be quarantined with the
right reason, and the first failing check (in ``CHECKS`` order) names the row's reason.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mci.ingest.contract import RAW_COLUMNS, REASON_CODES, SOURCE_COLUMNS, SOURCE_TO_RAW
from mci.ingest.rules import (
    CHECKS,
    PARSERS,
    REQUIRED,
    RULES,
    check_field_sql,
    check_index_sql,
    typed_select_sql,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "kaggle_export_head.csv"

# Which raw column each typed column is parsed from.
RAW_OF = {
    "campaign_id": "campaign_id",
    "duration_days": "duration",
    "channel": "channel_used",
    "spend": "acquisition_cost",
    **{name: name for name in PARSERS if name in RAW_COLUMNS},
}


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _row_relation(row: Mapping[str, str]) -> tuple[str, list[str]]:
    """A one-row relation with every raw column (as text), and its parameters."""
    select = ", ".join(f"?::VARCHAR AS {name}" for name in RAW_COLUMNS)
    return f"(SELECT {select})", [row.get(name, "") for name in RAW_COLUMNS]


def parse(con: duckdb.DuckDBPyConnection, typed: str, value: str) -> Any:
    """The typed value that ``PARSERS[typed]`` gives for one raw value (other columns empty)."""
    relation, params = _row_relation({RAW_OF[typed]: value})
    sql = f"SELECT {PARSERS[typed]} FROM {relation} AS r"
    return con.execute(sql, params).fetchone()[0]


def classify(con: duckdb.DuckDBPyConnection, row: Mapping[str, str]) -> dict[str, Any]:
    """Types and checks one raw row the way the ingest does (first failing check wins)."""
    relation, params = _row_relation(row)
    typed = f"SELECT r.*, {typed_select_sql()} FROM {relation} AS r"
    checked = f"SELECT r.*, {check_index_sql()} AS check_idx FROM ({typed}) AS r"
    sql = (
        f"SELECT check_idx, {check_field_sql('reason_code')}, {check_field_sql('column')}, "
        f"{check_field_sql('message')}, {', '.join(f'v_{name}' for name in PARSERS)} "
        f"FROM ({checked}) AS r"
    )
    result = con.execute(sql, params).fetchone()
    idx, code, column, message, *values = result
    return {
        "idx": idx,
        "code": code,
        "column": column,
        "message": message,
        "typed": dict(zip(PARSERS, values, strict=True)),
    }


def sample_rows() -> list[dict[str, str]]:
    """The genuine sample's data rows as raw rows (source names lower-cased)."""
    assert SAMPLE.is_file(), f"the genuine sample is missing: {SAMPLE}"
    with SAMPLE.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        assert tuple(header) == SOURCE_COLUMNS
        return [
            {SOURCE_TO_RAW[name]: value for name, value in zip(header, fields, strict=True)}
            for fields in reader
            if fields
        ]


@pytest.fixture(scope="module")
def clean_row() -> dict[str, str]:
    return sample_rows()[0]


def with_(row: Mapping[str, str], **changes: str) -> dict[str, str]:
    """The row with some source columns (by source name) replaced."""
    out = dict(row)
    for source, value in changes.items():
        out[SOURCE_TO_RAW[source]] = value
    return out


# --- the rules as data ----------------------------------------------------------------------


def test_parsers_type_every_canonical_column_once() -> None:
    # Every raw column is parsed into exactly one typed column.
    assert sorted(RAW_OF.values()) == sorted(RAW_COLUMNS)
    assert len(PARSERS) == len(RAW_COLUMNS)


def test_every_check_uses_a_known_reason_code_and_a_contract_column() -> None:
    for check in CHECKS:
        assert check.reason_code in REASON_CODES
        assert check.column in SOURCE_COLUMNS


def test_missing_value_checks_come_first_and_cover_the_required_columns() -> None:
    leading = CHECKS[: len(REQUIRED)]
    assert {c.reason_code for c in leading} == {"missing_value"}
    assert [c.column for c in leading] == [source for source, _ in REQUIRED]
    assert all(c.reason_code != "missing_value" for c in CHECKS[len(REQUIRED) :])


# --- money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$16,174.00", 16174.0),  # the export's form, without the CSV quotes
        ("16174.00", 16174.0),  # plain number
        ("16,174", 16174.0),  # separators, no cents
        ("$16174", 16174.0),
        ("$1,234,567.89", 1234567.89),
        ("$0.50", 0.5),
        ("-$1,200.00", -1200.0),  # sign before the currency symbol
        ("$-1,200.00", -1200.0),  # sign after it
        ("-1,200", -1200.0),
        ("  $16,174.00  ", 16174.0),  # surrounding white space is trimmed
    ],
)
def test_money_parses_both_forms(con: duckdb.DuckDBPyConnection, text: str, expected: float):
    assert parse(con, "spend", text) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    "text",
    [
        "$12,3x4.00",  # a letter inside
        "N/A",
        "twelve",
        "1,2,3",  # separators not in groups of three
        "$1,20",
        "1234,567",  # a leading group longer than three digits
        "12.34.56",
        "$",
        "-",
        "",
        "   ",
        "1e4",
        "€16,174.00",
    ],
)
def test_money_rejects_what_is_not_an_amount(con: duckdb.DuckDBPyConnection, text: str) -> None:
    assert parse(con, "spend", text) is None


@st.composite
def money_texts(draw: st.DrawFn) -> tuple[str, int]:
    """A money text in one of the export's forms, and its value in cents."""
    cents = draw(st.integers(min_value=-(10**13), max_value=10**13))
    units, frac = divmod(abs(cents), 100)
    digits = f"{units:,}" if draw(st.booleans()) else str(units)
    # whole amounts may drop the cents ("16,174")
    body = digits if frac == 0 and draw(st.booleans()) else f"{digits}.{frac:02d}"
    dollar = draw(st.booleans())
    sign = "-" if cents < 0 else ""
    if dollar and sign and draw(st.booleans()):
        text = f"${sign}{body}"  # "$-1,200.00"
    else:
        text = f"{sign}{'$' if dollar else ''}{body}"  # "-$1,200.00", "-1,200.00"
    return text, cents


@settings(max_examples=150, deadline=None)
@given(money_texts())
def test_money_round_trips_to_the_cent(con: duckdb.DuckDBPyConnection, case) -> None:
    text, cents = case
    parsed = parse(con, "spend", text)
    assert parsed is not None, text
    assert round(parsed * 100) == cents, text


# --- duration, dates, numbers, text ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30 days", 30),
        ("1 day", 1),
        ("45", 45),
        ("60 Days", 60),
        (" 15 days ", 15),
        ("thirty days", None),
        ("30 weeks", None),
        ("days", None),
        ("", None),
    ],
)
def test_duration(con: duckdb.DuckDBPyConnection, text: str, expected: int | None) -> None:
    value = parse(con, "duration_days", text)
    assert value == expected
    if expected is not None:
        assert isinstance(value, int)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-01-01", dt.date(2021, 1, 1)),
        ("2024-02-29", dt.date(2024, 2, 29)),  # a leap day
        ("2021-12-31", dt.date(2021, 12, 31)),
        (" 2021-06-15 ", dt.date(2021, 6, 15)),  # trimmed
        ("2021-02-30", None),  # no such day
        ("2023-02-29", None),  # not a leap year
        ("2021-13-01", None),
        ("31/12/2021", None),  # day-first
        ("12/31/2021", None),  # month-first
        ("20210101", None),  # ISO basic format is not the contract's
        ("2021-01-01T00:00:00", None),  # a timestamp is not a date
        ("yesterday", None),
        ("", None),
    ],
)
def test_date_parses_iso_dates_only(
    con: duckdb.DuckDBPyConnection, text: str, expected: dt.date | None
) -> None:
    assert parse(con, "date", text) == expected


@pytest.mark.parametrize("text", ["2021-2-3", "2021-1-1", "2021-01-1", "2021-1-15", "2021-001-01"])
def test_date_must_be_exactly_yyyy_mm_dd(con: duckdb.DuckDBPyConnection, text: str) -> None:
    """The contract's dates are ``YYYY-MM-DD``: month and day always take two digits.

    DuckDB's ``%m``/``%d`` take one or two digits, so the rule checks the form first; a date in
    another form is quarantined (``bad_date``), never read as some day.
    """
    assert parse(con, "date", text) is None


def test_an_unpadded_date_is_quarantined_as_bad_date(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str]
) -> None:
    result = classify(con, with_(clean_row, Date="2021-2-3"))
    assert (result["code"], result["column"]) == ("bad_date", "Date")
    assert "'2021-2-3'" in result["message"]


def test_date_with_a_two_digit_year_is_rejected(con: duckdb.DuckDBPyConnection) -> None:
    assert parse(con, "date", "21-01-01") is None


@pytest.mark.parametrize(
    ("typed", "text", "expected"),
    [
        ("campaign_id", "42", 42),
        ("campaign_id", " 42 ", 42),
        ("clicks", "506", 506),
        ("impressions", "1922", 1922),
        ("engagement_score", "6", 6),
        ("clicks", "many", None),
        ("clicks", "1,000", None),  # separators are a money form, not a count form
        ("clicks", "", None),
        ("conversion_rate", "0.04", 0.04),
        ("conversion_rate", " 0.04 ", 0.04),
        ("conversion_rate", "4%", None),
        ("roi", "6.29", 6.29),
        ("roi", "-0.5", -0.5),
        ("roi", "high", None),
    ],
)
def test_numbers(con: duckdb.DuckDBPyConnection, typed: str, text: str, expected: Any) -> None:
    assert parse(con, typed, text) == expected


@pytest.mark.parametrize(
    ("typed", "text", "expected"),
    [
        ("channel", "  Google Ads ", "Google Ads"),
        ("company", " Innovate Industries", "Innovate Industries"),
        ("location", "   ", None),  # blank text is NULL, not ''
        ("customer_segment", "", None),
    ],
)
def test_text_is_trimmed_and_blank_is_null(
    con: duckdb.DuckDBPyConnection, typed: str, text: str, expected: str | None
) -> None:
    assert parse(con, typed, text) == expected


# --- the checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(20))
def test_genuine_sample_rows_are_clean_and_typed(
    con: duckdb.DuckDBPyConnection, index: int
) -> None:
    rows = sample_rows()
    assert len(rows) == 20
    row = rows[index]
    result = classify(con, row)
    assert result["idx"] is None
    assert result["code"] is None
    assert result["message"] is None
    typed = result["typed"]
    # The expected values are read with Python's own parsers, independently of the rules.
    assert typed["campaign_id"] == int(row["campaign_id"])
    assert typed["spend"] == float(row["acquisition_cost"].replace("$", "").replace(",", ""))
    assert typed["duration_days"] == int(row["duration"].split()[0])
    assert typed["date"] == dt.date.fromisoformat(row["date"])
    assert typed["conversion_rate"] == float(row["conversion_rate"])
    assert typed["roi"] == float(row["roi"])
    assert typed["clicks"] == int(row["clicks"])
    assert typed["impressions"] == int(row["impressions"])
    assert typed["engagement_score"] == int(row["engagement_score"])
    assert typed["channel"] == row["channel_used"]
    assert typed["customer_segment"] == row["customer_segment"]


def test_plain_number_cost_row_is_clean(con: duckdb.DuckDBPyConnection, clean_row) -> None:
    result = classify(con, with_(clean_row, Acquisition_Cost="16174.00"))
    assert result["code"] is None
    assert result["typed"]["spend"] == 16174.0


@pytest.mark.parametrize(
    ("changes", "code", "column", "value"),
    [
        ({"Clicks": ""}, "missing_value", "Clicks", None),
        ({"Date": "   "}, "missing_value", "Date", None),
        ({"Campaign_ID": ""}, "missing_value", "Campaign_ID", None),
        ({"Channel_Used": ""}, "missing_value", "Channel_Used", None),
        ({"Acquisition_Cost": ""}, "missing_value", "Acquisition_Cost", None),
        ({"Acquisition_Cost": "$12,3x4.00"}, "bad_money", "Acquisition_Cost", "$12,3x4.00"),
        ({"Acquisition_Cost": "N/A"}, "bad_money", "Acquisition_Cost", "N/A"),
        ({"Date": "2021-02-30"}, "bad_date", "Date", "2021-02-30"),
        ({"Date": "31/12/2021"}, "bad_date", "Date", "31/12/2021"),
        ({"Campaign_ID": "C-17"}, "bad_number", "Campaign_ID", "C-17"),
        ({"Clicks": "many"}, "bad_number", "Clicks", "many"),
        ({"Impressions": "lots"}, "bad_number", "Impressions", "lots"),
        ({"Conversion_Rate": "4%"}, "bad_number", "Conversion_Rate", "4%"),
        ({"ROI": "high"}, "bad_number", "ROI", "high"),
        ({"Duration": "thirty days"}, "bad_number", "Duration", "thirty days"),
        ({"Engagement_Score": "six"}, "bad_number", "Engagement_Score", "six"),
        ({"Acquisition_Cost": "-$1,200.00"}, "negative_value", "Acquisition_Cost", "-1200"),
        ({"Acquisition_Cost": "$-1,200.00"}, "negative_value", "Acquisition_Cost", "-1200"),
        ({"Clicks": "-5"}, "negative_value", "Clicks", "-5"),
        ({"Impressions": "-1"}, "negative_value", "Impressions", "-1"),
        ({"Conversion_Rate": "1.5"}, "out_of_range", "Conversion_Rate", "1.5"),
        ({"Conversion_Rate": "-0.01"}, "out_of_range", "Conversion_Rate", "-0.01"),
        (
            {"Clicks": "2000", "Impressions": "1922"},
            "clicks_exceed_impressions",
            "Clicks",
            "2000",
        ),
    ],
)
def test_planted_faults_get_their_reason(
    con: duckdb.DuckDBPyConnection,
    clean_row: dict[str, str],
    changes: dict[str, str],
    code: str,
    column: str,
    value: str | None,
) -> None:
    result = classify(con, with_(clean_row, **changes))
    assert result["code"] == code
    assert result["column"] == column
    assert CHECKS[result["idx"] - 1].reason_code == code
    message = result["message"]
    assert column in message
    if value is not None:
        assert value in message


def test_clicks_exceed_impressions_message_names_both_counts(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str]
) -> None:
    result = classify(con, with_(clean_row, Clicks="2000", Impressions="1922"))
    assert "2000" in result["message"]
    assert "1922" in result["message"]
    assert "Impressions" in result["message"]


def test_clicks_equal_to_impressions_is_clean(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str]
) -> None:
    assert classify(con, with_(clean_row, Clicks="1922", Impressions="1922"))["code"] is None


@pytest.mark.parametrize("rate", ["0", "1", "0.0", "1.0"])
def test_conversion_rate_bounds_are_inclusive(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str], rate: str
) -> None:
    assert classify(con, with_(clean_row, Conversion_Rate=rate))["code"] is None


def test_zero_cost_is_not_negative(con: duckdb.DuckDBPyConnection, clean_row) -> None:
    assert classify(con, with_(clean_row, Acquisition_Cost="$0.00"))["code"] is None


@pytest.mark.parametrize(
    "changes",
    [
        {"Duration": ""},
        {"Engagement_Score": ""},
        {"Company": ""},
        {"Location": ""},
        {"Customer_Segment": ""},
    ],
)
def test_optional_columns_may_be_empty(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str], changes: dict[str, str]
) -> None:
    # Only REQUIRED columns are checked for emptiness; an empty optional value is NULL.
    result = classify(con, with_(clean_row, **changes))
    assert result["code"] is None


def test_raw_values_are_trimmed_before_checking(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str]
) -> None:
    padded = {name: f"  {value} " for name, value in clean_row.items()}
    result = classify(con, padded)
    assert result["code"] is None
    assert result["typed"] == classify(con, clean_row)["typed"]


def test_missing_value_takes_precedence_over_a_bad_date(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str]
) -> None:
    result = classify(con, with_(clean_row, Clicks="", Date="31/12/2021"))
    assert result["code"] == "missing_value"
    assert result["column"] == "Clicks"


def test_first_failing_check_wins(con: duckdb.DuckDBPyConnection, clean_row) -> None:
    # bad money comes before a bad date, which comes before negative counts and ranges.
    row = with_(
        clean_row,
        Acquisition_Cost="lots",
        Date="2021-02-30",
        Clicks="-1",
        Conversion_Rate="7",
    )
    assert classify(con, row)["code"] == "bad_money"
    row = with_(clean_row, Date="2021-02-30", Clicks="-1", Conversion_Rate="7")
    assert classify(con, row)["code"] == "bad_date"
    row = with_(clean_row, Clicks="-1", Conversion_Rate="7")
    assert classify(con, row)["code"] == "negative_value"
    # a negative impression count is reported as negative, not as clicks exceeding it
    row = with_(clean_row, Impressions="-1")
    assert classify(con, row)["code"] == "negative_value"


def test_message_quotes_the_value_as_it_arrived(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str]
) -> None:
    result = classify(con, with_(clean_row, Date="2021/01/01"))
    assert result["message"].startswith("Date ")
    assert "'2021/01/01'" in result["message"]
    assert "YYYY-MM-DD" in result["message"]


def test_message_of_a_value_with_a_quote_is_built(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str]
) -> None:
    result = classify(con, with_(clean_row, ROI="6'29"))
    assert result["code"] == "bad_number"
    assert "6'29" in result["message"]


@pytest.mark.parametrize("value", ["NaN", "nan", "inf", "-Infinity"])
def test_conversion_rate_that_is_not_finite_is_rejected(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str], value: str
) -> None:
    assert classify(con, with_(clean_row, Conversion_Rate=value))["code"] is not None


@pytest.mark.parametrize("value", ["NaN", "inf"])
def test_roi_that_is_not_finite_is_rejected(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str], value: str
) -> None:
    assert classify(con, with_(clean_row, ROI=value))["code"] is not None


@pytest.mark.parametrize(
    "changes",
    [{"Clicks": "506.7"}, {"Campaign_ID": "1.5"}, {"Engagement_Score": "6.5"}],
)
def test_fractional_whole_numbers_are_rejected(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str], changes: dict[str, str]
) -> None:
    assert classify(con, with_(clean_row, **changes))["code"] == "bad_number"


# --- values at the edges ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "column", "value"),
    [
        ({"ROI": "1000.01"}, "ROI", "1000.01"),
        ({"ROI": "-1000.5"}, "ROI", "-1000.5"),
        ({"ROI": "1e308"}, "ROI", "1e308"),
        ({"ROI": "-1.7976931348623157e308"}, "ROI", "-1.7976931348623157e308"),
        ({"Acquisition_Cost": "$1,000,000,000,001"}, "Acquisition_Cost", "$1,000,000,000,001"),
        ({"Acquisition_Cost": "9" * 400}, "Acquisition_Cost", "9" * 200),  # a double's inf
        ({"Clicks": "1000000000001", "Impressions": "1000000000002"}, "Clicks", "1000000000001"),
        ({"Impressions": "1000000000001"}, "Impressions", "1000000000001"),
        ({"Engagement_Score": "0"}, "Engagement_Score", "0"),
        ({"Engagement_Score": "11"}, "Engagement_Score", "11"),
        ({"Engagement_Score": "-3"}, "Engagement_Score", "-3"),
        ({"Duration": "0 days"}, "Duration", "0 days"),
        ({"Duration": "3661 days"}, "Duration", "3661 days"),
        ({"Conversion_Rate": "1e308"}, "Conversion_Rate", "1e308"),
        ({"Date": "1989-12-31"}, "Date", "1989-12-31"),
        ({"Date": "2100-01-01"}, "Date", "2100-01-01"),
        ({"Date": "0001-01-01"}, "Date", "0001-01-01"),
    ],
)
def test_values_outside_their_sane_range_are_out_of_range(
    con: duckdb.DuckDBPyConnection,
    clean_row: dict[str, str],
    changes: dict[str, str],
    column: str,
    value: str,
) -> None:
    result = classify(con, with_(clean_row, **changes))
    assert (result["code"], result["column"]) == ("out_of_range", column)
    assert result["message"].startswith(f"{column} '")
    assert value in result["message"] and "is outside" in result["message"]


def test_range_bounds_are_written_plainly_in_the_message(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str]
) -> None:
    message = classify(con, with_(clean_row, ROI="5000"))["message"]
    assert message == "ROI '5000' is outside -1,000 to 1,000"
    message = classify(con, with_(clean_row, Impressions="2000000000000"))["message"]
    assert message == "Impressions '2000000000000' is outside 0 to 1,000,000,000,000"


@pytest.mark.parametrize(
    "changes",
    [
        {"ROI": "1000"},
        {"ROI": "-1000"},
        {"Acquisition_Cost": "$1,000,000,000,000.00"},
        {"Clicks": "1000000000000", "Impressions": "1000000000000"},
        {"Engagement_Score": "1"},
        {"Engagement_Score": "10"},
        {"Duration": "1 day"},
        {"Duration": "3660 days"},
        {"Date": "1990-01-01"},
        {"Date": "2099-12-31"},
    ],
)
def test_values_on_the_range_bounds_are_clean(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str], changes: dict[str, str]
) -> None:
    assert classify(con, with_(clean_row, **changes))["code"] is None


def test_every_range_check_names_a_documented_range() -> None:
    from mci.ingest.contract import VALUE_RANGES

    ranged = {c.column for c in CHECKS if c.reason_code == "out_of_range"}
    source_of = {"spend": "Acquisition_Cost", "duration_days": "Duration"}
    documented = {source_of.get(name, name.title().replace("Roi", "ROI")) for name in VALUE_RANGES}
    assert ranged == documented | {"Date"}
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `out_of_range` |"))
    for name in ranged:
        assert name in row, name
    # The ranges table states each column's bounds as the messages do.
    from mci.ingest.contract import DATE_RANGE
    from mci.ingest.rules import _bound

    table = readme[readme.index("| column | range | why |") :]
    for name, (low, high) in VALUE_RANGES.items():
        source = source_of.get(name, name.title().replace("Roi", "ROI"))
        line = next(line for line in table.splitlines() if source in line.split("|")[1])
        assert f"{_bound(low)} to {_bound(high)}" in line, (name, line)
    assert f"| Date | {DATE_RANGE[0]} to {DATE_RANGE[1]} |" in table


def test_a_long_value_is_shortened_in_its_message(
    con: duckdb.DuckDBPyConnection, clean_row: dict[str, str]
) -> None:
    result = classify(con, with_(clean_row, ROI="é" * 5000))
    assert result["code"] == "bad_number"
    assert result["message"] == "ROI '" + "é" * 200 + "… (5,000 characters)' is not a number"


# Numbers, signs, exponents, the names of non-finite doubles, money and duration forms.
_NUMBER_ALPHABET = "0123456789-+.,$eE daysinfINFnaN\t\u00a0"
_SPECIAL_NUMBERS = [
    "1e308", "-1e308", "1e309", "inf", "-inf", "Infinity", "NaN", "nan", "-0", "1e-320",
    "9" * 30, "-" + "9" * 30, "1.7976931348623157e308", "4.9e-324", "0x10", "1_000",
]  # fmt: skip
_NUMERIC = ("conversion_rate", "spend", "roi", "clicks", "impressions", "engagement_score")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                SOURCE_TO_RAW[source]: st.one_of(
                    st.sampled_from(_SPECIAL_NUMBERS), st.text(_NUMBER_ALPHABET, max_size=24)
                )
                for source in (
                    "Conversion_Rate",
                    "Acquisition_Cost",
                    "ROI",
                    "Clicks",
                    "Impressions",
                    "Engagement_Score",
                    "Duration",
                )
            }
        ),
        min_size=1,
        max_size=50,
    )
)
def test_no_value_outside_its_range_reaches_a_clean_row(values: list[dict[str, str]]) -> None:
    """Whatever numbers a row holds: it is quarantined, or every value is finite and in range."""
    import math

    from mci.ingest.contract import VALUE_RANGES

    con = duckdb.connect()
    try:
        base = sample_rows()[0]
        for changes in values:
            result = classify(con, {**base, **changes})
            if result["code"] is not None:
                assert CHECKS[result["idx"] - 1].reason_code == result["code"]
                continue
            typed = result["typed"]
            for name in (*_NUMERIC, "duration_days"):
                value = typed[name]
                if value is None:
                    assert name in ("engagement_score", "duration_days")  # optional columns
                    continue
                low, high = VALUE_RANGES[name]
                assert math.isfinite(value) and low <= value <= high, (name, value)
            assert typed["clicks"] <= typed["impressions"]
    finally:
        con.close()


# --- fast paths ------------------------------------------------------------------------------

# Characters that decide how the rules read a value: digits, signs, separators, currency,
# letters of 'days' and of 'NaN' / 'inf' / 'e', ASCII and Unicode spaces, a tab, a quote, and
# LIKE's wildcards (the text fast path tests its ends with LIKE).
_EDGE_ALPHABET = "0123456789-+$,. daysDAYSnNiIfeEx:/'\t\u00a0\u3000é%_"
_EDGE_VALUES = [
    "$16,174.00", " $16,174.00", "$16,174.00 ", "16174", "16,174", "-$1,200.00", "$-1,200.00",
    "$ 16,174", "\u00a0$5", "$5\u00a0", "1,2,3", "$1,23", "00012", "-0", "+5", "1e3", "0x10",
    "NaN", "inf", "-inf", " 7 ", "30 days", "30 Days", "30days", "030 days", "-5 days",
    "+5 days", "1 day", "0 days", "99999999999 days", " 30 days", "30 days ", "30  days",
    "3 s days", "2021-01-01", "2021-1-1", "21-01-01", " 2021-01-01", "2021-02-30",
    "9999-12-31", "0001-01-01", "2021-01-01x", "", " ", "\u3000", "é", "é ",
    "9223372036854775807", "9223372036854775808", "2147483647", "2147483648",
    "% x", "x %", "_ ", " _", "%",
]  # fmt: skip


def _agree(con: duckdb.DuckDBPyConnection, values: list[str]) -> list[tuple[str, str]]:
    """(typed column, value) pairs where a parser's fast path and its rule differ."""
    columns = ", ".join(f"v AS {raw}" for raw in RAW_COLUMNS)
    rows = f"(SELECT {columns} FROM (SELECT unnest(?::VARCHAR[]) AS v)) AS r"
    found = []
    for name, fast in PARSERS.items():
        differ = con.execute(
            f"SELECT r.{RAW_OF[name]}, {fast} IS DISTINCT FROM {RULES[name]} FROM {rows}",
            [values],
        ).fetchall()
        found += [(name, value) for value, different in differ if different]
    return found


def test_fast_paths_agree_with_the_exact_rules_on_edge_cases(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert _agree(con, _EDGE_VALUES) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=_EDGE_ALPHABET, max_size=14), min_size=1, max_size=400))
def test_fast_paths_agree_with_the_exact_rules_on_random_text(values: list[str]) -> None:
    con = duckdb.connect()
    try:
        assert _agree(con, values) == []
    finally:
        con.close()

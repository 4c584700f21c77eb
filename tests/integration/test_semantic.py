"""The semantic layer on every engine: contract views, the query API, the CLI.

Every expectation is computed independently with pandas from the ``campaign_performance``
rows read back from the warehouse (DESIGN.md's metric dictionary), never copied from a run.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.conftest import ENGINES, REPO, url_for

import mci.warehouse.connection as connection
from mci.ingest.pipeline import ingest
from mci.ingest.progress import NoProgress
from mci.semantic import (
    DIMENSIONS,
    GRAINS,
    METRICS,
    VIEW_COLUMNS,
    VIEWS,
    UnknownNameError,
    apply_views,
    dimension_values,
    metrics_markdown,
    query,
)
from mci.warehouse import connect

RTOL = 1e-9
RATIOS = ("ctr", "cpc", "cpm", "cvr", "cpa", "roi")
KPI = (
    "spend",
    "impressions",
    "clicks",
    "conversions",
    "net_return",
    "ctr",
    "cpc",
    "cpm",
    "cvr",
    "cpa",
    "roi",
    "roi_mean",
    "campaigns",
)
# DESIGN.md, "Semantic views": the column contract, written out here on purpose.
CONTRACT = {
    "vw_marketing_kpi": ("dt", *KPI),
    "vw_campaign_monthly": ("month", "channel", "campaign_type", *KPI),
    "vw_campaign_roi_map": (
        "channel",
        "spend",
        "net_return",
        "roi",
        "roi_mean",
        "roi_std",
        "campaigns",
        "ctr",
        "cpc",
        "cpm",
        "cpa",
    ),
    "vw_channel_stability": (
        "channel",
        "month_id",
        "spend",
        "impressions",
        "n",
        "roi_mean",
        "roi_std",
        "roi_cv",
        "roi_mom",
    ),
}
VIEW_KEYS = {
    "vw_marketing_kpi": ["dt"],
    "vw_campaign_monthly": ["month", "channel", "campaign_type"],
    "vw_campaign_roi_map": ["channel"],
    "vw_channel_stability": ["channel", "month_id"],
}
DATE_KEYS = ("dt", "month", "period")
HEADER = (
    "Campaign_ID,Company,Campaign_Type,Target_Audience,Duration,Channel_Used,Conversion_Rate,"
    "Acquisition_Cost,ROI,Location,Language,Clicks,Impressions,Engagement_Score,"
    "Customer_Segment,Date"
)
INJECTIONS = ("Email' OR '1'='1", "'; DROP TABLE campaign_performance; --")


# ---------------------------------------------------------------- helpers


def load(path: Path, url: str) -> None:
    [result] = ingest([path], url, progress=NoProgress())
    assert result.rows_loaded > 0


def loaded_rows(url: str) -> pd.DataFrame:
    """The loaded campaign rows, typed the same way whatever the engine."""
    with connect(url, read_only=True) as wh:
        columns, rows = wh.query(
            "SELECT channel, campaign_type, duration_days, date, spend, impressions, clicks,"
            " conversion_rate, roi, engagement_score, is_outlier FROM campaign_performance"
        )
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame["date"] = pd.to_datetime(frame["date"].astype(str))
    for name in ("spend", "conversion_rate", "roi", "engagement_score"):
        frame[name] = frame[name].astype("float64")
    for name in ("impressions", "clicks", "duration_days"):
        frame[name] = frame[name].astype("int64")
    frame["is_outlier"] = frame["is_outlier"].astype(bool)
    return frame


def table_count(url: str) -> int:
    with connect(url, read_only=True) as wh:
        return int(wh.scalar("SELECT COUNT(*) FROM campaign_performance"))


def _safe_div(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """A ratio that is NaN (SQL NULL) where the denominator is 0."""
    den = denominator.astype("float64")
    return numerator.astype("float64") / den.where(den != 0)


def aggregate(rows: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """DESIGN.md's metric dictionary over ``rows`` grouped by ``keys`` (all rows if none)."""
    work = rows.assign(
        _conv=rows["clicks"] * rows["conversion_rate"],
        _ret=rows["roi"] * rows["spend"],
        _all=0,
    )
    by = list(keys) or ["_all"]
    grouped = work.groupby(by, sort=True)
    out = pd.DataFrame(
        {
            "spend": grouped["spend"].sum(),
            "impressions": grouped["impressions"].sum(),
            "clicks": grouped["clicks"].sum(),
            "conversions": grouped["_conv"].sum(),
            "net_return": grouped["_ret"].sum(),
            "roi_mean": grouped["roi"].mean(),
            "roi_std": grouped["roi"].std(ddof=1),
            "engagement": grouped["engagement_score"].mean(),
            "campaigns": grouped.size(),
            "outliers": grouped["is_outlier"].sum(),
        }
    )
    out["ctr"] = _safe_div(out["clicks"], out["impressions"])
    out["cpc"] = _safe_div(out["spend"], out["clicks"])
    out["cpm"] = 1000 * _safe_div(out["spend"], out["impressions"])
    out["cvr"] = _safe_div(out["conversions"], out["clicks"])
    out["cpa"] = _safe_div(out["spend"], out["conversions"])
    out["roi"] = _safe_div(out["net_return"], out["spend"])
    out["roas"] = 1 + out["roi"]
    out["roi_cv"] = _safe_div(out["roi_std"], out["roi_mean"].abs())
    out["n"] = out["campaigns"]
    out = out.reset_index()
    return out.drop(columns=["_all"]) if not keys else out


def expected_view(name: str, rows: pd.DataFrame) -> pd.DataFrame:
    if name == "vw_marketing_kpi":
        return aggregate(rows, ["date"]).rename(columns={"date": "dt"})
    if name == "vw_campaign_monthly":
        monthly = rows.assign(month=rows["date"].dt.to_period("M").dt.to_timestamp())
        return aggregate(monthly, ["month", "channel", "campaign_type"])
    if name == "vw_campaign_roi_map":
        return aggregate(rows, ["channel"])
    assert name == "vw_channel_stability"
    out = aggregate(
        rows.assign(month_id=rows["date"].dt.strftime("%Y-%m")), ["channel", "month_id"]
    )
    out = out.sort_values(["channel", "month_id"])
    month = pd.PeriodIndex(out["month_id"], freq="M")
    index = pd.Series(month.year * 12 + month.month, index=out.index)
    adjacent = index - index.groupby(out["channel"]).shift(1) == 1
    previous = out.groupby("channel")["roi_mean"].shift(1).where(adjacent)
    out["roi_mom"] = _safe_div(out["roi_mean"] - previous, previous.abs())
    return out


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Engine types made plain: dates as timestamps, measures as floats."""
    frame = frame.copy()
    for column in frame.columns:
        if column in DATE_KEYS:
            frame[column] = pd.to_datetime(frame[column].astype(str))
        elif (
            column in METRICS
            or column in ("n", "roi_mom")
            or column.startswith(tuple(f"{m}_" for m in METRICS))
        ):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def read_view(url: str, name: str) -> pd.DataFrame:
    with connect(url, read_only=True) as wh:
        columns, rows = wh.query(f"SELECT * FROM {name}")
    return normalise(pd.DataFrame.from_records(rows, columns=columns))


def assert_same(
    actual: pd.DataFrame, expected: pd.DataFrame, keys: Sequence[str], columns: Sequence[str]
) -> None:
    """Same key rows (any order) and every value column equal to ``RTOL`` (NULL == NaN)."""
    keys = list(keys)
    actual = normalise(actual).sort_values(keys).reset_index(drop=True)
    expected = normalise(expected).sort_values(keys).reset_index(drop=True)
    assert len(actual) == len(expected)
    pd.testing.assert_frame_equal(actual[keys], expected[keys], check_dtype=False)
    for column in columns:
        if column in keys:
            continue
        got = actual[column].to_numpy(dtype="float64")
        want = expected[column].to_numpy(dtype="float64")
        assert np.isfinite(got[~np.isnan(got)]).all(), f"{column}: infinity"
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0, equal_nan=True, err_msg=column)


def mci_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mci", *args], capture_output=True, text=True, cwd=REPO
    )


def csv_line(
    campaign_id: int,
    channel: str,
    day: str,
    spend: str,
    clicks: int,
    impressions: int,
    roi: str = "3.50",
    conversion_rate: str = "0.08",
    campaign_type: str = "Email",
) -> str:
    return (
        f"{campaign_id},TechCorp,{campaign_type},All Ages,30 days,{channel},{conversion_rate},"
        f'"{spend}",{roi},Chicago,English,{clicks},{impressions},5,Foodies,{day}'
    )


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    dirty_export: tuple[Path, dict[str, Any]],
) -> tuple[str, pd.DataFrame]:
    """The dirty export loaded on each engine (once per module), and the rows that loaded.

    Loaded once because loading dominates the run time: tests using it only read (tests
    that write use ``db_url``, a fresh warehouse each).
    """
    url = url_for(request.param, request, tmp_path_factory.mktemp(request.param), "shared")
    load(dirty_export[0], url)
    return url, loaded_rows(url)


@pytest.fixture
def fresh(db_url: str, dirty_export: tuple[Path, dict[str, Any]]) -> tuple[str, pd.DataFrame]:
    """The dirty export loaded on a fresh warehouse of its own (for tests that write)."""
    load(dirty_export[0], db_url)
    return db_url, loaded_rows(db_url)


@pytest.fixture
def zero_day(db_url: str, tmp_path: Path) -> str:
    """A small export with one day (2021-01-02) where spend, clicks and impressions are 0.

    Website and YouTube only have zero rows in January (with ROI 0); YouTube has a normal row
    in February, so its month-on-month change has a zero base. Instagram's January ROI is
    negative (month-on-month and previous-period changes are relative to its magnitude); it
    has no March, so its April month-on-month change is NULL.
    """
    lines = [
        HEADER,
        csv_line(1, "Email", "2021-01-01", "$1,200.00", 120, 4000),
        csv_line(2, "Facebook", "2021-01-01", "$800.50", 64, 2500, roi="2.25"),
        csv_line(3, "Website", "2021-01-02", "$0.00", 0, 0, roi="0.00"),
        csv_line(4, "Website", "2021-01-02", "$0.00", 0, 0, roi="0.00", campaign_type="Search"),
        csv_line(5, "YouTube", "2021-01-02", "$0.00", 0, 0, roi="0.00"),
        csv_line(6, "Email", "2021-01-03", "$950.00", 90, 3100, roi="4.10"),
        csv_line(7, "YouTube", "2021-02-01", "$500.00", 40, 1500, roi="2.50"),
        csv_line(8, "Email", "2021-02-01", "$700.00", 50, 2000, roi="1.75"),
        csv_line(9, "Instagram", "2021-01-20", "$300.00", 30, 900, roi="-2.00"),
        csv_line(10, "Instagram", "2021-02-10", "$400.00", 20, 800, roi="1.00"),
        csv_line(11, "Email", "2021-02-28", "$640.00", 32, 1700, roi="2.00"),
        # Instagram skips March: April's month-on-month change has no previous month.
        csv_line(12, "Instagram", "2021-04-02", "$350.00", 25, 850, roi="1.50"),
    ]
    path = tmp_path / "zero.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [result] = ingest([path], db_url, progress=NoProgress())
    assert (result.rows_loaded, result.rows_quarantined) == (len(lines) - 1, 0)
    return db_url


# ---------------------------------------------------------------- 1-2: views


def test_view_columns_are_the_design_contract():
    assert set(VIEWS) == set(CONTRACT)
    assert {name: tuple(cols) for name, cols in VIEW_COLUMNS.items()} == CONTRACT


def test_views_have_the_contract_columns_in_order(warehouse):
    url, _ = warehouse
    with connect(url, read_only=True) as wh:
        for name in VIEWS:
            columns, _ = wh.query(f"SELECT * FROM {name} LIMIT 1")
            assert tuple(columns) == VIEW_COLUMNS[name], name


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_view_values_match_pandas(warehouse, dirty_export, name):
    url, rows = warehouse
    truth = dirty_export[1]["expected"]
    assert len(rows) == truth["rows_loaded"]  # computing from what loaded, not from the file
    actual = read_view(url, name)
    assert_same(actual, expected_view(name, rows), VIEW_KEYS[name], VIEW_COLUMNS[name])


def test_view_dates_are_first_days_and_month_ids_are_text(warehouse):
    url, rows = warehouse
    kpi = read_view(url, "vw_marketing_kpi")
    assert sorted(kpi["dt"]) == sorted(rows["date"].unique())
    monthly = read_view(url, "vw_campaign_monthly")
    assert (monthly["month"].dt.day == 1).all()
    stability = read_view(url, "vw_channel_stability")
    assert stability["month_id"].str.fullmatch(r"\d{4}-\d{2}").all()
    with connect(url, read_only=True) as wh:
        _, [[first]] = wh.query("SELECT MIN(month) FROM vw_campaign_monthly")
    assert str(first)[:10] == rows["date"].min().strftime("%Y-%m-01")


# ---------------------------------------------------------------- 3: engines agree


def test_every_engine_gives_the_same_views_and_queries(request, tmp_path, dirty_export):
    urls = {engine: url_for(engine, request, tmp_path, f"same_{engine}") for engine in ENGINES}
    for url in urls.values():
        load(dirty_export[0], url)
    reference, *others = ENGINES
    for name in VIEWS:
        base = read_view(urls[reference], name)
        assert len(base) > 0
        for engine in others:
            assert_same(read_view(urls[engine], name), base, VIEW_KEYS[name], VIEW_COLUMNS[name])
    every = list(METRICS)
    asks: list[tuple[dict[str, Any], list[str]]] = [
        ({"metrics": every, "grain": "week"}, ["period"]),
        ({"metrics": every, "by": ["channel"], "grain": "quarter"}, ["period", "channel"]),
        (
            {
                "metrics": ["ctr", "cpa", "roi_std", "roi_cv"],
                "by": ["campaign_type", "duration_days"],
                "where": {"channel": ["Email", "YouTube"]},
                "start": "2021-02-10",
                "end": "2021-08-20",
            },
            ["campaign_type", "duration_days"],
        ),
        (
            {
                "metrics": ["spend", "roi", "cpc"],
                "by": ["channel"],
                "grain": "month",
                "start": "2021-07-01",
                "end": "2021-09-30",
                "compare": "previous_period",
            },
            ["period", "channel"],
        ),
        ({"metrics": every}, []),
    ]
    for ask, keys in asks:
        frames = {engine: query(**ask, db=url) for engine, url in urls.items()}
        base = frames[reference]
        assert len(base) > 0
        for engine in others:
            assert list(frames[engine].columns) == list(base.columns), (engine, ask)
            if keys:
                assert_same(frames[engine], base, keys, list(base.columns))
            else:
                assert_same(frames[engine].assign(k=0), base.assign(k=0), ["k"], list(base.columns))


# ---------------------------------------------------------------- 4: zero denominators


def test_zero_denominators_are_null_in_views(zero_day):
    rows = loaded_rows(zero_day)
    kpi = read_view(zero_day, "vw_marketing_kpi").set_index("dt")
    zero = kpi.loc[pd.Timestamp("2021-01-02")]
    assert zero[list(RATIOS)].isna().all(), zero
    assert (zero["spend"], zero["clicks"], zero["campaigns"]) == (0, 0, 3)
    assert kpi.drop(index=pd.Timestamp("2021-01-02"))[list(RATIOS)].notna().all().all()

    roi_map = read_view(zero_day, "vw_campaign_roi_map").set_index("channel")
    assert roi_map.loc["Website", ["roi", "ctr", "cpc", "cpm", "cpa"]].isna().all()
    assert roi_map.loc["Email", ["roi", "ctr", "cpc", "cpm", "cpa"]].notna().all()

    monthly = read_view(zero_day, "vw_campaign_monthly")
    dead = monthly[
        monthly["channel"].isin(["Website", "YouTube"]) & (monthly["month"].dt.month == 1)
    ]
    assert len(dead) == 3 and dead[list(RATIOS)].isna().all().all()

    stability = read_view(zero_day, "vw_channel_stability").set_index(["channel", "month_id"])
    website = stability.loc[("Website", "2021-01")]
    assert website["roi_std"] == 0 and np.isnan(website["roi_cv"])  # 0 / |0| is NULL
    assert np.isnan(stability.loc[("YouTube", "2021-02"), "roi_mom"])  # previous mean is 0
    assert not np.isnan(stability.loc[("Email", "2021-02"), "roi_mom"])
    assert stability.loc[("Instagram", "2021-02"), "roi_mom"] > 0  # from -2 up to 1
    assert np.isnan(stability.loc[("Instagram", "2021-04"), "roi_mom"])  # March has no data

    for name in VIEWS:  # and everything else still matches pandas
        assert_same(
            read_view(zero_day, name),
            expected_view(name, rows),
            VIEW_KEYS[name],
            VIEW_COLUMNS[name],
        )


def test_zero_denominators_are_null_in_query(zero_day):
    ratios = [*RATIOS, "roas"]
    day = query(ratios, grain="day", start="2021-01-02", end="2021-01-02", db=zero_day)
    assert len(day) == 1 and day[ratios].isna().all().all()
    whole = query(ratios, where={"channel": ["Website", "YouTube"]}, end="2021-01-31", db=zero_day)
    assert len(whole) == 1 and whole[ratios].isna().all().all()
    by_channel = query(ratios, by=["channel"], db=zero_day).set_index("channel")
    assert by_channel.loc["Website"].isna().all()
    assert by_channel.loc[["Email", "Facebook", "YouTube"]].notna().all().all()
    assert np.isfinite(by_channel.to_numpy(dtype="float64")[by_channel.notna().to_numpy()]).all()


# ---------------------------------------------------------------- 5: ratios from sums


def test_query_recomputes_ratios_at_the_grain_asked_for(warehouse):
    url, rows = warehouse
    monthly = query(["cpc", "roi", "ctr"], grain="month", db=url)
    months = rows.assign(period=rows["date"].dt.to_period("M").dt.to_timestamp())
    expected = aggregate(months, ["period"])
    assert_same(monthly, expected, ["period"], ["cpc", "roi", "ctr"])

    daily = query(["cpc"], grain="day", db=url)
    mean_of_daily = daily.groupby(daily["period"].dt.to_period("M").dt.to_timestamp())["cpc"].mean()
    mean_of_rows = months.assign(cpc=_safe_div(months["spend"], months["clicks"]))
    mean_of_rows = mean_of_rows.groupby("period")["cpc"].mean()
    got = monthly.set_index("period")["cpc"]
    assert len(got) == 12
    for period, value in got.items():
        assert not np.isclose(value, mean_of_daily[period], rtol=1e-6, atol=0), period
        assert not np.isclose(value, mean_of_rows[period], rtol=1e-6, atol=0), period


def test_query_measures_by_dimensions_match_pandas(warehouse):
    url, rows = warehouse
    every = list(METRICS)
    frame = query(every, by=["channel", "duration_days"], grain="quarter", db=url)
    assert list(frame.columns) == ["period", "channel", "duration_days", *every]
    quarters = rows.assign(period=rows["date"].dt.to_period("Q").dt.to_timestamp())
    expected = aggregate(quarters, ["period", "channel", "duration_days"])
    assert_same(frame, expected, ["period", "channel", "duration_days"], every)

    weekly = query(["spend", "campaigns", "roi_std"], grain="week", db=url)
    monday = rows["date"] - pd.to_timedelta(rows["date"].dt.day_of_week, unit="D")
    assert_same(weekly, aggregate(rows.assign(period=monday), ["period"]), ["period"], ["spend"])
    assert (weekly["period"].dt.day_of_week == 0).all()

    whole = query(every, db=url)
    assert len(whole) == 1
    assert_same(whole.assign(k=0), aggregate(rows, []).assign(k=0), ["k"], every)


# ---------------------------------------------------------------- 6: filters are values


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_filter_values_are_never_sql(fresh, hostile):
    url, rows = fresh
    grouped = query(["spend", "roi"], by=["channel"], where={"channel": [hostile]}, db=url)
    assert grouped.empty
    whole = query(["spend", "cpc", "roi"], where={"channel": [hostile]}, db=url)
    assert len(whole) == 1 and whole.isna().all().all()
    counted = query(["campaigns"], where={"channel": [hostile, "Email"]}, db=url)
    assert int(counted["campaigns"].iloc[0]) == int((rows["channel"] == "Email").sum())
    assert table_count(url) == len(rows)
    with connect(url, read_only=True) as wh:
        assert all(wh.table_exists(name) for name in VIEWS)


def test_a_normal_filter_matches_pandas(warehouse):
    url, rows = warehouse
    every = list(METRICS)
    frame = query(every, by=["campaign_type"], where={"channel": ["Email"]}, db=url)
    email = rows[rows["channel"] == "Email"]
    assert_same(frame, aggregate(email, ["campaign_type"]), ["campaign_type"], every)
    assert set(frame["campaign_type"]) == set(email["campaign_type"])

    two = query(["spend", "campaigns"], by=["channel"], where={"channel": "Email"}, db=url)
    assert list(two["channel"]) == ["Email"]
    durations = sorted(rows["duration_days"].unique())[:2]
    chosen = rows[
        rows["duration_days"].isin(durations) & rows["channel"].isin(["Email", "Website"])
    ]
    frame = query(
        ["spend", "cpa"],
        by=["duration_days"],
        where={"channel": ["Email", "Website"], "duration_days": [str(d) for d in durations]},
        db=url,
    )
    assert_same(frame, aggregate(chosen, ["duration_days"]), ["duration_days"], ["spend", "cpa"])


def test_start_and_end_are_inclusive(warehouse):
    url, rows = warehouse
    start, end = pd.Timestamp("2021-03-01"), pd.Timestamp("2021-03-31")
    frame = query(
        ["campaigns", "spend", "roi"], grain="day", start="2021-03-01", end=end.date(), db=url
    )
    inside = rows[(rows["date"] >= start) & (rows["date"] <= end)]
    assert frame["period"].min() == start and frame["period"].max() == end
    assert_same(
        frame,
        aggregate(inside.rename(columns={"date": "period"}), ["period"]),
        ["period"],
        ["campaigns", "spend", "roi"],
    )
    one = query(["campaigns"], start="2021-03-31", end="2021-03-31", db=url)
    assert int(one["campaigns"].iloc[0]) == int((rows["date"] == end).sum()) > 0
    after = query(["campaigns"], start="2021-03-31", db=url)
    assert int(after["campaigns"].iloc[0]) == int((rows["date"] >= end).sum())
    with pytest.raises(ValueError, match="after"):
        query(["spend"], start="2021-04-01", end="2021-03-31", db=url)


# ---------------------------------------------------------------- 7: unknown names


def test_unknown_names_list_the_valid_ones(warehouse):
    url, _ = warehouse
    cases = [
        ({"metrics": ["spend", "revenue"]}, METRICS),
        ({"metrics": ["spend"], "by": ["region"]}, DIMENSIONS),
        ({"metrics": ["spend"], "grain": "year"}, GRAINS),
        ({"metrics": ["spend"], "where": {"region": ["x"]}}, DIMENSIONS),
    ]
    for ask, valid in cases:
        with pytest.raises(UnknownNameError) as caught:
            query(**ask, db=url)
        message = str(caught.value)
        assert all(name in message for name in valid), message


def test_an_unknown_by_name_is_refused_before_any_sql(fresh, monkeypatch):
    url, rows = fresh
    ran: list[str] = []
    original = connection.Warehouse.execute_native

    def spy(self, sql, params=None):
        ran.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(connection.Warehouse, "execute_native", spy)
    for hostile in ("channel; DROP TABLE x", "channel; DROP TABLE campaign_performance; --"):
        with pytest.raises(UnknownNameError, match="valid dimensions"):
            query(["spend"], by=[hostile], db=url)
    with pytest.raises(UnknownNameError):
        query(["spend; DROP TABLE campaign_performance"], db=url)
    assert ran == []
    monkeypatch.undo()
    assert table_count(url) == len(rows)


# ---------------------------------------------------------------- 8: previous period


def expected_comparison(
    rows: pd.DataFrame, metrics: Sequence[str], first: pd.Timestamp, last: pd.Timestamp
) -> pd.DataFrame:
    """Per channel: each metric over [first, last], over the window of equal length just
    before it, the delta and the delta relative to the previous value's magnitude."""
    length = last - first + pd.Timedelta(days=1)
    before_last = first - pd.Timedelta(days=1)
    before_first = before_last - length + pd.Timedelta(days=1)

    def window(lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
        chosen = rows[(rows["date"] >= lo) & (rows["date"] <= hi)]
        return aggregate(chosen, ["channel"]).set_index("channel")

    current, previous = window(first, last), window(before_first, before_last)
    expected = pd.DataFrame({"channel": current.index})
    for m in metrics:
        now = current[m].to_numpy(dtype="float64")
        before = previous[m].reindex(current.index).to_numpy(dtype="float64")
        expected[m] = now
        expected[f"{m}_previous"] = before
        expected[f"{m}_delta"] = now - before
        expected[f"{m}_delta_pct"] = (now - before) / np.where(before == 0, np.nan, np.abs(before))
    return expected


@pytest.mark.parametrize(
    ("start", "end", "previous_start"),
    [
        ("2021-04-01", "2021-06-30", "2020-12-31"),  # 91 days: 2020-12-31..2021-03-31
        ("2021-07-15", "2021-08-14", "2021-06-14"),  # 31 days, with data on both edges
    ],
)
def test_previous_period_is_the_window_of_equal_length_before(
    warehouse, start, end, previous_start
):
    url, rows = warehouse
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    length = (last - first).days + 1
    assert (first - pd.Timestamp(previous_start)).days == length
    metrics = ["spend", "roi", "cpc", "campaigns"]
    frame = query(
        metrics, by=["channel"], start=start, end=last.date(), compare="previous_period", db=url
    )
    expected_columns = ["channel"]
    for m in metrics:
        expected_columns += [m, f"{m}_previous", f"{m}_delta", f"{m}_delta_pct"]
    assert list(frame.columns) == expected_columns
    expected = expected_comparison(rows, metrics, first, last)
    assert expected[[f"{m}_previous" for m in metrics]].notna().all().all()
    assert_same(frame, expected, ["channel"], expected_columns)
    # internally consistent too
    delta = frame["roi"] - frame["roi_previous"]
    np.testing.assert_allclose(frame["roi_delta"], delta, rtol=RTOL)
    np.testing.assert_allclose(
        frame["roi_delta_pct"], delta / frame["roi_previous"].abs(), rtol=RTOL
    )


def test_previous_period_with_negative_and_missing_previous_values(zero_day):
    rows = loaded_rows(zero_day)
    first, last = pd.Timestamp("2021-02-01"), pd.Timestamp("2021-02-28")
    frame = query(
        ["spend", "roi"],
        by=["channel"],
        start=first.date(),
        end=last.date(),
        compare="previous_period",
        db=zero_day,
    )
    expected = expected_comparison(rows, ["spend", "roi"], first, last)
    assert_same(frame, expected, ["channel"], list(expected.columns))
    by_channel = frame.set_index("channel")
    assert by_channel.loc["Instagram", "roi_previous"] < 0  # relative to |previous|
    assert by_channel.loc["Instagram", "roi_delta_pct"] > 0
    assert np.isnan(by_channel.loc["Email", "roi_previous"])  # nothing in 01-04..01-31


def test_previous_period_with_a_grain_matches_periods_by_position(warehouse):
    url, rows = warehouse
    frame = query(
        ["spend", "roi"],
        by=["channel"],
        grain="month",
        start="2021-04-01",
        end="2021-06-30",
        compare="previous_period",
        db=url,
    )
    assert list(frame.columns[:2]) == ["period", "channel"]
    months = rows.assign(period=rows["date"].dt.to_period("M").dt.to_timestamp())

    def monthly(first: str, last: str) -> pd.DataFrame:
        chosen = months[(months["date"] >= first) & (months["date"] <= last)]
        return aggregate(chosen, ["channel", "period"])

    # Whole months at a month grain: the previous window is January to March (whole months),
    # not the 91 days from 31 December, which would pair April with a one-day December.
    current, previous = monthly("2021-04-01", "2021-06-30"), monthly("2021-01-01", "2021-03-31")
    records = []
    for channel, now in current.groupby("channel"):
        before = previous[previous["channel"] == channel].sort_values("period")
        for position, (_, row) in enumerate(now.sort_values("period").iterrows()):
            prior = before.iloc[position] if position < len(before) else None
            record = {"period": row["period"], "channel": channel}
            for m in ("spend", "roi"):
                old = np.nan if prior is None else prior[m]
                record |= {
                    m: row[m],
                    f"{m}_previous": old,
                    f"{m}_delta": row[m] - old,
                    f"{m}_delta_pct": (row[m] - old) / abs(old),
                }
            records.append(record)
    expected = pd.DataFrame.from_records(records)
    assert len(frame) == len(expected) > 0
    assert_same(frame, expected, ["period", "channel"], list(expected.columns))


def test_previous_period_needs_start_and_end(warehouse):
    url, _ = warehouse
    for bounds in ({}, {"start": "2021-04-01"}, {"end": "2021-06-30"}):
        with pytest.raises(ValueError, match="start and end"):
            query(["spend"], compare="previous_period", db=url, **bounds)
    with pytest.raises(ValueError, match="previous_period"):
        query(["spend"], start="2021-04-01", end="2021-06-30", compare="last_year", db=url)


# ---------------------------------------------------------------- 9: applying the views


def test_apply_views_is_idempotent(fresh):
    url, _ = fresh
    before = {name: read_view(url, name) for name in VIEWS}
    for _ in range(2):
        with connect(url) as wh:
            assert sorted(apply_views(wh)) == sorted(VIEWS)
    for name in VIEWS:
        after = read_view(url, name)
        assert_same(after, before[name], VIEW_KEYS[name], VIEW_COLUMNS[name])


def test_mci_views_creates_the_views(tmp_path, dirty_export):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    load(dirty_export[0], url)
    rows = loaded_rows(url)
    with connect(url) as wh:
        for name in VIEWS:
            wh.execute_native(f"DROP VIEW {name}")
        assert not any(wh.table_exists(name) for name in VIEWS)
    result = mci_cli("views", "--db", url)
    assert result.returncode == 0, result.stderr
    for name in VIEWS:
        assert name in result.stdout
        assert_same(
            read_view(url, name), expected_view(name, rows), VIEW_KEYS[name], VIEW_COLUMNS[name]
        )


# ---------------------------------------------------------------- 10 and the CLI


def test_readme_metric_table_is_generated_from_the_registry():
    table = metrics_markdown()
    assert all(f"`{name}`" in table for name in METRICS)
    assert table in (REPO / "README.md").read_text(encoding="utf-8")
    result = mci_cli("metrics", "--markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip("\n") == table


def test_cli_query_csv_matches_the_api(warehouse):
    db_url, _ = warehouse
    args = ["--metric", "roi", "--metric", "cpc", "--by", "channel", "--grain", "month"]
    args += ["--where", "channel=Email", "--from", "2021-01-01", "--to", "2021-03-31"]
    result = mci_cli("query", *args, "--db", db_url, "--format", "csv")
    assert result.returncode == 0, result.stderr
    records = list(csv.reader(io.StringIO(result.stdout)))
    assert records[0] == ["period", "channel", "roi", "cpc"]
    printed = pd.DataFrame.from_records(records[1:], columns=records[0])
    api = query(
        ["roi", "cpc"],
        by=["channel"],
        grain="month",
        where={"channel": ["Email"]},
        start="2021-01-01",
        end="2021-03-31",
        db=db_url,
    )
    assert len(printed) == len(api) == 3
    assert set(printed["channel"]) == {"Email"}
    assert_same(printed, api, ["period", "channel"], ["roi", "cpc"])


def test_dimension_values_in_one_query_match_the_rows(warehouse):
    url, rows = warehouse
    found = dimension_values(["channel", "campaign_type", "duration_days"], db=url)
    assert found["channel"] == sorted(rows["channel"].dropna().unique())
    assert found["campaign_type"] == sorted(rows["campaign_type"].dropna().unique())
    assert found["duration_days"] == sorted(str(v) for v in rows["duration_days"].unique())


def test_query_reuses_an_open_warehouse(warehouse):
    url, _ = warehouse
    with connect(url, read_only=True) as wh:
        first = query(["spend", "roi"], by=["channel"], db=wh)
        second = query(["spend", "roi"], by=["channel"], db=wh)  # still open after the first
        assert dimension_values(["channel"], db=wh)["channel"] == first["channel"].tolist()
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_frame_equal(first, query(["spend", "roi"], by=["channel"], db=url))

"""Trend analytics against the generator's planted truth, through the semantic layer (DuckDB)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mci.analytics import trends
from mci.datagen import generate
from mci.ingest.pipeline import ingest
from mci.semantic.api import query
from mci.semantic.registry import METRICS

SEEDS = (1, 2, 3)
ROWS = 40_000
# Which daily series carries each planted metric. A spend shock hits every campaign of the
# day, so it shows in spend per campaign; daily total spend also moves with how many
# campaigns ran (the weekly rhythm), which hides a x2.5 shock on some seeds.
SERIES = {"spend": "spend_per_campaign", "ctr": "ctr", "cvr": "cvr", "roi": "roi"}
# Ordinary days above |z| = 3.5 per 365-day series; at most 5 seen over these seeds.
MAX_FALSE_POSITIVES = 8
ADDITIVE = ("spend", "impressions", "clicks", "conversions", "net_return", "campaigns")


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def planted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp(f"trends{request.param}")
    export = folder / "export.csv"
    truth = generate(export, rows=ROWS, seed=request.param)
    url = f"duckdb:///{folder / 'w.duckdb'}"
    ingest([export], url)
    return url, truth


@pytest.fixture(scope="module")
def daily(planted: tuple[str, dict[str, Any]]) -> pd.DataFrame:
    url, _ = planted
    frame = trends.trend_series(url, ["spend", "campaigns", "ctr", "cvr", "roi"], grain="day")
    return trends.per_campaign(frame)


def _iso(period: pd.Series) -> list[str]:
    return period.dt.strftime("%Y-%m-%d").tolist()


def test_every_planted_anomaly_is_found_in_its_series(
    planted: tuple[str, dict[str, Any]], daily: pd.DataFrame
) -> None:
    _, truth = planted
    assert len(truth["anomalies"]) == 4
    planted_days = {a["date"] for a in truth["anomalies"]}
    for anomaly in truth["anomalies"]:
        column = SERIES[anomaly["metric"]]
        found = trends.anomalous_days(daily, column, by=[])
        dates = _iso(found["period"])
        assert anomaly["date"] in dates, (column, anomaly)
        # The planted day is the strongest deviation of its series.
        assert dates[0] == anomaly["date"], (column, found.head(3))
        hit = found.iloc[0]
        assert hit["direction"] == ("spike" if anomaly["factor"] > 1 else "dip")
        # Its effect on the trend (the day against the rolling median) is the planted one.
        assert hit["effect"] == pytest.approx(anomaly["realised_factor"], rel=0.2)
        false_positives = set(dates) - planted_days
        assert len(false_positives) <= MAX_FALSE_POSITIVES, (column, sorted(false_positives))


def test_a_spend_shock_does_not_show_in_ctr_cvr_or_roi(
    planted: tuple[str, dict[str, Any]], daily: pd.DataFrame
) -> None:
    _, truth = planted
    for anomaly in truth["anomalies"]:
        for metric, column in SERIES.items():
            if metric == anomaly["metric"]:
                continue
            scores = trends.robust_scores(daily, column, by=[])
            z = scores.loc[scores["period"] == pd.Timestamp(anomaly["date"]), "z"].iloc[0]
            assert abs(z) < 5, (anomaly, column, z)


def test_period_over_period_equals_two_direct_queries(
    planted: tuple[str, dict[str, Any]],
) -> None:
    url, truth = planted
    metrics = ["spend", "conversions", "roi", "ctr", "cpa"]
    start, end = dt.date(2021, 6, 1), dt.date(2021, 6, 30)
    pop = trends.period_over_period(url, metrics, start, end, by="channel").set_index("channel")
    current = query(metrics, by=["channel"], start=start, end=end, db=url).set_index("channel")
    previous = query(
        metrics, by=["channel"], start="2021-05-02", end="2021-05-31", db=url
    ).set_index("channel")
    assert sorted(pop.index) == sorted(truth["channels"])
    for m in metrics:
        np.testing.assert_allclose(pop[m], current.loc[pop.index, m], rtol=1e-12)
        np.testing.assert_allclose(pop[f"{m}_previous"], previous.loc[pop.index, m], rtol=1e-12)
        delta = current.loc[pop.index, m] - previous.loc[pop.index, m]
        np.testing.assert_allclose(pop[f"{m}_delta"], delta, rtol=1e-9)
        np.testing.assert_allclose(
            pop[f"{m}_delta_pct"], delta / previous.loc[pop.index, m].abs(), rtol=1e-9
        )


def test_headline_is_the_latest_window_against_the_one_before(
    planted: tuple[str, dict[str, Any]],
) -> None:
    url, truth = planted
    table = trends.headline(url)
    last = dt.date.fromisoformat(truth["start"]) + dt.timedelta(days=truth["days"] - 1)
    assert table.attrs["end"] == last
    assert table.attrs["start"] == last - dt.timedelta(days=29)
    assert table.attrs["previous_end"] == last - dt.timedelta(days=30)
    assert table.attrs["previous_start"] == last - dt.timedelta(days=59)
    assert table["metric"].tolist() == list(trends.HEADLINE_METRICS)
    rows = table.set_index("metric")
    direct = query(
        list(trends.HEADLINE_METRICS),
        start=table.attrs["previous_start"],
        end=table.attrs["previous_end"],
        db=url,
    ).iloc[0]
    current = query(
        list(trends.HEADLINE_METRICS), start=table.attrs["start"], end=last, db=url
    ).iloc[0]
    for m in trends.HEADLINE_METRICS:
        assert rows.loc[m, "current"] == pytest.approx(current[m], rel=1e-12)
        assert rows.loc[m, "previous"] == pytest.approx(direct[m], rel=1e-12)
        assert rows.loc[m, "better"] == METRICS[m].better
        good = rows.loc[m, "good"]
        if METRICS[m].better == "neutral":
            assert good is None
        else:
            assert good == ((rows.loc[m, "delta"] > 0) == (METRICS[m].better == "up"))


@pytest.mark.parametrize("by", [None, "channel"])
def test_week_and_month_series_sum_to_the_daily_totals(
    planted: tuple[str, dict[str, Any]], by: str | None
) -> None:
    url, _ = planted
    keys = [by] if by else []
    series = {g: trends.trend_series(url, ADDITIVE, grain=g, by=by) for g in trends.TREND_GRAINS}
    day = series["day"]
    assert day["period"].is_monotonic_increasing or by
    for grain in ("week", "month"):
        frame = series[grain]
        assert len(frame) < len(day)
        if keys:
            got = frame.groupby(keys)[list(ADDITIVE)].sum()
            want = day.groupby(keys)[list(ADDITIVE)].sum()
        else:
            got, want = frame[list(ADDITIVE)].sum(), day[list(ADDITIVE)].sum()
        np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-9)
    assert int(series["month"]["campaigns"].sum()) == ROWS
    assert series["month"]["period"].dt.is_month_start.all()
    weekday = series["week"]["period"].dt.day_of_week
    assert (weekday == weekday.iloc[0]).all()


def test_rolling_means_of_the_channel_series(planted: tuple[str, dict[str, Any]]) -> None:
    url, _ = planted
    weekly = trends.trend_series(url, ["spend", "roi"], grain="week", by="channel")
    out = trends.rolling(weekly, ["spend", "roi"], window=4)
    for _, group in out.groupby("channel"):
        want = group["spend"].rolling(4, min_periods=1).mean()
        np.testing.assert_allclose(group["spend_rolling"], want)
        assert group["period"].is_monotonic_increasing


def test_spend_ctr_dynamics_on_the_planted_export(
    planted: tuple[str, dict[str, Any]],
) -> None:
    url, truth = planted
    daily = trends.trend_series(url, ["spend", "ctr"], grain="day", by="channel")
    out = trends.spend_ctr_dynamics(daily)
    assert sorted(out["channel"]) == sorted(truth["channels"])
    assert out["n"].between(300, truth["days"]).all()
    assert np.isfinite(out[["elasticity", "stderr", "p_value", "correlation"]]).all().all()
    # The generator draws CTR independently of spend: no channel has a material elasticity.
    assert (out["elasticity"].abs() < 0.2).all(), out


def test_engagement_is_flat_on_the_planted_export(planted: tuple[str, dict[str, Any]]) -> None:
    url, truth = planted
    monthly = trends.trend_series(url, ["engagement"], grain="month", by="channel")
    out = trends.engagement_trend(monthly)
    assert len(out) == len(truth["channels"])
    assert (out["n"] == 12).all()
    # The generator plants no engagement trend: at most one channel looks significant.
    assert (out["direction"] != "flat").sum() <= 1, out

"""Unit tests of the trend analytics on synthetic frames (no warehouse)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mci.analytics import trends


def _daily(values: np.ndarray, channel: str | None = None, metric: str = "spend") -> pd.DataFrame:
    frame = pd.DataFrame(
        {"period": pd.date_range("2021-01-01", periods=len(values)), metric: values}
    )
    if channel is not None:
        frame.insert(0, "channel", channel)
    return frame


def test_rolling_is_a_trailing_mean_per_entity() -> None:
    a = _daily(np.array([1.0, 3.0, 5.0, 7.0]), "A")
    b = _daily(np.array([10.0, 20.0, 30.0, 40.0]), "B")
    frame = pd.concat([b, a], ignore_index=True).sample(frac=1.0, random_state=0)
    out = trends.rolling(frame, ["spend"], window=3)
    got = out.set_index(["channel", "period"])["spend_rolling"]
    assert got.loc["A"].tolist() == [1.0, 2.0, 3.0, 5.0]
    assert got.loc["B"].tolist() == [10.0, 15.0, 20.0, 30.0]


def test_rolling_without_entities_and_with_missing_values() -> None:
    frame = _daily(np.array([2.0, np.nan, 4.0]))
    out = trends.rolling(frame, ["spend"], window=2)
    assert out["spend_rolling"].tolist() == [2.0, 2.0, 4.0]


def test_rolling_rejects_an_empty_window() -> None:
    with pytest.raises(ValueError, match="window"):
        trends.rolling(_daily(np.ones(3)), ["spend"], window=0)


def _pop(**values: tuple[float, float]) -> pd.DataFrame:
    row: dict[str, float] = {}
    for m, (current, previous) in values.items():
        row[m] = current
        row[f"{m}_previous"] = previous
        row[f"{m}_delta"] = current - previous
        row[f"{m}_delta_pct"] = (current - previous) / abs(previous) if previous else np.nan
    return pd.DataFrame([row])


def test_headline_table_signs_percentages_and_direction() -> None:
    pop = _pop(roi=(1.5, 1.0), cpa=(12.0, 10.0), spend=(50.0, 100.0), ctr=(0.1, 0.1))
    table = trends.headline_table(pop, ["roi", "cpa", "spend", "ctr"]).set_index("metric")
    assert table.loc["roi", "delta"] == pytest.approx(0.5)
    assert table.loc["roi", "delta_pct"] == pytest.approx(0.5)
    assert table.loc["roi", "good"] is True  # up is better for ROI
    assert table.loc["cpa", "delta_pct"] == pytest.approx(0.2)
    assert table.loc["cpa", "good"] is False  # a dearer acquisition is bad
    assert table.loc["spend", "delta_pct"] == pytest.approx(-0.5)
    assert table.loc["spend", "better"] == "neutral"
    assert table.loc["spend", "good"] is None
    assert table.loc["ctr", "good"] is None  # no move
    assert table["better"].tolist() == ["up", "down", "neutral", "up"]


def test_headline_table_without_a_previous_value() -> None:
    table = trends.headline_table(_pop(roi=(1.0, 0.0)), ["roi"])
    assert np.isnan(table.loc[0, "delta_pct"])


def test_elasticity_recovers_a_known_slope_per_channel() -> None:
    rng = np.random.default_rng(7)
    frames = []
    for channel, slope in (("A", -0.3), ("B", 0.5)):
        spend = np.exp(rng.uniform(np.log(1_000), np.log(50_000), 365))
        ctr = 0.05 * spend**slope * np.exp(rng.normal(0, 0.1, 365))
        frames.append(pd.DataFrame({"channel": channel, "spend": spend, "ctr": ctr}))
    out = trends.spend_ctr_dynamics(pd.concat(frames)).set_index("channel")
    for channel, slope in (("A", -0.3), ("B", 0.5)):
        row = out.loc[channel]
        assert abs(row["elasticity"] - slope) < 4 * row["stderr"]
        assert row["stderr"] < 0.02
        assert row["p_value"] < 1e-6
        assert row["significant"]
        assert row["n"] == 365
    assert out.loc["A", "correlation"] < -0.9 < 0.9 < out.loc["B", "correlation"]


def test_elasticity_on_independent_noise_is_not_significant() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"spend": rng.uniform(1, 10, 200), "ctr": rng.uniform(0.01, 0.1, 200)})
    out = trends.spend_ctr_dynamics(frame, by=None)
    assert len(out) == 1
    assert not out.loc[0, "significant"]
    assert abs(out.loc[0, "elasticity"]) < 0.2


def test_elasticity_skips_days_without_spend_or_ctr() -> None:
    frame = pd.DataFrame({"spend": [0.0, 1.0, 2.0, 4.0, 8.0], "ctr": [0.1, 0.1, np.nan, 0.2, 0.4]})
    out = trends.spend_ctr_dynamics(frame)
    assert out.loc[0, "n"] == 3


def _monthly(values: np.ndarray, channel: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "channel": channel,
            "period": pd.date_range("2021-01-01", periods=len(values), freq="MS"),
            "engagement": values,
        }
    )


def test_engagement_trend_finds_a_rise_and_calls_noise_flat() -> None:
    rng = np.random.default_rng(1)
    rising = 5.0 + 0.2 * np.arange(12) + rng.normal(0, 0.05, 12)
    flat = 5.0 + rng.normal(0, 0.05, 12)
    out = trends.engagement_trend(
        pd.concat([_monthly(rising, "A"), _monthly(flat, "B")])
    ).set_index("channel")
    assert out.loc["A", "slope"] == pytest.approx(0.2, abs=0.02)
    assert out.loc["A", "direction"] == "rising"
    assert out.loc["A", "n"] == 12
    assert out.loc["A", "last"] - out.loc["A", "first"] == pytest.approx(11 * 0.2, abs=0.2)
    assert out.loc["B", "direction"] == "flat"
    assert out.loc["B", "p_value"] >= 0.05


def test_engagement_trend_counts_months_across_years() -> None:
    frame = pd.DataFrame(
        {
            "period": pd.to_datetime(["2021-11-01", "2021-12-01", "2022-01-01", "2022-02-01"]),
            "engagement": [1.0, 2.0, 3.0, 4.0],
        }
    )
    out = trends.engagement_trend(frame, by=None)
    assert out.loc[0, "slope"] == pytest.approx(1.0)


def test_anomalous_days_finds_planted_spikes_and_dips() -> None:
    rng = np.random.default_rng(11)
    values = 100.0 + rng.normal(0, 5, 365)
    values[50] *= 2.5
    values[200] *= 0.4
    out = trends.anomalous_days(_daily(values), "spend", z=6.0, by=[])
    day = (out["period"] - pd.Timestamp("2021-01-01")).dt.days
    assert sorted(day) == [50, 200]
    spike = out.set_index(day)
    assert spike.loc[50, "direction"] == "spike"
    assert spike.loc[200, "direction"] == "dip"
    assert spike.loc[50, "effect"] == pytest.approx(2.5, rel=0.15)
    assert spike.loc[200, "z"] < -3.5


def test_anomalous_days_per_entity() -> None:
    rng = np.random.default_rng(2)
    a = 10.0 + rng.normal(0, 1, 120)
    b = 1_000.0 + rng.normal(0, 100, 120)
    b[60] = 2_000.0  # an ordinary day for A's scale, a spike for B's
    frame = pd.concat([_daily(a, "A"), _daily(b, "B")], ignore_index=True)
    out = trends.anomalous_days(frame, "spend")
    assert out[["channel", "z"]].shape[0] == 1
    assert out.loc[0, "channel"] == "B"
    assert out.loc[0, "period"] == pd.Timestamp("2021-03-02")


def test_anomalous_days_finds_nothing_on_flat_noise() -> None:
    rng = np.random.default_rng(5)
    assert trends.anomalous_days(_daily(100.0 + rng.normal(0, 5, 365)), "spend").empty
    assert trends.anomalous_days(_daily(np.full(60, 3.0)), "spend").empty


def test_robust_scores_handle_a_constant_baseline() -> None:
    values = np.full(40, 3.0)
    values[20] = 9.0
    scores = trends.robust_scores(_daily(values), "spend")
    assert np.isinf(scores.loc[20, "z"])
    assert (scores.drop(index=20)["z"] == 0).all()


def test_per_campaign_divides_by_the_campaign_count() -> None:
    frame = pd.DataFrame({"spend": [10.0, 5.0], "campaigns": pd.array([2, 0], dtype="Int64")})
    out = trends.per_campaign(frame)
    assert out.loc[0, "spend_per_campaign"] == 5.0
    assert np.isnan(out.loc[1, "spend_per_campaign"])


def test_trend_series_rejects_other_grains() -> None:
    with pytest.raises(ValueError, match="grain"):
        trends.trend_series(None, ["spend"], grain="quarter")

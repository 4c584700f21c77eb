"""Unit tests of the diagnostics' statistics and pure functions (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mci.analytics import (
    LABELS,
    bootstrap_ratio_ci,
    consistency_ranking,
    holm,
    label,
    permutation_test,
    quadrants,
    roi_stability,
    smooth,
    welch_anova,
)
from mci.analytics._stats import bootstrap_stat_ci, cv, kruskal, welch_t
from mci.analytics.stability import _toy_frames

# ---------------------------------------------------------------- Welch ANOVA


def _welch_by_hand(groups: list[list[float]]) -> tuple[float, float]:
    """Welch (1951), written out term by term with plain Python."""
    k = len(groups)
    n = [len(g) for g in groups]
    m = [sum(g) / len(g) for g in groups]
    v = [sum((x - mi) ** 2 for x in g) / (len(g) - 1) for g, mi in zip(groups, m, strict=True)]
    w = [ni / vi for ni, vi in zip(n, v, strict=True)]
    big_w = sum(w)
    grand = sum(wi * mi for wi, mi in zip(w, m, strict=True)) / big_w
    numerator = sum(wi * (mi - grand) ** 2 for wi, mi in zip(w, m, strict=True)) / (k - 1)
    lam = sum((1 - wi / big_w) ** 2 / (ni - 1) for wi, ni in zip(w, n, strict=True))
    f_stat = numerator / (1 + 2 * (k - 2) / (k * k - 1) * lam)
    df2 = (k * k - 1) / (3 * lam)
    return f_stat, float(stats.f.sf(f_stat, k - 1, df2))


def test_welch_anova_matches_a_hand_computation():
    groups = [[1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.5]]
    f_stat, p = welch_anova(groups)
    hand_f, hand_p = _welch_by_hand(groups)
    assert f_stat == pytest.approx(hand_f, rel=1e-12)
    assert p == pytest.approx(hand_p, rel=1e-12)
    assert f_stat == pytest.approx(13.1069218, rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_welch_anova_matches_scipy_welch(seed):
    rng = np.random.default_rng(seed)
    groups = [rng.normal(mu, sd, n) for mu, sd, n in ((0, 1, 10), (0.5, 3, 25), (1, 0.5, 7))]
    ours = welch_anova(groups)
    theirs = stats.f_oneway(*groups, equal_var=False)
    assert ours == pytest.approx((theirs.statistic, theirs.pvalue), rel=1e-10)


def test_welch_anova_with_two_groups_is_welchs_t_test():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 30), rng.normal(0.7, 2, 12)
    f_stat, p = welch_anova([a, b])
    t = stats.ttest_ind(a, b, equal_var=False)
    assert f_stat == pytest.approx(t.statistic**2)
    assert p == pytest.approx(t.pvalue)
    assert welch_t(a, b) == pytest.approx(t.pvalue)


def test_welch_anova_is_shift_invariant_and_needs_two_usable_groups():
    groups = [[1.0, 2.0, 4.0], [3.0, 5.0, 6.0, 8.0]]
    shifted = [[x + 100 for x in g] for g in groups]
    assert welch_anova(groups) == pytest.approx(welch_anova(shifted))
    assert np.isnan(welch_anova([[1.0, 2.0]])[0])
    assert np.isnan(welch_anova([[1.0, 2.0], [3.0]])[1])  # one value: no variance
    assert np.isnan(welch_anova([[1.0, 2.0], [3.0, 3.0]])[1])  # zero variance


# ---------------------------------------------------------------- Holm


def test_holm_matches_a_known_example():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_keeps_nan_out_of_the_count():
    adjusted = holm([0.5, np.nan, 0.01])
    assert adjusted[0] == 0.5 and np.isnan(adjusted[1]) and adjusted[2] == 0.02
    assert holm([0.6, 0.7]).tolist() == [1.0, 1.0]
    assert holm([]).size == 0


# ---------------------------------------------------------------- bootstrap


def test_bootstrap_ratio_ci_covers_the_true_ratio_most_of_the_time():
    rng = np.random.default_rng(42)
    true_ratio, covered, trials = 4.0, 0, 200
    for _ in range(trials):
        spend = rng.uniform(50, 150, 80)
        net = spend * (true_ratio + rng.normal(0, 1.0, spend.size))
        est, low, high = bootstrap_ratio_ci(net, spend, n_boot=500, rng=rng)
        assert low <= est <= high
        covered += low <= true_ratio <= high
    assert 0.88 <= covered / trials <= 0.99


def test_bootstrap_ratio_ci_is_the_spend_weighted_ratio_and_deterministic():
    num, den = [10.0, 2.0, 30.0, 4.0], [1.0, 1.0, 5.0, 2.0]
    first = bootstrap_ratio_ci(num, den, n_boot=300, rng=np.random.default_rng(7))
    again = bootstrap_ratio_ci(num, den, n_boot=300, rng=np.random.default_rng(7))
    other = bootstrap_ratio_ci(num, den, n_boot=300, rng=np.random.default_rng(8))
    assert first[0] == pytest.approx(46.0 / 9.0)  # sum/sum, not the mean of ratios
    assert first == again
    assert first != other
    assert all(np.isnan(bootstrap_ratio_ci([], [], rng=np.random.default_rng(0))))
    with pytest.raises(ValueError, match="same length"):
        bootstrap_ratio_ci([1.0], [1.0, 2.0], rng=np.random.default_rng(0))


def test_bootstrap_stat_ci_and_cv():
    values = [4.0, 5.0, 6.0, 5.5, 4.5]
    est, low, high = bootstrap_stat_ci(values, cv, n_boot=400, rng=np.random.default_rng(1))
    assert est == pytest.approx(np.std(values, ddof=1) / np.mean(values))
    assert low <= est <= high
    assert np.isnan(cv([1.0])) and np.isnan(cv([1.0, -1.0]))


# ---------------------------------------------------------------- permutation / rank tests


def _spread(groups):
    return float(np.ptp([g.mean() for g in groups]))


def test_permutation_test_separates_signal_from_noise_and_is_seeded():
    rng = np.random.default_rng(5)
    apart = [rng.normal(0, 1, 20), rng.normal(3, 1, 20)]
    same = [rng.normal(0, 1, 20), rng.normal(0, 1, 20)]
    assert permutation_test(_spread, apart, 500, np.random.default_rng(0)) < 0.01
    assert permutation_test(_spread, same, 500, np.random.default_rng(0)) > 0.05
    p1 = permutation_test(_spread, same, 300, np.random.default_rng(9))
    p2 = permutation_test(_spread, same, 300, np.random.default_rng(9))
    assert p1 == p2
    assert 1 / 301 <= p1 <= 1


def test_permutation_test_p_values_are_roughly_uniform_under_the_null():
    rng = np.random.default_rng(11)
    ps = [
        permutation_test(_spread, [rng.normal(0, 1, 10) for _ in range(3)], 199, rng)
        for _ in range(200)
    ]
    assert 0.01 <= np.mean(np.array(ps) < 0.05) <= 0.12


def test_kruskal_wraps_scipy():
    groups = [[1.0, 2.0, 3.0], [2.5, 3.5, 4.5], [9.0, 8.0, 7.0]]
    assert kruskal(groups) == pytest.approx(stats.kruskal(*groups).pvalue)
    assert np.isnan(kruskal([[1.0, 2.0]]))


# ---------------------------------------------------------------- stability (pure)


def test_smooth_rolling_and_ewma():
    frame = pd.DataFrame(
        {
            "channel": ["A"] * 3 + ["B"] * 3,
            "period": list(pd.date_range("2021-01-01", periods=3, freq="MS")) * 2,
            "spend": 1.0,
            "roi": [1.0, 3.0, 5.0, 2.0, 2.0, 8.0],
        }
    )
    out = smooth(frame, window=2, ewm_alpha=0.5)
    a = out[out["entity"] == "A"]
    assert a["roi_rolling"].tolist()[1:] == [2.0, 4.0]
    assert np.isnan(a["roi_rolling"].iloc[0])
    assert a["roi_ewma"].tolist() == [1.0, 2.0, 3.5]
    b = smooth(frame, window=3)
    assert b[b["entity"] == "B"]["roi_rolling"].iloc[-1] == pytest.approx(4.0)


def test_consistency_ranking_is_the_originals_rule():
    table = pd.DataFrame(
        {
            "entity": ["A", "B", "C", "D", "E"],
            "spend": [1.0, 5.0, 3.0, 4.0, 3.0],
            "roi_cv_within": [0.01, 0.30, 0.20, 0.20, 0.10],
            "roi_mean": [9.0, 4.0, 3.0, 5.0, 1.0],
        }
    )
    ranked = consistency_ranking(table)
    # median spend 3: A (spend 1) is out; ties on CV broken by mean ROI descending
    assert ranked["entity"].tolist() == ["E", "D", "C", "B"]
    assert ranked["rank"].tolist() == [1, 2, 3, 4]


def test_roi_stability_on_toy_frames_is_deterministic():
    monthly, daily = _toy_frames()
    first = roi_stability(monthly, daily, n_boot=200, n_perm=200, seed=3)
    again = roi_stability(monthly, daily, n_boot=200, n_perm=200, seed=3)
    pd.testing.assert_frame_equal(first.table, again.table)
    assert first.roi_p_value == again.roi_p_value and first.cv_p_value == again.cv_p_value
    assert first.roi_differs and (first.best_roi, first.worst_roi) == ("A", "B")
    row = first.table.set_index("entity").loc["A"]
    assert row["roi_low"] <= row["roi"] <= row["roi_high"]
    assert set(first.smoothed.columns) == {"entity", "period", "roi", "roi_rolling", "roi_ewma"}


def test_roi_stability_names_nobody_when_entities_are_alike():
    rng = np.random.default_rng(0)
    days = pd.date_range("2021-01-01", periods=180, freq="D")
    daily = pd.concat(
        pd.DataFrame({"channel": c, "period": days, "spend": rng.uniform(1, 2, days.size)})
        for c in "ABC"
    )
    daily["roi"] = 5.0 + rng.normal(0, 1, len(daily))
    daily["net_return"] = daily["roi"] * daily["spend"]
    monthly = (
        daily.assign(period=daily["period"].dt.to_period("M").dt.to_timestamp())
        .groupby(["channel", "period"], as_index=False)[["spend", "net_return"]]
        .sum()
    )
    monthly["roi"] = monthly["net_return"] / monthly["spend"]
    monthly["roi_mean"], monthly["roi_std"], monthly["roi_cv"] = monthly["roi"], 1.0, 0.2
    report = roi_stability(monthly, daily, n_boot=200, n_perm=300, seed=0)
    assert not report.roi_differs and report.roi_p_value > 0.05
    assert report.best_roi is None and report.worst_roi is None
    assert not report.cv_differs and report.most_volatile is None


# ---------------------------------------------------------------- quadrants (pure)


def test_label_counts_a_value_equal_to_the_threshold_as_high():
    assert label(2.0, 5.0, 2.0, 5.0) == "High Scale • High ROI"
    assert label(1.0, 4.9, 2.0, 5.0) == "Low Scale • Low ROI"
    assert set(LABELS) == {label(s, r, 1.5, 1.5) for s in (1, 2) for r in (1, 2)}


def _three_entities() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(1)
    days = pd.date_range("2021-01-01", periods=100, freq="D")
    frames = []
    for entity, level, scale in (("A", 6.0, 3.0), ("B", 4.0, 2.0), ("C", 4.1, 1.0)):
        spend = scale * rng.uniform(100, 200, days.size)
        frames.append(
            pd.DataFrame(
                {
                    "channel": entity,
                    "period": days,
                    "spend": spend,
                    "net_return": spend * (level + rng.normal(0, 0.5, days.size)),
                }
            )
        )
    daily = pd.concat(frames, ignore_index=True)
    daily["roi"] = daily["net_return"] / daily["spend"]
    by_entity = daily.groupby("channel", as_index=False)[["spend", "net_return"]].sum()
    by_entity["roi"] = by_entity["net_return"] / by_entity["spend"]
    return by_entity, daily


def test_quadrants_median_and_portfolio_thresholds():
    by_entity, daily = _three_entities()
    median = quadrants(by_entity, daily, n_boot=200, seed=0).set_index("entity")
    # three entities: B is the median on both axes and so counts as High on both
    assert median["label"].to_dict() == {
        "A": "High Scale • High ROI",
        "B": "High Scale • Low ROI",
        "C": "Low Scale • High ROI",
    }
    assert bool(median.loc["A", "significant"])
    assert (median["roi_low"] <= median["roi"]).all() and (
        median["roi"] <= median["roi_high"]
    ).all()
    assert (median["p_adjusted"] >= median["p_value"]).all()
    assert median.attrs["roi_threshold"] == pytest.approx(by_entity["roi"].median())
    portfolio = quadrants(by_entity, daily, threshold="portfolio", n_boot=200).set_index("entity")
    assert portfolio["label"].to_dict() == {
        "A": "High Scale • High ROI",
        "B": "High Scale • Low ROI",
        "C": "Low Scale • Low ROI",
    }
    again = quadrants(by_entity, daily, n_boot=200, seed=0).set_index("entity")
    pd.testing.assert_frame_equal(median, again)
    with pytest.raises(ValueError, match="threshold"):
        quadrants(by_entity, daily, threshold="mean")  # type: ignore[arg-type]


def test_vectorised_paths_give_the_loops_results():
    from mci.analytics._stats import bootstrap_stat_ci, cv, cv_rows, permutation_test
    from mci.analytics.stability import _cv_spread, _cv_spread_rows

    data = np.random.default_rng(1)
    months = data.normal(5.0, 0.5, 12)
    looped = bootstrap_stat_ci(months, cv, n_boot=400, rng=np.random.default_rng(3))
    fast = bootstrap_stat_ci(months, cv, n_boot=400, rng=np.random.default_rng(3), rowwise=cv_rows)
    assert fast == pytest.approx(looped, rel=1e-12)
    groups = [data.normal(1.0, s, 12) for s in (0.05, 0.1, 0.3, 0.02)]
    p_loop = permutation_test(_cv_spread, groups, 300, np.random.default_rng(9))
    p_fast = permutation_test(
        _cv_spread, groups, 300, np.random.default_rng(9), batched=_cv_spread_rows
    )
    assert p_fast == p_loop < 0.05

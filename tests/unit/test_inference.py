"""The statistics under the channel diagnosis: period-clustered levels, Holm, groups,
shrinkage, level shifts and volatility tests (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from mci.analytics._inference import (
    fit_levels,
    holm,
    levels_of,
    pairwise,
    separated_top,
    shrink,
)
from mci.analytics.quadrant import LABELS, label
from mci.analytics.stability import (
    consistency_ranking,
    cv_around_level,
    level_shifts,
    segment_levels,
    shift_p_value,
    smooth,
    volatility_pairs,
)


def _cells(levels: dict[str, float], months: int, rng, shock: float = 0.2, spend=None):
    rows = []
    for m in range(months):
        for entity, level in levels.items():
            s = 1.0 if spend is None else spend(rng)
            rows.append((entity, m, s, s * (level + rng.normal(0, shock))))
    return pd.DataFrame(rows, columns=["entity", "period", "spend", "net_return"])


def test_levels_are_spend_weighted_roi_and_clustered_by_period():
    rng = np.random.default_rng(0)
    cells = _cells({"A": 5.0, "B": 4.0}, 12, rng, spend=lambda r: r.uniform(1, 3))
    fit = fit_levels(cells)
    sums = cells.groupby("entity")[["net_return", "spend"]].sum()
    for entity in "AB":
        assert fit.level(entity) == pytest.approx(
            sums.loc[entity, "net_return"] / sums.loc[entity, "spend"], rel=1e-12
        )
    assert (fit.periods, fit.df) == (12, 11)


def test_with_equal_weights_a_pair_is_a_paired_t_test_on_its_periods():
    rng = np.random.default_rng(1)
    cells = _cells({"A": 5.0, "B": 4.9, "C": 5.1}, 10, rng, shock=0.3)
    fit = fit_levels(cells)
    pairs = pairwise(fit, levels_of(fit, ["A", "B", "C"]), 0.05).set_index(["a", "b"])
    wide = cells.assign(roi=cells["net_return"] / cells["spend"]).pivot(
        index="period", columns="entity", values="roi"
    )
    for a, b in (("A", "B"), ("A", "C"), ("B", "C")):
        paired = stats.ttest_rel(wide[a], wide[b])
        # statsmodels' CR1 factor (N-1)/(N-K) = 29/27 scales the variance
        assert pairs.loc[(a, b), "difference"] == pytest.approx(wide[a].mean() - wide[b].mean())
        t = pairs.loc[(a, b), "difference"] / pairs.loc[(a, b), "se"]
        assert t == pytest.approx(paired.statistic / np.sqrt(29 / 27), rel=1e-9)


def test_a_shock_shared_by_all_entities_in_a_period_cancels_in_comparisons():
    rng = np.random.default_rng(2)
    cells = _cells({"A": 5.0, "B": 5.3}, 12, rng, shock=0.02)
    common = rng.normal(0, 2.0, 12)  # huge, but shared by both in each period
    cells["net_return"] += cells["spend"] * common[cells["period"]]
    fit = fit_levels(cells)
    pair = pairwise(fit, levels_of(fit, ["A", "B"]), 0.05).iloc[0]
    assert pair["significant"] and pair["p_value"] < 1e-6


def test_fit_needs_two_periods():
    cells = _cells({"A": 5.0, "B": 4.0}, 1, np.random.default_rng(0))
    assert fit_levels(cells) is None


def test_holm_matches_statsmodels():
    p = np.random.default_rng(3).uniform(0, 0.2, 15)
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1], rel=1e-12)
    assert np.isnan(holm([np.nan, 0.01])[0]) and holm([np.nan, 0.01])[1] == 0.01


def test_a_group_is_named_only_when_every_member_beats_every_non_member():
    order = ["A", "B", "C", "D", "E", "F"]
    beats = {("A", x) for x in order[1:]}
    assert separated_top(order, beats) == ["A"]
    beats = {(a, b) for a in "AB" for b in "CDEF"}
    assert separated_top(order, beats) == ["A", "B"]
    beats -= {("B", "F")}
    assert separated_top(order, beats) is None
    # never more than half: "the other five trail" is the leader said twice
    assert separated_top(order[::-1], {(b, a) for a, b in {("A", x) for x in order[1:]}}) is None


def test_shrinkage_moves_the_uncertain_most_and_keeps_the_target():
    estimates = np.array([5.0, 5.4, 4.8, 9.0])
    ses = np.array([0.05, 0.05, 0.05, 2.0])
    shrunk, tau2 = shrink(estimates, ses, 5.1, basis=np.array([True, True, True, False]))
    assert tau2 > 0
    moved = np.abs(shrunk - estimates)
    assert moved[3] > 10 * moved[:3].max()
    assert abs(shrunk[3] - 5.1) < abs(estimates[3] - 5.1)
    assert shrunk[0] < shrunk[1] and shrunk[2] < shrunk[0]  # the established keep their order


def test_a_level_shift_is_found_and_dated():
    rng = np.random.default_rng(4)
    series = np.r_[np.full(7, 5.0), np.full(5, 2.5)] + rng.normal(0, 0.1, 12)
    assert level_shifts(series, alpha=0.05, rng=rng) == [7]
    levels = segment_levels(series, np.ones(12), [7])
    assert levels[0] == pytest.approx(series[:7].mean()) and levels[-1] < 3


def test_a_stable_series_has_no_shift_and_p_values_are_uniform():
    rng = np.random.default_rng(5)
    p = np.array([shift_p_value(rng.normal(0, 1, 12), rng, 199) for _ in range(300)])
    assert 0.02 <= (p < 0.05).mean() <= 0.09
    assert level_shifts(rng.normal(0, 1, 12), alpha=0.05, rng=rng, first_p=0.5) == []


def test_volatility_is_compared_with_evidence_and_without_false_alarms_on_heavy_tails():
    rng = np.random.default_rng(6)
    devs = {
        "A": rng.normal(0, 0.30, 12),
        "B": rng.normal(0, 0.03, 12),
        "C": rng.normal(0, 0.03, 12),
    }
    cvs = {k: cv_around_level(v, 1) for k, v in devs.items()}
    pairs = volatility_pairs(devs, cvs, 0.05, rng).set_index(["a", "b"])
    assert pairs.loc[("A", "B"), "significant"] and pairs.loc[("A", "C"), "significant"]
    assert not pairs.loc[("B", "C"), "significant"]
    false = 0
    for _ in range(60):
        heavy = {k: 0.05 * rng.standard_t(2, 12) for k in "ABC"}
        cvs = {k: cv_around_level(v, 1) for k, v in heavy.items()}
        false += volatility_pairs(heavy, cvs, 0.05, rng)["significant"].any()
    assert false <= 6


def test_labels_and_the_originals_views():
    assert label(2.0, 5.0, 2.0, 5.0) == "High Scale • High ROI"
    assert label(1.0, 4.9, 2.0, 5.0) == "Low Scale • Low ROI"
    assert set(LABELS) == {label(s, r, 1.5, 1.5) for s in (1, 2) for r in (1, 2)}
    table = pd.DataFrame(
        {
            "entity": ["A", "B", "C", "D", "E"],
            "spend": [1.0, 5.0, 3.0, 4.0, 3.0],
            "roi_cv_within": [0.01, 0.30, 0.20, 0.20, 0.10],
            "roi_mean": [9.0, 4.0, 3.0, 5.0, 1.0],
        }
    )
    assert consistency_ranking(table)["entity"].tolist() == ["E", "D", "C", "B"]
    frame = pd.DataFrame(
        {
            "channel": ["A"] * 3,
            "period": pd.date_range("2021-01-01", periods=3, freq="MS"),
            "roi": [1.0, 3.0, 5.0],
            "spend": 1.0,
        }
    )
    out = smooth(frame, window=2, ewm_alpha=0.5)
    assert out["roi_rolling"].tolist()[1:] == [2.0, 4.0] and out["roi_ewma"].tolist() == [1, 2, 3.5]


def test_the_vectorised_variance_test_is_scipys_permutation_test():
    from mci.analytics.stability import _log_variance_ratio, _variance_p

    rng = np.random.default_rng(7)
    x, y = rng.normal(0, 0.12, 12), rng.normal(0, 0.05, 12)
    ours = _variance_p(x, y, np.random.default_rng(1), 49_999)
    theirs = stats.permutation_test(
        (x, y), _log_variance_ratio, vectorized=True, n_resamples=49_999, random_state=2
    ).pvalue
    assert ours == pytest.approx(theirs, abs=0.006)  # Monte Carlo error of both
    null = [_variance_p(rng.normal(0, 1, 12), rng.normal(0, 1, 12), rng, 199) for _ in range(400)]
    assert 0.02 <= np.mean(np.array(null) < 0.05) <= 0.08

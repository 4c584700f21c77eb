"""The channel diagnosis on data shaped like real exports (the calibration scenarios), its
sentences, and its calibration (a fast run of ``make bench-calibration``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mci.analytics import diagnose
from mci.analytics.calibration import calibrate
from mci.datagen.scenarios import NEW_CHANNEL, SCENARIOS, cells, simulate, spread
from mci.report.sentences import SECTIONS, channel_sentences

ROWS = 120_000


def _diagnose(name: str, seed: int = 11, rows: int = ROWS, **options):
    data = simulate(SCENARIOS[name], seed=seed, rows=rows)
    return diagnose(cells(data), spread(data), **options), data


def test_shared_monthly_shocks_are_not_mistaken_for_a_winner():
    found, data = _diagnose("month_shocks")
    # What the first version did: Welch's ANOVA on daily ROI calls this noise a finding.
    frame = data.frame()
    daily = frame.assign(net=frame["roi"] * frame["spend"]).groupby(["channel", "date"])
    daily_roi = (daily["net"].sum() / daily["spend"].sum()).rename("roi").reset_index()
    groups = [g["roi"].to_numpy() for _, g in daily_roi.groupby("channel")]
    assert stats.f_oneway(*groups, equal_var=False).pvalue < 1e-6
    assert found.status == "ok" and found.best is None and found.worst is None
    assert found.leading is None and found.trailing is None
    assert not found.advice.recommend and found.advice.reason == "no_difference"
    assert not found.pairs["significant"].any()


def test_one_better_channel_is_named_best_and_nobody_worst():
    found, _ = _diagnose("better_10")
    assert found.best == "Email" and found.worst is None
    assert found.advice.recommend
    assert set(found.advice.shifts["to"]) == {"Email"}
    table = found.table.set_index("entity")
    assert table.loc["Email", "roi_low"] > table.drop(index="Email")["roi"].max()
    assert table.loc["Email", "rank"] == 1


def test_a_new_channel_with_fifty_rows_is_shrunk_and_never_named_or_funded():
    found, _ = _diagnose("new_channel")
    table = found.table.set_index("entity")
    new = table.loc[NEW_CHANNEL]
    assert not new["compared"] and set(new["evidence_missing"].split(",")) >= {"campaigns"}
    assert new["roi"] > table.drop(index=NEW_CHANNEL)["roi"].max()  # it looks best, raw
    assert abs(new["roi_shrunk"] - found.portfolio_roi) < abs(new["roi"] - found.portfolio_roi)
    assert new["rank"] > 1  # the ranking is by shrunk ROI
    assert NEW_CHANNEL not in {found.best, found.worst}
    assert NEW_CHANNEL not in set(found.pairs["a"]) | set(found.pairs["b"])
    said = channel_sentences(found.to_dict())
    assert any(NEW_CHANNEL in s and "never named" in s for s in said["evidence"])


def test_a_mix_effect_is_said_and_no_advice_rests_on_it():
    found, _ = _diagnose("simpson")
    flips = {(f["raw_winner"], f["adjusted_winner"]) for f in found.mix.flips}
    assert ("Facebook", "Email") in flips
    table = found.table.set_index("entity")
    assert table.loc["Email", "roi"] < table.loc["Facebook", "roi"]
    assert table.loc["Email", "roi_mix_adjusted"] > table.loc["Facebook", "roi_mix_adjusted"]
    advice = found.advice
    moved = set(advice.shifts["from"]) | set(advice.shifts["to"]) if advice.recommend else set()
    assert not moved & {"Email", "Facebook"}
    said = channel_sentences(found.to_dict())
    assert any("**Facebook** ranks above **Email**" in s for s in said["mix"])
    assert any("campaign type" in s for s in said["mix"])


def test_a_level_shift_is_dated_and_not_called_volatility():
    found, _ = _diagnose("shifted")
    shift = found.shifts.set_index("entity").loc["Google Ads"]
    assert shift["date"] == "2021-07-01"
    assert shift["before"] == pytest.approx(5.0, rel=0.03)
    assert shift["after"] == pytest.approx(2.5, rel=0.03)
    assert found.most_volatile != "Google Ads"
    table = found.table.set_index("entity")
    assert table.loc["Google Ads", "roi_now"] == pytest.approx(shift["after"], rel=1e-9)
    assert table.loc["Google Ads", "roi_cv_across"] < 0.1
    if found.advice.recommend:
        rows = found.advice.shifts
        assert (rows.loc[rows["from"] == "Google Ads", "roi_from"] < 3).all()


def test_a_volatile_channel_is_named_with_evidence():
    found, _ = _diagnose("volatile")
    assert found.most_volatile == "Instagram"
    assert found.best is None and found.worst is None


def test_advice_stays_inside_the_range_each_channel_has_run_at():
    found, data = _diagnose("better_10", share=0.5)
    assert found.advice.recommend
    received = found.advice.shifts.groupby("to")["amount"].sum()
    by_month = cells(data, mix=False)
    for channel, amount in received.items():
        spend = by_month.loc[by_month["channel"] == channel, "spend"]
        assert amount <= (spend.max() - spend).sum() + 1e-6
        assert amount <= 0.25 * spend.sum() + 1e-6
    assert found.advice.capped == ["Email"]


@pytest.mark.parametrize(
    ("months", "status"), [(0, "no_data"), (3, "too_few_periods"), (12, "too_few_channels")]
)
def test_small_selections_say_what_cannot_be_compared(months, status):
    data = simulate(SCENARIOS["iid"], seed=1, rows=6_000)
    frame = cells(data)
    if months == 0:
        frame = frame.iloc[0:0]
    elif months == 3:
        frame = frame[frame["period"] < "2021-04-01"]
    else:
        frame = frame[frame["channel"] == "Email"]
    found = diagnose(frame)
    assert found.status == status
    assert found.best is None and not found.advice.recommend
    said = channel_sentences(found.to_dict())
    assert len(said["verdict"]) == 1 and len(said["advice"]) == 1
    json.dumps(found.to_dict())


def test_the_same_data_and_seed_give_the_same_findings():
    first, _ = _diagnose("volatile", seed=3, rows=30_000)
    again, _ = _diagnose("volatile", seed=3, rows=30_000)
    assert json.dumps(first.to_dict()) == json.dumps(again.to_dict())


@pytest.mark.parametrize("lang", ["en", "id"])
def test_every_section_has_sentences_in_both_languages(lang):
    found, _ = _diagnose("simpson", rows=30_000)
    said = channel_sentences(found.to_dict(), lang)
    assert set(said) == set(SECTIONS)
    for name in ("verdict", "method", "mix", "quadrants", "stability", "advice"):
        assert said[name], name
    text = " ".join(s for part in said.values() for s in part)
    assert "{" not in text and "}" not in text and "nan" not in text.lower()


def test_the_simulation_aggregates_as_the_semantic_layer_does(tmp_path):
    from mci.analytics.channels import load_cells
    from mci.datagen.scenarios import write_export
    from mci.ingest.pipeline import ingest
    from mci.ingest.progress import NoProgress

    data = simulate(SCENARIOS["simpson"], seed=5, rows=5_000)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    ingest([write_export(data, tmp_path / "s.csv")], url, progress=NoProgress())
    queried, spread_q = load_cells(url)
    keys = ["period", "channel", "campaign_type"]
    ours = cells(data).sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(
        queried.sort_values(keys, ignore_index=True)[ours.columns],
        ours,
        check_dtype=False,
        check_exact=False,
        rtol=1e-9,
    )
    mine = spread(data).sort_values(["period", "channel"], ignore_index=True)
    theirs = spread_q.sort_values(["period", "channel"], ignore_index=True)
    assert (
        np.allclose(theirs["roi_std"], mine["roi_std"])
        and (theirs["campaigns"].to_numpy() == mine["campaigns"].to_numpy()).all()
    )


def test_calibration_fast():
    """A short run of the calibration suite: nulls stay quiet, planted effects are found."""
    table = calibrate(sims=30, rows=ROWS, seed=20_000, processes=2)
    nulls = table[table["kind"] == "null"]
    assert (nulls["false_winner"] <= 0.10).all(), nulls
    assert (table["false_volatile"] <= 0.10).all(), table
    assert (table["false_shift"] <= 0.15).all(), table
    found = table["found"]
    assert found["better_10"] >= 0.9 and found["better_3"] >= 0.7
    assert found["new_channel"] == 1.0 and found["simpson"] >= 0.9
    assert found["shifted"] >= 0.9 and found["volatile"] >= 0.6

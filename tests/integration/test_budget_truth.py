"""Budget advice against planted truth: shift from the planted worst to the planted best,
and shift nothing on noise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mci.analytics.budget import reallocation
from mci.analytics.quadrant import load_quadrants
from mci.datagen import generate
from mci.ingest.pipeline import ingest
from mci.ingest.progress import NoProgress

SEEDS = (101, 202)


def _warehouse(folder: Path, profile: str, seed: int) -> tuple[str, dict[str, Any]]:
    export = folder / f"{profile}-{seed}.csv"
    truth = generate(export, rows=30_000, seed=seed, profile=profile)
    url = f"duckdb:///{folder / f'{profile}-{seed}.duckdb'}"
    ingest([export], url, progress=NoProgress())
    return url, truth


@pytest.fixture(scope="module", params=SEEDS)
def planted(request, tmp_path_factory) -> tuple[str, dict[str, Any]]:
    return _warehouse(tmp_path_factory.mktemp("budget"), "planted", request.param)


@pytest.fixture(scope="module", params=SEEDS)
def noise(request, tmp_path_factory) -> tuple[str, dict[str, Any]]:
    return _warehouse(tmp_path_factory.mktemp("budget"), "noise", request.param)


def test_planted_advice_moves_budget_from_the_worst_to_the_best(planted):
    url, truth = planted
    by_entity, daily, _ = load_quadrants(url)
    advice = reallocation(by_entity, daily, n_boot=1000)
    assert advice.recommend
    assert truth["worst_roi_channel"] in set(advice.shifts["from"])
    assert truth["best_roi_channel"] in set(advice.shifts["to"])
    assert not set(advice.shifts["from"]) & set(advice.shifts["to"])
    # Every shift goes from lower to higher ROI, and the whole gain is surely positive.
    assert (advice.shifts["roi_to"] > advice.shifts["roi_from"]).all()
    assert advice.gain_low > 0 and advice.gain_low <= advice.expected_gain <= advice.gain_high
    moved = advice.shifts.groupby("from")["amount"].sum()
    spend = by_entity.set_index("channel")["spend"]
    for donor, amount in moved.items():
        assert amount == pytest.approx(0.10 * spend[donor])


def test_noise_advice_shifts_nothing_and_says_why(noise):
    url, _ = noise
    by_entity, daily, _ = load_quadrants(url)
    advice = reallocation(by_entity, daily, n_boot=500)
    assert not advice.recommend
    assert advice.shifts.empty
    assert "No shift recommended" in advice.reason and "noise" in advice.reason
    assert advice.to_dict()["shifts"] == []


def test_share_outside_range_is_refused(planted):
    url, _ = planted
    by_entity, daily, _ = load_quadrants(url)
    with pytest.raises(ValueError, match="share"):
        reallocation(by_entity, daily, share=0.9)

"""Calibration: how often the channel diagnosis names a false winner, and finds a planted one.

Each scenario of :mod:`mci.datagen.scenarios` is simulated many times; every simulation is
aggregated the way the semantic layer aggregates (channel x campaign type x month sums) and
diagnosed by :func:`mci.analytics.channels.diagnose`, the function every page and report
renders. :func:`score` holds one diagnosis to the scenario's truth:

- ``false_winner``: a best or worst channel named, or budget advice given, that the truth
  does not support (under a null: any of them);
- ``found``: what the scenario planted was found (its better channel named best, its
  volatile channel named most volatile, its shift dated within a month, its Simpson pair's
  flip reported, its new channel kept out of every verdict);
- ``false_volatile``: a channel named most volatile that was not planted as such;
- ``false_shift``: a level shift reported where none was planted.

``make bench-calibration`` prints the full table (``benchmarks/calibration/run.py``); a
smaller run is part of ``make test``.

Example:
    >>> table = calibrate(["iid", "better_10"], sims=3, rows=30_000, seed=1)
    >>> float(table.loc["better_10", "found"]), float(table.loc["iid", "false_winner"])
    (1.0, 0.0)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from mci.analytics.channels import ChannelFindings, diagnose
from mci.datagen.scenarios import SCENARIOS, Scenario, cells, simulate, spread, truth

COLUMNS = ("false_winner", "found", "false_volatile", "false_shift")


def score(scenario: Scenario, found: ChannelFindings) -> dict[str, Any]:
    """One diagnosis held to the scenario's truth (see the module's docstring).

    Returns:
        ``false_winner``, ``found`` (None for a null with nothing planted),
        ``false_volatile`` and ``false_shift``, each a bool.
    """
    planted = truth(scenario)
    advice = found.advice
    moved = set(advice.shifts["from"]) | set(advice.shifts["to"]) if advice.recommend else set()
    shifted = {row.entity: row.date for row in found.shifts.itertuples(index=False)}
    named_best = found.best is not None and found.best != planted["best"]
    named_worst = found.worst is not None and found.worst != planted["worst"]
    if scenario.null:
        false_winner = found.best is not None or found.worst is not None or advice.recommend
    elif scenario.simpson:
        adjusted_winner = planted["mix_flip"][0]
        false_winner = advice.recommend and adjusted_winner in set(advice.shifts["from"])
    else:
        wrong_donor = advice.recommend and bool({planted["best"]} & set(advice.shifts["from"]))
        false_winner = named_best or named_worst or wrong_donor
    result: dict[str, Any] = {
        "false_winner": bool(false_winner),
        "found": None,
        "false_volatile": found.most_volatile not in (None, planted["most_volatile"]),
        "false_shift": any(
            planted["shift"] is None or e != planted["shift"]["channel"] for e in shifted
        ),
    }
    if planted["best"] is not None:
        result["found"] = found.best == planted["best"]
    elif planted["most_volatile"] is not None:
        result["found"] = found.most_volatile == planted["most_volatile"]
    elif planted["shift"] is not None:
        target = planted["shift"]
        date = shifted.get(target["channel"])
        result["found"] = (
            date is not None and abs((dt.date.fromisoformat(str(date)) - target["date"]).days) <= 31
        )
        result["false_volatile"] = result["false_volatile"] or (
            found.most_volatile == target["channel"]
        )
    elif planted["mix_flip"] is not None:
        pair = planted["mix_flip"]
        flips = found.mix.flips if found.mix else []
        result["found"] = any(
            f["adjusted_winner"] == pair[0] and f["raw_winner"] == pair[1] for f in flips
        )
    elif planted["thin"]:
        thin = set(planted["thin"])
        result["found"] = not (
            thin & {found.best, found.worst} or thin & moved or thin & set(found.compared)
        )
    return result


def _one(args: tuple[str, int, int]) -> dict[str, Any]:
    name, seed, rows = args
    scenario = SCENARIOS[name]
    simulated = simulate(scenario, seed=seed, rows=rows)
    found = diagnose(cells(simulated), spread(simulated), n_boot=200, seed=seed)
    return {"scenario": name, "seed": seed, **score(scenario, found)}


def calibrate(
    names: Iterable[str] | None = None,
    *,
    sims: int = 200,
    rows: int = 120_000,
    seed: int = 0,
    processes: int = 1,
) -> pd.DataFrame:
    """Rates per scenario over ``sims`` simulations each.

    Args:
        names: scenario names (default: all of :data:`SCENARIOS`).
        sims: simulations per scenario.
        rows: campaign rows per simulation.
        seed: the first seed; simulation ``i`` of every scenario uses ``seed + i``.
        processes: worker processes (1 runs in this process).

    Returns:
        One row per scenario, indexed by name: ``kind`` (null or planted), ``description``,
        ``sims``, and the mean of each score column (``found`` is NaN for a null with
        nothing planted).
    """
    names = list(names) if names is not None else list(SCENARIOS)
    jobs = [(name, seed + i, rows) for name in names for i in range(sims)]
    if processes > 1:
        with ProcessPoolExecutor(processes) as pool:
            results = list(pool.map(_one, jobs, chunksize=4))
    else:
        results = [_one(job) for job in jobs]
    frame = pd.DataFrame(results)
    out = frame.groupby("scenario", sort=False)[list(COLUMNS)].agg(
        lambda s: float(np.mean([bool(v) for v in s])) if s.notna().all() else float("nan")
    )
    out.insert(0, "sims", frame.groupby("scenario", sort=False).size())
    out.insert(0, "description", [SCENARIOS[n].description for n in out.index])
    out.insert(0, "kind", ["null" if SCENARIOS[n].null else "planted" for n in out.index])
    return out.loc[names]

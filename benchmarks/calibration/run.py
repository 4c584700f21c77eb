"""Calibration of the channel diagnosis: false-winner rate and power, per scenario.

Runs every scenario of ``mci.datagen.scenarios`` ``--sims`` times (200 by default) at
``--rows`` campaign rows (120,000 by default), diagnoses each simulation with the function
the report and the dashboard render, and prints one row per scenario:

- ``false winner``: a best or worst channel named, or budget advice given, that the truth
  does not support (under a null: any of them);
- ``found``: what the scenario planted was found;
- ``false volatile`` and ``false shift``: a channel called most volatile, or a level shift
  reported, where none was planted.

The table (Markdown) goes to stdout and, with the settings, to
``benchmarks/out/calibration.json``. A report, not a test: it exits 0 whatever the rates.

    .venv/bin/python benchmarks/calibration/run.py [--sims 200] [--rows 120000] [--processes 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "out"


def _rate(value: float, sims: int) -> str:
    if value != value:  # NaN: nothing planted to find
        return "-"
    hits = round(value * sims)
    # Wilson 95 % interval: how far the rate could be from the truth with this many runs
    z, n = 1.96, sims
    centre = (hits + z * z / 2) / (n + z * z)
    half = z * math.sqrt(hits * (n - hits) / n + z * z / 4) / (n + z * z)
    return f"{value:.1%} ({max(centre - half, 0):.1%}-{min(centre + half, 1):.1%})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=200)
    parser.add_argument("--rows", type=int, default=120_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scenarios", default="", help="comma-separated names (default: all)")
    args = parser.parse_args()

    from mci.analytics.calibration import calibrate

    names = [n for n in args.scenarios.split(",") if n] or None
    started = time.perf_counter()
    table = calibrate(
        names, sims=args.sims, rows=args.rows, seed=args.seed, processes=args.processes
    )
    seconds = time.perf_counter() - started
    print(
        f"Calibration: {args.sims} simulations a scenario, {args.rows:,} rows each, "
        f"seeds {args.seed}..{args.seed + args.sims - 1}, {seconds:.0f} s "
        "(95 % Wilson intervals in brackets)\n"
    )
    print("| scenario | kind | what it is | false winner | found | false volatile | false shift |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, row in table.iterrows():
        print(
            f"| {name} | {row['kind']} | {row['description']} | "
            f"{_rate(row['false_winner'], args.sims)} | {_rate(row['found'], args.sims)} | "
            f"{_rate(row['false_volatile'], args.sims)} | {_rate(row['false_shift'], args.sims)} |"
        )
    OUT.mkdir(exist_ok=True)
    result = {
        "settings": vars(args) | {"seconds": seconds},
        "rates": json.loads(table.to_json(orient="index")),
    }
    (OUT / "calibration.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""`mci report` on a 2,000,000-row warehouse: this version against an earlier one, same run.

The baseline is another commit of this repository (by default the last one before the
channel diagnosis moved to month-level inference), checked out as a git worktree under
``benchmarks/out/`` and run with this virtual environment (``PYTHONPATH`` points at its
``src``). Both write the same report of the same DuckDB warehouse, taking turns, as whole
processes; the table gives medians, peak memory and the ratio. A report, not a test.

    .venv/bin/python benchmarks/report/run.py [--rows 2000000] [--repeat 3]
        [--baseline-ref 80d6e02] [--formats json,html]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / "benchmarks" / "out"
sys.path.insert(0, str(REPO / "benchmarks"))

from _harness import Comparison, print_comparisons, repeat  # noqa: E402

TARGET_S = 5.0


def _export(rows: int) -> Path:
    """The export the ingest benchmark uses (made here if missing)."""
    path = OUT / f"export_{rows}.csv"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mci",
                "generate",
                "--rows",
                str(rows),
                "--seed",
                "42",
                "--out",
                str(path),
            ],
            check=True,
        )
    return path


def _warehouse(rows: int) -> str:
    path = OUT / f"report_{rows}.duckdb"
    url = f"duckdb:///{path}"
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "mci", "ingest", str(_export(rows)), "--db", url, "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return url


def _baseline(ref: str) -> Path:
    """A worktree of ``ref`` (made once)."""
    tree = OUT / f"baseline-{ref}"
    if not tree.exists():
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), ref], check=True
        )
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-ref", default="80d6e02")
    parser.add_argument("--formats", default="json,html")
    args = parser.parse_args()

    url = _warehouse(args.rows)
    tree = _baseline(args.baseline_ref)
    env_new = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    env_old = dict(os.environ, PYTHONPATH=str(tree / "src"))
    comparisons, results = [], {}
    for fmt in args.formats.split(","):
        cmd = [
            sys.executable,
            "-m",
            "mci",
            "report",
            "--db",
            url,
            "--format",
            fmt,
            "--out",
            str(OUT / f"report.{fmt}"),
        ]
        old, new = [], []
        for _ in range(args.repeat):  # taking turns, so drift hits both alike
            old.append(repeat(f"{fmt} baseline", cmd, 1, env=env_old))
            new.append(repeat(f"{fmt} mci", cmd, 1, env=env_new))
        from _harness import Summary

        baseline = Summary(f"{fmt} ({args.baseline_ref})", tuple(r for s in old for r in s.runs))
        candidate = Summary(f"{fmt} (this tree)", tuple(r for s in new for r in s.runs))
        comparisons.append(Comparison(f"report --format {fmt}", baseline, candidate))
        results[fmt] = {"baseline": baseline.to_json(), "candidate": candidate.to_json()}
        verdict = "PASS" if candidate.ok and candidate.median_s < TARGET_S else "MISS"
        print(f"{fmt}: mci median {candidate.median_s:.2f} s, target < {TARGET_S:.0f} s: {verdict}")
    print_comparisons(
        comparisons,
        title=f"mci report on {args.rows:,} rows ({url})",
        baseline_name=args.baseline_ref,
        candidate_name="mci",
    )
    (OUT / "report_bench.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

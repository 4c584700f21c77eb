"""Ingest benchmark: the original pandas + SQLite pipeline against ``mci ingest``.

Usage::

    .venv/bin/python benchmarks/ingest/run.py [--sizes 200000,2000000] [--with-20m] [--with-100m]
        [--repeat N] [--baseline-repeat N] [--skip-baseline] [--skip-mci]
        [--baseline-python PATH] [--baseline-driver {sqlalchemy,sqlite3}] ...

The baseline is the original project as it ran: its pinned ``pandas==2.3.3``,
``numpy==2.3.4`` and ``SQLAlchemy==2.0.44`` (``original-requirements.txt``), in a venv of its
own, ``benchmarks/.venv-original/``, made on first use (``python -m venv`` with this
interpreter's Python, then ``pip install -r``); if that fails the benchmark stops, it never
falls back to another environment. ``--baseline-python`` runs it with another interpreter
instead, ``--baseline-driver sqlite3`` without SQLAlchemy; both together with
``.venv/bin/python`` give the cheaper baseline this benchmark used before.

For every size it makes (once) a synthetic export with ``mci generate --rows N --seed 42``,
then runs, as whole processes and on a fresh database every time:

* the baseline, ``BASELINE_PYTHON original_pipeline.py EXPORT original_N.sqlite --driver D
  --via-clean-csv`` (pandas read_csv, clean, clean-CSV hand-off, ``to_sql`` into SQLite, four
  views, every view read back), ``--baseline-repeat`` times;
* the candidate, ``mci ingest EXPORT --db duckdb:///.../bench_N.duckdb --json``,
  ``--repeat`` times;

and prints wall time (best and median), peak memory of the process tree, the ratios
baseline / mci, and PASS / MISS for each target. Results also go to
``benchmarks/out/ingest_results.json``. It is a report, not a test: the exit code is 0 even
when a target is missed, and 1 only when something crashed (a run failed, timed out or an
export could not be made).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _harness import (
    GB,
    MB,
    Comparison,
    Summary,
    print_comparisons,
    print_table,
    repeat,
    warm_file,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ORIGINAL = HERE / "original_pipeline.py"
ORIGINAL_REQUIREMENTS = HERE / "original-requirements.txt"
ORIGINAL_VENV = REPO / "benchmarks" / ".venv-original"
BASELINE_DRIVERS: tuple[str, ...] = ("sqlalchemy", "sqlite3")
TWENTY_MILLION = 20_000_000
HUNDRED_MILLION = 100_000_000
# What each contender loads before its work starts, loaded once (unmeasured) before each run.
BASELINE_IMPORTS = "import numpy, pandas, sqlite3, sqlalchemy"
MCI_IMPORTS = (
    "import mci.cli, mci.ingest.pipeline; "
    "from mci.warehouse.connection import duckdb_dbapi; duckdb_dbapi()"
)
# Byte-compiles the mci package the candidate imports. pip compiles a wheel's modules when it
# installs it; an editable install (this repository's) leaves that to the first import, and
# where PYTHONDONTWRITEBYTECODE is set (it is on this machine) Python never keeps the result:
# every run would compile the package again (about 0.04 s), which no installed mci pays.
MCI_COMPILE = (
    "import compileall, pathlib, mci; "
    "compileall.compile_dir(pathlib.Path(mci.__file__).parent, quiet=1)"
)


def settle(export: Path, warm_imports: Sequence[str]) -> None:
    """Gives every run the same start: no writes of earlier runs pending, code and input warm.

    This machine's disk and page cache are shared: a run that starts while the previous
    one's writes are still flushing, or after its libraries were evicted from the cache,
    measures the machine, not the contender. Both contenders get the same treatment.

    Args:
        export: The input file, read once into the page cache.
        warm_imports: A command that imports the contender's libraries (not measured).
    """
    os.sync()
    subprocess.run(list(warm_imports), check=False, capture_output=True, cwd=REPO)
    warm_file(export)


def _python_of(script: str | Path) -> str:
    """The interpreter of a console script (its ``#!`` line), else this one."""
    with contextlib.suppress(OSError, UnicodeDecodeError), Path(script).open() as fh:
        first = fh.readline()
        if first.startswith("#!") and Path(first[2:].strip()).exists():
            return first[2:].strip()
    return sys.executable


# Run by the baseline's interpreter: what it has installed, without importing any of it.
VERSIONS_SCRIPT = """
import json, platform, sys
from importlib import metadata
versions = {"executable": sys.executable, "python": platform.python_version()}
for key, dist in (("pandas", "pandas"), ("numpy", "numpy"), ("sqlalchemy", "SQLAlchemy")):
    try:
        versions[key] = metadata.version(dist)
    except metadata.PackageNotFoundError:
        versions[key] = None
print(json.dumps(versions))
"""


@dataclass(frozen=True)
class Target:
    """A promise the benchmark checks.

    Attributes:
        name: Short identifier.
        rows: The export size it applies to.
        description: What must hold, in words.
        check: Given the size's comparison, returns (actual value as text, held?) or ``None``
            when it cannot be judged (size not run, baseline skipped, a run failed).
    """

    name: str
    rows: int
    description: str
    check: Callable[[Comparison], tuple[str, bool] | None]


@dataclass(frozen=True)
class Baseline:
    """How the original pipeline is run.

    Attributes:
        python: The interpreter that runs ``original_pipeline.py`` (not resolved: a venv's
            ``bin/python`` must stay a path inside the venv).
        driver: ``sqlalchemy`` (as the original ran) or ``sqlite3`` (cheaper).
        versions: What that interpreter has: ``python``, ``pandas``, ``numpy``, ``sqlalchemy``
            versions (``None`` when missing) and ``executable``.
    """

    python: str
    driver: str
    versions: dict[str, Any]

    def describe(self) -> str:
        """One line: driver, interpreter and library versions."""
        v = self.versions
        libs = f"Python {v.get('python')}, pandas {v.get('pandas')}, numpy {v.get('numpy')}"
        if self.driver == "sqlalchemy":
            libs += f", SQLAlchemy {v.get('sqlalchemy')}"
        return f"--driver {self.driver}, {self.python} ({libs})"

    def stack(self) -> str:
        """Short name of the baseline's stack, for table titles."""
        layer = f"SQLAlchemy {self.versions.get('sqlalchemy')}"
        if self.driver != "sqlalchemy":
            layer = "sqlite3"
        return f"pandas {self.versions.get('pandas')} + {layer} + SQLite"


def _speed_at_least(factor: float) -> Callable[[Comparison], tuple[str, bool] | None]:
    def check(c: Comparison) -> tuple[str, bool] | None:
        ratio = c.speed_ratio
        return None if ratio is None else (f"{ratio:.1f}x", ratio >= factor)

    return check


def _mci_peak_below(limit: int) -> Callable[[Comparison], tuple[str, bool] | None]:
    def check(c: Comparison) -> tuple[str, bool] | None:
        if not c.candidate.ok:
            return None
        peak = c.candidate.peak_rss_bytes
        return f"{peak / MB:,.0f} MB", peak < limit

    return check


def _mci_time_below(seconds: float) -> Callable[[Comparison], tuple[str, bool] | None]:
    def check(c: Comparison) -> tuple[str, bool] | None:
        if not c.candidate.ok:
            return None
        median = c.candidate.median_s
        return f"{median:.1f} s (median)", median < seconds

    return check


TARGETS: tuple[Target, ...] = (
    Target("speed_200k", 200_000, "mci >= 10x faster than the original", _speed_at_least(10)),
    Target("speed_2m", 2_000_000, "mci >= 15x faster than the original", _speed_at_least(15)),
    Target("memory_2m", 2_000_000, "mci peak memory < 1 GB", _mci_peak_below(1 * GB)),
    Target("time_20m", TWENTY_MILLION, "mci alone < 60 s", _mci_time_below(60)),
    Target("memory_20m", TWENTY_MILLION, "mci peak memory < 2 GB", _mci_peak_below(2 * GB)),
    Target("time_100m", HUNDRED_MILLION, "mci alone < 8 min", _mci_time_below(480)),
    Target("memory_100m", HUNDRED_MILLION, "mci peak memory < 2 GB", _mci_peak_below(2 * GB)),
)


def parse_size(text: str) -> int:
    """Parse a row count such as ``200000``, ``200_000``, ``200k`` or ``2m``.

    Args:
        text: The size as written on the command line.

    Returns:
        The number of rows.

    Raises:
        argparse.ArgumentTypeError: If it is not a positive row count.
    """
    raw = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(raw[-1:], 1)
    digits = raw[:-1] if scale != 1 else raw
    try:
        value = int(float(digits) * scale)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a row count: {text!r}") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a positive row count: {text!r}")
    return value


def parse_sizes(text: str) -> list[int]:
    """Parse a comma-separated list of row counts.

    Args:
        text: For example ``200000,2000000`` or ``200k,2m``.

    Returns:
        The row counts, in the order given, without repeats.
    """
    sizes: list[int] = []
    for part in text.split(","):
        if part.strip() and (size := parse_size(part)) not in sizes:
            sizes.append(size)
    return sizes


def label(rows: int) -> str:
    """Short label for a row count (``200k``, ``2M``, ``20M``).

    Args:
        rows: The row count.

    Returns:
        The label.
    """
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def find_mci(explicit: str | None) -> str | None:
    """Locate the ``mci`` command.

    Args:
        explicit: A path given with ``--mci``.

    Returns:
        The command path, or ``None`` if there is none.
    """
    if explicit:
        return explicit
    venv_mci = REPO / ".venv" / "bin" / "mci"
    if venv_mci.exists():
        return str(venv_mci)
    return shutil.which("mci")


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _pins(requirements: str) -> str:
    lines = (line.split("#", 1)[0].strip() for line in requirements.splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def _run_step(cmd: Sequence[str], timeout: float) -> None:
    """Run one set-up command, raising with its output when it fails.

    Args:
        cmd: The command.
        timeout: Seconds before it is given up.

    Raises:
        RuntimeError: If it exits non-zero or times out.
    """
    try:
        proc = subprocess.run(
            cmd, cwd=REPO, capture_output=True, text=True, check=False, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"`{' '.join(cmd)}` failed: {exc}") from exc
    if proc.returncode != 0:
        raise RuntimeError(
            f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n"
            f"{_tail(proc.stderr or proc.stdout)}"
        )


def ensure_original_venv(
    venv: Path = ORIGINAL_VENV, requirements: Path = ORIGINAL_REQUIREMENTS, timeout: float = 1800
) -> str:
    """Return the interpreter of the original's own environment, making it when needed.

    The environment is (re)made when it is missing or was installed from other pins than
    ``requirements`` now holds (comments aside): ``python -m venv`` with this interpreter's
    Python, then ``pip install -r requirements`` (from PyPI).

    Args:
        venv: Where the environment lives.
        requirements: The original's pins.
        timeout: Seconds each set-up step may take.

    Returns:
        The environment's ``bin/python``.

    Raises:
        RuntimeError: If the environment cannot be made or its packages installed.
    """
    python = venv / "bin" / "python"
    stamp = venv / "installed-requirements.txt"
    wanted = _pins(requirements.read_text())
    if python.exists() and stamp.exists() and _pins(stamp.read_text()) == wanted:
        return str(python)
    print(
        f"making the original's environment {_shown(venv)}/: {Path(sys.executable).name} -m "
        f"venv, then pip install -r {_shown(requirements)} from PyPI (once)",
        flush=True,
    )
    _run_step([sys.executable, "-m", "venv", "--clear", str(venv)], timeout)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run_step([*pip, "-r", str(requirements)], timeout)
    stamp.write_text(wanted)
    return str(python)


def interpreter_versions(python: str) -> dict[str, Any]:
    """Ask an interpreter which Python, pandas, numpy and SQLAlchemy it has.

    Args:
        python: The interpreter.

    Returns:
        ``executable``, ``python``, ``pandas``, ``numpy``, ``sqlalchemy`` (``None`` if missing).

    Raises:
        RuntimeError: If the interpreter cannot be run.
    """
    try:
        proc = subprocess.run(
            [python, "-c", VERSIONS_SCRIPT], capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise RuntimeError(f"cannot run {python}: {exc}") from exc
    versions = last_json_line(proc.stdout)
    if proc.returncode != 0 or not isinstance(versions, dict):
        raise RuntimeError(f"cannot run {python} (exit {proc.returncode}): {_tail(proc.stderr)}")
    return versions


def resolve_baseline(python: str | None, driver: str) -> Baseline:
    """Settle which interpreter runs the original pipeline, and check it can.

    Args:
        python: ``--baseline-python``; ``None`` for the original's own environment.
        driver: ``--baseline-driver``.

    Returns:
        The baseline's interpreter, driver and library versions.

    Raises:
        RuntimeError: If the environment cannot be made, or the interpreter lacks pandas or
            (for the ``sqlalchemy`` driver) SQLAlchemy.
    """
    python = ensure_original_venv() if python is None else os.path.abspath(python)
    versions = interpreter_versions(python)
    if versions.get("pandas") is None:
        raise RuntimeError(f"{python} has no pandas: it cannot run the original pipeline")
    if driver == "sqlalchemy" and versions.get("sqlalchemy") is None:
        raise RuntimeError(
            f"{python} has no SQLAlchemy, which the original went through: install it there "
            "(benchmarks/ingest/original-requirements.txt), or pass --baseline-driver sqlite3"
        )
    return Baseline(python, driver, versions)


def _unlink(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def ensure_export(
    mci: str | None, rows: int, seed: int, out_dir: Path, export_dir: Path | None, regenerate: bool
) -> Path:
    """Return the export for ``rows``, generating it with ``mci generate`` if needed.

    A generated export is reused on later runs when its side-car ``.meta.json`` says it was
    made with the same rows and seed and the file is unchanged in size.

    Args:
        mci: The ``mci`` command (needed only to generate).
        rows: Number of rows.
        seed: Generator seed.
        out_dir: Where generated exports live.
        export_dir: Use ``export_dir/export_{rows}.csv`` as is instead of generating.
        regenerate: Generate even if a matching export exists.

    Returns:
        The export's path.

    Raises:
        RuntimeError: If the export does not exist and cannot be generated.
    """
    if export_dir is not None:
        path = export_dir / f"export_{rows}.csv"
        if not path.exists():
            raise RuntimeError(f"{path} does not exist (--export-dir)")
        return path
    path = out_dir / f"export_{rows}.csv"
    meta_path = path.with_name(path.name + ".meta.json")
    if path.exists() and meta_path.exists() and not regenerate:
        with contextlib.suppress(ValueError, OSError):
            meta = json.loads(meta_path.read_text())
            if (
                meta.get("rows") == rows
                and meta.get("seed") == seed
                and meta.get("bytes") == path.stat().st_size
            ):
                return path
    if mci is None:
        raise RuntimeError("mci not found (install the package or pass --mci) to generate")
    _unlink(path, meta_path)
    cmd = [mci, "generate", "--rows", str(rows), "--seed", str(seed), "--out", str(path)]
    print(f"generating {path.name}: {' '.join(cmd)}", flush=True)
    started = dt.datetime.now(dt.UTC)
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not path.exists():
        raise RuntimeError(
            f"mci generate failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}"
        )
    meta = {
        "rows": rows,
        "seed": seed,
        "bytes": path.stat().st_size,
        "cmd": cmd,
        "generated_at": started.isoformat(timespec="seconds"),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return path


def last_json_line(text: str) -> Any:
    """Parse the last non-empty line of a process's stdout as JSON.

    Args:
        text: The captured stdout.

    Returns:
        The parsed value, or ``None`` if the last line is not JSON.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        return json.loads(lines[-1])
    except ValueError:
        return None


def _progress(name: str, size: str, summary: Summary) -> None:
    for i, run in enumerate(summary.runs, 1):
        state = "ok" if run.ok else ("TIMEOUT" if run.timed_out else f"EXIT {run.returncode}")
        print(
            f"  [{size}] {name} run {i}/{len(summary.runs)}: {run.wall_s:7.2f} s, "
            f"peak {run.peak_rss_bytes / MB:8,.0f} MB ({state})",
            flush=True,
        )
        if not run.ok:
            tail = run.stderr.strip().splitlines()[-15:]
            print("\n".join(f"      | {line}" for line in tail), flush=True)


def _check_rows(size: str, record: dict[str, Any]) -> None:
    """Say so when the baseline and mci did not load the same number of rows.

    Args:
        size: The case label.
        record: The case record, with the parsed JSON summaries of both contenders.
    """
    loaded: dict[str, Any] = {}
    for name in ("baseline", "mci"):
        reports = record.get(f"{name}_report") or [None]
        if isinstance(reports[0], dict):
            loaded[name] = reports[0].get("rows_loaded")
    record["rows_loaded"] = loaded
    if len(loaded) == 2 and loaded["baseline"] != loaded["mci"]:
        print(
            f"  [{size}] note: rows loaded differ: original {loaded['baseline']}, "
            f"mci {loaded['mci']} (the two did not do the same work)",
            flush=True,
        )


def machine_info() -> dict[str, Any]:
    """Describe the machine and the software versions the numbers depend on.

    Returns:
        Plain data for the results file.
    """
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
    try:
        import psutil

        info["memory_total_bytes"] = psutil.virtual_memory().total
    except ImportError:
        info["memory_total_bytes"] = None
        info["note"] = "psutil missing: peak memory is ru_maxrss only (largest single process)"
    for dist in ("mci", "duckdb", "pandas", "pyarrow", "numpy", "psutil"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = None
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    )
    info["git_commit"] = git.stdout.strip() if git.returncode == 0 else None
    return info


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser.

    Returns:
        The parser.
    """
    p = argparse.ArgumentParser(
        description="Ingest benchmark: original pandas + SQLite pipeline vs mci ingest."
    )
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        default=[200_000, 2_000_000],
        help="comma-separated row counts (default 200000,2000000; 200k, 2m work)",
    )
    p.add_argument(
        "--with-20m",
        action="store_true",
        help="also run mci alone at 20,000,000 rows (the baseline is too slow there)",
    )
    p.add_argument(
        "--with-100m",
        action="store_true",
        help="also run mci alone at 100,000,000 rows (a 14 GB export; on demand, minutes a run)",
    )
    p.add_argument("--repeat", type=int, default=3, help="mci runs per size (default 3)")
    p.add_argument(
        "--baseline-repeat", type=int, default=1, help="baseline runs per size (default 1)"
    )
    p.add_argument(
        "--baseline-max-rows",
        type=parse_size,
        default=2_000_000,
        help="skip the baseline above this many rows (default 2000000)",
    )
    p.add_argument(
        "--baseline-via-clean-csv",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="baseline keeps the original's clean-CSV hand-off between its notebook and "
        "loader, as the original project ran (default); --no-baseline-via-clean-csv drops it",
    )
    p.add_argument(
        "--baseline-python",
        default=None,
        metavar="PATH",
        help="interpreter that runs the baseline (default: benchmarks/.venv-original/bin/python, "
        "made on first use with the original's pinned requirements)",
    )
    p.add_argument(
        "--baseline-driver",
        choices=BASELINE_DRIVERS,
        default="sqlalchemy",
        help="how the baseline reaches SQLite: sqlalchemy, as the original ran (default), or "
        "sqlite3 (cheaper; with --baseline-python .venv/bin/python, the former baseline)",
    )
    p.add_argument("--skip-baseline", action="store_true", help="run mci only")
    p.add_argument(
        "--skip-mci", action="store_true", help="run the baseline only (e.g. to check the harness)"
    )
    p.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    p.add_argument(
        "--out-dir",
        type=Path,
        default=REPO / "benchmarks" / "out",
        help="exports, databases and results (default benchmarks/out)",
    )
    p.add_argument(
        "--export-dir",
        type=Path,
        default=None,
        help="use DIR/export_N.csv as they are instead of generating exports",
    )
    p.add_argument("--regenerate", action="store_true", help="generate exports even if present")
    p.add_argument("--mci", default=None, help="the mci command (default .venv/bin/mci)")
    p.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="kill a run after this many seconds (default 1800)",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=0.05,
        help="seconds between memory samples (default 0.05: each sample of the process tree "
        "costs CPU, 16 %% of a core at 0.01, which a 2-core machine takes from the contender)",
    )
    return p


@dataclass
class CaseResult:
    """What one export size produced.

    Attributes:
        rows: The export size.
        record: Plain data for the results file.
        comparison: Baseline vs mci, when mci ran.
        crashes: What went wrong, in words (empty when everything ran).
    """

    rows: int
    record: dict[str, Any]
    comparison: Comparison | None = None
    crashes: list[str] = field(default_factory=list)


def run_case(
    rows: int,
    args: argparse.Namespace,
    mci: str | None,
    out_dir: Path,
    baseline_env: Baseline | None,
) -> CaseResult:
    """Make (or reuse) the export for one size, then measure the baseline and mci on it.

    Args:
        rows: The export size.
        args: The parsed command line.
        mci: The ``mci`` command, or ``None`` if there is none.
        out_dir: Where exports, databases and results go.
        baseline_env: How to run the original pipeline; ``None`` when it is skipped.

    Returns:
        The case's measurements.
    """
    size = label(rows)
    result = CaseResult(rows, {"rows": rows, "label": size})
    record = result.record
    try:
        export_dir = None if args.export_dir is None else args.export_dir.resolve()
        export = ensure_export(mci, rows, args.seed, out_dir, export_dir, args.regenerate)
    except RuntimeError as exc:
        print(f"[{size}] no export: {exc}", flush=True)
        record["error"] = str(exc)
        result.crashes.append(f"{size}: export: {exc}")
        return result
    load1 = os.getloadavg()[0]
    record.update(export=str(export), export_bytes=export.stat().st_size, load_avg_1m=load1)
    print(f"[{size}] {export} ({export.stat().st_size / MB:,.0f} MB)", flush=True)
    if load1 > 0.5:
        print(f"  warning: load average {load1:.2f}: other work is running, times are noisy")
    measure_opts: dict[str, Any] = {"cwd": REPO, "timeout": args.timeout, "interval": args.interval}

    baseline: Summary | None = None
    if baseline_env is not None and rows <= args.baseline_max_rows:
        db = out_dir / f"original_{rows}.sqlite"
        cmd = [baseline_env.python, str(ORIGINAL), str(export), str(db)]
        cmd += ["--driver", baseline_env.driver]
        if args.baseline_via_clean_csv:
            cmd.append("--via-clean-csv")

        def fresh_sqlite() -> None:
            _unlink(db, Path(f"{db}-journal"), Path(f"{db}-wal"), db.with_suffix(".clean.csv"))
            settle(export, [baseline_env.python, "-c", BASELINE_IMPORTS])

        baseline = repeat(
            "original", cmd, args.baseline_repeat, before_each=fresh_sqlite, **measure_opts
        )
        _unlink(db)
        _progress("original", size, baseline)
        record["baseline"] = baseline.to_json()
        record["baseline_report"] = [last_json_line(r.stdout) for r in baseline.runs]
        if not baseline.ok:
            result.crashes.append(f"{size}: the original pipeline failed")

    if args.skip_mci or mci is None:
        return result
    duck = out_dir / f"bench_{rows}.duckdb"
    cmd = [mci, "ingest", str(export), "--db", f"duckdb:///{duck}", "--json"]

    def fresh_duckdb() -> None:
        _unlink(duck, Path(f"{duck}.wal"))
        settle(export, [_python_of(mci), "-c", MCI_IMPORTS])

    candidate = repeat("mci", cmd, args.repeat, before_each=fresh_duckdb, **measure_opts)
    _progress("mci", size, candidate)
    record["mci"] = candidate.to_json()
    record["mci_report"] = [last_json_line(r.stdout) for r in candidate.runs]
    if not candidate.ok:
        result.crashes.append(f"{size}: mci ingest failed")
    _check_rows(size, record)
    result.comparison = Comparison(size, baseline, candidate)
    record["speed_ratio"] = result.comparison.speed_ratio
    record["memory_ratio"] = result.comparison.memory_ratio
    return result


def evaluate_targets(
    comparisons: dict[int, Comparison], sizes: Sequence[int]
) -> list[dict[str, Any]]:
    """Judge every target whose size was asked for.

    Args:
        comparisons: Baseline vs mci per export size.
        sizes: The sizes asked for.

    Returns:
        One record per target: name, rows, description, actual, status (PASS, MISS or N/A).
    """
    verdicts: list[dict[str, Any]] = []
    for target in TARGETS:
        if target.rows not in sizes:
            continue
        comparison = comparisons.get(target.rows)
        verdict = None if comparison is None else target.check(comparison)
        if verdict is None:
            status, actual = "N/A", "not measured"
        else:
            actual, held = verdict
            status = "PASS" if held else "MISS"
        verdicts.append(
            {
                "name": target.name,
                "rows": target.rows,
                "description": target.description,
                "actual": actual,
                "status": status,
            }
        )
    return verdicts


def print_report(
    cases: Sequence[CaseResult],
    verdicts: Sequence[dict[str, Any]],
    *,
    skip_mci: bool,
    baseline_env: Baseline | None,
) -> None:
    """Print the comparison table (or the baseline alone) and the targets.

    Args:
        cases: Every case that ran.
        verdicts: The targets, from :func:`evaluate_targets`.
        skip_mci: Whether mci was left out on purpose.
        baseline_env: How the original pipeline ran; ``None`` when it was skipped.
    """
    comparisons = [c.comparison for c in cases if c.comparison is not None]
    stack = "pandas + SQLite" if baseline_env is None else baseline_env.stack()
    print()
    if baseline_env is not None:
        print(f"original: {baseline_env.describe()}")
    if comparisons:
        print_comparisons(
            comparisons,
            title=f"Ingest: original ({stack}) vs mci ingest (DuckDB)",
            baseline_name="original",
            candidate_name="mci",
        )
    elif skip_mci:
        rows = [
            [
                c.record["label"],
                f"{c.record['baseline']['median_s']:.2f}",
                f"{c.record['baseline']['peak_rss_bytes'] / MB:,.0f}",
            ]
            for c in cases
            if c.record.get("baseline", {}).get("ok")
        ]
        print_table(
            ["case", "original median s", "original peak MB"],
            rows,
            title="Ingest: original pipeline only",
        )
    if verdicts:
        print()
        print_table(
            ["status", "size", "target", "actual"],
            [[v["status"], label(v["rows"]), v["description"], v["actual"]] for v in verdicts],
            title="Targets",
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the report and write the results file.

    Args:
        argv: Arguments (without the program name); ``sys.argv[1:]`` when ``None``.

    Returns:
        0 when everything ran (targets may still be missed); 1 when something crashed.
    """
    args = build_parser().parse_args(argv)
    sizes = list(args.sizes)
    if args.with_20m and TWENTY_MILLION not in sizes:
        sizes.append(TWENTY_MILLION)
    if args.with_100m and HUNDRED_MILLION not in sizes:
        sizes.append(HUNDRED_MILLION)
    out_dir: Path = args.out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    mci = find_mci(args.mci)
    started = dt.datetime.now(dt.UTC)

    baseline_env: Baseline | None = None
    if not args.skip_baseline and any(rows <= args.baseline_max_rows for rows in sizes):
        try:
            baseline_env = resolve_baseline(args.baseline_python, args.baseline_driver)
        except RuntimeError as exc:
            print(f"cannot run the original pipeline: {exc}", file=sys.stderr)
            return 1
        print(f"original: {baseline_env.describe()}", flush=True)

    crashes: list[str] = []
    if mci is None and not args.skip_mci:
        crashes.append("mci command not found (install the package or pass --mci)")
    elif not args.skip_mci:
        subprocess.run([_python_of(mci), "-c", MCI_COMPILE], check=True, cwd=REPO)
    cases = [run_case(rows, args, mci, out_dir, baseline_env) for rows in sizes]
    for case in cases:
        crashes.extend(case.crashes)
    comparisons = {c.rows: c.comparison for c in cases if c.comparison is not None}
    verdicts = evaluate_targets(comparisons, sizes)
    print_report(cases, verdicts, skip_mci=args.skip_mci, baseline_env=baseline_env)

    results = {
        "benchmark": "ingest",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "settings": {
            "sizes": sizes,
            "seed": args.seed,
            "repeat": args.repeat,
            "baseline_repeat": args.baseline_repeat,
            "baseline_max_rows": args.baseline_max_rows,
            "baseline_via_clean_csv": args.baseline_via_clean_csv,
            "baseline_driver": None if baseline_env is None else baseline_env.driver,
            "baseline_python": None if baseline_env is None else baseline_env.python,
            "baseline_versions": None if baseline_env is None else baseline_env.versions,
            "mci": mci,
            "timing": "wall time of the whole process; ratios and targets use the medians",
            "before_each_run": "os.sync(), the contender's libraries imported once (unmeasured), "
            "the export read once",
            "memory": "peak RSS of the process tree, max over runs: the larger of the sampled "
            "sum over the tree and the largest per-process VmHWM",
        },
        "cases": [c.record for c in cases],
        "targets": verdicts,
        "crashed": crashes,
    }
    results_path = out_dir / "ingest_results.json"
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults: {results_path}")
    if crashes:
        print("\nsomething crashed:\n" + "\n".join(f"  - {c}" for c in crashes))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure whole processes (wall time, peak memory of the process tree) and print ratios.

A benchmark here runs each contender as its own process, from ``exec`` to exit, so start-up,
imports and teardown are counted the same way for everyone. Peak memory is the larger of:

* the sum of the resident set sizes (RSS) of the process and all its descendants, sampled
  every ``interval`` seconds with psutil. It catches concurrent worker processes, whose
  memory adds up; it may miss a spike shorter than the interval; it counts pages shared
  between processes once per process, so it errs high, never low.
* the largest ``VmHWM`` (the kernel's own RSS high-water mark, which no spike escapes) read
  from ``/proc/<pid>/status`` of each process in the tree while it runs.

``ru_maxrss`` from ``os.wait4`` is recorded too but not used: the kernel starts the child's
count from the memory of the process that forked it (this harness, some 40 MB), so it has a
floor that is not the contender's. It is the fallback where ``/proc`` or psutil is missing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is in the test extras
    psutil = None  # type: ignore[assignment]

MB = 1_000_000
GB = 1_000_000_000


@dataclass(frozen=True)
class Measurement:
    """One run of one command as a whole process.

    Attributes:
        cmd: The command line that was run.
        returncode: The exit code (negative: killed by that signal).
        wall_s: Seconds from just before the process was started until it was reaped.
        peak_rss_bytes: The reported peak memory: the larger of the next two figures, or
            ``ru_maxrss_bytes`` when neither could be taken.
        sampled_tree_peak_bytes: Highest sampled sum of RSS over the process tree (0 if not
            sampled).
        hwm_peak_bytes: Largest ``VmHWM`` of any single process in the tree (0 if unknown).
        ru_maxrss_bytes: ``ru_maxrss`` of the child from ``os.wait4`` (includes the memory of
            the forking harness, see the module docstring).
        samples: How many times the tree was sampled.
        max_processes: The most processes seen in the tree at one sample.
        stdout: Captured standard output.
        stderr: Captured standard error.
        timed_out: Whether the process was killed for exceeding the timeout.
    """

    cmd: tuple[str, ...]
    returncode: int
    wall_s: float
    peak_rss_bytes: int
    sampled_tree_peak_bytes: int
    hwm_peak_bytes: int
    ru_maxrss_bytes: int
    samples: int
    max_processes: int
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """Whether the process exited with status 0 within its time limit."""
        return self.returncode == 0 and not self.timed_out

    def to_json(self, *, output_tail: int = 2000) -> dict[str, Any]:
        """Return a JSON-serialisable dict, with only the tail of the captured output.

        Args:
            output_tail: How many trailing characters of stdout and stderr to keep.

        Returns:
            The measurement as plain data.
        """
        data = asdict(self)
        data["cmd"] = list(self.cmd)
        data["stdout"] = self.stdout[-output_tail:]
        data["stderr"] = self.stderr[-output_tail:]
        return data


@dataclass(frozen=True)
class Summary:
    """Several runs of the same command, summarised.

    Attributes:
        label: What was run, for tables.
        runs: The individual measurements, in the order they ran.
    """

    label: str
    runs: tuple[Measurement, ...]

    @property
    def ok(self) -> bool:
        """Whether every run succeeded."""
        return bool(self.runs) and all(r.ok for r in self.runs)

    @property
    def best_s(self) -> float:
        """Fastest wall time."""
        return min(r.wall_s for r in self.runs)

    @property
    def median_s(self) -> float:
        """Median wall time."""
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def peak_rss_bytes(self) -> int:
        """Highest peak memory over all runs (the conservative figure)."""
        return max(r.peak_rss_bytes for r in self.runs)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict with the summary figures and every run.

        Returns:
            The summary as plain data.
        """
        return {
            "label": self.label,
            "ok": self.ok,
            "repeat": len(self.runs),
            "best_s": round(self.best_s, 4),
            "median_s": round(self.median_s, 4),
            "peak_rss_bytes": self.peak_rss_bytes,
            "runs": [r.to_json() for r in self.runs],
        }


def _vm_hwm(pid: int) -> int:
    """Read a process's RSS high-water mark (``VmHWM``) from ``/proc``.

    Args:
        pid: The process id.

    Returns:
        Bytes, or 0 where ``/proc`` is unavailable or the process is gone.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def _tree_memory(root: Any) -> tuple[int, int, int]:
    """Measure a psutil process and all its live descendants once.

    Args:
        root: A ``psutil.Process``.

    Returns:
        (sum of RSS in bytes, largest ``VmHWM`` in bytes, number of processes counted).
    """
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0, 0
    total = 0
    hwm = 0
    counted = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:  # exited between listing and reading, or a zombie
            continue
        hwm = max(hwm, _vm_hwm(proc.pid))
        counted += 1
    return total, hwm, counted


class _Sampler(threading.Thread):
    """Background thread: samples the tree's RSS and enforces the time limit."""

    def __init__(self, pid: int, start: float, interval: float, timeout: float | None) -> None:
        super().__init__(name=f"rss-sampler-{pid}", daemon=True)
        self.pid = pid
        self.start_time = start
        self.interval = interval
        self.timeout = timeout
        self.stop = threading.Event()
        self.peak = 0
        self.hwm = 0
        self.samples = 0
        self.max_processes = 0
        self.timed_out = False
        self.root: Any = None
        if psutil is not None:
            try:
                self.root = psutil.Process(pid)
            except psutil.Error:
                self.root = None

    def run(self) -> None:
        """Sample until told to stop (the child has been reaped)."""
        while not self.stop.is_set():
            if self.root is not None:
                rss, hwm, count = _tree_memory(self.root)
                self.peak = max(self.peak, rss)
                self.hwm = max(self.hwm, hwm)
                self.max_processes = max(self.max_processes, count)
                self.samples += 1
            if (
                self.timeout is not None
                and not self.timed_out
                and time.perf_counter() - self.start_time > self.timeout
                and not self.stop.is_set()
            ):
                self.timed_out = True
                _kill_tree(self.pid, self.root)
            self.stop.wait(self.interval)


def measure(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    interval: float = 0.01,
    timeout: float | None = None,
) -> Measurement:
    """Run ``cmd`` as a process; measure its wall time and the peak memory of its tree.

    Standard output and error go to temporary files (not pipes), so a chatty process can
    never block on a full pipe while it is being measured.

    Args:
        cmd: The command line.
        cwd: Working directory for the process.
        env: Environment for the process (inherits ours when ``None``).
        interval: Seconds between memory samples of the process tree.
        timeout: Kill the process tree after this many seconds (no limit when ``None``).

    Returns:
        The measurement. A non-zero exit is reported, not raised.
    """
    argv = tuple(os.fspath(c) for c in cmd)
    with (
        tempfile.TemporaryFile(mode="w+b") as out,
        tempfile.TemporaryFile(mode="w+b") as err,
    ):
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=None if env is None else dict(env),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        sampler = _Sampler(proc.pid, start, interval, timeout)
        sampler.start()
        try:
            # Block until the child exits; the wall time stops exactly when it is reaped.
            _, status, rusage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        finally:
            sampler.stop.set()
            sampler.join()
        returncode = os.waitstatus_to_exitcode(status)
        proc.returncode = returncode  # reaped by wait4; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
    ru_maxrss = rusage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return Measurement(
        cmd=argv,
        returncode=returncode,
        wall_s=wall,
        peak_rss_bytes=max(sampler.peak, sampler.hwm) or ru_maxrss,
        sampled_tree_peak_bytes=sampler.peak,
        hwm_peak_bytes=sampler.hwm,
        ru_maxrss_bytes=ru_maxrss,
        samples=sampler.samples,
        max_processes=sampler.max_processes,
        stdout=stdout,
        stderr=stderr,
        timed_out=sampler.timed_out,
    )


def _kill_tree(pid: int, root: Any) -> None:
    """Kill a process we started and its descendants (by pid, never by name).

    Args:
        pid: The pid of the process we started (used only without psutil).
        root: Its ``psutil.Process`` (which refuses to act on a recycled pid), or ``None``.
    """
    if root is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return
    try:
        victims = [*root.children(recursive=True), root]
    except psutil.Error:
        victims = [root]
    for proc in victims:
        with contextlib.suppress(psutil.Error):
            proc.kill()


def repeat(
    label: str,
    cmd: Sequence[str | os.PathLike[str]],
    times: int,
    *,
    before_each: Any = None,
    stop_on_failure: bool = True,
    **kwargs: Any,
) -> Summary:
    """Measure ``cmd`` several times.

    Args:
        label: A name for tables.
        cmd: The command line.
        times: How many runs (at least 1).
        before_each: Optional callable run (unmeasured) before every run, e.g. to delete the
            previous run's database.
        stop_on_failure: Stop after the first failed run.
        **kwargs: Passed on to :func:`measure`.

    Returns:
        The summary of all runs made.
    """
    runs: list[Measurement] = []
    for _ in range(max(1, times)):
        if before_each is not None:
            before_each()
        result = measure(cmd, **kwargs)
        runs.append(result)
        if stop_on_failure and not result.ok:
            break
    return Summary(label=label, runs=tuple(runs))


def warm_file(path: Path, chunk: int = 1 << 24) -> None:
    """Read a file once so every contender starts with it equally warm in the page cache.

    Args:
        path: The file.
        chunk: Read size in bytes.
    """
    with path.open("rb") as fh:
        while fh.read(chunk):
            pass


@dataclass(frozen=True)
class Comparison:
    """A baseline and a candidate measured on the same input.

    Attributes:
        label: The case (e.g. the row count).
        baseline: The baseline's runs, or ``None`` when the baseline was skipped.
        candidate: The candidate's runs.
    """

    label: str
    baseline: Summary | None
    candidate: Summary

    @property
    def speed_ratio(self) -> float | None:
        """Baseline median time / candidate median time (higher is better for the candidate)."""
        if self.baseline is None or not self.baseline.ok or not self.candidate.ok:
            return None
        return self.baseline.median_s / self.candidate.median_s

    @property
    def memory_ratio(self) -> float | None:
        """Baseline peak memory / candidate peak memory (higher is better for the candidate)."""
        if self.baseline is None or not self.baseline.ok or not self.candidate.ok:
            return None
        return self.baseline.peak_rss_bytes / max(1, self.candidate.peak_rss_bytes)


def _fmt_s(summary: Summary | None, attr: str) -> str:
    if summary is None:
        return "skipped"
    if not summary.ok:
        return "FAILED"
    return f"{getattr(summary, attr):.2f}"


def _fmt_mb(summary: Summary | None) -> str:
    if summary is None:
        return "skipped"
    if not summary.ok:
        return "FAILED"
    return f"{summary.peak_rss_bytes / MB:,.0f}"


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def comparison_rows(
    comparisons: Iterable[Comparison],
    *,
    baseline_name: str = "baseline",
    candidate_name: str = "candidate",
) -> tuple[list[str], list[list[str]]]:
    """Lay comparisons out as table cells.

    Args:
        comparisons: The comparisons, one row each.
        baseline_name: What to call the baseline in column names.
        candidate_name: What to call the candidate in column names.

    Returns:
        (header, rows) of strings.
    """
    b, c = baseline_name, candidate_name
    header = [
        "case",
        f"{b} median s",
        f"{b} peak MB",
        f"{c} best s",
        f"{c} median s",
        f"{c} peak MB",
        f"speed {b}/{c}",
        f"memory {b}/{c}",
    ]
    rows = [
        [
            c.label,
            _fmt_s(c.baseline, "median_s"),
            _fmt_mb(c.baseline),
            _fmt_s(c.candidate, "best_s"),
            _fmt_s(c.candidate, "median_s"),
            _fmt_mb(c.candidate),
            _fmt_ratio(c.speed_ratio),
            _fmt_ratio(c.memory_ratio),
        ]
        for c in comparisons
    ]
    return header, rows


def format_plain_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None
) -> str:
    """Lay a table out as aligned plain text (first column left, the others right).

    Args:
        header: Column names.
        rows: Cell strings, one list per row.
        title: Optional title above the table.

    Returns:
        The table, lines joined with newlines.
    """
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    lines = [title] if title else []
    lines += [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]
    return "\n".join(lines)


def print_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None
) -> None:
    """Print a table with rich when it is installed, as aligned plain text otherwise.

    Args:
        header: Column names.
        rows: Cell strings, one list per row.
        title: Optional title above the table.
    """
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(format_plain_table(header, rows, title=title))
        return
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def print_comparisons(
    comparisons: Iterable[Comparison],
    *,
    title: str | None = None,
    baseline_name: str = "baseline",
    candidate_name: str = "candidate",
) -> None:
    """Print wall time, peak memory and baseline/candidate ratios, one row per case.

    Ratios are baseline / candidate: above 1 means the candidate is faster or smaller.

    Args:
        comparisons: The comparisons.
        title: Optional title above the table.
        baseline_name: What to call the baseline in column names.
        candidate_name: What to call the candidate in column names.
    """
    header, rows = comparison_rows(
        comparisons, baseline_name=baseline_name, candidate_name=candidate_name
    )
    print_table(header, rows, title=title)

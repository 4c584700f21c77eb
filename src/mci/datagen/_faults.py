"""Faults planted in a generated export, and the truth about them.

Faults are planned once, before any row is written: which data lines (the header is line 0),
which kind, and the details of each. A line carries at most one fault, and a line that a
duplicate copies from (a *source*) is always clean. Kind names are the ingest's reason codes.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mci.datagen._format import MONEY_INDEX, csv_line, hundredths_text
from mci.datagen._profiles import ROI_MAX
from mci.ingest.contract import SOURCE_COLUMNS

EXACT_DUPLICATE = "exact_duplicate"
CONFLICTING_DUPLICATE = "conflicting_duplicate"
WRONG_FIELD_COUNT = "wrong_field_count"
# Quarantined kinds, in the order the fault budget is spread over them (with EXACT_DUPLICATE).
FAULT_KINDS: tuple[str, ...] = (
    "bad_money",
    "bad_date",
    "negative_value",
    "clicks_exceed_impressions",
    "missing_value",
    WRONG_FIELD_COUNT,
    CONFLICTING_DUPLICATE,
)
SPREAD_ORDER: tuple[str, ...] = (*FAULT_KINDS[:-1], EXACT_DUPLICATE, CONFLICTING_DUPLICATE)
DUPLICATE_KINDS = frozenset({EXACT_DUPLICATE, CONFLICTING_DUPLICATE})

NEGATIVE_COLUMNS: tuple[str, ...] = ("Clicks", "Impressions", "Acquisition_Cost")
MISSING_COLUMNS: tuple[str, ...] = ("Clicks", "Impressions", "ROI", "Conversion_Rate")
FIELD_COUNTS: tuple[int, ...] = (15, 17)
BAD_MONEY: tuple[str, ...] = ("", "N/A", "twelve", "#VALUE!")  # "" = corrupt a digit
BAD_DATE_FORMS = 4

NEW_CATEGORY_COLUMN = "channel"
NEW_CHANNEL = "TikTok"
MIN_NEW_CATEGORY_ROWS = 3
MAX_NEW_CATEGORY_ROWS = 50
MAX_DIRTY = 0.25

_COL = {name: k for k, name in enumerate(SOURCE_COLUMNS)}
_CHANNEL = _COL["Channel_Used"]
_DATE = _COL["Date"]
_COMPANY = _COL["Company"]
_LANGUAGE = _COL["Language"]
_ROI = _COL["ROI"]


@dataclass(frozen=True)
class Fault:
    """One planted fault.

    Attributes:
        line: Data line number (the first data row is line 1).
        kind: Reason code (or ``exact_duplicate``).
        variant: Which form of the fault (meaning depends on ``kind``).
        fraction: A number in [0.3, 0.9) used by ``clicks_exceed_impressions``.
        source: The earlier clean line a duplicate copies from (0 for other kinds).
    """

    line: int
    kind: str
    variant: int
    fraction: float
    source: int = 0

    @property
    def column(self) -> str | None:
        """The source column a ``negative_value`` or ``missing_value`` fault is in."""
        if self.kind == "negative_value":
            return NEGATIVE_COLUMNS[self.variant % len(NEGATIVE_COLUMNS)]
        if self.kind == "missing_value":
            return MISSING_COLUMNS[self.variant % len(MISSING_COLUMNS)]
        return None

    @property
    def field_count(self) -> int | None:
        """The number of fields of a ``wrong_field_count`` line."""
        if self.kind == WRONG_FIELD_COUNT:
            return FIELD_COUNTS[self.variant % len(FIELD_COUNTS)]
        return None


@dataclass
class FaultPlan:
    """Every special line of an export.

    Attributes:
        faults: Line -> fault, for the faults planted in this format.
        new_category: Line -> new channel value (clean rows that load normally).
        sources: Lines that duplicates copy from.
        unplanted: Faults that the format cannot hold (wrong field count in Parquet).
    """

    faults: dict[int, Fault] = field(default_factory=dict)
    new_category: dict[int, str] = field(default_factory=dict)
    sources: frozenset[int] = frozenset()
    unplanted: dict[int, Fault] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Index the special lines for fast per-chunk look-up."""
        self._special = np.array(
            sorted(set(self.faults) | set(self.new_category) | self.sources), dtype=np.int64
        )
        self._rejected = np.array(sorted(self.faults), dtype=np.int64)
        self._new = np.array(sorted(self.new_category), dtype=np.int64)

    def special_between(self, lo: int, hi: int) -> list[int]:
        """Special lines of rows ``lo`` to ``hi`` (0-based, ``hi`` exclusive), ascending."""
        return _between(self._special, lo, hi)

    def rejected_between(self, lo: int, hi: int) -> list[int]:
        """Lines of rows ``lo`` to ``hi`` that the ingest will not load (faults, duplicates)."""
        return _between(self._rejected, lo, hi)

    def new_between(self, lo: int, hi: int) -> list[int]:
        """Lines of rows ``lo`` to ``hi`` with a new category value."""
        return _between(self._new, lo, hi)


def _between(lines: np.ndarray, lo: int, hi: int) -> list[int]:
    a, b = np.searchsorted(lines, [lo + 1, hi + 1], side="left")
    return [int(v) for v in lines[a:b]]


def spread(total: int) -> dict[str, int]:
    """Split ``total`` faulted lines evenly over the kinds (earlier kinds take the remainder)."""
    base, rest = divmod(total, len(SPREAD_ORDER))
    return {kind: base + (1 if k < rest else 0) for k, kind in enumerate(SPREAD_ORDER)}


def plan_faults(rows: int, dirty: float, rng: np.random.Generator, *, csv: bool) -> FaultPlan:
    """Plan the faults of an export of ``rows`` rows.

    The plan is the same for CSV and Parquet except that Parquet cannot hold a line with the
    wrong number of fields: those lines stay clean there (and are listed in ``unplanted``).

    Args:
        rows: Number of data lines.
        dirty: Fraction of lines to fault, in [0, ``MAX_DIRTY``].
        rng: Random stream of the plan.
        csv: Whether the export is CSV.

    Returns:
        The plan.
    """
    total = min(round(dirty * rows), max(rows - 1, 0))
    if total <= 0:
        return FaultPlan()
    counts = spread(total)
    lines = rng.choice(rows - 1, size=total, replace=False) + 2  # line 1 is always clean
    variants = rng.integers(0, 12, total)
    fractions = rng.uniform(0.3, 0.9, total)
    kinds = [kind for kind in SPREAD_ORDER for _ in range(counts[kind])]
    faults = {
        int(ln): Fault(int(ln), kind, int(v), float(f))
        for ln, kind, v, f in zip(lines, kinds, variants, fractions, strict=True)
    }
    blocked = set(faults)
    n_new = int(np.clip(round(rows * dirty / 100), MIN_NEW_CATEGORY_ROWS, MAX_NEW_CATEGORY_ROWS))
    new_lines = _pick_free(rng, rows, min(n_new, rows - len(blocked)), blocked)
    blocked.update(new_lines)
    sources = _assign_sources(rng, faults, blocked)
    active = faults
    unplanted: dict[int, Fault] = {}
    if not csv:
        active = {ln: f for ln, f in faults.items() if f.kind != WRONG_FIELD_COUNT}
        unplanted = {ln: f for ln, f in faults.items() if f.kind == WRONG_FIELD_COUNT}
    return FaultPlan(
        faults=active,
        new_category=dict.fromkeys(sorted(new_lines), NEW_CHANNEL),
        sources=frozenset(sources),
        unplanted=unplanted,
    )


def _pick_free(rng: np.random.Generator, rows: int, n: int, blocked: set[int]) -> list[int]:
    picked: list[int] = []
    seen = set(blocked)
    while len(picked) < n:
        for ln in rng.integers(1, rows + 1, 4 * n + 16):
            ln = int(ln)
            if ln not in seen:
                seen.add(ln)
                picked.append(ln)
                if len(picked) == n:
                    break
    return picked


def _assign_sources(
    rng: np.random.Generator, faults: dict[int, Fault], blocked: set[int]
) -> set[int]:
    """Give every duplicate an earlier clean line to copy (each source used once).

    Mutates ``faults``: a duplicate with no free earlier line swaps kinds with the latest
    non-duplicate fault after it (or, if none, becomes ``bad_money``).
    """
    used: set[int] = set()
    queue = sorted(ln for ln, f in faults.items() if f.kind in DUPLICATE_KINDS)
    while queue:
        line = queue.pop(0)
        fault = faults[line]
        source = _pick_source(rng, line, blocked, used)
        if source is not None:
            used.add(source)
            faults[line] = Fault(line, fault.kind, fault.variant, fault.fraction, source)
            continue
        later = [ln for ln, f in faults.items() if ln > line and f.kind not in DUPLICATE_KINDS]
        if later:
            other = faults[max(later)]
            faults[line] = Fault(line, other.kind, other.variant, other.fraction)
            faults[other.line] = Fault(other.line, fault.kind, fault.variant, fault.fraction)
            bisect.insort(queue, other.line)
        else:
            faults[line] = Fault(line, "bad_money", fault.variant, fault.fraction)
    return used


def _pick_source(
    rng: np.random.Generator, line: int, blocked: set[int], used: set[int]
) -> int | None:
    if line <= 1:
        return None
    for candidate in rng.integers(1, line, 32):
        candidate = int(candidate)
        if candidate not in blocked and candidate not in used:
            return candidate
    for candidate in range(line - 1, 0, -1):
        if candidate not in blocked and candidate not in used:
            return candidate
    return None


def faulted_fields(
    fault: Fault, fields: Sequence[str], source: Sequence[str] | None
) -> list[str | None]:
    """The fields of a faulted line (``None`` is an empty field / a null in Parquet).

    Args:
        fault: The fault (any kind but ``wrong_field_count``).
        fields: The clean fields of the line.
        source: The clean fields of the line a duplicate copies from.

    Returns:
        The fields as they are written.
    """
    out: list[str | None] = list(fields)
    kind = fault.kind
    if kind == EXACT_DUPLICATE:
        assert source is not None
        return list(source)
    if kind == CONFLICTING_DUPLICATE:
        assert source is not None
        out[0] = source[0]
        if list(out[1:]) == list(source[1:]):  # vanishingly rare: make the content differ
            roi = round(float(fields[_ROI]) * 100)
            out[_ROI] = hundredths_text(roi - 1 if roi >= ROI_MAX else roi + 1)
        return out
    if kind == "bad_money":
        form = BAD_MONEY[fault.variant % len(BAD_MONEY)]
        money = fields[MONEY_INDEX]
        out[MONEY_INDEX] = form or money[:-5] + "x" + money[-4:]
    elif kind == "bad_date":
        out[_DATE] = _bad_date(fields[_DATE], fault.variant)
    elif kind == "negative_value":
        column = _COL[fault.column or ""]
        out[column] = "-" + fields[column]
    elif kind == "clicks_exceed_impressions":
        clicks = int(fields[_COL["Clicks"]])
        out[_COL["Impressions"]] = str(max(1, int(clicks * fault.fraction)))
    elif kind == "missing_value":
        out[_COL[fault.column or ""]] = None
    else:
        raise ValueError(f"no field-level form for fault kind {kind!r}")
    return out


def _bad_date(iso: str, variant: int) -> str:
    day = dt.date.fromisoformat(iso)
    forms = (
        f"{day.year}-13-45",
        f"{day:%d/%m/%Y}",
        "not a date",
        f"{day.year}-02-30",
    )
    return forms[variant % BAD_DATE_FORMS]


def wrong_field_count_line(fault: Fault, fields: Sequence[str]) -> str:
    """A CSV line with 15 fields (``Language`` lost) or 17 (an unquoted comma in ``Company``)."""
    if fault.field_count == 15:
        return csv_line([v for k, v in enumerate(fields) if k != _LANGUAGE])
    out = list(fields)
    out[_COMPANY] = f"{fields[_COMPANY]}, Inc."
    return csv_line(out, unquoted=(_COMPANY,))


def new_category_fields(fields: Sequence[str], value: str) -> list[str | None]:
    """The fields of a clean line whose channel is a value never seen before."""
    out: list[str | None] = list(fields)
    out[_CHANNEL] = value
    return out


def faults_truth(plan: FaultPlan) -> tuple[dict[str, dict], dict[str, dict]]:
    """The ``faults`` and ``duplicates`` sections of the truth file."""
    by_kind: dict[str, list[Fault]] = {kind: [] for kind in SPREAD_ORDER}
    for line in sorted(plan.faults):
        fault = plan.faults[line]
        by_kind[fault.kind].append(fault)
    faults: dict[str, dict] = {}
    for kind in FAULT_KINDS:
        items = by_kind[kind]
        entry: dict = {"count": len(items), "lines": [f.line for f in items]}
        if kind in ("negative_value", "missing_value"):
            columns = NEGATIVE_COLUMNS if kind == "negative_value" else MISSING_COLUMNS
            entry["by_column"] = {c: [f.line for f in items if f.column == c] for c in columns}
        elif kind == WRONG_FIELD_COUNT:
            entry["by_field_count"] = {
                str(n): [f.line for f in items if f.field_count == n] for n in FIELD_COUNTS
            }
        elif kind == CONFLICTING_DUPLICATE:
            entry["source_lines"] = [f.source for f in items]
        faults[kind] = entry
    exact = by_kind[EXACT_DUPLICATE]
    duplicates = {
        EXACT_DUPLICATE: {
            "count": len(exact),
            "lines": [f.line for f in exact],
            "source_lines": [f.source for f in exact],
        }
    }
    return faults, duplicates


def new_categories_truth(plan: FaultPlan) -> dict[str, dict[str, list[int]]]:
    """The ``new_categories`` section: canonical column -> new value -> sorted lines."""
    out: dict[str, list[int]] = {}
    for line in sorted(plan.new_category):
        out.setdefault(plan.new_category[line], []).append(line)
    return {NEW_CATEGORY_COLUMN: out} if out else {}

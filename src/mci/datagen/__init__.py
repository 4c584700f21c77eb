"""Synthetic campaign-performance exports in the source format, with planted truth.

The genuine Kaggle export is uniform noise, so nothing an analysis finds in it can be checked.
:func:`generate` writes exports that look exactly like it (same header, same text formats, values
within the same ranges) with either the same noise (``profile="noise"``) or planted structure
(``profile="planted"``), optionally with faulty lines (``dirty``), and returns what it planted.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     truth = generate(Path(tmp) / "export.csv", rows=1_000, dirty=0.02)
    >>> truth["expected"]["rows_read"], truth["faults"]["bad_date"]["count"]
    (1000, 3)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mci.datagen._faults import MAX_DIRTY, plan_faults
from mci.datagen._format import Formatter
from mci.datagen._profiles import (
    ANOMALY_FACTORS,
    PLANTED_CHANNELS,
    Calendar,
    ChannelPlan,
    NoiseProfile,
    PlantedProfile,
)
from mci.datagen._truth import Tally, build_truth
from mci.datagen._writer import write_export

__all__ = [
    "ANOMALY_FACTORS",
    "FORMATS",
    "PLANTED_CHANNELS",
    "PROFILES",
    "ChannelPlan",
    "generate",
]

FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet"}
PROFILES: tuple[str, ...] = ("planted", "noise")
_PROFILE_STREAM, _FAULT_STREAM = 0, 1


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


def _file_format(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        shown = suffix or "(no suffix)"
        raise ValueError(f"unsupported output suffix {shown!r} for {out}: use .csv or .parquet")
    return FORMATS[suffix]


def _check(rows: int, days: int, seed: int, profile: str, dirty: float) -> None:
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be a positive integer, got {rows!r}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a positive integer, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    if not 0.0 <= dirty <= MAX_DIRTY:
        raise ValueError(f"dirty must be a fraction between 0 and {MAX_DIRTY}, got {dirty!r}")


def generate(
    out: Path,
    *,
    rows: int = 200_000,
    days: int = 365,
    start: dt.date = dt.date(2021, 1, 1),
    seed: int = 0,
    profile: Literal["planted", "noise"] = "planted",
    dirty: float = 0.0,
    truth: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write a synthetic export to ``out`` and return the truth about it.

    The same arguments always give byte-identical files. Rows are drawn and written in chunks
    of a million, so memory stays flat however many rows are asked for.

    Args:
        out: Output file; ``.csv`` or ``.parquet`` (Parquet: the same 16 columns, all text).
        rows: Number of data rows (``Campaign_ID`` runs 1..rows).
        days: Number of days covered, from ``start``.
        start: First day.
        seed: Seed of every random draw.
        profile: ``"planted"`` (channel scale, ROI and volatility, weekly and yearly
            seasonality, anomalous days) or ``"noise"`` (every column independent and
            uniform like the genuine export; ``Date = start + (Campaign_ID - 1) mod days``).
        dirty: Fraction of rows to fault (0 to 0.25), spread evenly over the fault kinds.
        truth: Where to write the truth as JSON, if anywhere.
        on_progress: Called as ``on_progress(rows_done, rows_total)`` after each chunk.

    Returns:
        The truth: ``profile, seed, rows, days, start, channels, best_roi_channel,
        worst_roi_channel, most_volatile_channel, seasonality, anomalies, faults, duplicates,
        new_categories, expected`` and a few more (see the module ``_truth``).

    Raises:
        ValueError: On an unsupported suffix of ``out`` or an argument out of range.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = Path(tmp) / "export.csv"
        ...     truth = generate(path, rows=20_000, seed=3)
        ...     header = path.read_text().splitlines()[0]
        >>> header.split(",")[:3]
        ['Campaign_ID', 'Company', 'Campaign_Type']
        >>> truth["best_roi_channel"], truth["worst_roi_channel"], truth["most_volatile_channel"]
        ('Email', 'Website', 'Instagram')
        >>> truth["channels"]["Facebook"]["expected_quadrant"]
        'High Scale • Low ROI'
        >>> round(truth["channels"]["Email"]["realised_roi"], 1)
        6.8
    """
    out = Path(out)
    file_format = _file_format(out)
    if isinstance(start, str):
        start = dt.date.fromisoformat(start)
    elif isinstance(start, dt.datetime):
        start = start.date()
    _check(rows, days, seed, profile, dirty)
    calendar = Calendar.build(start, days)
    model: PlantedProfile | NoiseProfile
    if profile == "planted":
        model = PlantedProfile(rows, calendar, _rng(seed, _PROFILE_STREAM))
    else:
        model = NoiseProfile(rows, calendar)
    plan = plan_faults(rows, dirty, _rng(seed, _FAULT_STREAM), csv=file_format == "csv")
    tally = Tally(calendar)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_export(
        out,
        file_format=file_format,
        model=model,
        formatter=Formatter(calendar),
        plan=plan,
        tally=tally,
        seed=seed,
        on_progress=on_progress,
    )
    doc = build_truth(
        model=model,
        plan=plan,
        tally=tally,
        seed=seed,
        rows=rows,
        dirty=float(dirty),
        file_format=file_format,
    )
    if truth is not None:
        truth = Path(truth)
        truth.parent.mkdir(parents=True, exist_ok=True)
        truth.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return doc

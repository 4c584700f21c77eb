"""Text of generated rows, exactly as the genuine export writes it.

Clean rows are formatted without Python loops: every value is looked up in a small table of
ready-made text (Arrow ``take``), adjacent low-cardinality columns share one table, and Arrow
joins the pieces into lines. The few faulted rows go through :func:`csv_line` instead.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Sequence
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mci.datagen._profiles import (
    CLICKS_MAX,
    CONV_MAX,
    CONV_MIN,
    ENGAGEMENT_MAX,
    ENGAGEMENT_MIN,
    IMPR_MAX,
    ROI_MAX,
    ROI_MIN,
    SPEND_MAX,
    SPEND_MIN,
    Calendar,
    RowBlock,
)
from mci.ingest.contract import DURATIONS_DAYS, KNOWN_CATEGORIES, SOURCE_COLUMNS

HEADER = ",".join(SOURCE_COLUMNS) + "\n"
MONEY_INDEX = SOURCE_COLUMNS.index("Acquisition_Cost")
_NEEDS_QUOTES = frozenset(',"\r\n')


def money_text(dollars: int) -> str:
    """Money text of the export, e.g. ``$16,174.00`` (``-$1,200.00`` when negative)."""
    sign = "-" if dollars < 0 else ""
    return f"{sign}${abs(dollars):,}.00"


def hundredths_text(value: int) -> str:
    """A two-decimal figure the way the export writes it: ``0.04``, ``6.29``, ``6.5``, ``7.0``."""
    return repr(value / 100)


def duration_text(days: int) -> str:
    """Duration text of the export, e.g. ``30 days``."""
    return f"{days} days"


def csv_line(fields: Sequence[str | None], unquoted: Iterable[int] = ()) -> str:
    """Serialise one row the way the export does, with the trailing line feed.

    ``Acquisition_Cost`` (position 7) is always quoted; any other field is quoted only when it
    needs quotes, unless its position is in ``unquoted``. ``None`` is written as an empty field.

    Example:
        >>> csv_line(["1", "TechCorp", "", None, "x", "y", "0.1", "$5,000.00"]).rstrip()
        '1,TechCorp,,,x,y,0.1,"$5,000.00"'
    """
    raw = frozenset(unquoted)
    out = []
    for k, value in enumerate(fields):
        text = "" if value is None else value
        if k not in raw and (k == MONEY_INDEX or not _NEEDS_QUOTES.isdisjoint(text)):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out) + "\n"


def parse_csv_line(line: str) -> list[str]:
    """Split one line of the export into its fields."""
    return next(csv.reader([line.rstrip("\n")]))


def _table(values: Iterable[str]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def _take(table: pa.Array, index: np.ndarray) -> pa.Array:
    return table.take(pa.array(index, type=pa.int64()))


class Formatter:
    """Lookup tables for one calendar, and the text of whole blocks of rows."""

    def __init__(self, calendar: Calendar) -> None:
        """Build the lookup tables (a few hundred thousand short strings)."""
        cats = KNOWN_CATEGORIES
        self.days = calendar.days
        self._cat = {name: _table(values) for name, values in cats.items()}
        self._duration = _table(duration_text(d) for d in DURATIONS_DAYS)
        self._spend = list(range(SPEND_MIN, SPEND_MAX + 1))
        self._money = _table(money_text(v) for v in self._spend)
        self._conv = _table(hundredths_text(v) for v in range(CONV_MIN, CONV_MAX + 1))
        self._roi = _table(hundredths_text(v) for v in range(ROI_MIN, ROI_MAX + 1))
        self._clicks = _table(str(v) for v in range(CLICKS_MAX + 1))
        self._impressions = _table(str(v) for v in range(IMPR_MAX + 1))
        self._engagement = _table(str(v) for v in range(ENGAGEMENT_MAX + 1))
        self._date = _table(calendar.iso)

        # Shared tables for runs of adjacent columns in a CSV line.
        self._dims_a = (
            len(cats["company"]),
            len(cats["campaign_type"]),
            len(cats["target_audience"]),
            len(DURATIONS_DAYS),
            len(cats["channel"]),
        )
        self._line_a = _table(
            ",".join(p)
            for p in itertools.product(
                cats["company"],
                cats["campaign_type"],
                cats["target_audience"],
                [duration_text(d) for d in DURATIONS_DAYS],
                cats["channel"],
            )
        )
        money_csv = [f'"{money_text(v)}"' for v in self._spend]
        conv_text = [hundredths_text(v) for v in range(CONV_MIN, CONV_MAX + 1)]
        self._dims_b = (len(conv_text), len(money_csv))
        self._line_b = _table(f"{c},{m}" for c, m in itertools.product(conv_text, money_csv))
        roi_text = [hundredths_text(v) for v in range(ROI_MIN, ROI_MAX + 1)]
        self._dims_c = (len(roi_text), len(cats["location"]), len(cats["language"]))
        self._line_c = _table(
            ",".join(p) for p in itertools.product(roi_text, cats["location"], cats["language"])
        )
        engagement_text = [str(v) for v in range(ENGAGEMENT_MIN, ENGAGEMENT_MAX + 1)]
        self._dims_e = (len(engagement_text), len(cats["customer_segment"]), calendar.days)
        self._line_e = _table(
            f"{e},{s},{d}\n"
            for e, s, d in itertools.product(
                engagement_text, cats["customer_segment"], calendar.iso
            )
        )

    @staticmethod
    def ids(block: RowBlock) -> pa.Array:
        """Campaign_ID text of a block (the 1-based row number)."""
        return pc.cast(pa.array(np.arange(block.lo + 1, block.hi + 1)), pa.string())

    def csv_lines(self, block: RowBlock) -> pa.Array:
        """Every row of ``block`` as one line of CSV text, line feed included."""
        a = np.ravel_multi_index(
            (
                block.company,
                block.campaign_type,
                block.target_audience,
                block.duration,
                block.channel,
            ),
            self._dims_a,
        )
        b = np.ravel_multi_index((block.conv - CONV_MIN, block.spend - SPEND_MIN), self._dims_b)
        c = np.ravel_multi_index(
            (block.roi - ROI_MIN, block.location, block.language), self._dims_c
        )
        e = np.ravel_multi_index(
            (block.engagement - ENGAGEMENT_MIN, block.segment, block.day), self._dims_e
        )
        pieces = [
            self.ids(block),
            _take(self._line_a, a),
            _take(self._line_b, b),
            _take(self._line_c, c),
            _take(self._clicks, block.clicks),
            _take(self._impressions, block.impressions),
            _take(self._line_e, e),
        ]
        return pc.binary_join_element_wise(*pieces, ",")

    def _column_sources(self, block: RowBlock) -> list[tuple[pa.Array, np.ndarray]]:
        """Lookup table and index of every column but ``Campaign_ID``."""
        cat = self._cat
        return [
            (cat["company"], block.company),
            (cat["campaign_type"], block.campaign_type),
            (cat["target_audience"], block.target_audience),
            (self._duration, block.duration),
            (cat["channel"], block.channel),
            (self._conv, block.conv - CONV_MIN),
            (self._money, block.spend - SPEND_MIN),
            (self._roi, block.roi - ROI_MIN),
            (cat["location"], block.location),
            (cat["language"], block.language),
            (self._clicks, block.clicks),
            (self._impressions, block.impressions),
            (self._engagement, block.engagement),
            (cat["customer_segment"], block.segment),
            (self._date, block.day),
        ]

    def fields_at(self, block: RowBlock, rows: Sequence[int]) -> list[list[str]]:
        """The sixteen clean fields of a few rows of ``block`` (0-based positions)."""
        index = np.asarray(rows, dtype=np.int64)
        ids = [str(block.lo + 1 + int(r)) for r in index]
        columns = [
            _take(table, idx[index]).to_pylist() for table, idx in self._column_sources(block)
        ]
        return [[i, *row] for i, *row in zip(ids, *columns, strict=True)]

    def columns(
        self, block: RowBlock, overrides: dict[int, Sequence[str | None]] | None = None
    ) -> list[pa.Array]:
        """The sixteen text columns of ``block`` (money without CSV quotes).

        Args:
            block: The rows.
            overrides: Position in the block -> the sixteen fields written there instead
                (``None`` is a null).

        Returns:
            One string array per source column.
        """
        over = overrides or {}
        rows = sorted(over)
        ids = np.arange(block.lo + 1, block.hi + 1)
        id_text: dict[int, str | None] = {}
        for r in rows:
            text = over[r][0]
            if text is not None and text.isascii() and text.isdigit() and str(int(text)) == text:
                ids[r] = int(text)
            else:
                id_text[r] = text
        out = [pc.cast(pa.array(ids), pa.string())]
        if id_text:
            mask = np.zeros(len(ids), dtype=bool)
            mask[list(id_text)] = True
            values = pa.array([id_text[r] for r in sorted(id_text)], type=pa.string())
            out[0] = pc.replace_with_mask(out[0], pa.array(mask), values)
        position = np.asarray(rows, dtype=np.int64)
        for k, (table, index) in enumerate(self._column_sources(block), start=1):
            if rows:
                extra = pa.array([over[r][k] for r in rows], type=pa.string())
                index = index.copy()
                index[position] = len(table) + np.arange(len(rows))
                table = pa.concat_arrays([table, extra])
            out.append(_take(table, index))
        return out


def write_string_array(fh: BinaryIO, array: pa.Array) -> None:
    """Write the concatenated bytes of a string array (no separators) to a binary file."""
    if len(array) == 0:
        return
    _, offsets_buf, data = array.buffers()
    offsets = np.frombuffer(
        offsets_buf, dtype=np.int32, count=len(array) + 1, offset=4 * array.offset
    )
    fh.write(memoryview(data)[int(offsets[0]) : int(offsets[-1])])

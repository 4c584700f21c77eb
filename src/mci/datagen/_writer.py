"""The chunked write loop: draw a block of rows, plant its faults, write it, tally it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mci.datagen._faults import (
    EXACT_DUPLICATE,
    WRONG_FIELD_COUNT,
    FaultPlan,
    faulted_fields,
    new_category_fields,
    wrong_field_count_line,
)
from mci.datagen._format import HEADER, Formatter, csv_line, parse_csv_line, write_string_array
from mci.datagen._profiles import NoiseProfile, PlantedProfile, RowBlock
from mci.datagen._truth import Tally
from mci.ingest.contract import SOURCE_COLUMNS

CHUNK_ROWS = 1_000_000
ROWS_STREAM = 2


def chunk_rng(seed: int, chunk: int) -> np.random.Generator:
    """The random stream of one chunk of rows."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(ROWS_STREAM, chunk)))


class _CsvSink:
    def __init__(self, path: Path, formatter: Formatter, plan: FaultPlan) -> None:
        self.formatter = formatter
        self.plan = plan
        self.sources: dict[int, tuple[str, list[str]]] = {}
        self.fh: BinaryIO = path.open("wb")
        self.fh.write(HEADER.encode())

    def write(self, block: RowBlock) -> None:
        lines = self.formatter.csv_lines(block)
        special = self.plan.special_between(block.lo, block.hi)
        if special:
            lines = self._plant(block, lines, special)
        write_string_array(self.fh, lines)

    def _plant(self, block: RowBlock, lines: pa.Array, special: list[int]) -> pa.Array:
        plan = self.plan
        clean = lines.take(pa.array([ln - block.lo - 1 for ln in special])).to_pylist()
        for ln, text in zip(special, clean, strict=True):
            if ln in plan.sources:
                self.sources[ln] = (text, parse_csv_line(text))
        mask = np.zeros(len(lines), dtype=bool)
        values: list[str] = []
        for ln, text in zip(special, clean, strict=True):
            fault = plan.faults.get(ln)
            if fault is not None:
                source = self.sources.pop(fault.source) if fault.source else None
                if fault.kind == EXACT_DUPLICATE:
                    assert source is not None
                    new = source[0]
                elif fault.kind == WRONG_FIELD_COUNT:
                    new = wrong_field_count_line(fault, parse_csv_line(text))
                else:
                    fields = faulted_fields(
                        fault, parse_csv_line(text), source[1] if source else None
                    )
                    new = csv_line(fields)
            elif ln in plan.new_category:
                new = csv_line(new_category_fields(parse_csv_line(text), plan.new_category[ln]))
            else:
                continue
            mask[ln - block.lo - 1] = True
            values.append(new)
        if not values:
            return lines
        return pc.replace_with_mask(lines, pa.array(mask), pa.array(values, type=pa.string()))

    def close(self) -> None:
        self.fh.close()


class _ParquetSink:
    def __init__(self, path: Path, formatter: Formatter, plan: FaultPlan) -> None:
        self.formatter = formatter
        self.plan = plan
        self.sources: dict[int, list[str]] = {}
        self.schema = pa.schema([(name, pa.string()) for name in SOURCE_COLUMNS])
        self.writer = pq.ParquetWriter(path, self.schema, compression="snappy")

    def write(self, block: RowBlock) -> None:
        special = self.plan.special_between(block.lo, block.hi)
        overrides = self._plant(block, special) if special else None
        columns = self.formatter.columns(block, overrides)
        self.writer.write_table(pa.Table.from_arrays(columns, schema=self.schema))

    def _plant(self, block: RowBlock, special: list[int]) -> dict[int, list[str | None]]:
        plan = self.plan
        clean = self.formatter.fields_at(block, [ln - block.lo - 1 for ln in special])
        for ln, fields in zip(special, clean, strict=True):
            if ln in plan.sources:
                self.sources[ln] = fields
        overrides: dict[int, list[str | None]] = {}
        for ln, fields in zip(special, clean, strict=True):
            fault = plan.faults.get(ln)
            if fault is not None:
                source = self.sources.pop(fault.source) if fault.source else None
                overrides[ln - block.lo - 1] = faulted_fields(fault, fields, source)
            elif ln in plan.new_category:
                overrides[ln - block.lo - 1] = new_category_fields(fields, plan.new_category[ln])
        return overrides

    def close(self) -> None:
        self.writer.close()


def write_export(
    out: Path,
    *,
    file_format: str,
    model: PlantedProfile | NoiseProfile,
    formatter: Formatter,
    plan: FaultPlan,
    tally: Tally,
    seed: int,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    """Write every row to ``out`` (through a temporary file), tallying what the ingest loads."""
    rows = model.rows
    tmp = out.with_name(out.name + ".partial")
    sink_type = _CsvSink if file_format == "csv" else _ParquetSink
    sink = sink_type(tmp, formatter, plan)
    try:
        for chunk, lo in enumerate(range(0, rows, CHUNK_ROWS)):
            hi = min(rows, lo + CHUNK_ROWS)
            block = model.block(lo, hi, chunk_rng(seed, chunk))
            sink.write(block)
            tally.add(block, plan.rejected_between(lo, hi), plan.new_between(lo, hi))
            if on_progress is not None:
                on_progress(hi, rows)
        sink.close()
        os.replace(tmp, out)
    except BaseException:
        sink.close()
        tmp.unlink(missing_ok=True)
        raise

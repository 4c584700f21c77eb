"""Rendering results for the terminal (rich tables), CSV and JSON."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
from collections.abc import Mapping, Sequence
from typing import IO, Any

from mci.ingest.quality import QualityReport


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date().isoformat()  # a period start, shown as the day it is
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def render_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out: IO[str]
) -> None:
    """Writes rows as a rich table, CSV (with a header row) or JSON (a list of objects)."""
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
        return
    if fmt == "json":
        records = [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        out.write(json.dumps(records) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, show_lines=False)
    for row in rows:
        table.add_row(*("" if v is None else str(_plain(v)) for v in row))
    Console(file=out).print(table)


def render_quality(report: QualityReport) -> None:
    """Prints the quality report as rich tables."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    # Values come from data: escaped so "[red]" is text, not markup, and no highlighter
    # (rich's is quadratic in a long token's length).
    console = Console(highlight=False)
    if not report.loads:
        console.print("No loads yet: load an export with `mci ingest FILE`.")
        return
    loads = Table(
        "load",
        "source",
        "read",
        "loaded",
        "quarantined",
        "duplicate",
        "outliers",
        "status",
        "finished",
        title="Loads",
    )
    for load in report.loads:
        loads.add_row(
            str(load["load_id"]),
            escape(str(load["source"])),
            f"{load['rows_read']:,}",
            f"{load['rows_loaded']:,}",
            f"{load['rows_quarantined']:,}",
            f"{load['rows_duplicate']:,}",
            f"{load['rows_outlier']:,}",
            str(load["status"]),
            str(load["finished_at"])[:19],
        )
    console.print(loads)
    totals = report.totals
    console.print(
        f"Live loads: {totals['rows_read']:,} rows read = {totals['rows_loaded']:,} loaded + "
        f"{totals['rows_quarantined']:,} quarantined + {totals['rows_duplicate']:,} duplicate"
    )
    if report.quarantine_by_reason:
        reasons = Table("reason", "rows", title="Quarantine by reason")
        for code, count in report.quarantine_by_reason.items():
            reasons.add_row(escape(code), f"{count:,}")
        console.print(reasons)
        samples = Table("load", "line", "reason", "message", "raw text", title="Sample rows")
        for s in report.samples:
            samples.add_row(
                str(s["load_id"]),
                str(s["line_no"]),
                str(s["reason_code"]),
                escape(str(s["reason_message"])),
                escape(str(s["raw_text"])[:80]),
            )
        console.print(samples)
    else:
        console.print("Quarantine is empty.")
    if report.outliers_by_channel:
        metrics = sorted({m for per in report.outliers_by_channel.values() for m in per})
        outliers = Table("channel", *metrics, title="Outlier flags (robust z > 3.5 on logs)")
        for channel, per in report.outliers_by_channel.items():
            outliers.add_row(escape(str(channel)), *(f"{per.get(m, 0):,}" for m in metrics))
        console.print(outliers)
    for column, values in report.new_categories.items():
        console.print(f"New {column} values: {escape(', '.join(values))}")


def render_kpis(kpis: Mapping[str, Any]) -> None:
    """Prints headline KPIs."""
    from rich.console import Console
    from rich.table import Table

    table = Table("KPI", "value", title="Headline KPIs")
    for name, value in kpis.items():
        table.add_row(name, value if isinstance(value, str) else f"{value:,.4g}")
    Console().print(table)

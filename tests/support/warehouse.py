"""Reading a warehouse back in an engine-neutral form, to compare engines and states."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mci.warehouse import connect

TABLE_ORDER = {
    "campaign_performance": "load_id, line_no",
    "quarantine": "load_id, line_no",
    "raw_campaign_rows": "load_id, line_no",
    "load_log": "load_id",
}


def _neutral(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return round(value, 9)
    return value


def snapshot(url: str, tables: tuple[str, ...] = tuple(TABLE_ORDER)) -> dict[str, list[tuple]]:
    """Every row of the warehouse tables, with engine-specific types made plain."""
    out: dict[str, list[tuple]] = {}
    with connect(url, read_only=True) as wh:
        for table in tables:
            if not wh.table_exists(table):
                out[table] = []
                continue
            _, rows = wh.query(f"SELECT * FROM {table} ORDER BY {TABLE_ORDER[table]}")
            out[table] = [tuple(_neutral(v) for v in row) for row in rows]
    return out


def quarantined_lines(url: str) -> dict[str, list[int]]:
    """Quarantined line numbers per reason code."""
    with connect(url, read_only=True) as wh:
        _, rows = wh.query("SELECT reason_code, line_no FROM quarantine ORDER BY line_no")
    found: dict[str, list[int]] = {}
    for code, line in rows:
        found.setdefault(code, []).append(int(line))
    return found

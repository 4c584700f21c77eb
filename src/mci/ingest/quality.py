"""The data-quality report: loads, quarantine by reason, sample faults, outliers, new values.

Everything in the report is for showing, so long text is shortened (the first 200 characters
and the length, :func:`mci.ingest.errors.shorten`): a sample's raw line and message, and new
category values. The warehouse keeps them whole. Without that, a megabyte-long value took
minutes to print (a terminal renderer's highlighting is quadratic in a token's length), and
only its first characters are fetched, so the report stays fast whatever the data holds.

Example:
    >>> import tempfile, pathlib
    >>> from mci.warehouse import connect
    >>> from mci.warehouse.schema import ensure_schema
    >>> url = f"duckdb:///{pathlib.Path(tempfile.mkdtemp()) / 'w.duckdb'}"
    >>> with connect(url) as wh:
    ...     ensure_schema(wh)
    >>> quality_report(url).quarantine_by_reason
    {}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mci.ingest.errors import SHORT_TEXT, shorten
from mci.warehouse.connection import connect

SAMPLES_PER_REASON = 3


@dataclass
class QualityReport:
    """What the warehouse holds about the quality of what was loaded."""

    loads: list[dict[str, Any]] = field(default_factory=list)
    quarantine_by_reason: dict[str, int] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    outliers_by_channel: dict[str, dict[str, int]] = field(default_factory=dict)
    new_categories: dict[str, list[str]] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        """Rows read, loaded, quarantined and duplicate over the live loads."""
        keys = ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "rows_outlier")
        live = [load for load in self.loads if load["status"] == "loaded"]
        return {key: sum(int(load[key]) for load in live) for key in keys}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["totals"] = self.totals
        return json.loads(json.dumps(data, default=str))


def _records(columns: list[str], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def quality_report(db: str | None = None) -> QualityReport:
    """Reads the quality report from the warehouse (read-only).

    Args:
        db: the database URL; ``None`` uses ``MCI_DB_URL`` or the default.

    Returns:
        The report.
    """
    report = QualityReport()
    with connect(db, read_only=True) as wh:
        if not wh.table_exists("load_log"):
            return report
        report.loads = _records(
            *wh.query(
                "SELECT load_id, source, sha256, rows_read, rows_loaded, rows_quarantined, "
                "rows_duplicate, rows_outlier, started_at, finished_at, status, new_categories "
                "FROM load_log ORDER BY load_id"
            )
        )
        _, rows = wh.query(
            "SELECT reason_code, count(*) FROM quarantine GROUP BY reason_code ORDER BY 2 DESC, 1"
        )
        report.quarantine_by_reason = {code: int(n) for code, n in rows}
        _, rows = wh.query(
            "SELECT load_id, line_no, reason_code, column_name, "
            "substr(reason_message, 1, ?), length(reason_message), substr(raw_text, 1, ?), "
            "length(raw_text) FROM (SELECT q.*, row_number() OVER ("
            "  PARTITION BY reason_code ORDER BY load_id, line_no) AS rn FROM quarantine AS q"
            ") AS s WHERE rn <= ? ORDER BY reason_code, load_id, line_no",
            [2 * SHORT_TEXT, 2 * SHORT_TEXT, SAMPLES_PER_REASON],
        )
        report.samples = [
            {
                "load_id": load_id,
                "line_no": line_no,
                "reason_code": code,
                "column_name": None if column is None else shorten(str(column)),
                "reason_message": _shortened(message, message_length, 2 * SHORT_TEXT),
                "raw_text": _shortened(raw, raw_length),
            }
            for load_id, line_no, code, column, message, message_length, raw, raw_length in rows
        ]
        _, rows = wh.query(
            "SELECT channel, coalesce(outlier_reason, ''), count(*) FROM campaign_performance "
            "WHERE is_outlier GROUP BY 1, 2 ORDER BY 1, 2"
        )
        for channel, reasons, count in rows:
            per_channel = report.outliers_by_channel.setdefault(channel, {})
            for reason in str(reasons).split(","):
                per_channel[reason] = per_channel.get(reason, 0) + int(count)
        for load in report.loads:
            if load["status"] != "loaded" or not load["new_categories"]:
                continue
            for column, values in json.loads(load["new_categories"]).items():
                known = report.new_categories.setdefault(column, [])
                seen = set(known)
                for value in map(shorten, values):
                    if value not in seen:
                        seen.add(value)
                        known.append(value)
    return report


def _shortened(prefix: Any, length: Any, limit: int = SHORT_TEXT) -> Any:
    """A text of ``length`` characters shown by its first ones (``prefix``), as ``shorten``.

    A message is allowed twice the usual length (it quotes a value already shortened).
    """
    if prefix is None or length is None or int(length) <= limit:
        return prefix
    return f"{str(prefix)[:limit]}… ({int(length):,} characters)"

"""Processing one source file inside DuckDB: stage raw rows, classify every line, load.

Everything here runs on a DuckDB connection inside a transaction the caller owns. For a
DuckDB warehouse that connection is the warehouse itself; for SQLite and PostgreSQL it is a
scratch DuckDB whose result :mod:`mci.ingest.publish` copies over. Either way the same SQL
decides the fate of every line, so every engine ends with identical rows.

Each data line ends in exactly one of: ``campaign_performance`` (loaded), ``quarantine``
(a row fault, with a reason) or the duplicate count (an exact copy of a line already kept).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mci.ingest.contract import (
    CATEGORY_COLUMNS,
    KNOWN_CATEGORIES,
    RAW_COLUMNS,
    REJECT_FALLBACK_REASON,
    REJECT_REASONS,
    SOURCE_COLUMNS,
    SOURCE_TO_RAW,
)
from mci.ingest.errors import IngestError
from mci.ingest.rules import PARSERS, check_field_sql, check_index_sql, typed_select_sql
from mci.ingest.source import SourceLayout
from mci.warehouse.schema import column_names

# Modified z-score threshold of Iglewicz and Hoaglin, on log values within each channel.
OUTLIER_Z = 3.5
OUTLIER_METRICS: dict[str, str] = {
    "spend": "ln(spend)",
    "cpc": "ln(spend / clicks)",
    "ctr": "ln(clicks / impressions)",
}
_OUTLIER_GUARD = "spend > 0 AND clicks > 0 AND impressions > 0"
# Fewer rows than this in a channel and a median and MAD say nothing: no flags there.
OUTLIER_MIN_ROWS = 20

Runner = Callable[[str, str, list[Any] | None], Any]


@dataclass
class LoadCounts:
    """What one load did with its lines."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_outlier: int = 0
    new_categories: dict[str, list[str]] = field(default_factory=dict)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _csv_field(raw: str) -> str:
    """SQL re-quoting one raw field as CSV (quoted only where CSV needs it)."""
    col = f"r.{raw}"
    return (
        f"CASE WHEN regexp_matches({col}, '[\",\\r\\n]') "
        f"THEN '\"' || replace({col}, '\"', '\"\"') || '\"' ELSE {col} END"
    )


RAW_TEXT_SQL = "concat_ws(',', " + ", ".join(_csv_field(raw) for raw in RAW_COLUMNS) + ")"
RAW_LIST = ", ".join(RAW_COLUMNS)


class Processor:
    """Runs the load of one file on a DuckDB connection.

    Args:
        con: a DuckDB connection with the warehouse tables, inside an open transaction.
        run: executes ``(stage, sql, params)`` and returns the DuckDB result; it lets the
            caller show progress per stage.
    """

    def __init__(self, con: Any, run: Runner) -> None:
        self.con = con
        self.run = run

    def _one(self, stage: str, sql: str, params: list[Any] | None = None) -> Any:
        row = self.run(stage, sql, params).fetchone()
        return row[0] if row else None

    def _drop_temps(self) -> None:
        for name in (
            "_mci_rejects",
            "_mci_reject_scans",
            "_mci_shift",
            "_mci_repeated",
            "_mci_faults",
            "_mci_dups",
            "_mci_conflicts",
            "_mci_excluded",
            "_mci_ostats",
        ):
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def load(self, layout: SourceLayout, load_id: int) -> LoadCounts:
        """Loads one file as ``load_id``: raw rows, clean rows, quarantine and counts.

        Raises:
            IngestError: the file cannot be read (the message names the file and line).
        """
        self._drop_temps()
        try:
            self._stage(layout, load_id)
        except IngestError:
            raise
        except Exception as exc:  # DuckDB's CSV errors name the line; keep the file in front
            raise IngestError(layout.path, _reader_message(exc)) from None
        counts = LoadCounts()
        counts.rows_read = self._one(
            "count", "SELECT count(*) FROM raw_campaign_rows WHERE load_id = ?", [load_id]
        )
        has_prior = bool(
            self._one(
                "prior",
                "SELECT count(*) > 0 FROM (SELECT 1 FROM campaign_performance "
                "WHERE load_id <> ? LIMIT 1)",
                [load_id],
            )
        )
        self._classify(load_id, has_prior)
        counts.rows_loaded = self._insert_clean(load_id)
        counts.rows_quarantined = self._insert_quarantine(load_id)
        counts.rows_duplicate = self._one("count", "SELECT count(*) FROM _mci_dups")
        counts.rows_outlier = self._flag_outliers(load_id)
        counts.new_categories = self._new_categories(load_id, has_prior)
        accounted = counts.rows_loaded + counts.rows_quarantined + counts.rows_duplicate
        if accounted != counts.rows_read:
            raise IngestError(
                layout.path,
                f"internal check failed: {counts.rows_read} rows read but {accounted} "
                "accounted for; nothing was loaded",
            )
        self._drop_temps()
        return counts

    # -- staging -----------------------------------------------------------------------

    def _stage(self, layout: SourceLayout, load_id: int) -> None:
        if layout.format == "parquet":
            self._stage_parquet(layout, load_id)
            return
        width = len(layout.header)
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
        not_null = "[" + ", ".join(f"'c{i}'" for i in range(width)) + "]"
        selected = ", ".join(f"c{layout.positions[src]}" for src in SOURCE_COLUMNS)
        self.run(
            "read",
            f"INSERT INTO raw_campaign_rows (load_id, line_no, {RAW_LIST}, raw_line) "
            f"SELECT ?, ordinality, {selected}, NULL FROM read_csv(?, columns = {columns}, "
            "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            f"force_not_null = {not_null}, strict_mode = true, store_rejects = true, "
            "rejects_table = '_mci_rejects', rejects_scan = '_mci_reject_scans', "
            "max_line_size = 1048576) WITH ORDINALITY",
            [load_id, str(layout.path)],
        )
        rejects = self.run(
            "rejects",
            "SELECT line - 1 AS line_no FROM _mci_rejects GROUP BY line ORDER BY line",
            None,
        ).fetchall()
        if rejects:
            self._renumber_after_rejects([r[0] for r in rejects], load_id)

    def _stage_parquet(self, layout: SourceLayout, load_id: int) -> None:
        selected = ", ".join(
            f"coalesce(CAST({_ident(layout.header[layout.positions[src]])} AS VARCHAR), '')"
            for src in SOURCE_COLUMNS
        )
        self.run(
            "read",
            f"INSERT INTO raw_campaign_rows (load_id, line_no, {RAW_LIST}, raw_line) "
            f"SELECT ?, file_row_number + 1, {selected}, NULL "
            "FROM read_parquet(?, file_row_number = true)",
            [load_id, str(layout.path)],
        )
        self.con.execute("CREATE TEMP TABLE _mci_rejects (line BIGINT, csv_line VARCHAR, "
                         "error_type VARCHAR, error_message VARCHAR)")

    def _renumber_after_rejects(self, rejected: list[int], load_id: int) -> None:
        """Gives the good rows their true line numbers once the rejected lines are known.

        ``WITH ORDINALITY`` counts only the rows the reader kept; the ``i``-th rejected line
        ``r_i`` has ``g_i = r_i - i`` kept rows before it, so a kept row with ordinality
        ``k`` sits ``#{i : g_i < k}`` lines further down.
        """
        shift: dict[int, int] = {}
        for i, line in enumerate(rejected, start=1):
            shift[line - i] = i
        self.con.execute("CREATE TEMP TABLE _mci_shift (g BIGINT, shift BIGINT)")
        self.con.executemany("INSERT INTO _mci_shift VALUES (?, ?)", list(shift.items()))
        self.run(
            "renumber",
            "UPDATE raw_campaign_rows AS t SET line_no = t.line_no + s.shift FROM ("
            "  SELECT k.line_no AS k, s.shift FROM raw_campaign_rows AS k"
            "  ASOF JOIN _mci_shift AS s ON k.line_no > s.g WHERE k.load_id = ?"
            ") AS s WHERE t.load_id = ? AND t.line_no = s.k",
            [load_id, load_id],
        )
        self.run(
            "rejects",
            "INSERT INTO raw_campaign_rows (load_id, line_no, raw_line) "
            "SELECT ?, line - 1, trim(any_value(csv_line), chr(13) || chr(10)) "
            "FROM _mci_rejects GROUP BY line",
            [load_id],
        )

    # -- classification ----------------------------------------------------------------

    def _classify(self, load_id: int, has_prior: bool) -> None:
        """Builds the small tables of lines that are not loaded: faults, duplicates, conflicts."""
        cid = "TRY_CAST(trim(r.campaign_id) AS BIGINT)"
        self.run(
            "classify",
            "CREATE TEMP TABLE _mci_faults AS "
            "SELECT line_no, check_idx FROM ("
            f"  SELECT r.line_no, {check_index_sql()} AS check_idx FROM ("
            f"    SELECT r.*, {typed_select_sql()} FROM raw_campaign_rows AS r"
            "    WHERE r.load_id = ? AND r.raw_line IS NULL) AS r"
            ") WHERE check_idx IS NOT NULL",
            [load_id],
        )
        # Only campaign ids seen more than once can hold duplicates or conflicts.
        self.run(
            "classify",
            f"CREATE TEMP TABLE _mci_repeated AS SELECT {cid} AS cid "
            "FROM raw_campaign_rows AS r WHERE r.load_id = ? AND r.raw_line IS NULL "
            "GROUP BY ALL HAVING count(*) > 1",
            [load_id],
        )
        self.run(
            "classify",
            "CREATE TEMP TABLE _mci_dups AS "
            "SELECT line_no, first_line, NULL::BIGINT AS first_load FROM ("
            "  SELECT r.line_no, min(r.line_no) OVER w AS first_line, row_number() OVER w AS rn"
            "  FROM raw_campaign_rows AS r SEMI JOIN _mci_repeated AS p"
            f"    ON {cid} IS NOT DISTINCT FROM p.cid"
            "  WHERE r.load_id = ? AND r.raw_line IS NULL"
            f"  WINDOW w AS (PARTITION BY {', '.join('r.' + c for c in RAW_COLUMNS)}"
            "    ORDER BY r.line_no)"
            ") WHERE rn > 1 "
            "UNION ALL "
            "SELECT line_no, first_line, NULL FROM ("
            "  SELECT line_no, min(line_no) OVER w AS first_line, row_number() OVER w AS rn"
            "  FROM raw_campaign_rows WHERE load_id = ? AND raw_line IS NOT NULL"
            "  WINDOW w AS (PARTITION BY raw_line ORDER BY line_no)"
            ") WHERE rn > 1",
            [load_id, load_id],
        )
        # A copy of a faulty line counts once, as a duplicate; the first copy is quarantined.
        self.con.execute("DELETE FROM _mci_faults WHERE line_no IN (SELECT line_no FROM _mci_dups)")
        self.run(
            "classify",
            "CREATE TEMP TABLE _mci_conflicts AS "
            "SELECT line_no, cid, first_line, NULL::BIGINT AS first_load FROM ("
            "  SELECT r.line_no, p.cid, min(r.line_no) OVER w AS first_line,"
            "    row_number() OVER w AS rn"
            f"  FROM raw_campaign_rows AS r JOIN _mci_repeated AS p ON {cid} = p.cid"
            "  WHERE r.load_id = ? AND r.raw_line IS NULL"
            "    AND r.line_no NOT IN (SELECT line_no FROM _mci_faults)"
            "    AND r.line_no NOT IN (SELECT line_no FROM _mci_dups)"
            "  WINDOW w AS (PARTITION BY p.cid ORDER BY r.line_no)"
            ") WHERE rn > 1",
            [load_id],
        )
        if has_prior:
            self._classify_against_prior_loads(load_id)
        self.con.execute(
            "CREATE TEMP TABLE _mci_excluded AS "
            "SELECT line_no FROM _mci_faults UNION ALL SELECT line_no FROM _mci_dups "
            "UNION ALL SELECT line_no FROM _mci_conflicts"
        )

    def _classify_against_prior_loads(self, load_id: int) -> None:
        """Lines whose campaign id an earlier load already holds: the same content is a
        duplicate, different content a conflict."""
        typed = ", ".join(f"{PARSERS[name]} AS {name}" for name in _CLEAN_VALUE_COLUMNS)
        same = " AND ".join(f"n.{c} IS NOT DISTINCT FROM o.{c}" for c in _CLEAN_VALUE_COLUMNS)
        self.run(
            "classify",
            "CREATE TEMP TABLE _mci_prior AS "
            "SELECT n.line_no, n.campaign_id, o.load_id AS first_load, o.line_no AS first_line, "
            f"  ({same}) AS same FROM ("
            f"  SELECT r.line_no, {typed} FROM raw_campaign_rows AS r"
            "  WHERE r.load_id = ? AND r.raw_line IS NULL"
            "    AND r.line_no NOT IN (SELECT line_no FROM _mci_faults)"
            "    AND r.line_no NOT IN (SELECT line_no FROM _mci_dups)"
            "    AND r.line_no NOT IN (SELECT line_no FROM _mci_conflicts)"
            ") AS n JOIN (SELECT * FROM campaign_performance WHERE load_id <> ?) AS o"
            "  ON n.campaign_id = o.campaign_id",
            [load_id, load_id],
        )
        self.con.execute(
            "INSERT INTO _mci_dups SELECT line_no, first_line, first_load FROM _mci_prior "
            "WHERE same"
        )
        self.con.execute(
            "INSERT INTO _mci_conflicts SELECT line_no, campaign_id, first_line, first_load "
            "FROM _mci_prior WHERE NOT same"
        )
        self.con.execute("DROP TABLE _mci_prior")

    # -- writing -----------------------------------------------------------------------

    def _insert_clean(self, load_id: int) -> int:
        typed = ",\n    ".join(f"{PARSERS[name]}" for name in _CLEAN_VALUE_COLUMNS)
        columns = ", ".join(column_names("campaign_performance"))
        return self._one(
            "load",
            f"INSERT INTO campaign_performance ({columns}) "
            f"SELECT ?, r.line_no, {typed}, false, NULL FROM raw_campaign_rows AS r "
            "WHERE r.load_id = ? AND r.raw_line IS NULL "
            "AND r.line_no NOT IN (SELECT line_no FROM _mci_excluded) ORDER BY r.line_no",
            [load_id, load_id],
        )

    def _insert_quarantine(self, load_id: int) -> int:
        columns = "load_id, line_no, reason_code, reason_message, column_name, raw_text"
        faults = self._one(
            "quarantine",
            f"INSERT INTO quarantine ({columns}) "
            "SELECT ?, r.line_no, "
            f"{check_field_sql('reason_code')}, {check_field_sql('message')}, "
            f"{check_field_sql('column')}, {RAW_TEXT_SQL} FROM ("
            f"  SELECT r.*, f.check_idx, {typed_select_sql()} FROM raw_campaign_rows AS r"
            "  JOIN _mci_faults AS f USING (line_no) WHERE r.load_id = ?"
            ") AS r",
            [load_id, load_id],
        )
        reasons = " ".join(
            f"WHEN '{kind}' THEN '{code}'" for kind, code in REJECT_REASONS.items()
        )
        rejected = self._one(
            "quarantine",
            f"INSERT INTO quarantine ({columns}) "
            f"SELECT ?, line - 1, CASE any_value(error_type)::VARCHAR {reasons} "
            f"ELSE '{REJECT_FALLBACK_REASON}' END, "
            "string_agg(DISTINCT error_message, '; '), NULL, "
            "trim(any_value(csv_line), chr(13) || chr(10)) FROM _mci_rejects "
            "WHERE line - 1 NOT IN (SELECT line_no FROM _mci_dups) GROUP BY line",
            [load_id],
        )
        conflicts = self._one(
            "quarantine",
            f"INSERT INTO quarantine ({columns}) "
            "SELECT ?, r.line_no, 'conflicting_duplicate', "
            "'Campaign_ID ' || CAST(c.cid AS VARCHAR) || ' already appears on line ' || "
            "CAST(c.first_line AS VARCHAR) || CASE WHEN c.first_load IS NULL THEN '' "
            "ELSE ' of load ' || CAST(c.first_load AS VARCHAR) END || "
            "' with different content', 'Campaign_ID', "
            f"{RAW_TEXT_SQL} FROM raw_campaign_rows AS r JOIN _mci_conflicts AS c "
            "USING (line_no) WHERE r.load_id = ?",
            [load_id, load_id],
        )
        return int(faults) + int(rejected) + int(conflicts)

    def _flag_outliers(self, load_id: int) -> int:
        """Flags rows far from their channel's typical spend, CPC or CTR (robust z on logs)."""
        medians = ", ".join(f"median({sql}) AS med_{name}" for name, sql in OUTLIER_METRICS.items())
        self.run(
            "outliers",
            f"CREATE TEMP TABLE _mci_ostats AS SELECT channel, {medians} "
            f"FROM campaign_performance WHERE load_id = ? AND {_OUTLIER_GUARD} GROUP BY channel "
            f"HAVING count(*) >= {OUTLIER_MIN_ROWS}",
            [load_id],
        )
        mads = ", ".join(
            f"median(abs({sql} - s.med_{name})) AS mad_{name}"
            for name, sql in OUTLIER_METRICS.items()
        )
        self.run(
            "outliers",
            "CREATE OR REPLACE TEMP TABLE _mci_ostats AS SELECT s.*, "
            f"{mads} FROM campaign_performance AS c JOIN _mci_ostats AS s USING (channel) "
            f"WHERE c.load_id = ? AND {_OUTLIER_GUARD} GROUP BY ALL",
            [load_id],
        )
        flags = ", ".join(
            f"CASE WHEN s.mad_{name} > 0 AND abs(0.6745 * ({sql} - s.med_{name}) / "
            f"s.mad_{name}) > {OUTLIER_Z} THEN '{name}' END"
            for name, sql in OUTLIER_METRICS.items()
        )
        return int(
            self._one(
                "outliers",
                "UPDATE campaign_performance AS t SET is_outlier = true, "
                "outlier_reason = f.reason FROM ("
                f"  SELECT c.line_no, concat_ws(',', {flags}) AS reason"
                "  FROM campaign_performance AS c JOIN _mci_ostats AS s USING (channel)"
                f"  WHERE c.load_id = ? AND {_OUTLIER_GUARD}"
                ") AS f WHERE t.load_id = ? AND t.line_no = f.line_no AND f.reason <> ''",
                [load_id, load_id],
            )
            or 0
        )

    def _new_categories(self, load_id: int, has_prior: bool) -> dict[str, list[str]]:
        """Category values never seen before: not in the contract's lists nor earlier loads."""
        found: dict[str, list[str]] = {}
        for column in CATEGORY_COLUMNS:
            prior = (
                f" AND {column} NOT IN (SELECT DISTINCT {column} FROM campaign_performance "
                f"WHERE load_id <> ? AND {column} IS NOT NULL)"
                if has_prior
                else ""
            )
            params: list[Any] = [load_id, list(KNOWN_CATEGORIES[column])]
            if has_prior:
                params.append(load_id)
            rows = self.run(
                "categories",
                f"SELECT DISTINCT {column} FROM campaign_performance WHERE load_id = ? "
                f"AND {column} IS NOT NULL AND NOT list_contains(?, {column}){prior} "
                f"ORDER BY 1",
                params,
            ).fetchall()
            if rows:
                found[column] = [r[0] for r in rows]
        return found


_CLEAN_VALUE_COLUMNS: tuple[str, ...] = tuple(PARSERS)


def _reader_message(exc: Exception) -> str:
    """The first lines of a DuckDB reader error: what went wrong and on which line."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    keep = [line for line in lines[:3] if not line.strip().startswith("file =")]
    return " ".join(keep) if keep else type(exc).__name__


def new_categories_json(found: dict[str, list[str]]) -> str | None:
    """The load log's JSON for new category values (``None`` when there are none)."""
    return json.dumps(found, sort_keys=True) if found else None


__all__ = ["SOURCE_TO_RAW", "LoadCounts", "Processor", "new_categories_json"]

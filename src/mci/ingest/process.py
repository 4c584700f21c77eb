"""Processing one source file inside DuckDB: stage raw rows, classify every line, load.

Everything here runs on a DuckDB connection inside a transaction the caller owns. For a
DuckDB warehouse that connection is the warehouse itself; for SQLite and PostgreSQL it is a
scratch DuckDB whose result :mod:`mci.ingest.publish` copies over. Either way the same SQL
decides the fate of every line, so every engine ends with identical rows.

Each data line ends in exactly one of: ``campaign_performance`` (loaded), ``quarantine``
(a row fault, with a reason) or the duplicate count (an exact copy of a line already kept).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import threading
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mci.ingest.contract import (
    CATEGORY_COLUMNS,
    KNOWN_CATEGORIES,
    REJECT_FALLBACK_REASON,
    REJECT_REASONS,
    SOURCE_COLUMNS,
    SOURCE_TO_RAW,
)
from mci.ingest.errors import IngestError, is_disk_full, shorten
from mci.ingest.rules import (
    PARSERS,
    check_field_sql,
    check_index_sql,
    short_text_sql,
    typed_select_sql,
)
from mci.ingest.scratch import scratch_folder
from mci.ingest.source import (
    BAD_LINE_MESSAGE,
    MAX_LINE_BYTES,
    BadLines,
    FileScan,
    SourceLayout,
    rewrite_text,
)
from mci.warehouse.connection import duckdb_cursor
from mci.warehouse.schema import column_names

# Modified z-score threshold of Iglewicz and Hoaglin, on log values within each channel.
OUTLIER_Z = 3.5
# Over the typed columns of the clean lines.
OUTLIER_METRICS: dict[str, str] = {
    "spend": "ln(v_spend)",
    "cpc": "ln(v_spend / v_clicks)",
    "ctr": "ln(v_clicks / v_impressions)",
}
# Fewer rows than this in a channel and a median and MAD say nothing: no flags there.
OUTLIER_MIN_ROWS = 20
# The widest span of campaign ids checked for repeats with a bitmap (16 MiB); wider spans are
# grouped by id.
ID_BITMAP_MAX_BITS = 1 << 27

Runner = Callable[[str, str, list[Any] | None], Any]

# Typed records take about this many bytes in an in-memory table per byte of CSV.
RECORD_BYTES_PER_CSV_BYTE = 1.5
# Records that would fill more than this share of DuckDB's memory limit go to a scratch
# database file instead of memory: written compressed as they come, they never spill
# uncompressed.
RECORDS_MEMORY_SHARE = 0.5
_SCRATCH = "mci_records_scratch"
_REJECTED = f"{_SCRATCH}._mci_rejected"
# How long a line DuckDB's readers take. A file whose lines are all short (the scan says so:
# ``FileScan.long_lines``) is read with 1 MiB lines and DuckDB's own buffers, the fastest
# (0.07 s less at 200,000 rows than bigger buffers); a file that may hold longer lines is read
# with lines up to 16 MiB, in buffers of that size (DuckDB's default, 16 times the line size,
# would take 0.3 GB more).
_SHORT_LINES = "max_line_size = 1048576"
_LONG_LINES = f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {MAX_LINE_BYTES}"
# The reader's error types of one line, most telling first: a line gets the first that applies.
_REJECT_PRIORITY = ("INVALID UNICODE", "UNQUOTED VALUE", "TOO MANY COLUMNS", "MISSING COLUMNS")
# A CSV line that ends inside a quoted field: whole fields, each followed by a comma (a quoted
# field, with anything after its closing quote up to the comma; or an unquoted field, which
# may hold quotes), then a field that opens a quote and never closes it (``""`` is an escaped
# quote). DuckDB's regular expressions (RE2) match it in linear time, whatever the line holds.
OPEN_QUOTE_PATTERN = '(?s)(?:(?:"(?:[^"]|"")*"[^,]*|[^",][^,]*)?,)*"(?:[^"]|"")*'
UNTERMINATED_QUOTE_MESSAGE = (
    "unterminated quote: a quoted field opens on this line and is not closed before the line "
    "ends (a line break inside quotes is not allowed)"
)
_BYTE_UNITS = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


@dataclass
class LoadCounts:
    """What one load did with its lines."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_outlier: int = 0
    new_categories: dict[str, list[str]] = field(default_factory=dict)


class Processor:
    """Runs the load of one CSV file on a DuckDB connection.

    DuckDB's CSV reader runs on all cores only without ``WITH ORDINALITY`` (which serialises
    the pipeline), so records are numbered another way: a table filled from a scan keeps
    the scan's order, and its ``rowid`` (offset by the first) is the ordinal.

    1. :meth:`read` starts, on a second connection in a background thread, reading the
       file's records, typed and checked (first failing check, with a message), into a
       scratch database both connections see; lines the reader rejects (wrong field
       count) are listed with their line. That connection's own transactions touch only
       the scratch database, never the warehouse.
    2. Meanwhile, in the load's transaction, the file's lines go to ``raw_campaign_rows``
       as they arrived (physical numbering, from ``WITH ORDINALITY``: cheap for one
       column, but single-threaded, so the records' reading uses the other cores).
    3. Once the records are read, they get physical line numbers (rejected and blank lines
       skipped), duplicates and conflicts are found (within the file, then against earlier
       loads), the outlier statistics are computed over the clean lines, clean rows are
       inserted with their outlier flags, faults are quarantined.

    Args:
        con: a DuckDB connection with the warehouse tables, inside an open transaction.
        run: executes ``(stage, sql, params)`` and returns the DuckDB result; it lets the
            caller show progress per stage.
    """

    def __init__(self, con: Any, run: Runner) -> None:
        self.con = con
        self.run = run
        self.records = f"{_SCRATCH}._mci_records"
        self._folders = contextlib.ExitStack()
        self._scratch_dir: Path | None = None
        self._records_on_disk = False
        self._reading: _Background | None = None
        self._line_limits = _SHORT_LINES
        # What the records' read found: records kept, lines the reader rejected.
        self._kept = 0
        self._rejected = 0

    def _one(self, stage: str, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.run(stage, sql, params).fetchall()
        return rows[0][0] if rows else None

    def _count(self, table: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    def stop_reading(self) -> None:
        """Stops a records read :meth:`read` started, if it still runs."""
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None

    def drop_temps(self) -> None:
        """Stops a records read still running; drops the temporary tables and views of a load."""
        self.stop_reading()
        self.con.execute("DROP VIEW IF EXISTS _mci_clean")
        self.con.execute("DROP VIEW IF EXISTS _mci_keys")
        self.con.execute("DROP VIEW IF EXISTS _mci_numbered")
        for name in _TEMP_TABLES:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
        self.con.execute(f"DETACH DATABASE IF EXISTS {_SCRATCH}")
        self._folders.close()
        self._scratch_dir = None
        self._records_on_disk = False

    def _folder(self) -> Path:
        """The load's scratch folder (locked while it lives; see :mod:`mci.ingest.scratch`)."""
        if self._scratch_dir is None:
            self._scratch_dir = self._folders.enter_context(scratch_folder("records"))
        return self._scratch_dir

    def read(self, layout: SourceLayout, long_lines: bool = False) -> None:
        """Starts reading and checking every record into the scratch database.

        Run it before the load's transaction; :meth:`load` waits for it. The scratch
        database never reaches the warehouse, and filled outside the load's transaction
        DuckDB can spill it to disk, so memory stays bounded on big files.

        Args:
            layout: the file (UTF-8, uniform line breaks) and where its columns are.
            long_lines: a line may be longer than 1 MiB (see ``FileScan.long_lines``); the
                readers then take lines up to 16 MiB.
        """
        self.drop_temps()
        self._line_limits = _LONG_LINES if long_lines else _SHORT_LINES
        self._place_records(layout)
        self._start_reading(layout, None)

    def _start_reading(self, layout: SourceLayout, extra_rejects: Path | None) -> None:
        cursor = duckdb_cursor(self.con)
        self._reading = _Background(
            lambda: self._read_records(cursor, layout, extra_rejects), cursor
        )

    def load(self, layout: SourceLayout, scan: FileScan, load_id: int) -> LoadCounts:
        """Loads the records :meth:`read` prepared as ``load_id`` (inside the transaction).

        Raises:
            IngestError: the file cannot be read, or its rows do not add up.
        """
        counts = LoadCounts()
        counts.rows_read = self._store_raw_lines_while_reading(layout, scan, load_id)
        self._blank_lines(load_id, counts.rows_read)
        if self._kept + self._rejected != counts.rows_read:
            self._reread_without_open_quotes(layout, load_id)
        self._number_lines(layout, counts.rows_read, scan.bad_lines)
        has_prior = bool(
            self._one(
                "prior",
                "SELECT count(*) > 0 FROM (SELECT 1 FROM campaign_performance "
                "WHERE load_id <> ? LIMIT 1)",
                [load_id],
            )
        )
        self._classify(load_id)
        if has_prior:
            self._check_prior_loads()
        counts.rows_loaded = self._insert_clean(load_id, self._outlier_stats())
        counts.rows_quarantined = self._insert_quarantine(load_id)
        counts.rows_duplicate = self._count("_mci_dups")
        counts.rows_outlier = int(
            self._one(
                "outliers",
                "SELECT count(*) FROM campaign_performance WHERE load_id = ? AND is_outlier",
                [load_id],
            )
        )
        counts.new_categories = self._new_categories(load_id, has_prior)
        accounted = counts.rows_loaded + counts.rows_quarantined + counts.rows_duplicate
        if accounted != counts.rows_read:
            raise IngestError(
                layout.path,
                f"internal check failed: {counts.rows_read} rows read but {accounted} "
                "accounted for; nothing was loaded",
            )
        return counts

    # -- reading -----------------------------------------------------------------------

    def _lines_scan(self, layout: SourceLayout, scan: FileScan) -> str:
        """The file one whole line per row (the line break dropped, CRLF too)."""
        if scan.line_separator is None:
            raise IngestError(
                layout.path, "the file holds every ASCII control character: not a text export"
            )
        return (
            f"read_csv(?, delim = '{scan.line_separator}', quote = '', escape = '', "
            "header = false, columns = {'line': 'VARCHAR'}, auto_detect = false, "
            f"strict_mode = false, {self._line_limits})"
        )

    def _store_raw_lines_while_reading(
        self, layout: SourceLayout, scan: FileScan, load_id: int
    ) -> int:
        """Stores the raw lines, then waits for the records; a records error comes first.

        Raises:
            IngestError: the file cannot be read (the message names the file and line).
        """
        try:
            with _reader_errors(layout):
                return self._store_raw_lines(layout, scan, load_id)
        finally:
            self._await_records(layout)

    def _await_records(self, layout: SourceLayout) -> None:
        """Waits for :meth:`read` to finish, raising its error."""
        reading, self._reading = self._reading, None
        if reading is None:
            raise RuntimeError("Processor.load runs after Processor.read")
        with _reader_errors(layout):
            reading.wait()

    def _store_raw_lines(self, layout: SourceLayout, scan: FileScan, load_id: int) -> int:
        """Stores every non-blank data line as it arrived; returns how many.

        The lines go straight from the file to the table: no copy of them waits in memory
        or spills. Numbering them serialises the reader, which this one scan can afford.
        """
        return int(
            self._one(
                "read",
                "INSERT INTO raw_campaign_rows (load_id, line_no, raw_line) "
                f"SELECT ?, n - 1, line FROM {self._lines_scan(layout, scan)} "
                "WITH ORDINALITY AS t(line, n) WHERE n > 1 AND line <> ''",
                [load_id, str(layout.path)],
            )
        )

    def _blank_lines(self, load_id: int, stored: int) -> None:
        """Lists the blank lines among the ``stored`` data lines of the load in ``_mci_blank``.

        In SQL, however many there are (a double-spaced export has one every other line).
        """
        self.con.execute("CREATE TEMP TABLE _mci_blank (line_no BIGINT)")
        last = self.con.execute(
            "SELECT max(line_no) FROM raw_campaign_rows WHERE load_id = ?", [load_id]
        ).fetchall()[0][0]
        if last is None or last == stored:
            return
        self.con.execute(
            "INSERT INTO _mci_blank SELECT n FROM range(1, ?) AS t(n) WHERE n NOT IN "
            "(SELECT line_no FROM raw_campaign_rows WHERE load_id = ?)",
            [last, load_id],
        )

    def _place_records(self, layout: SourceLayout) -> None:
        """Attaches the scratch database: in memory, or a file when the records are big.

        An in-memory database is the cheapest to fill, but past the memory limit it spills
        uncompressed; a scratch database file costs compression up front and stays small.
        """
        expected = layout.path.stat().st_size * RECORD_BYTES_PER_CSV_BYTE
        if expected <= RECORDS_MEMORY_SHARE * self._memory_limit():
            self.con.execute(f"ATTACH ':memory:' AS {_SCRATCH}")
            return
        self._records_on_disk = True
        scratch = str(self._folder() / "records.duckdb").replace("'", "''")
        self.con.execute(f"ATTACH '{scratch}' AS {_SCRATCH}")

    def _memory_limit(self) -> float:
        """DuckDB's memory limit in bytes (as DuckDB reports it, e.g. ``953.6 MiB``)."""
        text = self.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        number, _, unit = str(text).partition(" ")
        return float(number) * _BYTE_UNITS.get(unit, 1)

    def _read_records(self, cursor: Any, layout: SourceLayout, extra_rejects: Path | None) -> None:
        """Every record the CSV reader keeps, typed and checked, in file order.

        Runs on ``cursor``, a second connection: its temporary tables are its own, so the
        rejected lines are copied to the scratch database, one row a line with the reason
        that tells most (an unterminated quote before a wrong field count) and a message in
        plain words. ``extra_rejects`` lists (a CSV of line numbers) lines the caller blanked
        out of the file: they leave a quote open.
        """
        width = len(layout.header)
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
        not_null = "[" + ", ".join(f"'c{i}'" for i in range(width)) + "]"
        selected = ", ".join(
            f"c{layout.positions[src]} AS {SOURCE_TO_RAW[src]}" for src in SOURCE_COLUMNS
        )
        scan = (
            f"SELECT {selected} FROM read_csv(?, columns = {columns}, header = true, "
            "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            f"force_not_null = {not_null}, strict_mode = true, store_rejects = true, "
            "rejects_table = '_mci_rejects', rejects_scan = '_mci_rejects_scan', "
            f"{self._line_limits})"
        )
        typed = f"SELECT r.*, {typed_select_sql()} FROM ({scan}) AS r"
        checked = f"SELECT r.*, {check_index_sql()} AS check_idx FROM ({typed}) AS r"
        values = ", ".join(f"r.v_{name}" for name in PARSERS)
        cursor.execute(f"DROP TABLE IF EXISTS {self.records}")
        cursor.execute(f"DROP TABLE IF EXISTS {_REJECTED}")
        cursor.execute(
            # The message is built only for faulty rows (a CASE per row costs on millions).
            f"CREATE TABLE {self.records} AS "
            f"SELECT {values}, r.check_idx, "
            f"CASE WHEN r.check_idx IS NOT NULL THEN {check_field_sql('message')} END AS message "
            f"FROM ({checked}) AS r",
            [str(layout.path)],
        )
        cursor.execute(f"CREATE TABLE {_REJECTED} AS {_rejected_sql(width)}")
        if extra_rejects is not None:
            cursor.execute(
                f"INSERT INTO {_REJECTED} SELECT line_no, 'UNTERMINATED QUOTE', ? "
                "FROM read_csv(?, header = false, auto_detect = false, "
                "columns = {'line_no': 'BIGINT'})",
                [UNTERMINATED_QUOTE_MESSAGE, str(extra_rejects)],
            )
        self._kept = int(cursor.execute(f"SELECT count(*) FROM {self.records}").fetchall()[0][0])
        self._rejected = int(cursor.execute(f"SELECT count(*) FROM {_REJECTED}").fetchall()[0][0])

    def _reread_without_open_quotes(self, layout: SourceLayout, load_id: int) -> None:
        """Reads the records again with every line that leaves a quote open blanked out.

        The CSV reader joins such a line to the lines after it (a quoted field with a line
        break, which the contract does not allow), so the records no longer match the lines.
        A line leaves a quote open when a field starts with a quote that the line never
        closes (``OPEN_QUOTE_PATTERN``; a quote inside an unquoted field is a plain character
        to the reader). Those lines are quarantined (an unterminated quote) and every other
        line is read on its own. Runs inside the load's transaction, before it first reads
        the scratch database, so it sees the new records.
        """
        listed = self._folder() / "open-quotes.csv"
        self.con.execute(
            "COPY (SELECT line_no FROM raw_campaign_rows WHERE load_id = ? "
            "AND contains(raw_line, '\"') AND regexp_full_match(raw_line, ?) ORDER BY line_no) "
            f"TO '{_literal(str(listed))}' (HEADER false)",
            [load_id, OPEN_QUOTE_PATTERN],
        )
        with listed.open(encoding="ascii") as handle:
            open_quotes = array("q", (int(line) for line in handle))
        if not open_quotes:
            return
        copy = self._folder() / "quotes-closed.csv"
        rewrite_text(layout.path, copy, "utf-8", blank_lines=open_quotes)
        self._start_reading(dataclasses.replace(layout, path=copy), listed)
        self._await_records(layout)

    def _number_lines(
        self, layout: SourceLayout, data_lines: int, bad_lines: BadLines | None
    ) -> None:
        """Gives each kept record its physical line number, in ``_mci_numbered``.

        The reader keeps records in file order but skips rejected and blank lines; the
        ``i``-th skipped line ``s_i`` has ``g_i = s_i - i`` kept records before it, so the
        kept record with ordinal ``k`` sits ``#{i : g_i < k}`` lines further down.

        Lines that were not text in the file's encoding (``bad_lines``, escaped when the file
        was re-encoded) are faults whatever their fields hold: ``bad_encoding``.
        """
        records = self._count(self.records) + self._count(_REJECTED)
        if records != data_lines:
            raise IngestError(
                layout.path,
                f"{data_lines:,} lines but {records:,} CSV records: a quoted field spans lines "
                "(a line break inside quotes), which this contract does not allow",
            )
        # The skipped lines in order (i = 1, 2, ...), one row per run of equal g = s_i - i,
        # holding the run's last i: in SQL, however many lines are skipped.
        self.con.execute(
            "CREATE TEMP TABLE _mci_shift AS SELECT line_no - i AS g, max(i) AS shift FROM ("
            "  SELECT line_no, row_number() OVER (ORDER BY line_no) AS i FROM ("
            f"    SELECT line_no FROM {_REJECTED} UNION SELECT line_no FROM _mci_blank)"
            ") GROUP BY 1"
        )
        shifted = self._count("_mci_shift") > 0
        ordinal = (
            f"SELECT rowid - (SELECT min(rowid) FROM {self.records}) + 1 AS k, * "
            f"FROM {self.records}"
        )
        self.con.execute(f"CREATE TEMP VIEW _mci_numbered AS {_numbered(ordinal, shifted)}")
        self.con.execute("CREATE TEMP TABLE _mci_badenc (line_no BIGINT, message VARCHAR)")
        if bad_lines is not None and bad_lines.count:
            name, hint = bad_lines.words()
            self.con.execute(
                "INSERT INTO _mci_badenc SELECT line_no, format(?, ?, upper(byte), character, "
                "byte, ?) FROM read_csv(?, header = false, auto_detect = false, "
                "columns = {'line_no': 'BIGINT', 'byte': 'VARCHAR', 'character': 'BIGINT'})",
                [BAD_LINE_MESSAGE, name, hint, str(bad_lines.path)],
            )
            self.con.execute(
                "CREATE TEMP VIEW _mci_keys AS SELECT n.line_no, n.v_campaign_id AS cid, "
                "CASE WHEN b.line_no IS NOT NULL THEN 0 ELSE check_idx END AS check_idx, "
                "CASE WHEN b.line_no IS NOT NULL THEN 'bad_encoding' "
                f"WHEN check_idx IS NOT NULL THEN {check_field_sql('reason_code')} END "
                "AS reason_code, coalesce(b.message, n.message) AS message, "
                f"CASE WHEN b.line_no IS NULL AND check_idx IS NOT NULL "
                f"THEN {check_field_sql('column')} END AS column_name "
                "FROM _mci_numbered AS n LEFT JOIN _mci_badenc AS b ON b.line_no = n.line_no"
            )
            return
        self.con.execute(
            "CREATE TEMP VIEW _mci_keys AS SELECT line_no, v_campaign_id AS cid, check_idx, "
            f"CASE WHEN check_idx IS NOT NULL THEN {check_field_sql('reason_code')} END "
            "AS reason_code, message, "
            f"CASE WHEN check_idx IS NOT NULL THEN {check_field_sql('column')} END AS column_name "
            "FROM _mci_numbered"
        )

    # -- classification ----------------------------------------------------------------

    def _classify(self, load_id: int) -> None:
        """Builds the small tables of lines that are not loaded: faults, duplicates, conflicts.

        Exact duplicates are lines identical to an earlier line; they are only possible
        between lines sharing a campaign id (or both lacking one), so only those are compared.
        """
        repeated = (
            "SELECT line_no, cid, check_idx FROM _mci_keys WHERE cid IN ("
            "  SELECT cid FROM _mci_keys WHERE cid IS NOT NULL GROUP BY cid HAVING count(*) > 1) "
            "UNION ALL "
            if self._ids_may_repeat()
            else ""
        )
        self.run(
            "classify",
            f"CREATE TEMP TABLE _mci_cand AS {repeated}"
            "SELECT line_no, NULL::BIGINT AS cid, check_idx FROM _mci_keys WHERE cid IS NULL "
            f"UNION ALL SELECT line_no, NULL, -1 FROM {_REJECTED}",
            None,
        )
        self.run(
            "classify",
            "CREATE TEMP TABLE _mci_cand_raw AS SELECT c.*, r.raw_line FROM _mci_cand AS c "
            "JOIN raw_campaign_rows AS r ON r.line_no = c.line_no WHERE r.load_id = ?",
            [load_id],
        )
        self.con.execute(
            "CREATE TEMP TABLE _mci_dups AS "
            "SELECT line_no, first_line, NULL::BIGINT AS first_load FROM ("
            "  SELECT line_no, min(line_no) OVER w AS first_line, row_number() OVER w AS rn"
            "  FROM _mci_cand_raw WINDOW w AS (PARTITION BY raw_line ORDER BY line_no)"
            ") WHERE rn > 1"
        )
        self.con.execute(
            "CREATE TEMP TABLE _mci_conflicts AS "
            "SELECT line_no, cid, first_line, NULL::BIGINT AS first_load FROM ("
            "  SELECT line_no, cid, min(line_no) OVER w AS first_line, row_number() OVER w AS rn"
            "  FROM _mci_cand_raw WHERE cid IS NOT NULL AND check_idx IS NULL"
            "    AND line_no NOT IN (SELECT line_no FROM _mci_dups)"
            "  WINDOW w AS (PARTITION BY cid ORDER BY line_no)"
            ") WHERE rn > 1"
        )
        # A copy of a faulty line counts once, as a duplicate; the first copy is quarantined.
        self.con.execute(
            "CREATE TEMP TABLE _mci_excluded AS "
            "SELECT line_no FROM _mci_keys WHERE check_idx IS NOT NULL "
            "UNION SELECT line_no FROM _mci_dups UNION SELECT line_no FROM _mci_conflicts"
        )
        self.con.execute(
            "CREATE TEMP VIEW _mci_clean AS SELECT * FROM _mci_numbered WHERE check_idx IS NULL "
            "AND line_no NOT IN (SELECT line_no FROM _mci_excluded)"
        )

    def _ids_may_repeat(self) -> bool:
        """Whether some campaign id appears on more than one record of the file.

        Exact, and cheaper than grouping by id when the ids span a range of at most
        ``ID_BITMAP_MAX_BITS``: one bit per possible id, set by every record; the ids are all
        different exactly when as many bits are set as there are ids. A wider range answers
        ``True`` and the caller groups by id.
        """
        low, high, ids = self.con.execute(
            f"SELECT min(v_campaign_id), max(v_campaign_id), count(v_campaign_id) "
            f"FROM {self.records}"
        ).fetchall()[0]
        if ids < 2:
            return False
        if high - low >= ID_BITMAP_MAX_BITS:
            return True
        distinct = self.con.execute(
            f"SELECT bit_count(bitstring_agg(v_campaign_id, ?, ?)) FROM {self.records}",
            [low, high],
        ).fetchall()[0][0]
        return int(distinct) < ids

    def _check_prior_loads(self) -> None:
        """Excludes clean lines whose campaign id an earlier load already holds.

        The same content is a duplicate, different content a conflict.
        """
        same = " AND ".join(f"n.v_{c} IS NOT DISTINCT FROM o.{c}" for c in _CLEAN_VALUE_COLUMNS)
        self.run(
            "prior",
            "CREATE TEMP TABLE _mci_prior AS "
            "SELECT n.line_no, n.v_campaign_id AS cid, o.load_id AS first_load, "
            f"o.line_no AS first_line, ({same}) AS same "
            "FROM _mci_clean AS n JOIN campaign_performance AS o "
            "ON n.v_campaign_id = o.campaign_id "
            "QUALIFY row_number() OVER (PARTITION BY n.line_no ORDER BY o.load_id, o.line_no) = 1",
            None,
        )
        self.con.execute(
            "INSERT INTO _mci_dups SELECT line_no, first_line, first_load FROM _mci_prior "
            "WHERE same"
        )
        self.con.execute(
            "INSERT INTO _mci_conflicts SELECT line_no, cid, first_line, first_load "
            "FROM _mci_prior WHERE NOT same"
        )
        self.con.execute("INSERT INTO _mci_excluded SELECT line_no FROM _mci_prior")

    # -- writing -----------------------------------------------------------------------

    def _insert_clean(self, load_id: int, stats: _OutlierStats) -> int:
        """The clean rows, from the typed records, with their line numbers and outlier flags.

        Nothing depends on the rows' physical order (the anti-join may reorder them): each
        carries its line number.
        """
        values = ", ".join(f"v_{name}" for name in _CLEAN_VALUE_COLUMNS)
        columns = ", ".join(column_names("campaign_performance"))
        flags = ", ".join(_flag_sql(i, name) for i, name in enumerate(OUTLIER_METRICS))
        reason = (
            f"CASE WHEN o IS NOT NULL AND o > 0 AND {_CLEAN_GUARD} "
            f"THEN NULLIF(concat_ws(',', {flags}), '') END"
        )
        params: list[Any] = [load_id, stats.channels]
        for name in OUTLIER_METRICS:
            params += [stats.medians[name], stats.mads[name]]
        return int(
            self._one(
                "load",
                f"INSERT INTO campaign_performance ({columns}) "
                f"SELECT $1, line_no, {values}, reason IS NOT NULL, reason FROM ("
                f"  SELECT c.*, {reason} AS reason FROM ("
                "    SELECT *, list_position($2::VARCHAR[], v_channel) AS o FROM _mci_clean"
                "  ) AS c"
                ")",
                params,
            )
        )

    def _outlier_stats(self) -> _OutlierStats:
        """Each channel's median and MAD of log spend, CPC and CTR over the clean lines.

        Robust z-scores of Iglewicz and Hoaglin; channels with fewer than
        ``OUTLIER_MIN_ROWS`` usable lines get none. Exact medians either way: in one query
        when the records fit in memory (fewest scans), else one metric at a time (a median
        holds every value of its groups in memory, and the logs are a temporary table that
        can spill).
        """
        if not self._records_on_disk:
            return self._outlier_stats_in_one_query()
        return self._outlier_stats_per_metric()

    def _outlier_stats_in_one_query(self) -> _OutlierStats:
        """The logs once (a materialised CTE), medians per channel, then the MADs from them."""
        names = list(OUTLIER_METRICS)
        logs = ", ".join(f"{OUTLIER_METRICS[name]} AS {name}" for name in names)
        medians = ", ".join(f"median({name}) AS {name}" for name in names)
        deviations = ", ".join(f"m.{name}, median(abs(l.{name} - m.{name}))" for name in names)
        rows = self.run(
            "outliers",
            f"WITH l AS MATERIALIZED (SELECT v_channel AS channel, {logs} FROM _mci_clean "
            f"WHERE {_CLEAN_GUARD}), "
            f"m AS (SELECT channel, {medians} FROM l GROUP BY channel "
            f"HAVING count(*) >= {OUTLIER_MIN_ROWS}) "
            f"SELECT m.channel, {deviations} FROM l JOIN m ON l.channel = m.channel "
            f"GROUP BY m.channel, {', '.join(f'm.{name}' for name in names)} ORDER BY m.channel",
            None,
        ).fetchall()
        stats = _OutlierStats([row[0] for row in rows])
        for i, name in enumerate(names):
            stats.medians[name] = [row[1 + 2 * i] for row in rows]
            stats.mads[name] = [row[2 + 2 * i] for row in rows]
        return stats

    def _outlier_stats_per_metric(self) -> _OutlierStats:
        """The logs in a temporary table (by channel position), then exact medians per metric.

        DuckDB's ``median`` holds every value of a group in memory: 800 MB a metric at
        100,000,000 rows, past the ingest's memory limit. :meth:`_medians_near` gives the
        same exact medians holding only the values near each one.
        """
        rows = self.run(
            "outliers",
            f"SELECT v_channel FROM _mci_clean WHERE {_CLEAN_GUARD} GROUP BY v_channel "
            f"HAVING count(*) >= {OUTLIER_MIN_ROWS} ORDER BY v_channel",
            None,
        ).fetchall()
        stats = _OutlierStats([r[0] for r in rows])
        logs = ", ".join(f"{OUTLIER_METRICS[name]} AS {name}" for name in OUTLIER_METRICS)
        self.run(
            "outliers",
            f"CREATE TEMP TABLE _mci_ologs AS SELECT o, {logs} FROM ("
            "  SELECT list_position($1::VARCHAR[], v_channel) AS o, * FROM _mci_clean"
            f"  WHERE {_CLEAN_GUARD}"
            ") WHERE o IS NOT NULL",
            [stats.channels],
        )
        positions = range(1, len(stats.channels) + 1)
        for name in OUTLIER_METRICS:
            medians = self._medians_near(name, [])
            stats.medians[name] = [medians[i] for i in positions]
            mads = self._medians_near(f"abs({name} - ($1::DOUBLE[])[o])", [stats.medians[name]])
            stats.mads[name] = [mads[i] for i in positions]
        return stats

    def _medians_near(self, value: str, params: list[Any]) -> dict[int, float | None]:
        """The exact median of ``value`` per channel position ``o`` of ``_mci_ologs``.

        An approximate quantile (DuckDB's t-digest, constant memory) brackets each median;
        the values below the bracket are counted and those inside it are fetched as distinct
        values with their counts, and the median is read off them exactly as DuckDB's
        ``median`` computes it (the middle value, or the mean of the two middle values). A
        bracket that misses its median (the sketch's rank error is far smaller than the
        bracket) is widened until it holds it.
        """
        first = len(params) + 1
        lo, hi = f"(${first}::DOUBLE[])[o]", f"(${first + 1}::DOUBLE[])[o]"
        for half_width in (0.02, 0.1, 0.5):
            bounds = self.run(
                "outliers",
                f"SELECT o, count({value}), approx_quantile({value}, "
                f"[{0.5 - half_width}, {0.5 + half_width}]) FROM _mci_ologs GROUP BY o",
                params or None,
            ).fetchall()
            size = len(bounds)
            counts = {o: n for o, n, _ in bounds}
            low = [0.0] * size
            high = [0.0] * size
            for o, _, quantiles in bounds:
                if quantiles is not None:  # None: the channel has no value
                    low[o - 1], high[o - 1] = quantiles
            if half_width == 0.5:  # the whole range: the bracket cannot miss
                low = [float("-inf")] * size
                high = [float("inf")] * size
            below = dict(
                self.run(
                    "outliers",
                    f"SELECT o, count(*) FROM _mci_ologs WHERE {value} < {lo} GROUP BY o",
                    [*params, low],
                ).fetchall()
            )
            inside: dict[int, list[tuple[float, int]]] = {o: [] for o in counts}
            for o, v, n in self.run(
                "outliers",
                f"SELECT o, v, count(*) FROM (SELECT o, {value} AS v FROM _mci_ologs) "
                f"WHERE v >= {lo} AND v <= {hi} GROUP BY o, v ORDER BY o, v",
                [*params, low, high],
            ).fetchall():
                inside[o].append((v, n))
            # A channel with no value has no median (NULL, as DuckDB's median gives).
            found = {
                o: _median_in(counts[o], below.get(o, 0), inside[o]) for o in counts if counts[o]
            }
            if all(m is not None for m in found.values()):
                return {o: found.get(o) for o in counts}
        raise RuntimeError("no bracket held the median")  # pragma: no cover - the last is whole

    def _insert_quarantine(self, load_id: int) -> int:
        reasons = " ".join(f"WHEN '{kind}' THEN '{code}'" for kind, code in REJECT_REASONS.items())
        self.con.execute(
            "CREATE TEMP TABLE _mci_q AS "
            "SELECT line_no, reason_code, message, column_name FROM _mci_keys "
            "WHERE check_idx IS NOT NULL AND line_no NOT IN (SELECT line_no FROM _mci_dups) "
            "UNION ALL SELECT j.line_no, CASE WHEN b.line_no IS NOT NULL THEN 'bad_encoding' "
            f"ELSE CASE j.error_type {reasons} ELSE '{REJECT_FALLBACK_REASON}' END END, "
            f"coalesce(b.message, j.message), NULL FROM {_REJECTED} AS j "
            "LEFT JOIN _mci_badenc AS b ON b.line_no = j.line_no "
            "WHERE j.line_no NOT IN (SELECT line_no FROM _mci_dups) "
            "UNION ALL SELECT line_no, 'conflicting_duplicate', "
            "'Campaign_ID ' || CAST(cid AS VARCHAR) || ' already appears on line ' || "
            "CAST(first_line AS VARCHAR) || CASE WHEN first_load IS NULL THEN '' "
            "ELSE ' of load ' || CAST(first_load AS VARCHAR) END || "
            "' with different content', 'Campaign_ID' FROM _mci_conflicts"
        )
        if not self._count("_mci_q"):
            return 0
        return int(
            self._one(
                "quarantine",
                "INSERT INTO quarantine (load_id, line_no, reason_code, reason_message, "
                "column_name, raw_text) SELECT ?, q.line_no, q.reason_code, q.message, "
                "q.column_name, r.raw_line FROM _mci_q AS q JOIN raw_campaign_rows AS r "
                "ON r.line_no = q.line_no WHERE r.load_id = ? ORDER BY q.line_no",
                [load_id, load_id],
            )
        )

    def _new_categories(self, load_id: int, has_prior: bool) -> dict[str, list[str]]:
        """Category values never seen before: not in the contract's lists nor earlier loads."""
        found: dict[str, list[str]] = {}
        for column, values in self._unlisted_categories(load_id).items():
            if has_prior:
                values = sorted(set(values) - self._seen_before(column, values, load_id))
            if values:
                found[column] = values
        return found

    def _unlisted_categories(self, load_id: int) -> dict[str, list[str]]:
        """The load's category values outside the contract's lists, per column (one scan).

        The distinct values come back and are compared here: a category column holds few,
        and matching each row against the lists in SQL took longer (0.015 s against 0.009 s
        at 200,000 rows).
        """
        lists = ", ".join(f"list(DISTINCT {c})" for c in CATEGORY_COLUMNS)
        row = self.run(
            "categories",
            f"SELECT {lists} FROM campaign_performance WHERE load_id = ?",
            [load_id],
        ).fetchall()[0]
        found: dict[str, list[str]] = {}
        for column, values in zip(CATEGORY_COLUMNS, row, strict=True):
            unlisted = sorted(set(values or ()) - {None} - set(KNOWN_CATEGORIES[column]))
            if unlisted:
                found[column] = unlisted
        return found

    def _seen_before(self, column: str, values: list[str], load_id: int) -> set[str]:
        """Which of ``values`` earlier loads of ``column`` already hold."""
        rows = self.run(
            "categories",
            f"SELECT DISTINCT {column} FROM campaign_performance "
            f"WHERE load_id <> ? AND list_contains(?, {column})",
            [load_id, values],
        ).fetchall()
        return {r[0] for r in rows}


_CLEAN_VALUE_COLUMNS: tuple[str, ...] = tuple(PARSERS)
_CLEAN_GUARD = "v_spend > 0 AND v_clicks > 0 AND v_impressions > 0"


def _flag_sql(index: int, name: str) -> str:
    """The flag of outlier metric ``name`` for a clean line (``o``: its channel's position).

    Each channel's median and MAD arrive as list parameters ``$3``, ``$4``, ... (two per
    metric), indexed by the channel's position in ``$2``.
    """
    median = f"(${2 * index + 3}::DOUBLE[])[o]"
    mad = f"(${2 * index + 4}::DOUBLE[])[o]"
    z = f"abs(0.6745 * ({OUTLIER_METRICS[name]} - {median}) / {mad})"
    return f"CASE WHEN {mad} > 0 AND {z} > {OUTLIER_Z} THEN '{name}' END"


@dataclass
class _OutlierStats:
    """Per channel (in ``channels`` order), the median and MAD of each outlier metric."""

    channels: list[str]
    medians: dict[str, list[float]] = field(default_factory=dict)
    mads: dict[str, list[float]] = field(default_factory=dict)


def _median_in(count: int, below: int, inside: list[tuple[float, int]]) -> float | None:
    """The median of ``count`` values, from those under a bracket and the pairs inside it.

    ``below`` values lie under the bracket; ``inside`` holds (value, count) pairs in order.
    None when the bracket does not hold the middle ranks.

    Example:
        >>> _median_in(6, 1, [(2.0, 1), (3.0, 2), (5.0, 1)])
        3.0
        >>> _median_in(4, 0, [(1.0, 1), (2.0, 1), (4.0, 1), (9.0, 1)])
        3.0
        >>> _median_in(10, 6, [(7.0, 2)]) is None
        True
    """
    ranks = ((count - 1) // 2, count // 2)  # 0-based ranks of the middle value(s)
    values = []
    for rank in ranks:
        seen = below
        for value, n in inside:
            if seen <= rank < seen + n:
                values.append(value)
                break
            seen += n
        else:
            return None
    return values[0] if count % 2 else (values[0] + values[1]) / 2


def _numbered(source: str, shifted: bool) -> str:
    """``source`` (records with ordinal ``k``) with each record's physical ``line_no``.

    See ``Processor._number_lines`` for the shift table.
    """
    if not shifted:
        return f"SELECT r.k AS line_no, r.* FROM ({source}) AS r"
    return (
        f"SELECT r.k + coalesce(s.shift, 0) AS line_no, r.* FROM ({source}) AS r "
        "ASOF LEFT JOIN _mci_shift AS s ON r.k > s.g"
    )


_TEMP_TABLES = (
    "_mci_rejects",
    "_mci_rejects_scan",
    "_mci_shift",
    "_mci_cand",
    "_mci_cand_raw",
    "_mci_dups",
    "_mci_conflicts",
    "_mci_prior",
    "_mci_excluded",
    "_mci_q",
    "_mci_ologs",
    "_mci_badenc",
    "_mci_blank",
)


class _Background:
    """Runs ``call`` in a thread; :meth:`wait` joins it and raises what it raised.

    Args:
        call: the work; it runs on ``cursor``, which is closed when it ends.
        cursor: the DuckDB connection the work uses (interrupted by :meth:`cancel`).
    """

    def __init__(self, call: Callable[[], None], cursor: Any) -> None:
        self._cursor = cursor
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], None]) -> None:
        try:
            call()
        except BaseException as exc:  # handed to the thread that waits
            self._error = exc
        finally:
            self._cursor.close()

    def wait(self) -> None:
        """Waits for the work to end; re-raises its error."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        """Interrupts the work and waits for it to stop; its error, if any, is dropped."""
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self._cursor.interrupt()
        self._thread.join()


def _literal(text: str) -> str:
    """Text inside a SQL string literal (a path)."""
    return text.replace("'", "''")


def _rejected_sql(width: int) -> str:
    """One row per line the CSV reader rejected: its number, error type and a plain message.

    The reader may log several errors for one line (a line of 3 fields logs "found 3" to
    "found 15"); the line keeps its most telling error type (``_REJECT_PRIORITY``) and one
    message: ``expected 16 fields, found 3``.
    """
    kinds = " ".join(f"WHEN bool_or(t = '{kind}') THEN '{kind}'" for kind in _REJECT_PRIORITY)
    found = "TRY_CAST(regexp_extract(error_message, 'Found: ([0-9]+)', 1) AS BIGINT)"
    others = short_text_sql("string_agg(DISTINCT error_message, '; ')")
    return (
        f"SELECT line - 1 AS line_no, CASE {kinds} ELSE min(t) END AS error_type, "
        "CASE WHEN bool_or(t = 'INVALID UNICODE') THEN 'the line is not valid UTF-8 text' "
        "WHEN bool_or(t = 'UNQUOTED VALUE') THEN 'unterminated quote in field ' || "
        "CAST(min(column_idx) FILTER (WHERE t = 'UNQUOTED VALUE') AS VARCHAR) || "
        "': a quoted field is not closed, or text follows its closing quote' "
        f"WHEN bool_or(t = 'TOO MANY COLUMNS') THEN 'expected {width} fields, found ' || "
        f"CAST(max({found}) FILTER (WHERE t = 'TOO MANY COLUMNS') AS VARCHAR) "
        f"WHEN bool_or(t = 'MISSING COLUMNS') THEN 'expected {width} fields, found ' || "
        f"CAST(min({found}) FILTER (WHERE t = 'MISSING COLUMNS') AS VARCHAR) "
        f"ELSE {others} END AS message "
        "FROM (SELECT line, error_type::VARCHAR AS t, column_idx, error_message "
        "FROM _mci_rejects) GROUP BY line"
    )


@contextlib.contextmanager
def _reader_errors(layout: SourceLayout) -> Iterator[None]:
    """Turns DuckDB's reader errors into an :class:`IngestError` naming the file and line."""
    try:
        yield
    except IngestError:
        raise
    except Exception as exc:  # DuckDB's CSV errors name the line; keep the file in front
        if is_disk_full(exc):
            raise  # not the file's fault: the caller says where the disk filled up
        raise reader_error(layout.path, exc) from None


_ERROR_LINE = re.compile(r"CSV Error on Line: (\d+)")
_LINE_SIZE = re.compile(r"Actual Size:\s*(\d+)")


def reader_error(path: Path, exc: BaseException) -> IngestError:
    """An :class:`IngestError` for an error of DuckDB's CSV reader, in plain words.

    DuckDB counts the header as line 1; the ingest counts it as line 0. The raw line DuckDB
    quotes is left out (it may be megabytes long).
    """
    text = str(exc)
    match = _ERROR_LINE.search(text)
    line = int(match.group(1)) - 1 if match else None
    lowered = text.lower()
    if "maximum line size" in lowered:
        size = _LINE_SIZE.search(text)
        actual = f" ({int(size.group(1)):,} bytes)" if size else ""
        cause = (
            f"the line is longer than {MAX_LINE_BYTES >> 20} MiB{actual}, the most a line may "
            "hold: is this a text export?"
        )
    elif "invalid unicode" in lowered:
        cause = "the line is not valid UTF-8 text"
    elif "invalid state" in lowered:
        cause = (
            "the CSV reader cannot split the file into lines and fields (malformed quotes or "
            "line breaks)"
        )
    else:
        cause = _reader_message(exc)
    return IngestError(path, cause, line=line)


def _reader_message(exc: BaseException) -> str:
    """The first lines of a DuckDB reader error, without the raw line it quotes, shortened."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    keep: list[str] = []
    skip_next = False
    for line in lines[:6]:
        if skip_next:
            skip_next = False
            continue
        if line.startswith("Original Line"):
            skip_next = line.rstrip().endswith(":")
            continue
        if line.startswith("file =") or line.startswith("Possible fixes") or line.startswith("*"):
            continue
        keep.append(line)
    return shorten(" ".join(keep[:2])) if keep else type(exc).__name__


def new_categories_json(found: dict[str, list[str]]) -> str | None:
    """The load log's JSON for new category values (``None`` when there are none)."""
    return json.dumps(found, sort_keys=True) if found else None


__all__ = ["SOURCE_TO_RAW", "LoadCounts", "Processor", "new_categories_json"]

"""Property-based tests of the ingest's reading path, on random bytes and random CSV shapes.

Whatever a file holds (random field counts, quotes open or doubled, CR, LF and CRLF mixed, a
byte-order mark, megabyte-long fields, bytes that are not UTF-8, NULs), the ingest either
loads it with every line accounted for (read = loaded + quarantined + duplicate, checked
against the load log, the tables and an independent count of the file's lines), or stops
with a plain :class:`IngestError` naming the file. Any other exception fails the test.

Every example runs against a real DuckDB (a fresh warehouse file each), a few against SQLite.
The example counts keep the whole file well under a minute on two cores.
"""

from __future__ import annotations

import codecs
import math
import re
import tempfile
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mci.ingest import source
from mci.ingest.contract import (
    DATE_RANGE,
    REASON_CODES,
    SOURCE_COLUMNS,
    SOURCE_TO_RAW,
    VALUE_RANGES,
)
from mci.ingest.errors import IngestError
from mci.ingest.pipeline import ingest
from mci.ingest.progress import NoProgress
from mci.ingest.rules import CHECKS, PARSERS, check_field_sql, check_index_sql, typed_select_sql
from mci.warehouse import connect

HEADER = ",".join(SOURCE_COLUMNS).encode()
BOM = codecs.BOM_UTF8
# What the runs found, by kind: printed at the end of the session with -s (see the report).
FOUND: Counter[str] = Counter()

# --- strategies ---------------------------------------------------------------------------------

VALID = {
    "Campaign_ID": st.integers(1, 40).map(str),  # few ids: duplicates and conflicts happen
    "Company": st.sampled_from(["TechCorp", "NexGen Systems", "Zeta Labs", "Ärzte"]),
    "Campaign_Type": st.sampled_from(["Email", "Search", "Display"]),
    "Target_Audience": st.sampled_from(["All Ages", "Men 18-24"]),
    "Duration": st.sampled_from(["15 days", "30 days", "60 days", "45"]),
    "Channel_Used": st.sampled_from(["Email", "Google Ads", "YouTube", "TikTok"]),
    "Conversion_Rate": st.sampled_from(["0.04", "0.1", "0.15"]),
    "Acquisition_Cost": st.sampled_from(['"$16,174.00"', "16174.00", '"$5,000.00"']),
    "ROI": st.sampled_from(["6.29", "2.5", "-0.5"]),
    "Location": st.sampled_from(["Chicago", "Miami"]),
    "Language": st.sampled_from(["English", "German"]),
    "Clicks": st.sampled_from(["506", "100"]),
    "Impressions": st.sampled_from(["1922", "10000"]),
    "Engagement_Score": st.sampled_from(["6", "10"]),
    "Customer_Segment": st.sampled_from(["Foodies", "Health & Wellness"]),
    "Date": st.sampled_from(["2021-01-01", "2021-06-30", "2021-12-31"]),
}
# Field texts that decide how a line is read: quotes, separators, non-finite numbers, forms
# the contract refuses, control characters, bytes that are not UTF-8.
EDGE_FIELDS: list[bytes] = [
    b"", b" ", b'"', b'""', b'"a""b"', b'"x,y"', b'a"b', b'"a"b', b"x,y", b"1e308", b"inf",
    b"NaN", b"-1", b"2021-2-3", b"9999-12-31", b"$-1,200.00", b"99999999999999999999",
    b"\x00", BOM, "é€😀".encode(), b"\t", b"\xe9", b"\xff\xfe", b"\xc3", b"\x1f\x1e\x1d",
    b"\\", b"\\x41", "\u2028".encode(), b"\x85",
]  # fmt: skip


@st.composite
def field(draw: st.DrawFn, name: str) -> bytes:
    """One field: valid for its column, an edge case, random text or bytes, or a long run."""
    kind = draw(st.sampled_from(["valid"] * 6 + ["edge", "text", "bytes", "long"]))
    if kind == "valid":
        return draw(VALID[name]).encode()
    if kind == "edge":
        return draw(st.sampled_from(EDGE_FIELDS))
    if kind == "text":
        return draw(st.text(max_size=12)).encode("utf-8", "surrogatepass")
    if kind == "bytes":
        return draw(st.binary(max_size=12))
    return draw(st.sampled_from([b"x", b"\xe9", b'"', b"9"])) * draw(st.integers(300, 70_000))


@st.composite
def csv_line(draw: st.DrawFn) -> bytes:
    """A data line: a row with some fields broken, a field too many or too few, or bytes."""
    kind = draw(st.sampled_from(["row"] * 5 + ["bytes", "blank"]))
    if kind == "bytes":
        return draw(st.binary(max_size=120))
    if kind == "blank":
        return draw(st.sampled_from([b"", b" ", b"\t"]))
    fields = [draw(field(name)) for name in SOURCE_COLUMNS]
    change = draw(st.sampled_from(["none"] * 4 + ["drop", "add"]))
    if change == "drop":
        del fields[draw(st.integers(0, len(fields) - 1)) :]
    elif change == "add":
        fields += [draw(field("Company")) for _ in range(draw(st.integers(1, 4)))]
    return b",".join(fields)


EOLS = [b"\n", b"\r\n", b"\r"]


@st.composite
def csv_file(draw: st.DrawFn) -> bytes:
    """A whole export: maybe a BOM, the header, lines, any mix of line breaks."""
    lines = draw(st.lists(csv_line(), max_size=25))
    mode = draw(st.sampled_from(["lf", "crlf", "cr", "mixed"]))
    chosen = {"lf": [b"\n"], "crlf": [b"\r\n"], "cr": [b"\r"], "mixed": EOLS}[mode]
    out = [BOM] if draw(st.booleans()) else []
    for line in [HEADER, *lines]:
        out.append(line + draw(st.sampled_from(chosen)))
    if lines and draw(st.booleans()):  # the last line without its break
        out[-1] = out[-1].rstrip(b"\r\n")
    return b"".join(out)


# --- the independent count of lines -------------------------------------------------------------


def data_lines(content: bytes) -> dict[int, bytes]:
    """The file's non-blank data lines by number (header 0), split as an editor splits them."""
    lines = re.split(rb"\r\n|\r|\n", content.removeprefix(BOM))
    return {n: line for n, line in enumerate(lines) if n > 0 and line != b""}


# --- the checks ---------------------------------------------------------------------------------


def check_load(content: bytes, engine: str, folder: Path, encoding: str = "utf-8") -> None:
    """Loads ``content``; checks the outcome is an accounted load or a plain IngestError."""
    path = folder / "export.csv"
    path.write_bytes(content)
    url = f"{engine}:///{folder / f'w.{engine}'}"
    try:
        [result] = ingest([path], url, progress=NoProgress(), encoding=encoding)
    except IngestError as exc:
        message = str(exc)
        assert message.startswith(str(path)), message
        assert len(message) < 1000, message[:300]
        assert "internal check failed" not in message, message
        assert "Error:" not in message, message  # an engine's error class, not plain words
        FOUND[f"IngestError: {exc.detail[:60]}"] += 1
        event(f"IngestError: {exc.detail[:60]}")
        return
    expected = data_lines(content)
    event("loaded")
    FOUND["loaded"] += 1
    assert result.status == "loaded"
    assert result.rows_read == len(expected)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined + result.rows_duplicate
    with connect(url, read_only=True) as wh:
        [log] = wh.query(
            "SELECT rows_read, rows_loaded, rows_quarantined, rows_duplicate FROM load_log"
        )[1]
        _, raw = wh.query("SELECT line_no FROM raw_campaign_rows ORDER BY 1")
        loaded = wh.scalar("SELECT count(*) FROM campaign_performance")
        _, quarantine = wh.query("SELECT reason_code, reason_message FROM quarantine")
        _, values = wh.query(
            "SELECT conversion_rate, spend, roi, clicks, impressions, engagement_score, "
            "duration_days, date FROM campaign_performance"
        )
    assert tuple(log) == (
        result.rows_read,
        result.rows_loaded,
        result.rows_quarantined,
        result.rows_duplicate,
    )
    assert [r[0] for r in raw] == sorted(expected)
    assert loaded == result.rows_loaded and len(quarantine) == result.rows_quarantined
    for code, message in quarantine:
        assert code in REASON_CODES and message and len(message) < 600, (code, message[:300])
        FOUND[f"quarantined: {code}"] += 1
    names = ("conversion_rate", "spend", "roi", "clicks", "impressions", "engagement_score")
    for row in values:
        for name, value in zip((*names, "duration_days"), row, strict=False):
            if value is not None:
                low, high = VALUE_RANGES[name]
                assert math.isfinite(value) and low <= value <= high, (name, value)
        assert DATE_RANGE[0] <= str(row[-1]) <= DATE_RANGE[1]


_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "database": None,
}


@settings(max_examples=150, **_SETTINGS)
@given(csv_file(), st.sampled_from(["utf-8"] * 3 + ["latin-1", "cp1252"]))
def test_random_csv_files_load_accounted_or_fail_plainly_on_duckdb(
    content: bytes, encoding: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check_load(content, "duckdb", Path(folder), encoding)


@settings(max_examples=20, **_SETTINGS)
@given(csv_file())
def test_random_csv_files_load_accounted_or_fail_plainly_on_sqlite(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check_load(content, "sqlite", Path(folder))


@settings(max_examples=40, **_SETTINGS)
@given(st.booleans(), st.binary(max_size=3000))
def test_random_bytes_after_a_header_load_accounted_or_fail_plainly(bom: bool, body: bytes) -> None:
    content = (BOM if bom else b"") + HEADER + b"\n" + body
    with tempfile.TemporaryDirectory() as folder:
        check_load(content, "duckdb", Path(folder))


@settings(max_examples=200, **_SETTINGS)
@given(st.binary(max_size=400), st.sampled_from(["utf-8", "latin-1", "cp1252"]))
def test_any_first_line_gives_a_layout_or_a_plain_error(content: bytes, encoding: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.csv"
        path.write_bytes(content)
        try:
            layout = source.read_layout(path, encoding=encoding)
        except IngestError as exc:
            assert str(exc).startswith(str(path)) and len(str(exc)) < 1000
            return
        assert set(layout.positions) == set(SOURCE_COLUMNS)


# --- scanning and re-encoding against plain Python references -----------------------------------


def _reference_rewrite(content: bytes, encoding: str) -> tuple[bytes, list[int]]:
    lines = re.split(rb"\r\n|\r|\n", content.removeprefix(BOM))
    out, bad = [], []
    for n, line in enumerate(lines):
        try:
            out.append(line.decode(encoding))
        except UnicodeDecodeError:
            out.append(line.replace(b"\\", b"\\\\").decode(encoding, "backslashreplace"))
            bad.append(n)
    return "\n".join(out).encode(), bad


@settings(max_examples=300, **_SETTINGS)
@given(
    st.lists(st.sampled_from([b"a", b",", b'"', b"\r", b"\n", b"\\", b"\xe9", "€".encode()])).map(
        b"".join
    )
    | st.binary(max_size=200),
    st.sampled_from(["utf-8", "latin-1", "cp1252"]),
    st.integers(1, 9),
)
def test_scan_and_rewrite_agree_with_references_at_any_chunk_size(
    content: bytes, encoding: str, chunk: int
) -> None:
    saved = source._CHUNK
    source._CHUNK = chunk
    try:
        with tempfile.TemporaryDirectory() as folder:
            path, out = Path(folder) / "in.csv", Path(folder) / "out.csv"
            path.write_bytes(content)
            scan = source.scan_file(path)
            done = source.rewrite_text(path, out, encoding)
            written = out.read_bytes()
            bad_lines = sorted(done.bad_lines.messages())
    finally:
        source._CHUNK = saved
    try:
        content.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    lone_cr = re.search(rb"\r(?!\n)", content) is not None
    bare_lf = re.search(rb"(?<!\r)\n", content) is not None
    assert scan.utf8 == utf8 and scan.ascii == content.isascii()
    assert scan.uniform_breaks == (not lone_cr and not (bare_lf and b"\r\n" in content))
    expected, bad = _reference_rewrite(content, encoding)
    assert written == expected
    assert bad_lines == bad


# --- every value parser on random text ----------------------------------------------------------


@settings(max_examples=30, **_SETTINGS)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                SOURCE_TO_RAW[name]: st.one_of(
                    VALID[name],
                    st.text(max_size=30),
                    st.sampled_from(EDGE_FIELDS).map(lambda b: b.decode("utf-8", "replace")),
                )
                for name in SOURCE_COLUMNS
            }
        ),
        min_size=1,
        max_size=60,
    )
)
def test_every_value_parser_and_check_on_random_text(rows: list[dict[str, str]]) -> None:
    """Typing and checking any text never raises; a clean row is typed, finite and in range."""
    raw_columns = [SOURCE_TO_RAW[name] for name in SOURCE_COLUMNS]
    con = duckdb.connect()
    try:
        con.execute(
            f"CREATE TABLE r AS SELECT * FROM (VALUES ({', '.join(['?'] * 16)})) AS t("
            + ", ".join(raw_columns)
            + ") LIMIT 0",
            [""] * 16,
        )
        con.executemany(
            f"INSERT INTO r VALUES ({', '.join(['?'] * 16)})",
            [[row[c].replace("\x00", "") for c in raw_columns] for row in rows],
        )
        typed = f"SELECT r.*, {typed_select_sql()} FROM r"
        checked = f"SELECT r.*, {check_index_sql()} AS check_idx FROM ({typed}) AS r"
        names = list(PARSERS)
        result = con.execute(
            f"SELECT check_idx, {check_field_sql('reason_code')}, {check_field_sql('message')}, "
            f"{', '.join(f'v_{n}' for n in names)} FROM ({checked}) AS r"
        ).fetchall()
    finally:
        con.close()
    for idx, code, message, *values in result:
        if idx is not None:
            assert code == CHECKS[idx - 1].reason_code and message
            continue
        typed_values = dict(zip(names, values, strict=True))
        for name, (low, high) in VALUE_RANGES.items():
            value = typed_values[name]
            assert value is None or (math.isfinite(value) and low <= value <= high), name
        for required in ("campaign_id", "channel", "spend", "roi", "clicks", "date"):
            assert typed_values[required] is not None


@pytest.fixture(scope="module", autouse=True)
def _report_findings() -> None:
    yield
    if FOUND:
        print("\nfuzz outcomes:", dict(FOUND.most_common()))

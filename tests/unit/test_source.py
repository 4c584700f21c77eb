"""Reading a source file's layout: header quirks, the contract check, renames and sha256."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mci.ingest.contract import SOURCE_COLUMNS
from mci.ingest.errors import ContractError, IngestError
from mci.ingest.source import (
    parse_renames,
    read_header,
    read_layout,
    sha256_of,
)

ROW = [
    "1",
    "Innovate Industries",
    "Email",
    "Men 18-24",
    "30 days",
    "Google Ads",
    "0.04",
    "$16,174.00",
    "6.29",
    "Chicago",
    "Spanish",
    "506",
    "1922",
    "6",
    "Health & Wellness",
    "2021-01-01",
]


def csv_text(header: list[str], rows: list[list[str]] | None = None, eol: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=eol)
    writer.writerow(header)
    writer.writerows([ROW] if rows is None else rows)
    return buffer.getvalue()


def write_csv(path: Path, header: list[str], **kwargs) -> Path:
    path.write_text(csv_text(header, **kwargs), encoding="utf-8", newline="")
    return path


# --- read_header ----------------------------------------------------------------------------


def test_read_header_plain(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", list(SOURCE_COLUMNS))
    assert read_header(path) == list(SOURCE_COLUMNS)


def test_read_header_strips_bom_crlf_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    quoted = ",".join(f'"{name}"' for name in SOURCE_COLUMNS)
    path.write_bytes(b"\xef\xbb\xbf" + quoted.encode() + b"\r\n" + ",".join(ROW).encode() + b"\r\n")
    header = read_header(path)
    assert header == list(SOURCE_COLUMNS)
    assert not any("\r" in name or "\ufeff" in name or '"' in name for name in header)


def test_read_header_trims_white_space_and_keeps_commas_in_quoted_names(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b' Campaign_ID ,"Cost, USD",Date \r\n1,2,3\r\n')
    assert read_header(path) == ["Campaign_ID", "Cost, USD", "Date"]


def test_read_header_of_a_one_line_file_without_line_break(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"Campaign_ID,Date")
    assert read_header(path) == ["Campaign_ID", "Date"]


@pytest.mark.parametrize("content", [b"", b"\n", b"\r\n", b"   \r\n1,2\r\n"])
def test_read_header_of_an_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(IngestError) as info:
        read_header(path)
    assert str(path) in str(info.value)
    assert "empty" in str(info.value)


def test_read_header_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("Campaign_ID,Données\n1,2\n".encode("latin-1"))
    with pytest.raises(IngestError) as info:
        read_header(path)
    assert str(path) in str(info.value)
    assert "UTF-8" in str(info.value)


# --- read_layout ----------------------------------------------------------------------------


def test_layout_of_a_contract_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", list(SOURCE_COLUMNS))
    layout = read_layout(path)
    assert layout.format == "csv"
    assert layout.path == path
    assert layout.positions == {name: i for i, name in enumerate(SOURCE_COLUMNS)}
    assert layout.renames == {}
    assert layout.extra_columns == []


def test_layout_of_reordered_columns_points_at_each_column(tmp_path: Path) -> None:
    header = list(reversed(SOURCE_COLUMNS))
    path = write_csv(tmp_path / "x.csv", header, rows=[list(reversed(ROW))])
    layout = read_layout(path)
    for name in SOURCE_COLUMNS:
        assert header[layout.positions[name]] == name


def test_layout_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text(list(SOURCE_COLUMNS), eol="\r\n").encode())
    assert read_layout(path).positions["Campaign_ID"] == 0


def test_missing_columns_are_a_contract_error(tmp_path: Path) -> None:
    missing = ["Clicks", "ROI", "Date"]
    header = [name for name in SOURCE_COLUMNS if name not in missing]
    path = write_csv(tmp_path / "export.csv", header, rows=[])
    with pytest.raises(ContractError) as info:
        read_layout(path)
    error = info.value
    message = str(error)
    assert error.exit_code == 2
    assert error.path == path
    assert str(path) in message
    for name in missing:
        assert name in error.detail.split("columns found")[0], name
    found = error.detail.split("columns found:")[1]
    for name in header:
        assert name in found, name
    # no unknown header: no rename hint
    assert "--rename" not in message


def test_renamed_headers_fail_with_a_hint_then_pass_with_renames(tmp_path: Path) -> None:
    header = [
        "Dates" if n == "Date" else "Languages" if n == "Language" else n for n in SOURCE_COLUMNS
    ]
    path = write_csv(tmp_path / "renamed.csv", header)
    with pytest.raises(ContractError) as info:
        read_layout(path)
    message = str(info.value)
    assert "Date" in message and "Language" in message
    assert "Dates" in message and "Languages" in message
    assert "--rename" in message

    layout = read_layout(path, {"Dates": "Date", "Languages": "Language", "Datum": "Date"})
    assert layout.renames == {"Dates": "Date", "Languages": "Language"}  # only those applied
    assert layout.positions["Date"] == header.index("Dates")
    assert layout.positions["Language"] == header.index("Languages")
    assert layout.header == header  # the header as found, before renames
    assert layout.extra_columns == []


def test_duplicate_contract_column_is_a_contract_error(tmp_path: Path) -> None:
    header = [*SOURCE_COLUMNS, "Clicks"]
    path = write_csv(tmp_path / "dup.csv", header, rows=[[*ROW, "1"]])
    with pytest.raises(ContractError) as info:
        read_layout(path)
    assert info.value.column == "Clicks"
    assert info.value.exit_code == 2
    assert str(path) in str(info.value)
    assert "Clicks" in str(info.value)


def test_rename_onto_a_column_that_is_also_present_is_a_duplicate(tmp_path: Path) -> None:
    header = [*SOURCE_COLUMNS, "Dates"]
    path = write_csv(tmp_path / "dup.csv", header, rows=[[*ROW, "2021-01-01"]])
    assert read_layout(path).extra_columns == ["Dates"]
    with pytest.raises(ContractError):
        read_layout(path, {"Dates": "Date"})


def test_extra_unknown_column_is_tolerated_and_listed(tmp_path: Path) -> None:
    header = ["Notes", *SOURCE_COLUMNS, "Region"]
    path = write_csv(tmp_path / "extra.csv", header, rows=[["n", *ROW, "r"]])
    layout = read_layout(path)
    assert layout.extra_columns == ["Notes", "Region"]
    assert layout.positions["Campaign_ID"] == 1
    assert layout.positions["Date"] == len(SOURCE_COLUMNS)


def test_empty_file_is_an_ingest_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(IngestError) as info:
        read_layout(path)
    assert not isinstance(info.value, ContractError)
    assert info.value.exit_code == 1
    assert str(path) in str(info.value)


def test_nonexistent_file_is_an_ingest_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(IngestError) as info:
        read_layout(path)
    assert info.value.path == path
    assert str(path) in str(info.value)
    assert not path.exists()


def test_a_directory_is_not_a_source_file(tmp_path: Path) -> None:
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    with pytest.raises(IngestError):
        read_layout(folder)


@pytest.mark.parametrize("suffix", [".xlsx", ".json", ""])
def test_unknown_suffix_is_an_ingest_error(tmp_path: Path, suffix: str) -> None:
    path = write_csv(tmp_path / f"export{suffix}", list(SOURCE_COLUMNS))
    with pytest.raises(IngestError) as info:
        read_layout(path)
    assert str(path) in str(info.value)
    assert ".csv" in str(info.value)


@pytest.mark.parametrize("suffix", [".CSV", ".txt"])
def test_csv_suffixes(tmp_path: Path, suffix: str) -> None:
    path = write_csv(tmp_path / f"export{suffix}", list(SOURCE_COLUMNS))
    assert read_layout(path).format == "csv"


def test_parquet_layout(tmp_path: Path) -> None:
    path = tmp_path / "export.parquet"
    columns = ["Dates", *[n for n in SOURCE_COLUMNS if n != "Date"]]
    pq.write_table(pa.table({name: ["x"] for name in columns}), path)
    layout = read_layout(path, {"Dates": "Date"})
    assert layout.format == "parquet"
    assert layout.positions["Date"] == 0
    assert layout.positions["Campaign_ID"] == 1
    assert layout.renames == {"Dates": "Date"}


def test_parquet_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "export.parquet"
    pq.write_table(pa.table({"Campaign_ID": [1]}), path)
    with pytest.raises(ContractError) as info:
        read_layout(path)
    assert "Date" in str(info.value)


def test_unreadable_parquet_is_an_ingest_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_text(csv_text(list(SOURCE_COLUMNS)))
    with pytest.raises(IngestError) as info:
        read_layout(path)
    assert not isinstance(info.value, ContractError)
    assert str(path) in str(info.value)


# --- parse_renames --------------------------------------------------------------------------


def test_parse_renames() -> None:
    assert parse_renames([]) == {}
    assert parse_renames(["Dates=Date", " Languages = Language "]) == {
        "Dates": "Date",
        "Languages": "Language",
    }


@pytest.mark.parametrize("pair", ["Dates", "=Date", "Dates=", "", "  =  "])
def test_parse_renames_rejects_malformed_pairs(pair: str) -> None:
    with pytest.raises(ValueError, match="OLD=NEW"):
        parse_renames(["Languages=Language", pair])


@pytest.mark.parametrize("pair", ["Dates=Datum", "Dates=date", "Cost=Acquisition_Cost=x"])
def test_parse_renames_rejects_unknown_targets(pair: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_renames([pair])
    message = str(info.value)
    assert "not a contract column" in message
    for name in SOURCE_COLUMNS:  # it lists the valid targets
        assert name in message


# --- sha256_of ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 1000, (1 << 22) * 2 + 123])
def test_sha256_matches_hashlib_and_reports_every_byte(tmp_path: Path, size: int) -> None:
    path = tmp_path / "blob.csv"
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    path.write_bytes(data)
    seen: list[int] = []
    assert sha256_of(path, seen.append) == hashlib.sha256(data).hexdigest()
    assert sum(seen) == size == path.stat().st_size
    assert all(n > 0 for n in seen)
    if size > 1 << 22:
        assert len(seen) > 1  # progress is reported as the file is read, not once at the end


def test_sha256_without_callback(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"abc")
    assert sha256_of(path) == hashlib.sha256(b"abc").hexdigest()


# --- inputs that are not readable files -------------------------------------------------------


def test_a_folder_is_named_as_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "export.csv"
    folder.mkdir()
    with pytest.raises(IngestError, match="is a folder, not a file") as info:
        read_layout(folder)
    assert info.value.exit_code == 1 and str(folder) in str(info.value)


def test_a_fifo_is_not_a_regular_file(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    with pytest.raises(IngestError, match="is not a regular file"):  # and never blocks on it
        read_layout(fifo)


def test_a_missing_file_is_no_such_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        read_layout(tmp_path / "nope.csv")


@pytest.mark.parametrize("kind", ["folder", "fifo", "missing", "latin-1"])
def test_a_mapping_that_is_not_a_toml_file_is_refused_naming_it(tmp_path: Path, kind: str) -> None:
    import os

    from mci.ingest.source import read_mapping_file

    path = tmp_path / "columns.toml"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "latin-1":
        path.write_bytes('[rename]\nDonnées = "Date"\n'.encode("latin-1"))
    expected = {
        "folder": "is a folder",
        "fifo": "is not a regular file",
        "missing": "no such mapping file",
        "latin-1": "not UTF-8",
    }[kind]
    with pytest.raises(ValueError, match=expected) as info:
        read_mapping_file(path)
    assert str(path) in str(info.value)


# --- line breaks and encodings ------------------------------------------------------------------


def test_read_header_of_an_old_mac_file(tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(csv_text(list(SOURCE_COLUMNS), eol="\r").encode())
    assert read_header(path) == list(SOURCE_COLUMNS)


def test_read_header_in_latin1(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("Campaign_ID,Données\n1,2\n".encode("latin-1"))
    assert read_header(path, "latin-1") == ["Campaign_ID", "Données"]


@pytest.mark.parametrize(
    ("content", "ascii_", "utf8", "uniform"),
    [
        (b"a,b\nc,d\n", True, True, True),
        (b"a,b\r\nc,d\r\n", True, True, True),
        (b"a,b\r\nc,d", True, True, True),
        (b"a,b\rc,d\r", True, True, False),  # old Mac
        (b"a,b\r\nc,d\ne,f\r\n", True, True, False),  # CRLF and LF mixed
        (b"a,b\nc\r,d\n", True, True, False),  # a lone CR inside an LF file
        (b"a,b\r\r\nc,d\r\n", True, True, False),
        ("a,Zürich\n".encode(), False, True, True),
        (b"a,Z\xfcrich\n", False, False, True),
        (b"a,b\n\xe2\x82", False, False, True),  # a UTF-8 sequence cut at the end
    ],
)
def test_scan_tells_what_duckdb_can_read_as_it_is(
    tmp_path: Path, content: bytes, ascii_: bool, utf8: bool, uniform: bool
) -> None:
    from mci.ingest.source import scan_file

    path = tmp_path / "x.csv"
    path.write_bytes(content)
    scan = scan_file(path)
    assert (scan.ascii, scan.utf8, scan.uniform_breaks) == (ascii_, utf8, uniform)
    assert scan.readable_as_is() == (utf8 and uniform)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7])
def test_scan_across_chunk_boundaries(tmp_path: Path, monkeypatch, chunk: int) -> None:
    from mci.ingest import source

    monkeypatch.setattr(source, "_CHUNK", chunk)
    cases = {
        "é,€\r\nb\r\n".encode(): (True, True),
        b"ab\r\ncd\r\n\r\n": (True, True),
        b"ab\r\ncd\nef\r\n": (True, False),
        b"ab\rcd\r\n": (True, False),
        "é,€".encode()[:-1] + b"\n": (False, True),
    }
    for content, expected in cases.items():
        path = tmp_path / "x.csv"
        path.write_bytes(content)
        scan = source.scan_file(path)
        assert (scan.utf8, scan.uniform_breaks) == expected, content


def test_rewrite_normalises_breaks_escapes_bad_lines_and_blanks_lines(tmp_path: Path) -> None:
    from mci.ingest.source import rewrite_text

    source = tmp_path / "in.csv"
    source.write_bytes(b"\xef\xbb\xbfh1,h2\ra,b\r\nc\\,d\xe9\ne,f\r\rg,\xc3\xa9\n")
    target = tmp_path / "out.csv"
    done = rewrite_text(source, target, "utf-8", blank_lines=frozenset({3}))
    assert target.read_bytes() == "h1,h2\na,b\nc\\\\,d\\xe9\n\n\ng,é\n".encode()
    messages = done.bad_lines.messages()
    assert list(messages) == [2] and done.bad_lines.count == 1
    assert messages[2].startswith("the line is not valid UTF-8 text: byte 0xE9 at character 5")
    assert done.line_separator == "\\x1f"


def test_rewrite_latin1_and_cp1252(tmp_path: Path) -> None:
    from mci.ingest.source import rewrite_text

    source = tmp_path / "in.csv"
    source.write_bytes(b"a,Z\xfcrich\nb,\x80 \x96 \x81\n")
    latin = rewrite_text(source, tmp_path / "latin.csv", "latin-1")
    assert (tmp_path / "latin.csv").read_text() == "a,Zürich\nb,\x80 \x96 \x81\n"
    assert latin.bad_lines.count == 0 and latin.bad_lines.messages() == {}
    windows = rewrite_text(source, tmp_path / "cp1252.csv", "cp1252")
    assert (tmp_path / "cp1252.csv").read_text() == "a,Zürich\nb,€ – \\x81\n"
    assert list(windows.bad_lines.messages()) == [1]  # 0x81 is not a Windows-1252 character


def test_rewrite_keeps_memory_flat_on_a_big_file(tmp_path: Path) -> None:
    import tracemalloc

    from mci.ingest.source import rewrite_text

    line = '1,Zürich,Email,"$16,174.00",6.29,2021-01-01\r'.encode("latin-1")
    source = tmp_path / "big.csv"
    with source.open("wb") as out:
        for _ in range(64):
            out.write(line * ((1 << 20) // len(line)))  # 64 MB of old-Mac Latin-1 lines
    tracemalloc.start()
    try:
        rewrite_text(source, tmp_path / "out.csv", "latin-1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 48 << 20, f"peak {peak >> 20} MB for a 64 MB file"
    assert (tmp_path / "out.csv").stat().st_size > 64 << 20


def test_a_line_longer_than_the_limit_stops_a_rewrite(tmp_path: Path, monkeypatch) -> None:
    from mci.ingest import source

    monkeypatch.setattr(source, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(source, "_CHUNK", 256)
    path = tmp_path / "long.csv"
    path.write_bytes(b"h\rshort\r" + b"x" * 5000 + b"\r")
    with pytest.raises(IngestError) as info:
        source.rewrite_text(path, tmp_path / "out.csv", "latin-1")
    assert info.value.line == 2 and "longer than" in str(info.value)


def test_a_file_holding_the_usual_separators_gets_another(tmp_path: Path) -> None:
    from mci.ingest.source import scan_file

    path = tmp_path / "x.csv"
    path.write_bytes(b"h\na\x1f\x1e\x1d\x1c\x07b\n")
    assert scan_file(path).line_separator == "\\x01"
    path.write_bytes(bytes(range(256)))
    assert scan_file(path).line_separator is None  # every control character: not text


@pytest.mark.parametrize("offset", [0, 1, (1 << 19) - 7, (1 << 22) - 100])
def test_scan_flags_a_line_of_a_mebibyte_wherever_it_sits(tmp_path: Path, offset: int) -> None:
    # Lines of 1 MiB or more need DuckDB's larger line limit; short lines must not ask for it.
    from mci.ingest.source import scan_file

    short = b"1,abc\n"
    before = short * (offset // len(short))
    path = tmp_path / "x.csv"
    path.write_bytes(before + b"x" * (1 << 20) + b"\n" + short * 1000)
    assert scan_file(path).long_lines
    path.write_bytes(before + short * 300_000)
    assert not scan_file(path).long_lines

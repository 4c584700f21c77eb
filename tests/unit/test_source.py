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

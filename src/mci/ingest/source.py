"""Reading a source file's layout: format, header, the contract's columns, and its sha256.

Nothing here writes anything: the header is checked against the contract before a load starts.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = path.write_text(chr(10).join(["Campaign_ID,Dates", "1,2021-01-01", ""]))
    >>> read_header(path)
    ['Campaign_ID', 'Dates']
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mci.ingest.contract import SOURCE_COLUMNS
from mci.ingest.errors import ContractError, IngestError

FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
_CHUNK = 1 << 22


@dataclass(frozen=True)
class SourceLayout:
    """Where each contract column sits in one source file.

    Attributes:
        path: the file.
        format: ``csv`` or ``parquet``.
        header: the file's header as found (before renames).
        positions: contract column name to its 0-based position in the file.
        renames: the header renames that were applied (file header to contract name).
        extra_columns: header names that are not in the contract (read, not stored).
    """

    path: Path
    format: str
    header: list[str]
    positions: dict[str, int]
    renames: dict[str, str] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)


def parse_renames(pairs: Sequence[str]) -> dict[str, str]:
    """Parses ``OLD=NEW`` pairs of ``--rename`` into a mapping.

    Args:
        pairs: strings such as ``"Dates=Date"``.

    Returns:
        The mapping from the file's header to the contract's name.

    Raises:
        ValueError: a pair is not ``OLD=NEW`` or names a column that is not in the contract.
    """
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise ValueError(f"--rename takes OLD=NEW, got {pair!r}")
        if new not in SOURCE_COLUMNS:
            raise ValueError(
                f"--rename {pair!r}: {new!r} is not a contract column; valid: "
                + ", ".join(SOURCE_COLUMNS)
            )
        mapping[old] = new
    return mapping


def read_mapping_file(path: Path) -> dict[str, str]:
    """Reads renamed headers from a TOML file's ``[rename]`` table (file header = contract name).

    Example file::

        [rename]
        Dates = "Date"
        Languages = "Language"

    Raises:
        ValueError: the file is missing, is not TOML, or maps to a name outside the contract.
    """
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such mapping file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    table = data.get("rename", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ValueError(f"{path}: [rename] must map header names to contract names (text)")
    return parse_renames([f"{old}={new}" for old, new in table.items()])


def detect_format(path: Path) -> str:
    """Returns ``csv`` or ``parquet`` from the file's suffix.

    Raises:
        IngestError: an unknown suffix.
    """
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise IngestError(
            path, f"unknown file type {path.suffix!r}: expected .csv or .parquet"
        ) from None


def read_header(path: Path) -> list[str]:
    """Reads a CSV file's header line (UTF-8, with or without a byte-order mark, LF or CRLF).

    Raises:
        IngestError: the file is empty or its first line is not UTF-8.
    """
    with path.open("rb") as handle:
        first = handle.readline(1 << 20)
    if not first.strip():
        raise IngestError(path, "the file is empty: no header line", line=0)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(path, f"the header is not UTF-8 text ({exc.reason})", line=0) from None
    return [name.strip() for name in next(csv.reader(io.StringIO(text)))]


def _parquet_header(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise IngestError(path, f"not a readable Parquet file ({exc})") from None


def read_layout(path: Path, renames: Mapping[str, str] | None = None) -> SourceLayout:
    """Checks a file's columns against the contract and says where each one is.

    Args:
        path: a ``.csv`` or ``.parquet`` export.
        renames: file header to contract name, for renamed headers.

    Returns:
        The file's layout.

    Raises:
        ContractError: contract columns are missing, or a column appears twice; the message
            names the file, the missing columns and the columns found.
        IngestError: the file does not exist, is empty, or is of an unknown type.
    """
    if not path.is_file():
        raise IngestError(path, "no such file")
    renames = dict(renames or {})
    fmt = detect_format(path)
    header = read_header(path) if fmt == "csv" else _parquet_header(path)
    mapped = [renames.get(name, name) for name in header]
    seen: dict[str, int] = {}
    for index, name in enumerate(mapped):
        if name in seen and name in SOURCE_COLUMNS:
            raise ContractError(
                path,
                f"column {name!r} appears twice in the header (positions {seen[name] + 1} "
                f"and {index + 1})",
                line=0,
                column=name,
            )
        seen.setdefault(name, index)
    missing = [name for name in SOURCE_COLUMNS if name not in seen]
    if missing:
        hint = ""
        unknown = [h for h, m in zip(header, mapped, strict=True) if m not in SOURCE_COLUMNS]
        if unknown:
            hint = "; map renamed headers with --rename OLD=NEW (e.g. --rename Dates=Date)"
        raise ContractError(
            path,
            f"missing columns: {', '.join(missing)}; columns found: {', '.join(header)}{hint}",
            line=0,
        )
    positions = {name: seen[name] for name in SOURCE_COLUMNS}
    applied = {old: new for old, new in renames.items() if old in header}
    extra = [h for h, m in zip(header, mapped, strict=True) if m not in SOURCE_COLUMNS]
    return SourceLayout(path, fmt, header, positions, applied, extra)


_SEPARATORS = (b"\x1f", b"\x1e", b"\x1d", b"\x1c", b"\x07")


@dataclass(frozen=True)
class FileScan:
    """What one pass over a file's bytes found.

    Attributes:
        sha256: the file's checksum.
        line_separator: a control character absent from the file (as a DuckDB string
            escape), so the file can be read one whole line per row; ``None`` when the file
            holds them all (a binary file).
    """

    sha256: str
    line_separator: str | None


def scan_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> FileScan:
    """Reads the file once: its sha256 and a separator it lacks."""
    digest = hashlib.sha256()
    absent = list(_SEPARATORS)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            absent = [c for c in absent if c not in chunk]
            if on_bytes is not None:
                on_bytes(len(chunk))
    separator = "\\x" + absent[0].hex() if absent else None
    return FileScan(digest.hexdigest(), separator)


def sha256_of(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    """Returns the file's sha256 hex digest, reporting bytes read to ``on_bytes``."""
    return scan_file(path, on_bytes).sha256

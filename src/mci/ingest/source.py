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

import bisect
import codecs
import csv
import hashlib
import io
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mci.ingest.contract import ENCODINGS, SOURCE_COLUMNS
from mci.ingest.errors import ContractError, IngestError, plain_cause, shorten

FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
_CHUNK = 1 << 22
_BOM = codecs.BOM_UTF8
# The longest line a file may hold (DuckDB's readers are given the same maximum).
MAX_LINE_BYTES = 16 << 20
# Lines longer than twice this may be in a file where an aligned window of this many bytes
# holds no line break (a line of 1 MiB or more always covers one whole such window).
_LONG_LINE_WINDOW = 1 << 19
# Header names listed in a message, at most.
_NAMES_SHOWN = 40


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
            raise ValueError(f"--rename takes OLD=NEW, got {shorten(pair)!r}")
        if new not in SOURCE_COLUMNS:
            raise ValueError(
                f"--rename {shorten(pair)!r}: {shorten(new)!r} is not a contract column; valid: "
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
        ValueError: the file is missing, a folder or otherwise not a readable file, is not
            UTF-8 TOML, or maps to a name outside the contract; the message names the path.
    """
    import tomllib

    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not a mapping file (a TOML file with [rename])")
    if path.exists() and not path.is_file():
        raise ValueError(f"{path}: is not a regular file: a mapping file is a TOML file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such mapping file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a TOML file (the mapping file is not UTF-8 text)") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the mapping file: {plain_cause(exc)}") from None
    try:
        data = tomllib.loads(text)
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
            path, f"unknown file type {shorten(path.suffix, 40)!r}: expected .csv or .parquet"
        ) from None


def check_encoding(encoding: str) -> str:
    """The canonical name of a supported text encoding (``utf-8``, ``latin-1``, ``cp1252``).

    Raises:
        ValueError: the encoding is not one the ingest reads.
    """
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        name = None
    canonical = {codecs.lookup(known).name: known for known in ENCODINGS}
    if name not in canonical:
        raise ValueError(f"unknown encoding {encoding!r}; valid: {', '.join(ENCODINGS)}")
    return canonical[name]


def read_header(path: Path, encoding: str = "utf-8") -> list[str]:
    """Reads a CSV file's header line.

    The line ends at the first line break (LF, CRLF or a lone CR); a UTF-8 byte-order mark
    before it is dropped.

    Args:
        path: the file.
        encoding: the file's text encoding (see :data:`mci.ingest.contract.ENCODINGS`).

    Raises:
        IngestError: the file is empty, its first line is blank or not text in ``encoding``.
        ContractError: the first line is not a CSV line (an unterminated quote, say).
    """
    with path.open("rb") as handle:
        start = handle.read(1 << 20)
    breaks = [i for i in (start.find(b"\n"), start.find(b"\r")) if i >= 0]
    first = start[: min(breaks)] if breaks else start
    first = first.removeprefix(_BOM)
    if not first.strip():
        if not start.strip():
            raise IngestError(path, "the file is empty: no header line", line=0)
        raise IngestError(path, "the first line is blank: it must be the header", line=0)
    try:
        text = first.decode(encoding)
    except UnicodeDecodeError as exc:
        name = ENCODING_NAMES.get(encoding, encoding)
        hint = "; load the file with its encoding (latin-1, cp1252)" if encoding == "utf-8" else ""
        raise IngestError(
            path,
            f"the header is not {name} text (byte 0x{first[exc.start : exc.start + 1].hex()} at "
            f"byte {exc.start + 1}: {exc.reason}){hint}",
            line=0,
        ) from None
    if text.count('"') % 2:
        raise ContractError(
            path,
            "the header has an unterminated quote: a quoted name is not closed before the line "
            "ends",
            line=0,
        )
    try:
        return [name.strip() for name in next(csv.reader(io.StringIO(text)))]
    except csv.Error as exc:
        raise ContractError(path, f"the header is not a CSV line ({exc})", line=0) from None


def _parquet_header(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise IngestError(path, f"not a readable Parquet file ({exc})") from None


def check_source_path(path: Path) -> None:
    """Checks that ``path`` is a regular file (following links).

    Raises:
        IngestError: no such file, a folder, or not a regular file (a FIFO, a device).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise IngestError(path, "no such file") from None
    except OSError as exc:
        raise IngestError(path, plain_cause(exc)) from None
    if stat.S_ISDIR(mode):
        raise IngestError(path, "is a folder, not a file: give the export file itself")
    if not stat.S_ISREG(mode):
        raise IngestError(path, "is not a regular file (a pipe or a device): give an export file")


def _names(names: Sequence[str]) -> str:
    """Header names for a message: each shortened, at most ``_NAMES_SHOWN`` of them."""
    shown = ", ".join(shorten(name, 80) for name in names[:_NAMES_SHOWN])
    if len(names) > _NAMES_SHOWN:
        shown += f", … ({len(names):,} columns)"
    return shown


def read_layout(
    path: Path, renames: Mapping[str, str] | None = None, encoding: str = "utf-8"
) -> SourceLayout:
    """Checks a file's columns against the contract and says where each one is.

    Args:
        path: a ``.csv`` or ``.parquet`` export.
        renames: file header to contract name, for renamed headers.
        encoding: a CSV file's text encoding (Parquet text is always UTF-8).

    Returns:
        The file's layout.

    Raises:
        ContractError: contract columns are missing, or a column appears twice; the message
            names the file, the missing columns and the columns found.
        IngestError: the file does not exist, is a folder or not a regular file, cannot be
            read, is empty, or is of an unknown type.
    """
    check_source_path(path)
    renames = dict(renames or {})
    fmt = detect_format(path)
    try:
        header = read_header(path, encoding) if fmt == "csv" else _parquet_header(path)
    except OSError as exc:
        raise IngestError(path, plain_cause(exc)) from None
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
            f"missing columns: {', '.join(missing)}; columns found: {_names(header)}{hint}",
            line=0,
        )
    positions = {name: seen[name] for name in SOURCE_COLUMNS}
    applied = {old: new for old, new in renames.items() if old in header}
    extra = [h for h, m in zip(header, mapped, strict=True) if m not in SOURCE_COLUMNS]
    return SourceLayout(path, fmt, header, positions, applied, extra)


_SEPARATORS = (b"\x1f", b"\x1e", b"\x1d", b"\x1c", b"\x07")
# Other control characters, tried (in a second pass) only when a file holds all of the first.
_MORE_SEPARATORS = tuple(
    bytes([c])
    for c in (*range(1, 9), 0x0B, 0x0C, *range(0x0E, 0x1C), 0x7F)
    if bytes([c]) not in _SEPARATORS
)


def _separator(absent: list[bytes], path: Path) -> str | None:
    """A control character absent from the file, as a DuckDB string escape.

    ``absent`` holds the usual candidates the file lacks; when it lacks none of them (random
    bytes, a binary file), a second pass looks for any other control character it lacks.
    """
    if not absent:
        more = list(_MORE_SEPARATORS)
        with path.open("rb") as handle:
            while more and (chunk := handle.read(_CHUNK)):
                more = [c for c in more if c not in chunk]
        absent = more
    return "\\x" + absent[0].hex() if absent else None


@dataclass(frozen=True)
class FileScan:
    """What one pass over a file's bytes found.

    Attributes:
        sha256: the file's checksum.
        line_separator: a control character absent from the file (as a DuckDB string
            escape), so the file can be read one whole line per row; ``None`` when the file
            holds them all (a binary file).
        ascii: every byte is ASCII (the same text in every supported encoding).
        utf8: the bytes are valid UTF-8.
        uniform_breaks: every line ends the same way, all LF or all CRLF (DuckDB's readers
            split such a file as an editor does; a lone CR, or LF and CRLF mixed, they do not).
        bad_lines: for a file re-encoded by :func:`rewrite_text`, its lines that were not
            text in the file's encoding; ``None`` otherwise.
        long_lines: a line may be 1 MiB long or longer (every line is shorter when this is
            false); such files are read with DuckDB's larger line limit.
    """

    sha256: str
    line_separator: str | None
    ascii: bool = True
    utf8: bool = True
    uniform_breaks: bool = True
    bad_lines: BadLines | None = None
    long_lines: bool = False

    def readable_as_is(self, encoding: str = "utf-8") -> bool:
        """Whether DuckDB can read the file's bytes as they are (else :func:`rewrite_text`)."""
        text = self.utf8 if encoding == "utf-8" else self.ascii
        return text and self.uniform_breaks


class _LineBreaks:
    """Counts a stream's line breaks, chunk by chunk, to tell uniform ones from a mix.

    Chunks without a CR cost one ``in`` test; only chunks with a CR (a CRLF file) are counted,
    every byte of them: DuckDB's readers drop or fail on a line after a lone CR or a bare LF
    in a CRLF file, so no sampling would do. Once a mix is certain, counting stops.
    """

    def __init__(self) -> None:
        self.lf_only = False  # a line ends in a bare LF
        self.cr = 0
        self.crlf = 0
        self._pending_cr = False  # the previous chunk ended in CR

    def feed(self, chunk: bytes) -> None:
        if self.cr > self.crlf + self._pending_cr or (self.lf_only and self.crlf):
            return  # a lone CR, or LF and CRLF mixed: already not uniform
        if not self._pending_cr and b"\r" not in chunk:
            self.lf_only = self.lf_only or b"\n" in chunk
            return
        self.cr += chunk.count(b"\r")
        pairs = chunk.count(b"\r\n") + (self._pending_cr and chunk[:1] == b"\n")
        self.crlf += pairs
        lf = chunk.count(b"\n")
        self.lf_only = self.lf_only or lf > pairs
        self._pending_cr = chunk[-1:] == b"\r"

    @property
    def uniform(self) -> bool:
        lone_cr = self.cr > self.crlf
        return not lone_cr and not (self.lf_only and self.crlf)


def scan_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> FileScan:
    """Reads the file once: its sha256, a separator it lacks, its encoding and line breaks.

    A clean export costs little beyond the checksum: an ASCII chunk is recognised without
    decoding it, and a chunk without a CR needs no counting.
    """
    digest = hashlib.sha256()
    absent = list(_SEPARATORS)
    all_ascii = utf8 = True
    long_lines = False
    decoder = codecs.getincrementaldecoder("utf-8")()
    breaks = _LineBreaks()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            absent = [c for c in absent if c not in chunk]
            if not chunk.isascii():
                all_ascii = False
            if utf8 and (not chunk.isascii() or decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            breaks.feed(chunk)
            long_lines = long_lines or _window_without_break(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return FileScan(
        digest.hexdigest(),
        _separator(absent, path),
        all_ascii,
        utf8,
        breaks.uniform,
        long_lines=long_lines,
    )


def _window_without_break(chunk: bytes) -> bool:
    """Whether an aligned window of the chunk holds no line break (a line may be long).

    Chunks are read at offsets that are multiples of the window, so the windows are aligned
    in the file; each test stops at the window's first line break (a few hundred bytes in).
    """
    size = _LONG_LINE_WINDOW
    return any(chunk.find(b"\n", start, start + size) < 0 for start in range(0, len(chunk), size))


ENCODING_NAMES = {"utf-8": "UTF-8", "latin-1": "Latin-1", "cp1252": "Windows-1252"}
# The message of a line that is not text: the encoding's name, the first bad byte (upper and
# lower case hex), its character position, and a hint. ``{}`` placeholders, so that Python's
# ``str.format`` and DuckDB's ``format`` both fill it (the ingest builds messages in SQL).
BAD_LINE_MESSAGE = (
    "the line is not valid {} text: byte 0x{} at character {} (kept in the raw line as \\x{}){}"
)
_LATIN_HINT = (
    "; if the export comes from a tool writing Latin-1 or Windows-1252, load it with that "
    "encoding (latin-1, cp1252)"
)


@dataclass(frozen=True)
class BadLines:
    """The lines of a re-encoded file that were not text in its encoding.

    They are listed in a CSV file (line number, the first bad byte as two hex digits, its
    character position), so that millions of them (a Latin-1 export read as UTF-8) cost
    neither memory nor time: the ingest reads the list with DuckDB.

    Attributes:
        path: the CSV list (no header).
        count: how many lines it lists.
        encoding: the encoding they were not text in.
    """

    path: Path
    count: int
    encoding: str

    def words(self) -> tuple[str, str]:
        """The encoding's name and the hint, as :data:`BAD_LINE_MESSAGE` takes them."""
        hint = _LATIN_HINT if self.encoding == "utf-8" else ""
        return ENCODING_NAMES.get(self.encoding, self.encoding), hint

    def messages(self) -> dict[int, str]:
        """Line number to message, read from the list (for small files and tests)."""
        name, hint = self.words()
        found: dict[int, str] = {}
        with self.path.open(encoding="ascii") as handle:
            for row in handle:
                line, byte, column = row.rstrip("\n").split(",")
                found[int(line)] = BAD_LINE_MESSAGE.format(name, byte.upper(), column, byte, hint)
        return found


@dataclass(frozen=True)
class TextRewrite:
    """What :func:`rewrite_text` wrote.

    Attributes:
        line_separator: as :attr:`FileScan.line_separator`, for the written file.
        bad_lines: lines that were not text in the encoding (0-based line numbers, the header
            being line 0); their bytes are kept escaped (see :func:`escape_bytes`).
    """

    line_separator: str | None
    bad_lines: BadLines


def escape_bytes(line: bytes, encoding: str = "utf-8") -> str:
    r"""A line that is not valid text, as text that keeps every byte.

    Bytes that do not decode become ``\xHH`` and a backslash becomes ``\\``, so the
    original bytes can always be restored (undo the two escapes).

    Example:
        >>> escape_bytes(b"Chic\xe0go \\ caf\xc3\xa9")
        'Chic\\xe0go \\\\ café'
    """
    return line.replace(b"\\", b"\\\\").decode(encoding, "backslashreplace")


def _first_bad_byte(line: bytes, encoding: str) -> tuple[str, int]:
    """The first byte of ``line`` that is not text in ``encoding`` (hex), and its character."""
    try:
        line.decode(encoding)
    except UnicodeDecodeError as exc:
        column = len(line[: exc.start].decode(encoding, "replace")) + 1
        return line[exc.start : exc.start + 1].hex(), column
    return "", 0


def rewrite_text(
    source: Path,
    target: Path,
    encoding: str = "utf-8",
    blank_lines: Sequence[int] | frozenset[int] = (),
    on_bytes: Callable[[int], None] | None = None,
) -> TextRewrite:
    """Writes ``source`` to ``target`` as UTF-8 text whose lines all end in LF, streaming.

    A line break is an LF, a CRLF or a lone CR (an old Mac export), as an editor shows them; a
    UTF-8 byte-order mark at the start is dropped. A line that is not text in ``encoding`` is
    written escaped (:func:`escape_bytes`) and listed in a file beside ``target``; lines in
    ``blank_lines`` are written empty. Memory stays flat: the file goes through in chunks of
    a few megabytes.

    Args:
        source: the file as it arrived.
        target: where the UTF-8 text goes.
        encoding: the source's encoding (see :data:`mci.ingest.contract.ENCODINGS`).
        blank_lines: line numbers (header 0) to write as empty lines (any order; an
            ``array("q")`` keeps millions of them small).
        on_bytes: told how many source bytes each chunk held.

    Returns:
        The written file's separator and its bad lines.

    Raises:
        IngestError: a line is longer than :data:`MAX_LINE_BYTES`.
    """
    bad_path = target.with_name(target.name + ".bad-lines.csv")
    blanks = sorted(blank_lines)
    absent = list(_SEPARATORS)
    line = 0  # the number of the first line of the next block
    count = 0
    carry = b""
    with source.open("rb") as reader, target.open("wb") as out, bad_path.open("w") as bad:
        while True:
            chunk = reader.read(_CHUNK)
            data = carry + chunk
            if line == 0 and not carry:  # the start of the file (a chunk is never shorter)
                data = data.removeprefix(_BOM)
            if chunk:
                # A block ends after its last line break; a CR at its very end waits for the
                # next chunk (it may be the first half of a CRLF).
                end = max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1
                block, carry = data[:end], data[end:]
                if len(carry) > MAX_LINE_BYTES:
                    raise IngestError(
                        source,
                        f"the line is longer than {MAX_LINE_BYTES >> 20} MiB, the most a line "
                        "may hold: is this a text export?",
                        line=line,
                    )
            else:
                block, carry = data, b""
            text = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            lines = text.count(b"\n")
            lo, hi = bisect.bisect_left(blanks, line), bisect.bisect_right(blanks, line + lines)
            written, found = _encode_block(text, encoding, line, frozenset(blanks[lo:hi]))
            for number, byte, column in found:
                bad.write(f"{number},{byte},{column}\n")
            count += len(found)
            absent = [c for c in absent if c not in written]
            out.write(written)
            line += lines
            if on_bytes is not None and chunk:
                on_bytes(len(chunk))
            if not chunk:
                break
    return TextRewrite(_separator(absent, target), BadLines(bad_path, count, encoding))


def _encode_block(
    text: bytes, encoding: str, line: int, blank_lines: frozenset[int]
) -> tuple[bytes, list[tuple[int, str, int]]]:
    """A block of LF-terminated lines (the first numbered ``line``) as UTF-8 bytes.

    ``blank_lines`` holds the block's own lines to write empty. Also returns the block's lines
    that were not text: (line number, first bad byte in hex, its character position).
    """
    if not blank_lines:
        try:
            decoded = text.decode(encoding)
        except UnicodeDecodeError:
            pass
        else:
            return (text if encoding == "utf-8" else decoded.encode("utf-8")), []
    parts = text.split(b"\n")
    out: list[str] = []
    bad: list[tuple[int, str, int]] = []
    for offset, part in enumerate(parts):
        number = line + offset
        if number in blank_lines:
            out.append("")
            continue
        try:
            out.append(part.decode(encoding))
        except UnicodeDecodeError:
            out.append(escape_bytes(part, encoding))
            bad.append((number, *_first_bad_byte(part, encoding)))
    return "\n".join(out).encode("utf-8"), bad


def sha256_of(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    """Returns the file's sha256 hex digest, reporting bytes read to ``on_bytes``."""
    return scan_file(path, on_bytes).sha256

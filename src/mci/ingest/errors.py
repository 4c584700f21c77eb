"""Errors of the ingest, each naming the file (and where known the line and column).

Every error a user sees says what went wrong in plain words; values quoted in a message are
shortened (:func:`shorten`) so that a megabyte-long value never floods a terminal.

Example:
    >>> shorten("x" * 300)[-20:]
    'xx… (300 characters)'
    >>> str(IngestError("a.csv", "bad", line=3, column="ROI"))
    'a.csv, line 3, column ROI: bad'
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

# Longest text of a value quoted in a message or printed; longer values are cut there.
SHORT_TEXT = 200


def shorten(text: str, limit: int = SHORT_TEXT) -> str:
    """The text itself, or its first ``limit`` characters and how long it was.

    Args:
        text: any text.
        limit: the most characters kept.

    Returns:
        ``text`` when it has at most ``limit`` characters, else its first ``limit`` characters
        followed by ``… (N characters)``.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


class IngestError(RuntimeError):
    """A file cannot be loaded; nothing was written.

    Attributes:
        path: the file.
        line: the data line (header is line 0), when known.
        column: the column name, when known.
        exit_code: the CLI's exit code for this error.
    """

    exit_code = 1

    def __init__(
        self, path: Path | str, message: str, *, line: int | None = None, column: str | None = None
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.detail = message
        where = str(self.path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {shorten(column, 80)}"
        super().__init__(f"{where}: {message}")


class ContractError(IngestError):
    """The file's columns do not match the source contract (exit code 2)."""

    exit_code = 2


_DISK_FULL_TEXTS = ("no space left", "disk is full", "disk full", "could not extend file")


def is_disk_full(exc: BaseException) -> bool:
    """Whether an error of the OS or of a database engine says the disk is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return any(phrase in text for phrase in _DISK_FULL_TEXTS)


_WRITTEN_FILE = re.compile(r'write (?:to )?file "([^"]+)"')
_OS_CAUSES = {
    errno.ENOENT: "no such file",
    errno.EACCES: "permission denied: the file cannot be read",
    errno.EPERM: "permission denied: the file cannot be read",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOSPC: "the disk is full",
}


def plain_cause(exc: BaseException) -> str:
    """The cause of an OS or database error in plain words (one short sentence).

    Args:
        exc: the error.

    Returns:
        ``the disk is full`` for any disk-full error (with the file being written when the
        error names it), the OS's reason for other OS errors, else the first line of the
        error's own message, shortened.
    """
    if is_disk_full(exc):
        written = _WRITTEN_FILE.search(str(exc))
        return (
            f"the disk is full, no room to write {written.group(1)}"
            if written
            else "the disk is full"
        )
    if isinstance(exc, OSError) and exc.errno in _OS_CAUSES:
        return _OS_CAUSES[exc.errno]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return shorten(lines[0]) if lines else type(exc).__name__

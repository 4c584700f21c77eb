"""Errors of the ingest, each naming the file (and where known the line and column)."""

from __future__ import annotations

from pathlib import Path


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
            where += f", column {column}"
        super().__init__(f"{where}: {message}")


class ContractError(IngestError):
    """The file's columns do not match the source contract (exit code 2)."""

    exit_code = 2

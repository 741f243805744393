"""Errors meant for people: one line saying what, where and what to do."""

from __future__ import annotations


class PumpqiError(Exception):
    """A problem the user can act on. The CLI prints it as one line and exits 2."""

    exit_code = 2


class FileFault(PumpqiError):
    """A file-level fault: the whole file is refused and nothing is written."""

    def __init__(self, file: str, reason: str, column: str | None = None) -> None:
        self.file = file
        self.column = column
        self.reason = reason
        where = f"{file}, column '{column}'" if column else file
        super().__init__(f"{where}: {reason}")


class SchemaVersionError(PumpqiError):
    """The database file was written by another version of pumpqi."""

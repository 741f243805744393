"""The shapes every figure takes, shared by the dashboard and the pack.

A `FigureTable` is a frame with typed, labelled columns: the dashboard draws it with
`st.dataframe`, the pack turns it into HTML, PDF and Excel cells. In a shared view a
count cell may hold a mark instead of a number (`small_mark`: a count from 1 to
threshold − 1; `COMPLEMENT`: a cell hidden only to protect another) and a rate built on
a hidden count is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

Kind = Literal["text", "count", "number", "pct", "rate2", "rate1", "date"]
"""count: people or events (suppressed when shared); number: other whole numbers
(pump-days, days); pct: a proportion shown in %; rate2/rate1: rates to 2/1 decimals."""

COMPLEMENT = "—"
"""A count hidden only so that a small count cannot be worked out from it (it may be
large): never shown as `<11`."""
COMPLEMENT_NOTE = "— hidden to protect a small count (it may be large)."


def small_mark(threshold: int) -> str:
    """How a count from 1 to threshold − 1 is shown: '<11'."""
    return f"<{threshold}"


def is_hidden(value: object) -> bool:
    """True for a mark standing in for a hidden count."""
    return isinstance(value, str) and (value == COMPLEMENT or value.startswith("<"))


def shown_or_nonzero(column: pd.Series) -> pd.Series:
    """A boolean mask (dtype bool even when empty, so indexing a frame by it never
    selects columns): the cell is a hidden mark or a count other than 0."""
    return column.map(lambda v: is_hidden(v) or v != 0).astype(bool)


@dataclass(frozen=True)
class Column:
    """One column of a figure table: frame column, label for people, kind of value."""

    key: str
    label: str
    kind: Kind = "text"
    help: str = ""


@dataclass(frozen=True, eq=False)
class FigureTable:
    """A table of figures. key: snake_case name (Excel sheet, HTML id); caption: the
    sentence above it; note: the line under it; total_row: its last row is a total."""

    key: str
    caption: str
    frame: pd.DataFrame
    columns: tuple[Column, ...]
    note: str = ""
    total_row: bool = False

    @property
    def empty(self) -> bool:
        return self.frame.empty

    def has_complements(self) -> bool:
        cols = [c.key for c in self.columns if c.kind == "count" and c.key in self.frame]
        return bool(cols) and bool((self.frame[cols] == COMPLEMENT).to_numpy().any())

    def notes(self) -> str:
        """The note, with the complement mark explained when the table has one."""
        extra = COMPLEMENT_NOTE if self.has_complements() else ""
        return " ".join(p for p in (self.note, extra) if p)

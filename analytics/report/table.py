"""One table of the report, typed cell by cell, rendered as HTML text or Excel cells.

A cell holds a value and its kind; `text()` is the one place numbers are formatted
for people ("92.4 %", "1,234", "1.67"), and `EXCEL_FORMATS` the one place for Excel.
A suppressed count is the string '<N'; a blanked or undefined figure is None.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analytics.figures.model import Column, Kind

Value = str | int | float | dt.date | None

EXCEL_FORMATS: dict[str, str] = {
    "count": "#,##0",
    "number": "#,##0",
    "pct": "0.0%",
    "rate2": "#,##0.00",
    "rate1": "#,##0.0",
    "date": "yyyy-mm-dd",
}
BLANK = "–"


@dataclass(frozen=True)
class Cell:
    value: Value
    kind: Kind = "text"

    def text(self) -> str:
        """The cell as people read it; '–' for an empty or blanked figure."""
        v = self.value
        if v is None:
            return BLANK if self.kind != "text" else ""
        if isinstance(v, str):
            return v
        if isinstance(v, dt.date):
            return v.isoformat()
        if self.kind in ("count", "number"):
            return f"{int(v):,}"
        if self.kind == "pct":
            return f"{float(v) * 100:.1f} %"
        if self.kind == "rate2":
            return f"{float(v):.2f}"
        if self.kind == "rate1":
            return f"{float(v):,.1f}"
        return str(v)

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


@dataclass(frozen=True)
class Table:
    """key: snake_case name (Excel sheet, HTML id); caption: the sentence above it."""

    key: str
    caption: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    total_row: bool = False

    @property
    def empty(self) -> bool:
        return not self.rows


def clean(value: Any, kind: Kind) -> Value:
    """A frame value as a cell value: NaN/NaT → None, numpy → Python, Timestamp → date."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if kind in ("count", "number"):
        return int(value)
    if kind == "text":
        return str(value)
    return float(value)


def frame_table(
    key: str,
    caption: str,
    df: pd.DataFrame,
    columns: Sequence[Column],
    note: str = "",
    total_row: bool = False,
) -> Table:
    """A Table from the named columns of a frame, in order."""
    rows = tuple(
        tuple(Cell(clean(record[c.key], c.kind), c.kind) for c in columns)
        for record in df.to_dict("records")
    )
    return Table(key, caption, tuple(columns), rows, note, total_row)

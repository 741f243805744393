"""The process-change log: dated notes kept in the database's `annotations` table.

A note marked `rebase` says the process changed enough that the chart should start
a new part there: a rebase dated in month M starts a new part at M. Values are
always bound as parameters.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics.errors import PumpqiError
from analytics.store import writer

ANNOTATION_COLUMNS = ("annotation_id", "change_date", "description", "rebase", "created_at")

_INSERT = """
INSERT INTO annotations (annotation_id, change_date, description, rebase, created_at)
SELECT COALESCE(MAX(annotation_id), 0) + 1, ?, ?, ?, ? FROM annotations
RETURNING annotation_id
"""
_SELECT = """
SELECT annotation_id, change_date, description, rebase, created_at
FROM annotations
ORDER BY change_date, annotation_id
"""


@dataclass(frozen=True)
class Annotation:
    """One process change: when, what, and whether the chart starts a new part there."""

    annotation_id: int
    change_date: dt.date
    description: str
    rebase: bool
    created_at: dt.datetime


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise PumpqiError(f"date '{value}' is not a date (YYYY-MM-DD)") from None


def add_annotation(
    db_path: str | os.PathLike[str], date: dt.date | str, text: str, rebase: bool = False
) -> Annotation:
    """Record a process change in the database (one atomic write) and return it."""
    change_date = _as_date(date)
    description = text.strip()
    if not description:
        raise PumpqiError("the annotation text is empty; say what changed")
    created = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with writer(db_path) as con:
        row = con.execute(_INSERT, [change_date, description, bool(rebase), created]).fetchall()
    return Annotation(int(row[0][0]), change_date, description, bool(rebase), created)


def list_annotations(con: duckdb.DuckDBPyConnection) -> list[Annotation]:
    """Every annotation, oldest change first (use a connection from `store.reader`)."""
    rows = con.execute(_SELECT).fetchall()
    return [Annotation(int(r[0]), _as_date(r[1]), str(r[2]), bool(r[3]), r[4]) for r in rows]


def annotations_table(items: Iterable[Annotation]) -> pd.DataFrame:
    """The annotations as a tidy table (one row each, the database's columns)."""
    rows = [[a.annotation_id, a.change_date, a.description, a.rebase, a.created_at] for a in items]
    df = pd.DataFrame(rows, columns=list(ANNOTATION_COLUMNS))
    df["change_date"] = pd.to_datetime(df["change_date"])
    df["created_at"] = pd.to_datetime(df["created_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
    return df


def parts_from_annotations(x: Sequence[Any] | pd.Series, items: Iterable[Annotation]) -> list[int]:
    """Part numbers (1, 2, …) for a monthly series x from its rebase annotations.

    A rebase dated in month M starts a new part at the first point in month M or
    later; rebases before the second point or after the last change nothing, and
    several in one month make one split. Pass the result as `qic(..., part=...)`.
    """
    months = pd.to_datetime(pd.Series(x)).dt.to_period("M").to_numpy()
    starts: set[int] = set()
    for a in items:
        if not a.rebase:
            continue
        later = np.flatnonzero(months >= pd.Period(a.change_date, freq="M"))
        if later.size and later[0] > 0:
            starts.add(int(later[0]))
    return [1 + sum(1 for s in starts if s <= i) for i in range(len(months))]

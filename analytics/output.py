"""Printing tidy tables: CSV (default) or JSON, to stdout or a file.

CSV cells go through analytics.export, so that none is run as a formula when the file
is opened in a spreadsheet; JSON is written as it is."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from analytics.atomic import write_text
from analytics.export import csv_text


def _jsonable(df: pd.DataFrame) -> list[dict[str, object]]:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    records: list[dict[str, object]] = json.loads(out.to_json(orient="records", date_format="iso"))
    return records


def render_table(df: pd.DataFrame, fmt: str = "csv") -> str:
    """The table as CSV (ISO dates, empty for missing; text cells a spreadsheet would run
    as a formula get a leading quote) or a JSON list of row objects."""
    if fmt == "json":
        return json.dumps(_jsonable(df), indent=1, ensure_ascii=False) + "\n"
    out = df.copy(deep=False)  # copy-on-write: the caller's frame is left as it is
    for col in out.columns:  # true/false, as R, Excel and JSON readers expect
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map({True: "true", False: "false"})
    return csv_text(out, date_format="%Y-%m-%d", lineterminator="\n")


def print_table(df: pd.DataFrame, fmt: str = "csv", out: str | Path | None = None) -> None:
    text = render_table(df, fmt)
    if out is None or str(out) == "-":
        sys.stdout.write(text)
    else:
        write_text(out, text)  # whole or not at all

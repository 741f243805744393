"""Every CSV file and spreadsheet cell pumpqi writes goes through here, so that no cell
is run as a formula when the file is opened in Excel or LibreOffice.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (or their
full-width forms, which some spreadsheets read alike) gets a single quote in front:
`=HYPERLINK(...)` is written `'=HYPERLINK(...)` and shows as text. Numbers stay numbers:
a numeric cell is never touched, and neither is a text cell that is a plain number
(`-2`, `+1.5`, `-3e-2`), which a spreadsheet reads as that number, not as a formula.
JSON output is not a spreadsheet and is written as it is.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.errors import PumpqiError

TRIGGERS = "=+-@\t\r＝＋－＠"
"""First characters that make a spreadsheet read a cell as a formula (OWASP CSV
injection), with the full-width forms of the first four."""
QUOTE = "'"
_TRIGGER_RX = "^[" + re.escape(TRIGGERS) + "]"
_PLAIN_NUMBER_RX = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_PLAIN_NUMBER = re.compile(_PLAIN_NUMBER_RX)


def neutralise_text(value: str) -> str:
    """One text cell, safe to open in a spreadsheet (see the module docstring)."""
    if value and value[0] in TRIGGERS and not _PLAIN_NUMBER.match(value):
        return QUOTE + value
    return value


def neutralise_cell(value: Any) -> Any:
    """A cell of any type: text is neutralised, anything else is returned unchanged."""
    return neutralise_text(value) if isinstance(value, str) else value


def _text_columns(df: pd.DataFrame) -> list[Any]:
    return [
        c
        for c in df.columns
        if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype | pd.CategoricalDtype)
    ]


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose text cells (and header) are neutralised; numbers, dates and
    booleans keep their type. Vectorised: one pattern test per text column."""
    out = df.copy()
    for col in _text_columns(out):
        series = out[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        text = series.astype("string") if series.dtype == object else series
        hit = text.str.contains(_TRIGGER_RX, regex=True, na=False) & ~text.str.fullmatch(
            _PLAIN_NUMBER_RX, na=False
        )
        if bool(hit.any()) and series.dtype == object:
            # only text cells: a number or date in an object column is left as it is
            hit[hit] = [isinstance(v, str) for v in series[hit]]
        if bool(hit.any()):
            series = series.astype(object).copy()
            series[hit] = QUOTE + text[hit].astype(str)
        out[col] = series
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def pandas_csv_text(df: pd.DataFrame, **to_csv: Any) -> str:
    """The table as CSV text with neutralised cells, written by pandas `to_csv` (options
    pass through): the reference the fast writer (analytics.csvfast) must match byte for
    byte, and what it falls back to."""
    return str(neutralise_frame(df).to_csv(index=False, **to_csv))


def csv_text(df: pd.DataFrame, **to_csv: Any) -> str:
    """The table as CSV text with neutralised cells (pandas `to_csv` options pass through).

    Large frames of the common column types are written by analytics.csvfast, whose
    bytes are those of `pandas_csv_text` (tested property); any other frame by pandas."""
    from analytics.csvfast import fast_csv_text  # it builds on this module

    fast = fast_csv_text(df, to_csv)
    return fast if fast is not None else pandas_csv_text(df, **to_csv)


def csv_bytes(df: pd.DataFrame, **to_csv: Any) -> bytes:
    """`csv_text` encoded as UTF-8: what a download button serves."""
    return csv_text(df, **to_csv).encode("utf-8")


def write_text_file(path: Path, text: str, mode: int | None = None) -> None:
    """Write `text` to `path` atomically (a temporary file beside it, renamed into place).

    With `mode` (e.g. 0o600) the file is created with that mode from the start, so that
    no other user can open it even for a moment.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".pumpqi-", suffix=path.suffix, dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise PumpqiError(f"{path}: cannot write the file ({exc.strerror})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_csv(df: pd.DataFrame, path: Path, mode: int | None = None, **to_csv: Any) -> None:
    """The table as a CSV file with neutralised cells, written atomically (see above)."""
    write_text_file(path, csv_text(df, **to_csv), mode)

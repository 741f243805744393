"""A fast CSV writer for large tables: the exact bytes of analytics.export's pandas path.

`pumpqi refills` at a 1M-visit database prints about 700,000 rows; pandas' `to_csv`
formats them cell by cell in Python (seconds). Here every column is formatted at once
with pyarrow compute: numbers cast to text, dates formatted, text cells neutralised
(see analytics.export) and quoted as Python's csv writer would, then the rows joined.

Only column types whose pandas text this reproduces exactly are taken (ints, nullable
ints and booleans, float64, booleans, naive datetime64 with the ISO date format, text
and python dates in object columns); for any other column, or any other `to_csv`
option, `fast_csv_text` returns None and analytics.export writes the frame with pandas
(`pandas_csv_text`, the reference; tests/test_csv_output.py compares the two byte for
byte). Floats follow numpy's `str` (what pandas writes): pyarrow's shortest digits are
kept where both write fixed notation, and numpy formats the rest.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.export import _PLAIN_NUMBER, _TRIGGER_RX, QUOTE, TRIGGERS, pandas_csv_text

ISO_DATE = "%Y-%m-%d"
MIN_ROWS = 2_000
"""Smaller frames go through pandas: the fast path's fixed cost is not worth it."""
CHUNK_ROWS = 50_000
"""Rows formatted at a time: the memory of one chunk's cells is reused by the next (a
fresh process pays for every new page it touches)."""
_TEXT = pa.large_string()
_NO_BYTES = np.zeros(0, dtype=np.uint8)
_TRIGGER = re.compile(_TRIGGER_RX)
_TRIGGER_FIRST_BYTES = np.array(sorted({c.encode()[0] for c in TRIGGERS}), dtype=np.uint8)
_NULLABLE_INTS = (
    pd.Int8Dtype, pd.Int16Dtype, pd.Int32Dtype, pd.Int64Dtype,
    pd.UInt8Dtype, pd.UInt16Dtype, pd.UInt32Dtype, pd.UInt64Dtype,
)  # fmt: skip
_FIXED_LOW, _FIXED_HIGH = 1e-4, 1e16
"""numpy and Python write a float in fixed notation from 1e-4 up to (not including) 1e16."""


def _quoting_bytes() -> bytes:
    """The ASCII characters that make Python's csv writer, as pandas calls it (minimal
    quoting, `\\n` line ends), quote a field: asked of the running Python (3.11 quotes
    a comma, a quote and a newline, not a carriage return)."""

    def quoted(char: str) -> bool:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(["a" + char])
        return out.getvalue().startswith('"')

    return bytes(c for c in range(128) if quoted(chr(c)))


_NEEDS_QUOTES = _quoting_bytes()


def _lit(value: str | None) -> pa.Scalar:
    """A text scalar of the fields' type."""
    return pa.scalar(value, _TEXT)


class Unsupported(Exception):
    """A column (or option) the fast path does not reproduce exactly: use pandas."""


def _arrow(series: pd.Series) -> pa.Array:
    """The column as one pyarrow array (pandas' missing values as nulls)."""
    arr = pa.array(series, from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _int_text(series: pd.Series) -> pa.Array:
    """numpy and nullable integers: decimal digits, missing as null."""
    return pc.cast(_arrow(series), _TEXT)


def _bool_text(series: pd.Series) -> pa.Array:
    """numpy and nullable booleans as pandas writes them: True / False."""
    return pc.if_else(_arrow(series), _lit("True"), _lit("False"))


def _float_text(series: pd.Series) -> pa.Array:
    """float64 as numpy's `str` (e.g. 0.1, 1e-05, 1234567.0, -0.0, inf), NaN as null.

    pyarrow's shortest round-trip digits are kept where numpy writes fixed notation too
    (1e-4 <= |x| < 1e16, or zero) and pyarrow wrote no exponent; an integral value gets
    numpy's `.0`. Every other value (exponents, inf) is formatted by numpy itself."""
    values = series.to_numpy(dtype=np.float64)
    text = pc.cast(pa.array(values), _TEXT)
    size = np.abs(values)
    with np.errstate(invalid="ignore"):
        fixed = (size == 0) | ((size >= _FIXED_LOW) & (size < _FIXED_HIGH))
    plain = fixed & ~_mask(pc.match_substring(text, "e"))
    integral = plain & ~_mask(pc.match_substring(text, "."))
    text = pc.if_else(integral, _cat(text, _lit(".0")), text)
    other = ~plain & ~np.isnan(values)
    if other.any():
        text = pc.replace_with_mask(
            text, pa.array(other), pa.array(values[other].astype(str), type=_TEXT)
        )
    return pc.if_else(pa.array(np.isnan(values)), _lit(None), text)


def _mask(arr: pa.Array) -> np.ndarray:
    """A pyarrow boolean array (nulls as False) as a numpy mask."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _in_year_range(arr: pa.Array) -> bool:
    """Whether all dates have four-digit years (both writers then agree on the digits)."""
    extremes = pc.min_max(arr)
    if not extremes["min"].is_valid:
        return True
    low, high = (pc.year(extremes[end]).as_py() for end in ("min", "max"))
    return low >= 1000 and high <= 9999


def _datetime_text(series: pd.Series, date_format: str | None) -> pa.Array:
    """Naive datetime64 written with the ISO date format: YYYY-MM-DD, NaT as null."""
    if date_format != ISO_DATE or isinstance(series.dtype, pd.DatetimeTZDtype):
        raise Unsupported("a datetime column without the ISO date format")
    arr = _arrow(series)
    if not _in_year_range(arr):
        raise Unsupported("a date outside the years 1000-9999")
    return pc.cast(pc.cast(arr, pa.date32(), safe=False), _TEXT)  # floor to the day


def _object_text(series: pd.Series) -> tuple[pa.Array, bool]:
    """An object column of text (or of python dates) and missing values.

    Returns the cells as text and whether they are text cells (to be neutralised); python
    dates are written as `str(date)`, their ISO form. pandas says what the cells are
    first: pyarrow would read a number among dates as a day count."""
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind == "empty":
        return pa.nulls(len(series), _TEXT), False
    if kind == "string":
        return pc.cast(_arrow(series), _TEXT), True
    if kind == "date" and not any(isinstance(v, dt.datetime) for v in series):
        arr = _arrow(series)
        if pa.types.is_date32(arr.type) and _in_year_range(arr):
            return pc.cast(arr, _TEXT), False
    raise Unsupported(f"an object column of {kind} values")


def _cell_text(series: pd.Series, date_format: str | None) -> tuple[pa.Array, bool]:
    """The column's cells as pandas turns them into text (nulls where it writes nothing),
    and whether they are text cells (neutralised)."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return pc.cast(_arrow(series), _TEXT), True
    if isinstance(dtype, pd.BooleanDtype):
        return _bool_text(series), False
    if isinstance(dtype, _NULLABLE_INTS):
        return _int_text(series), False
    kind = dtype.kind if isinstance(dtype, np.dtype) else None
    if kind == "O":
        return _object_text(series)
    if kind == "b":
        return _bool_text(series), False
    if kind in ("i", "u"):
        return _int_text(series), False
    if dtype == np.float64:
        return _float_text(series), False
    if kind == "M":
        return _datetime_text(series, date_format), False
    raise Unsupported(f"a column of {dtype}")


def _layout(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets (one more than the rows) and the UTF-8 bytes of a large_string array."""
    offsets_buf, data_buf = text.buffers()[1:3]
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[text.offset : text.offset + len(text) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else _NO_BYTES
    return offsets, data


def _rows_holding(text: pa.Array, chars: bytes) -> np.ndarray:
    """Which cells hold any of the ASCII `chars` (one scan of the bytes: a UTF-8
    multi-byte character never holds an ASCII byte)."""
    offsets, data = _layout(text)
    span = data[offsets[0] : offsets[-1]]
    found = np.zeros(len(span), dtype=bool)
    for char in chars:
        found |= span == char
    rows = np.zeros(len(text), dtype=bool)
    hits = np.flatnonzero(found)
    if hits.size:
        rows[np.searchsorted(offsets, hits + offsets[0], side="right") - 1] = True
    return rows


def _first_byte_in(text: pa.Array, first_bytes: np.ndarray) -> np.ndarray:
    """Which cells start with one of `first_bytes` (a superset of the cells that start
    with a character whose UTF-8 form begins so)."""
    offsets, data = _layout(text)
    starts, filled = offsets[:-1], offsets[1:] > offsets[:-1]
    first = np.zeros(len(text), dtype=np.uint8)
    first[filled] = data[starts[filled]]
    return filled & np.isin(first, first_bytes)


def _replaced(text: pa.Array, rows: np.ndarray, fix: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """`text` with the cells at `rows` (a mask) replaced by `fix` of them."""
    (where,) = np.nonzero(rows)
    if not where.size:
        return text
    return pc.replace_with_mask(text, pa.array(rows), fix(text.take(pa.array(where))))


def _neutralised(text: pa.Array) -> pa.Array:
    """Text cells a spreadsheet would run as a formula get a leading quote, as
    `neutralise_frame` does: a trigger first character, and not a plain number (a
    Python `re` full match, as pandas' `str.fullmatch`). Only cells whose first byte can
    start a trigger are looked at one by one."""
    candidates = _first_byte_in(text, _TRIGGER_FIRST_BYTES)
    (where,) = np.nonzero(candidates)
    values = text.take(pa.array(where)).to_pylist()
    candidates[where] = [_is_formula(v) for v in values]
    return _replaced(text, candidates, lambda cells: _cat(_lit(QUOTE), cells))


def _is_formula(value: str | None) -> bool:
    """A text cell neutralise_frame quotes: a trigger first, and not a plain number."""
    return value is not None and bool(_TRIGGER.match(value)) and not _PLAIN_NUMBER.fullmatch(value)


def _cat(*parts: pa.Array | pa.Scalar) -> pa.Array:
    """Text arrays (and scalars) concatenated cell by cell."""
    return pc.binary_join_element_wise(*parts, _lit(""))


def _quoted(text: pa.Array, alone: bool) -> pa.Array:
    """Fields as Python's csv writer writes them: quoted (inner quotes doubled) when they
    hold a comma, a quote or a newline; an empty field alone on its row as `""`."""
    needs = _rows_holding(text, _NEEDS_QUOTES)
    if alone:
        offsets, _ = _layout(text)
        needs |= offsets[1:] == offsets[:-1]
    return _replaced(
        text,
        needs,
        lambda cells: _cat(_lit('"'), pc.replace_substring(cells, '"', '""'), _lit('"')),
    )


def column_fields(series: pd.Series, date_format: str | None, alone: bool = False) -> pa.Array:
    """One column's CSV fields, exactly as the pandas path writes them (no nulls).

    Raises Unsupported for a column type or value it does not reproduce exactly."""
    text, is_text = _cell_text(series, date_format)
    if is_text:
        text = _neutralised(text)
    return _quoted(pc.fill_null(text, _lit("")), alone)


def _join_rows(fields: list[pa.Array]) -> str:
    """Rows as CSV text: the fields joined by commas, each row ending in `\\n`."""
    cols = [*fields[:-1], _cat(fields[-1], _lit("\n"))]
    rows = pc.binary_join_element_wise(*cols, _lit(",")) if len(cols) > 1 else cols[0]
    offsets, _ = _layout(rows)
    data = rows.buffers()[2]  # a pyarrow buffer: decoded where it lies
    return str(memoryview(data)[offsets[0] : offsets[-1]], "utf-8") if data else ""


def _rows_text(df: pd.DataFrame, date_format: str | None, alone: bool) -> str:
    """The frame's rows as CSV text (raises Unsupported, see column_fields)."""
    return _join_rows(
        [column_fields(df.iloc[:, i], date_format, alone) for i in range(df.shape[1])]
    )


def csv_body(df: pd.DataFrame, date_format: str | None = None) -> str | None:
    """The frame's CSV rows (no header), exactly as the pandas path writes them, or None
    when it holds a column the fast path does not reproduce. CHUNK_ROWS rows at a time,
    so that the memory of the formatted cells is reused."""
    if len(df) == 0 or df.shape[1] == 0:
        return None
    alone = df.shape[1] == 1
    try:
        parts = [
            _rows_text(df.iloc[a : a + CHUNK_ROWS], date_format, alone)
            for a in range(0, len(df), CHUNK_ROWS)
        ]
    except Unsupported:
        return None
    return "".join(parts)


def fast_csv_text(
    df: pd.DataFrame, to_csv: dict[str, Any], min_rows: int | None = None
) -> str | None:
    """`pandas_csv_text(df, **to_csv)` written here, or None where pandas must write it:
    a frame under `min_rows` rows (MIN_ROWS by default), options other than `\\n` line
    ends and the ISO date format, a column index of several levels or repeated labels,
    or a column type the fast path does not reproduce. The header is pandas' own."""
    options = dict(to_csv)
    date_format = options.pop("date_format", None)
    line_end = options.pop("lineterminator", os.linesep)
    if options or line_end != "\n" or date_format not in (None, ISO_DATE):
        return None
    if len(df) < (MIN_ROWS if min_rows is None else min_rows):
        return None
    if df.columns.nlevels != 1 or not df.columns.is_unique:
        return None
    body = csv_body(df, date_format)
    return None if body is None else pandas_csv_text(df.iloc[:0], **to_csv) + body

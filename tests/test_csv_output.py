"""The fast CSV writer (analytics.csvfast) writes the bytes of the pandas path, exactly.

`pandas_csv_text` (neutralise_frame + pandas `to_csv`) is the reference: for random
frames of every column type the CLI prints, with the nasty values (quoting, formula
triggers, plain numbers, float spellings, missing values, dates), the fast writer's
text equals it byte for byte, and frames it cannot reproduce fall back to it.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import csvfast
from analytics.csvfast import ISO_DATE, column_fields, fast_csv_text
from analytics.export import csv_bytes, csv_text, pandas_csv_text
from analytics.output import render_table

RENDER = {"date_format": ISO_DATE, "lineterminator": "\n"}  # what render_table passes
PLAIN = {"lineterminator": "\n"}  # what write_csv callers pass
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def old_render(df: pd.DataFrame) -> str:
    """render_table's CSV as it was written before the fast path: the reference."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map({True: "true", False: "false"})
    return pandas_csv_text(out, **RENDER)


# --- a hand-worked table ---------------------------------------------------------------


def hand_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": pd.Series(["P1", '=HYPERLINK("x")', "-2", None], dtype="str"),
            "note": pd.Series(["a,b", 'say "hi"', "two\nlines", " padded "], dtype=object),
            "+flag": pd.Series(["@SUM(A1)", "＝1", "\tx", pd.NA], dtype=object),
            "fill_date": np.array(
                ["2026-01-05", "NaT", "1969-12-31T23:59", "2026-10-31"], dtype="datetime64[ms]"
            ),
            "days_late": pd.array([0, None, -3, 12], dtype="Int64"),
            "volume": [0.1, 1e-05, 1234567.0, float("nan")],
            "rate": [-0.0, float("inf"), 1e16, 2.5],
            "early": [True, False, True, False],
            "done": pd.Series(
                [dt.date(2026, 1, 1), None, dt.date(2026, 2, 3), dt.date(1999, 1, 1)], dtype=object
            ),
            "a,b": np.array([1, -2, 3, 40], dtype=np.int64),
        }
    )


HAND_CSV = (
    'patient_id,note,\'+flag,fill_date,days_late,volume,rate,early,done,"a,b"\n'
    'P1,"a,b",\'@SUM(A1),2026-01-05,0,0.1,-0.0,true,2026-01-01,1\n'
    '"\'=HYPERLINK(""x"")","say ""hi""",\'＝1,,,1e-05,inf,false,,-2\n'
    '-2,"two\nlines",\'\tx,1969-12-31,-3,1234567.0,1e+16,true,2026-02-03,3\n'
    ", padded ,,2026-10-31,12,,2.5,false,1999-01-01,40\n"
)


def test_hand_worked_table_through_the_fast_path() -> None:
    df = hand_frame()
    with mock.patch.object(csvfast, "MIN_ROWS", 0):
        assert render_table(df) == HAND_CSV
    assert old_render(df) == HAND_CSV
    fast = fast_csv_text(df, RENDER, min_rows=0)  # booleans unmapped: pandas' True/False
    assert fast == HAND_CSV.replace("true", "True").replace("false", "False")


def test_a_single_column_writes_empty_cells_as_two_quotes() -> None:
    df = pd.DataFrame({"": pd.Series(["x", "", None, "-1", "-x"], dtype="str")})
    expected = '""\nx\n""\n""\n-1\n\'-x\n'
    assert fast_csv_text(df, PLAIN, min_rows=0) == expected
    assert pandas_csv_text(df, **PLAIN) == expected


def test_a_large_frame_is_written_fast_in_chunks() -> None:
    df = pd.concat([hand_frame()] * 700, ignore_index=True)  # 2,800 rows >= MIN_ROWS
    with mock.patch.object(csvfast, "CHUNK_ROWS", 333):
        assert fast_csv_text(df, RENDER) is not None
        assert render_table(df) == HAND_CSV[: HAND_CSV.index("\n") + 1] + (
            HAND_CSV[HAND_CSV.index("\n") + 1 :] * 700
        )
        assert csv_bytes(df, **PLAIN.copy()) == pandas_csv_text(df, **PLAIN).encode("utf-8")


def test_a_slice_of_a_frame_is_written_from_its_own_rows() -> None:
    df = hand_frame()
    df["again"] = df["patient_id"].iloc[::-1].to_numpy()
    for rows in (slice(1, None), slice(1, 3), slice(2, 4), slice(0, 1)):  # arrays at an offset
        part = df.iloc[rows]
        assert fast_csv_text(part, RENDER, min_rows=0) == pandas_csv_text(part, **RENDER)


# --- what the fast path leaves to pandas -----------------------------------------------


UNSUPPORTED: dict[str, Callable[[], pd.DataFrame]] = {
    "categorical": lambda: pd.DataFrame({"c": pd.Categorical(["a", "=b", None])}),
    "nullable float": lambda: pd.DataFrame({"f": pd.array([0.1, None, 2.0], dtype="Float64")}),
    "float32": lambda: pd.DataFrame({"f": np.array([0.1, 1e-5, 2.0], dtype=np.float32)}),
    "time zone": lambda: pd.DataFrame({"d": pd.date_range("2026-01-01", periods=3, tz="UTC")}),
    "timedelta": lambda: pd.DataFrame({"t": pd.to_timedelta([1, 2, None], unit="D")}),
    "object ints": lambda: pd.DataFrame({"o": pd.Series([1, "-x", None], dtype=object)}),
    "datetimes in object": lambda: pd.DataFrame(
        {"o": pd.Series([dt.datetime(2026, 1, 1, 5), dt.date(2026, 1, 2)], dtype=object)}
    ),
    "a number among dates": lambda: pd.DataFrame(
        {"o": pd.Series([dt.date(2000, 1, 1), 0], dtype=object)}  # pyarrow: day 0
    ),
    "dates then a datetime": lambda: pd.DataFrame(
        {"o": pd.Series([dt.date(2000, 1, 1), dt.datetime(2000, 1, 2)], dtype=object)}
    ),
    "year 999": lambda: pd.DataFrame(
        {"d": np.array(["0999-01-01", "2026-01-01"], dtype="datetime64[s]")}
    ),
    "repeated labels": lambda: pd.DataFrame([[1, "a"]], columns=["x", "x"]),
    "two header levels": lambda: pd.DataFrame(
        [[1, "a"]], columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])
    ),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_what_it_cannot_reproduce_pandas_writes(name: str) -> None:
    df = UNSUPPORTED[name]()
    assert fast_csv_text(df, RENDER, min_rows=0) is None
    with mock.patch.object(csvfast, "MIN_ROWS", 0):
        assert _outcome(lambda: csv_text(df, **RENDER)) == _outcome(
            lambda: pandas_csv_text(df, **RENDER)
        )


def _outcome(write: Callable[[], str]) -> str | type[Exception]:
    """The text written, or the type of the error raised (repeated labels fail alike)."""
    try:
        return write()
    except Exception as exc:
        return type(exc)


@pytest.mark.parametrize(
    "options",
    [{}, {"lineterminator": "\r\n"}, {"sep": ";", **PLAIN}, {"date_format": "%d/%m/%Y", **PLAIN}],
)
def test_other_options_are_left_to_pandas(options: dict[str, Any]) -> None:
    df = hand_frame().drop(columns="fill_date")
    if options == {}:  # the default line end is os.linesep: "\n" here
        assert fast_csv_text(df, options, min_rows=0) == pandas_csv_text(df)
    else:
        assert fast_csv_text(df, options, min_rows=0) is None


def test_datetimes_need_the_iso_format() -> None:
    df = pd.DataFrame({"d": np.array(["2026-01-01"], dtype="datetime64[ms]")})
    assert fast_csv_text(df, PLAIN, min_rows=0) is None
    assert fast_csv_text(df, RENDER, min_rows=0) == "d\n2026-01-01\n"


# --- the property: random frames, byte for byte -----------------------------------------

NASTY_TEXT = [
    "", " ", " lead", "trail ", "a,b", 'q"q', '"', "two\nlines", "cr\rhere", "\r\n", ",",
    "=1+1", "=HYPERLINK(\"http://x\")", "+1.5", "-2", "-3e-2", "+", "-", "@", "@SUM(A1)",
    "\tx", "\rx", "＝1", "＋1", "－1", "＠x", "-１", "-٣", "1.", ".5", "-.5e+3", "-2\n",
    "+1\n", "=", "'", "'=x", "true", "1e5", "nan", "NaN", "None", "é,", "日本,語", "-",
    "- 2", "--2", "+-2", "-2e", "-e2", "-.", "+.e1",
]  # fmt: skip
NASTY_FLOATS = [
    0.1, 1e-05, 1234567.0, -0.0, 0.0, float("inf"), -float("inf"), float("nan"), 1e16,
    -1e16, 9999999999999998.0, 1e15, 123456789012345.6, 0.0001, -0.0001, 0.00011,
    9.999999999999999e-05, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
    2 / 3, 1 / 3, 100.0, 1e22, 1e21, 0.3, 2.5, -31.81818181818182,
]  # fmt: skip

texts = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=6),
)
floats = st.one_of(
    st.sampled_from(NASTY_FLOATS),
    st.floats(),
    st.integers(0, 2**64 - 1).map(lambda b: struct.unpack("<d", struct.pack("<Q", b))[0]),
    st.integers(-(10**6), 10**6).map(lambda n: n / 10),
)
missing = st.sampled_from([None, float("nan"), pd.NA])


def _datetimes(unit: str) -> st.SearchStrategy[Any]:
    low, high = (dt.datetime(1678, 1, 1), dt.datetime(2261, 12, 31))
    if unit != "ns":
        low, high = dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)
    return st.one_of(st.none(), st.datetimes(min_value=low, max_value=high))


@st.composite
def columns(draw: st.DrawFn, rows: int) -> pd.Series:
    """One column of a type the CLI prints (or one the fast path leaves to pandas)."""
    kind = draw(
        st.sampled_from(
            [
                "str",
                "string",
                "object text",
                "object dates",
                "int64",
                "int32",
                "uint64",
                "Int64",
                "float64",
                "bool",
                "boolean",
                "datetime",
                "category",
                "object mixed",
            ]
        )  # fmt: skip
    )

    def cells(cell: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(cell, min_size=rows, max_size=rows))

    if kind in ("str", "string", "string[python]"):
        return pd.Series(cells(st.one_of(texts, st.none())), dtype=kind)
    if kind == "object text":
        return pd.Series(cells(st.one_of(texts, missing)), dtype=object)
    if kind == "object dates":
        return pd.Series(cells(st.one_of(st.dates(), st.none())), dtype=object)
    if kind in ("int64", "int32", "uint64"):
        info = np.iinfo(kind)
        return pd.Series(np.array(cells(st.integers(int(info.min), int(info.max))), dtype=kind))
    if kind == "Int64":
        return pd.Series(cells(st.one_of(st.integers(-(2**63), 2**63 - 1), st.none())), dtype=kind)
    if kind == "float64":
        return pd.Series(np.array(cells(floats), dtype=np.float64))
    if kind == "bool":
        return pd.Series(np.array(cells(st.booleans()), dtype=bool))
    if kind == "boolean":
        return pd.Series(cells(st.one_of(st.booleans(), st.none())), dtype="boolean")
    if kind == "datetime":
        unit = draw(st.sampled_from(["ns", "us", "ms", "s"]))
        values = [
            np.datetime64("NaT") if v is None else np.datetime64(v) for v in cells(_datetimes(unit))
        ]
        return pd.Series(np.array(values, dtype=f"datetime64[{unit}]"))
    if kind == "category":
        return pd.Series(pd.Categorical(cells(st.one_of(texts, st.none()))))
    return draw(object_columns(rows))


@st.composite
def object_columns(draw: st.DrawFn, rows: int) -> pd.Series:
    """An object column of one or two kinds of values: e.g. dates and a number."""
    pools = [texts, st.integers(), floats, st.dates(), st.datetimes(), st.booleans(), missing]
    mixed = draw(st.lists(st.sampled_from(pools), min_size=1, max_size=2))
    return pd.Series(draw(st.lists(st.one_of(*mixed), min_size=rows, max_size=rows)), dtype=object)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    """A frame of 0-20 rows and 1-6 columns, with headers that need quoting or quotes."""
    rows = draw(st.integers(0, 20))
    width = draw(st.integers(1, 6))
    names = draw(st.lists(texts, min_size=width, max_size=width, unique=True))
    df = pd.DataFrame({name: draw(columns(rows)) for name in names})
    return df.iloc[draw(st.integers(0, 2)) :]  # sometimes a slice: arrays at an offset


@SETTINGS
@given(frames())
def test_fast_writer_matches_pandas_byte_for_byte(df: pd.DataFrame) -> None:
    for options in (RENDER, PLAIN):
        fast = fast_csv_text(df, options, min_rows=0)
        if fast is not None:
            assert fast == pandas_csv_text(df, **options)
    with mock.patch.object(csvfast, "MIN_ROWS", 0):
        assert render_table(df) == old_render(df)


@SETTINGS
@given(st.data())
def test_object_columns_are_written_as_pandas_writes_them(data: st.DataObject) -> None:
    rows = data.draw(st.integers(1, 8))
    df = pd.DataFrame({"o": data.draw(object_columns(rows)), "n": np.arange(rows)})
    for options in (RENDER, PLAIN):
        fast = fast_csv_text(df, options, min_rows=0)
        if fast is not None:
            assert fast == pandas_csv_text(df, **options)


@SETTINGS
@given(st.data())
def test_the_fast_path_is_taken_for_the_common_types(data: st.DataObject) -> None:
    rows = data.draw(st.integers(1, 20))
    df = pd.DataFrame({f"c{i}": data.draw(columns(rows)) for i in range(4)})
    fast = fast_csv_text(df, RENDER, min_rows=0)
    kinds_ok = all(
        isinstance(df[c].dtype, pd.StringDtype | pd.BooleanDtype | pd.Int64Dtype)
        or df[c].dtype in (np.int64, np.int32, np.uint64, np.float64, np.bool_)
        for c in df.columns
    )
    if kinds_ok:
        assert fast is not None
    if fast is not None:
        assert fast == pandas_csv_text(df, **RENDER)


@settings(max_examples=500, deadline=None)
@given(st.lists(floats, min_size=1, max_size=60))
def test_floats_are_written_as_numpy_writes_them(values: list[float]) -> None:
    arr = np.array(values, dtype=np.float64)
    expected = np.where(np.isnan(arr), "", arr.astype(str)).tolist()
    assert column_fields(pd.Series(arr), None).to_pylist() == expected

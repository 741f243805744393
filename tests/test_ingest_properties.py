"""Property: rows in = loaded + already present + quarantined, for any mix of rows."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.errors import FileFault
from analytics.ingest.identifiers import VALUE_PATTERNS
from analytics.ingest.load import TableResult, ingest_files, validate_files
from analytics.store import reader
from tests.conftest import VISIT_HEADER, write_csv

GOOD = [
    "p1",
    "2024-01-05",
    "refill",
    None,
    "A",
    "SynchroMed II",
    "20",
    "baclofen",
    "2",
    "0.4",
    "18",
    "",
]
SENTINEL_PHONE = "555-867-5309"
MUTATIONS = [
    ("visit_date", "2024-02-31"),
    ("visit_date", "03/04/2024"),
    ("visit_type", "refilll"),
    ("volume_added_ml", "-2"),
    ("volume_added_ml", "1e308"),
    ("daily_dose_mg", "NaN"),
    ("reservoir_ml", "abc"),
    ("patient_id", ""),
    ("notes", f"called {SENTINEL_PHONE}"),
    ("notes", "x" * 5000),
    ("notes", "'; DROP TABLE visits; --"),
    ("site", "B"),
    ("visit_type", " Follow-Up "),
]

row_strategy = st.tuples(
    st.integers(min_value=0, max_value=20),  # patient
    st.integers(min_value=1, max_value=28),  # day
    st.one_of(st.none(), st.sampled_from(range(len(MUTATIONS)))),
    st.booleans(),  # give an explicit id
)


def _ingest(db: Path, path: Path) -> TableResult | None:
    """Ingest one file; None when it is refused as a whole (one fault in most rows), which
    `validate` must say too, in the same words, with the database left as it was."""
    before = db.read_bytes() if db.exists() else None
    try:
        (res,) = ingest_files(db, path)
    except FileFault as exc:
        assert "the whole file is refused" in exc.reason
        with pytest.raises(FileFault) as checked:
            validate_files(path)
        assert str(checked.value) == str(exc)
        assert (db.read_bytes() if db.exists() else None) == before
        return None
    return res


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(row_strategy, min_size=1, max_size=40), reingest_half=st.booleans())
def test_rows_in_equal_loaded_plus_present_plus_quarantined(rows, reingest_half) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        out_rows = []
        for i, (patient, day, mutation, explicit_id) in enumerate(rows):
            r = list(GOOD)
            r[0] = f"p{patient}"
            r[1] = f"2024-01-{day:02d}"
            r[3] = f"id{i % 7}" if explicit_id else None
            if mutation is not None:
                col, val = MUTATIONS[mutation]
                r[VISIT_HEADER.index(col)] = val
            out_rows.append(r)
        db = tmp / "p.duckdb"
        if reingest_half:
            _ingest(db, write_csv(tmp / "first.csv", VISIT_HEADER, out_rows[: len(out_rows) // 2]))
        res = _ingest(db, write_csv(tmp / "visits.csv", VISIT_HEADER, out_rows))
        if res is None:
            return
        assert res.rows_read == len(out_rows)
        assert res.rows_read == res.rows_loaded + res.rows_already_present + res.rows_quarantined
        assert 0 <= res.rows_already_quarantined <= res.rows_quarantined
        assert reingest_half or res.rows_already_quarantined == 0
        with reader(db) as con:
            (q,) = con.execute(
                "SELECT count(*) FROM quarantine WHERE source_file = 'visits.csv'"
            ).fetchall()[0]
            raw = " ".join(
                r[0] or "" for r in con.execute("SELECT raw_row FROM quarantine").fetchall()
            )
        assert q == res.rows_quarantined - res.rows_already_quarantined
        assert SENTINEL_PHONE not in raw, "identifier-like notes are redacted in quarantine"


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(*(st.from_regex(p, fullmatch=True) for p in VALUE_PATTERNS.values())),
    pad=st.sampled_from(["", " ", "  ", "\t", " \n"]),
)
def test_identifier_shortcut_never_skips_a_match(value: str, pad: str) -> None:
    """The identifier scan runs its regular expression only on cells with an @, or of 11
    or more bytes with a dash, dot or space: every full match of the value patterns is
    such a cell."""
    import duckdb

    from analytics.ingest.load import _may_match, combined_pattern
    from analytics.ingest.validation import lit

    cell = pad + value + pad
    con = duckdb.connect()
    con.execute("CREATE TABLE t (site VARCHAR)")
    con.execute("INSERT INTO t VALUES (?)", [cell])
    matched, shortcut = con.execute(
        f"SELECT regexp_full_match(site, {lit(combined_pattern(VALUE_PATTERNS))}), {_may_match('site')} FROM t"
    ).fetchall()[0]
    assert not matched or shortcut


_CELL_CHARS = st.sampled_from(
    ["a", "7", "-", ".", " ", "\t", "\u00a0", "\u3000", "\u2009", "é", "\n"]
)


@settings(max_examples=200, deadline=None)
@given(
    columns=st.lists(
        st.lists(st.text(_CELL_CHARS, max_size=6), min_size=1, max_size=8), min_size=1, max_size=4
    ),
    offset=st.integers(0, 3),
)
def test_spaceless_columns_need_no_trim(columns: list[list[str]], offset: int) -> None:
    """Staging skips trim() on the columns `spaceless_columns` names: trim() must leave
    every cell of those columns as it is (for any text, a sliced table included)."""
    import duckdb
    import pyarrow as pa

    from analytics.ingest.readers import spaceless_columns

    n = min(len(c) for c in columns)
    data = pa.table({f"c{i}": pa.array(c[:n], pa.string()) for i, c in enumerate(columns)})
    data = data.slice(min(offset, n - 1))
    plain = spaceless_columns(data)
    con = duckdb.connect()
    con.register("t", data)
    for name in plain:
        (changed,) = con.execute(
            f"SELECT count(*) FILTER (WHERE trim({name}) <> {name}) FROM t"
        ).fetchall()[0]
        assert changed == 0, name


def test_spaceless_columns_by_hand() -> None:
    """Which columns may skip trim(): only those without a space or a non-ASCII byte."""
    import pyarrow as pa

    from analytics.ingest.readers import LINE, spaceless_columns

    data = pa.table(
        {
            "ids": ["p1", "p2"],
            "padded": ["p1 ", "p2"],
            "inner_space": ["SynchroMed II", "x"],
            "nbsp": ["\u00a0x", "y"],
            "accent": ["é", "e"],  # kept out too: a non-ASCII byte could be a space
            "tab": ["\tx", "y"],  # trim() keeps tabs
            "empty": ["", ""],
            LINE: pa.array([2, 3], pa.int64()),
        }
    )
    assert spaceless_columns(data) == {"ids", "tab", "empty"}

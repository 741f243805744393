"""Validation that teaches (issue 23): allowed or closest values, every fault of a row,
"did you mean" for columns, a file failing mostly for one reason refused with a hint,
rows already in quarantine counted as such. Hand-written files, hand-worked answers."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.cli.commands import main
from analytics.errors import FileFault
from analytics.ingest.contract import TABLES
from analytics.ingest.load import ingest_files, validate_files
from analytics.store import reader
from tests.conftest import write_csv

HEADER = [
    "patient_id",
    "visit_date",
    "visit_type",
    "visit_id",
    "site",
    "reservoir_ml",
    "concentration_mg_ml",
    "daily_dose_mg",
    "volume_added_ml",
    "indication",
]


def clean_rows(n: int, start: int = 0) -> list[list[str]]:
    """n valid visits v{start}..: three patients, one visit a day from 2024-01-01."""
    day0 = dt.date(2024, 1, 1)
    return [
        [
            f"pa{i % 3}",
            (day0 + dt.timedelta(days=i)).isoformat(),
            "implant" if i < 3 else "refill",
            f"v{i}",
            "A",
            "20",
            "2",
            "0.4",
            "18",
            "spasticity",
        ]
        for i in range(start, start + n)
    ]


def col(name: str) -> int:
    return HEADER.index(name)


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.stdout, res.stderr


def faults_of(path: Path, complications: Path | None = None) -> list[tuple[int, str, str]]:
    _, faults = validate_files(path, complications)
    return [(int(r.line), r.column_name, r.reason) for r in faults.itertuples()]


def quarantine(db: Path) -> list[tuple[str, int, str | None, str]]:
    with reader(db) as con:
        rows = con.execute(
            "SELECT source_file, line, column_name, reason FROM quarantine ORDER BY ingest_id, line"
        ).fetchall()
    return [(str(f), int(n), c, str(r)) for f, n, c, r in rows]


# --- allowed and closest values -----------------------------------------------------


def test_unknown_values_name_the_closest_or_the_allowed_ones(tmp_path: Path) -> None:
    rows = clean_rows(8)
    rows[2][col("indication")] = "Spastisity"  # line 4: one letter off
    rows[3][col("indication")] = "pain"  # line 5: nothing close, 4 values: listed
    rows[4][col("visit_type")] = "refil"  # line 6
    path = write_csv(tmp_path / "visits.csv", HEADER, rows)
    assert faults_of(path) == [
        (4, "indication", "unknown value (did you mean `spasticity`?)"),
        (
            5,
            "indication",
            "unknown value (allowed: cancer_pain, noncancer_pain, spasticity, other)",
        ),
        (6, "visit_type", "unknown value (did you mean `refill`?)"),
    ]


def test_complication_codes_offer_up_to_three_close_codes(tmp_path: Path) -> None:
    visits = write_csv(tmp_path / "visits.csv", HEADER, clean_rows(3))
    comp = write_csv(
        tmp_path / "complications.csv",
        ["patient_id", "report_date", "complication", "severity"],
        [
            ["pa0", "2024-02-01", "infection", ""],  # two codes start so
            ["pa0", "2024-02-02", "csf_leak", "moderat"],
            ["pa1", "2024-02-03", "headache", ""],  # nothing close among 25 codes
            ["pa1", "2024-02-04", "granuloma", ""],
            ["pa2", "2024-02-05", "seroma", ""],
            ["pa2", "2024-02-06", "seroma", "Life threatening"],  # a contract value
        ],
    )
    got = faults_of(visits, comp)
    assert got == [
        (2, "complication", "unknown value (did you mean `infection_deep` or `infection_superficial`?)"),
        (3, "severity", "unknown value (did you mean `moderate`?)"),
        (4, "complication", "unknown value (none close; `pumpqi contract` lists the 25 allowed values)"),
    ]  # fmt: skip


def test_a_name_typed_as_a_value_is_never_echoed(tmp_path: Path) -> None:
    rows = clean_rows(6)
    rows[1][col("indication")] = "Alice Zebrowski"
    path = write_csv(tmp_path / "visits.csv", HEADER, rows)
    code, out, err = run("validate", str(path), "--quiet")
    assert code == 1 and "(allowed: cancer_pain" in out
    assert "Alice" not in out + err and "alice" not in out + err


# --- every fault of a row -------------------------------------------------------------


def test_every_faulty_column_of_a_row_is_listed_and_the_row_quarantined_once(
    tmp_path: Path,
) -> None:
    rows = clean_rows(8)
    bad = rows[5]  # line 7
    bad[col("visit_date")] = "2024-13-01"
    bad[col("reservoir_ml")] = "250"
    bad[col("indication")] = "spasticty"
    rows[6][col("volume_added_ml")] = "-1"  # line 8: one fault
    path = write_csv(tmp_path / "visits.csv", HEADER, rows)
    assert faults_of(path) == [  # in contract order within a row
        (7, "visit_date", "unparseable date (expected YYYY-MM-DD)"),
        (7, "reservoir_ml", "out of range (allowed from 1 to 100)"),
        (7, "indication", "unknown value (did you mean `spasticity`?)"),
        (8, "volume_added_ml", "out of range (allowed from 0 to 100)"),
    ]
    code, out, _ = run("validate", str(path), "--quiet")
    assert code == 1 and out.count("\n") == 5  # header + one line per fault
    db = tmp_path / "x.duckdb"
    (res,) = ingest_files(db, path)
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (8, 6, 2)
    assert quarantine(db) == [
        (
            "visits.csv",
            7,
            "visit_date, reservoir_ml, indication",
            "visit_date: unparseable date (expected YYYY-MM-DD); reservoir_ml: out of range"
            " (allowed from 1 to 100); indication: unknown value (did you mean `spasticity`?)",
        ),
        ("visits.csv", 8, "volume_added_ml", "out of range (allowed from 0 to 100)"),
    ]


# --- did you mean, for columns ----------------------------------------------------------


@pytest.mark.parametrize(
    ("rename", "column", "message"),
    [
        ({"reservoir_ml": "reservior_ml"}, "reservior_ml", "unknown column (did you mean `reservoir_ml`?)"),
        ({"reservoir_ml": "complication"}, "complication", "unknown column (a column of the complications table)"),
        ({"visit_date": "vist_date"}, "visit_date", "required column is missing; is `vist_date` meant to be it?"),
        ({"site": "ward_code"}, "ward_code", "unknown column; the visits table accepts only contract columns"),
    ],
)  # fmt: skip
def test_column_names_get_did_you_mean(
    tmp_path: Path, rename: dict[str, str], column: str, message: str
) -> None:
    header = [rename.get(h, h) for h in HEADER]
    path = write_csv(tmp_path / "visits.csv", header, clean_rows(3))
    for args in (["validate"], ["ingest", "--db", str(tmp_path / "x.duckdb")]):
        code, _, err = run(*args, str(path), "--quiet")
        assert code == 2 and err.count("\n") == 1, err
        assert f"visits.csv, column '{column}': {message}" in err
    assert not (tmp_path / "x.duckdb").exists()


def test_a_header_read_as_one_column_names_its_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("patient_id|visit_date|visit_type\npa1|2024-01-05|implant\n")
    code, _, err = run("validate", str(path))
    assert code == 2 and "read as one column" in err and "seems to use `|`" in err


# --- a file failing mostly for one reason -------------------------------------------------


def _with(rows: list[list[str]], column: str, values: list[str]) -> list[list[str]]:
    out = [list(r) for r in rows]
    for r, v in zip(out, values, strict=False):
        r[col(column)] = v
    return out


def _dmy(rows: list[list[str]]) -> list[str]:
    return [dt.date.fromisoformat(r[1]).strftime("%d/%m/%Y") for r in rows]


def _mdy(rows: list[list[str]]) -> list[str]:
    return [dt.date.fromisoformat(r[1]).strftime("%m/%d/%Y") for r in rows]


ROWS = clean_rows(20)  # 2024-01-01 .. 2024-01-20: day 13 and later tell the order
SYSTEMATIC = {
    "dd/mm/yyyy": (
        _with(ROWS, "visit_date", _dmy(ROWS)),
        "visit_date",
        "unparseable date (expected YYYY-MM-DD) in 20 of 20 rows",
        "the dates are written DD/MM/YYYY; write them as YYYY-MM-DD",
    ),
    "mm/dd/yyyy": (
        _with(ROWS, "visit_date", _mdy(ROWS)),
        "visit_date",
        "in 20 of 20 rows",
        "the dates are written MM/DD/YYYY",
    ),
    "decimal comma": (
        _with(ROWS, "concentration_mg_ml", ["2,5"] * 12),
        "concentration_mg_ml",
        "not a number in 12 of 20 rows",
        "decimal comma (2,5); write them with a decimal point (2.5)",
    ),
    "unit in the cells": (
        _with(ROWS, "volume_added_ml", ["18 mL"] * 20),
        "volume_added_ml",
        "not a number in 20 of 20 rows",
        "a unit or words beside the number (e.g. `20 mL`); write the number only (in mL)",
    ),
    "micrograms": (
        _with(ROWS, "daily_dose_mg", ["1500"] * 11),
        "daily_dose_mg",
        "out of range (allowed from 0 to 1000) in 11 of 20 rows",
        "is the unit right? daily_dose_mg takes mg (micrograms divided by 1,000 give mg)",
    ),
    "codes of another system": (
        _with(ROWS, "indication", ["MS"] * 20),
        "indication",
        "unknown value in 20 of 20 rows",
        "recode them (`pumpqi deidentify` does it with a [values.indication] section",
    ),
}


@pytest.mark.parametrize("case", sorted(SYSTEMATIC))
def test_a_file_failing_mostly_for_one_reason_is_refused_with_a_hint(
    tmp_path: Path, case: str
) -> None:
    rows, column, count, hint = SYSTEMATIC[case]
    path = write_csv(tmp_path / "visits.csv", HEADER, rows)
    db = tmp_path / "x.duckdb"
    lines = []
    for args in (["validate"], ["ingest", "--db", str(db)]):
        code, out, err = run(*args, str(path), "--quiet")
        assert code == 2 and out == "" and err.count("\n") == 1, (case, err)
        assert f"visits.csv, column '{column}': " in err and count in err and hint in err, err
        assert "the whole file is refused" in err
        lines.append(err)
    assert lines[0] == lines[1], "validate and ingest say the same"
    assert not db.exists(), "a refused file writes nothing"


def test_rows_with_another_delimiter_than_the_header_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    body = "".join(";".join(r) + "\n" for r in clean_rows(6))
    path.write_text(",".join(HEADER) + "\n" + body)
    with pytest.raises(FileFault, match="wrong number of fields in 6 of 6 rows") as exc:
        validate_files(path)
    assert "is the delimiter of the rows the header's" in exc.value.reason


def test_a_refused_complications_file_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    visits = write_csv(tmp_path / "visits.csv", HEADER, clean_rows(3))
    ingest_files(db, visits)
    before = db.read_bytes()
    comp = write_csv(
        tmp_path / "complications.csv",
        ["patient_id", "report_date", "complication"],
        [["pa0", f"{d:02d}/02/2024", "seroma"] for d in range(1, 7)],
    )
    more = write_csv(tmp_path / "visits2.csv", HEADER, clean_rows(6))
    code, _, err = run("ingest", "--db", str(db), str(more), "--complications", str(comp))
    assert code == 2 and "complications.csv, column 'report_date'" in err
    assert "in 6 of 6 rows" in err
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    ("n_rows", "n_bad", "refused"),
    [
        (4, 4, False),  # fewer than 5 rows: each row is quarantined
        (10, 5, False),  # exactly half: not more than half
        (10, 6, True),
        (9, 5, True),
        (40, 20, False),
        (40, 21, True),
    ],
)
def test_the_rule_is_more_than_half_and_at_least_five_rows(
    tmp_path: Path, n_rows: int, n_bad: int, refused: bool
) -> None:
    rows = clean_rows(n_rows)
    rows = _with(rows, "visit_date", _dmy(rows[:n_bad]))
    path = write_csv(tmp_path / "visits.csv", HEADER, rows)
    code_v, _, _ = run("validate", str(path), "--quiet")
    code_i, out, _ = run("ingest", "--db", str(tmp_path / "x.duckdb"), str(path), "--quiet")
    assert (code_v, code_i) == ((2, 2) if refused else (1, 0))
    if not refused:
        assert f"{n_rows} read = {n_rows - n_bad} loaded + 0 already present + {n_bad}" in out


def test_different_faults_in_most_rows_are_not_one_reason(tmp_path: Path) -> None:
    rows = clean_rows(10)
    rows = _with(rows, "reservoir_ml", ["abc", "abc", "abc", "", "", "", "", "", "", ""])
    rows = _with(rows, "indication", ["", "", "", "xx", "xx", "xx", "", "", "", ""])
    path = write_csv(tmp_path / "visits.csv", HEADER, rows)
    (res,) = ingest_files(tmp_path / "x.duckdb", path)
    assert (res.rows_loaded, res.rows_quarantined) == (4, 6)


# --- rows already in quarantine -----------------------------------------------------------


def test_a_cumulative_export_counts_its_old_bad_rows_as_already_in_quarantine(
    tmp_path: Path,
) -> None:
    jan = clean_rows(10)
    jan[2][col("visit_date")] = "2024-02-30"
    jan[7][col("indication")] = "spasticty"
    feb = [list(r) for r in jan] + clean_rows(5, start=10)
    feb[12][col("reservoir_ml")] = "0"  # a new bad row
    feb.insert(0, list(jan[7]))  # the bad row twice now: one more copy is quarantined
    db = tmp_path / "x.duckdb"
    code, out, _ = run("ingest", "--db", str(db), str(write_csv(tmp_path / "jan.csv", HEADER, jan)))
    assert code == 0 and "10 read = 8 loaded + 0 already present + 2 quarantined\n" in out
    code, out, _ = run("ingest", "--db", str(db), str(write_csv(tmp_path / "feb.csv", HEADER, feb)))
    assert code == 0
    assert (
        "16 read = 4 loaded + 8 already present + 4 quarantined"
        " (2 of them already in quarantine)" in out
    )
    assert [(f, n) for f, n, _, _ in quarantine(db)] == [
        ("jan.csv", 4),
        ("jan.csv", 9),
        ("feb.csv", 10),  # the later copy of jan's line 9 (feb's lines 2 and 10)
        ("feb.csv", 15),
    ]
    with reader(db) as con:
        log = con.execute(
            "SELECT rows_read, rows_loaded, rows_already_present, rows_quarantined"
            " FROM ingest_log ORDER BY ingest_id"
        ).fetchall()
    assert log == [(10, 8, 0, 2), (16, 4, 8, 4)]


def test_the_same_bad_rows_again_store_nothing_new(tmp_path: Path) -> None:
    rows = clean_rows(6)
    rows[1][col("volume_added_ml")] = "500"
    db = tmp_path / "x.duckdb"
    (first,) = ingest_files(db, write_csv(tmp_path / "a.csv", HEADER, rows))
    (second,) = ingest_files(db, write_csv(tmp_path / "b.csv", HEADER, rows[::-1]))
    assert (first.rows_quarantined, first.rows_already_quarantined) == (1, 0)
    assert (second.rows_already_present, second.rows_quarantined) == (5, 1)
    assert second.rows_already_quarantined == 1
    assert len(quarantine(db)) == 1
    _, faults = validate_files(tmp_path / "b.csv")
    assert len(faults) == 1, "validate, which sees no database, lists the row"


# --- property: faults per column, the refusal rule, a cumulative export -------------------

MUTATIONS = {
    "visit_date": ("2024-13-01", "unparseable date (expected YYYY-MM-DD)"),
    "reservoir_ml": ("250", "out of range (allowed from 1 to 100)"),
    "concentration_mg_ml": ("abc", "not a number"),
    "volume_added_ml": ("-1", "out of range (allowed from 0 to 100)"),
    "indication": ("spasticty", "unknown value (did you mean `spasticity`?)"),
}
ORDER = [c.name for c in TABLES["visits"].columns]


def _refused(faulty: list[frozenset[str]]) -> bool:
    """The rule, computed apart: one column's fault in more than half of >= 5 rows."""
    worst = max((sum(name in s for s in faulty) for name in MUTATIONS), default=0)
    return worst > len(faulty) / 2 and worst >= 5


@settings(max_examples=10, deadline=None)
@given(
    faulty=st.lists(
        st.frozensets(st.sampled_from(sorted(MUTATIONS)), max_size=3), min_size=2, max_size=24
    ),
    cut=st.floats(min_value=0.2, max_value=0.8),
)
def test_every_fault_is_listed_and_a_cumulative_export_is_quarantined_once(
    faulty: list[frozenset[str]], cut: float
) -> None:
    rows = clean_rows(len(faulty))
    for row, names in zip(rows, faulty, strict=True):
        for name in names:
            row[col(name)] = MUTATIONS[name][0]
    first = max(1, int(len(rows) * cut))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        jan = write_csv(tmp / "jan.csv", HEADER, rows[:first])
        feb = write_csv(tmp / "feb.csv", HEADER, rows)
        for path, part in ((jan, faulty[:first]), (feb, faulty)):
            if _refused(part):
                with pytest.raises(FileFault, match="the whole file is refused"):
                    validate_files(path)
                continue
            want = [
                (i + 2, name, MUTATIONS[name][1])
                for i, names in enumerate(part)
                for name in sorted(names, key=ORDER.index)
            ]
            assert faults_of(path) == want
        if _refused(faulty[:first]) or _refused(faulty):
            return
        db = tmp / "x.duckdb"
        (a,) = ingest_files(db, jan)
        (b,) = ingest_files(db, feb)
        bad_jan = sum(bool(s) for s in faulty[:first])
        bad_all = sum(bool(s) for s in faulty)
        assert (a.rows_quarantined, b.rows_quarantined) == (bad_jan, bad_all)
        assert b.rows_already_quarantined == bad_jan
        assert b.rows_already_present == first - bad_jan
        stored = quarantine(db)
        assert len(stored) == bad_all, "each bad row once"
        for _, line, columns, _ in stored:
            names = faulty[line - 2]
            assert columns == ", ".join(sorted(names, key=ORDER.index))

"""Ingest: file-level refusals, quarantine reasons, accounting, idempotence, transactions."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.cli.commands import main
from analytics.errors import FileFault, SchemaVersionError
from analytics.ingest import load as ingest_mod
from analytics.ingest.load import ingest_files, validate_files
from analytics.store import reader
from tests.conftest import VISIT_HEADER, good_visit_rows, write_csv


def db_digest(db: Path) -> str:
    with reader(db) as con:
        parts = []
        for t in ("visits", "complications", "quarantine", "ingest_log"):
            df = con.execute(f"SELECT * FROM {t}").df()
            parts.append(df.sort_values(list(df.columns)).to_csv(index=False))
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.stdout, res.stderr


# --- file-level refusals ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header_change", "column", "reason"),
    [
        (lambda h: [c for c in h if c != "visit_type"], "visit_type", "required column is missing"),
        (lambda h: [*h, "favourite_colour"], "favourite_colour", "unknown column"),
        (lambda h: [*h, "Patient Name"], "patient_name", "direct identifier (name)"),
        (lambda h: [*h, "MRN"], "mrn", "direct identifier (record number)"),
        (lambda h: [*h, "DOB"], "dob", "direct identifier (birth date)"),
        (lambda h: [*h, "zip code"], "zip_code", "direct identifier (ZIP code)"),
        (
            lambda h: [*h, "Pump Serial"],
            "pump_serial",
            "direct identifier (device serial or lot number)",
        ),
        (lambda h: [*h, "E-mail"], "e_mail", "direct identifier (e-mail address)"),
    ],
)
def test_column_refusals_name_file_and_column(
    tmp_path: Path, header_change, column, reason
) -> None:
    header = header_change(VISIT_HEADER)
    rows = [
        [*r, "x"][: len(header)] if len(header) > len(r) else r[: len(header)]
        for r in good_visit_rows()
    ]
    rows = [r + ["x"] * (len(header) - len(r)) for r in rows]
    path = write_csv(tmp_path / "visits.csv", header, rows)
    db = tmp_path / "q.duckdb"
    code, out, err = run("ingest", "--db", str(db), str(path), "--quiet")
    assert code == 2
    assert err.count("\n") == 1
    assert "visits.csv" in err and f"'{column}'" in err and reason in err
    assert not db.exists(), "a refused file must write nothing"


@pytest.mark.parametrize(
    ("column", "value", "kind"),
    [
        ("patient_id", "123-45-6789", "social security number"),
        ("patient_id", "jane.doe@example.org", "e-mail address"),
        ("patient_id", "(555) 123-4567", "phone number"),
        # a record number or a name in a few rows is quarantined: test_security_ingest.py
        ("clinician", "dr.who@example.org", "e-mail address"),
    ],
)
def test_identifier_values_refuse_without_echo(tmp_path: Path, column, value, kind) -> None:
    header = [*VISIT_HEADER, "clinician"]
    rows = [[*r, "CL1"] for r in good_visit_rows()]
    idx = header.index(column)
    rows[1][idx] = value
    path = write_csv(tmp_path / "visits.csv", header, rows)
    code, out, err = run("ingest", "--db", str(tmp_path / "x.duckdb"), str(path), "--quiet")
    assert code == 2
    assert kind in err and f"'{column}'" in err
    assert value not in err and value not in out


def test_ignored_column_is_skipped_but_zip_values_refused(tmp_path: Path) -> None:
    header = [*VISIT_HEADER, "ward"]
    rows = [[*r, "W3"] for r in good_visit_rows()]
    path = write_csv(tmp_path / "visits.csv", header, rows)
    db = tmp_path / "x.duckdb"
    code, out, _ = run("ingest", "--db", str(db), str(path), "--ignore-columns", "Ward", "--quiet")
    assert code == 0, out
    rows = [[*r[:-1], z] for r, z in zip(rows, ["02139", "10001", "94110"], strict=True)]
    path = write_csv(tmp_path / "visits2.csv", header, rows)
    code, _, err = run("ingest", "--db", str(db), str(path), "--ignore-columns", "ward", "--quiet")
    assert code == 2 and "ZIP" in err and "02139" not in err


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\xff\xfep\x00a\x00", "UTF-16"),
        (b"\x00\x01\x02binary\x00", "binary"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "visits.csv"
    path.write_bytes(content)
    with pytest.raises(FileFault, match=reason):
        validate_files(path)


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    code, _, err = run("validate", str(tmp_path / "nope.csv"))
    assert code == 2 and "nope.csv: file not found" in err and "Traceback" not in err


# --- reading: encodings, delimiters, formats ---------------------------------------


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [(",", "utf-8"), (";", "utf-8-sig"), ("\t", "latin-1"), (";", "latin-1")],
)
def test_encodings_and_delimiters(tmp_path: Path, delimiter: str, encoding: str) -> None:
    rows = good_visit_rows()
    rows[1][-1] = "réglage fait"
    header = [h.replace("_", " ").title() for h in VISIT_HEADER]  # "Patient Id", "Visit Date", ...
    path = write_csv(tmp_path / "visits.csv", header, rows, delimiter=delimiter, encoding=encoding)
    db = tmp_path / "x.duckdb"
    (res,) = ingest_files(db, path)
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (3, 3, 0)
    with reader(db) as con:
        notes = con.execute("SELECT notes FROM visits WHERE visit_id = 'v2'").fetchall()[0][0]
    assert notes == "réglage fait"


def test_parquet_and_excel_read_like_csv(tmp_path: Path) -> None:
    df = pd.DataFrame(good_visit_rows(), columns=VISIT_HEADER).replace("", None)
    for c in ("reservoir_ml", "concentration_mg_ml", "daily_dose_mg", "volume_added_ml"):
        df[c] = pd.to_numeric(df[c])
    df["visit_date"] = pd.to_datetime(df["visit_date"])
    df.to_parquet(tmp_path / "visits.parquet")
    with pd.ExcelWriter(tmp_path / "visits.xlsx") as xw:
        pd.DataFrame({"a": [1]}).to_excel(xw, sheet_name="readme", index=False)
        df.to_excel(xw, sheet_name="Visits", index=False)
    for name in ("visits.parquet", "visits.xlsx"):
        db = tmp_path / f"{name}.duckdb"
        (res,) = ingest_files(db, tmp_path / name)
        assert (res.rows_loaded, res.rows_quarantined) == (3, 0), name
        with reader(db) as con:
            got = con.execute(
                "SELECT visit_date, reservoir_ml FROM visits ORDER BY visit_id"
            ).fetchall()
        assert got[0] == (dt.date(2024, 1, 5), 20.0)


# --- row faults ---------------------------------------------------------------------


def test_quarantine_reasons_and_lines(tmp_path: Path) -> None:
    rows = good_visit_rows() + [
        ["pa3", "2024-13-45", "refill", "v4", "A", "", "", "", "", "", 10, ""],  # line 5
        ["pa3", "2024-04-01", "refil", "v5", "A", "", "", "", "", "", 10, ""],  # line 6
        ["pa3", "2024-04-02", "refill", "v6", "A", "", "", "", "", "", -3, ""],  # line 7
        ["pa3", "1979-12-31", "refill", "v7", "A", "", "", "", "", "", 10, ""],  # line 8
        ["pa3", "2099-01-01", "refill", "v8", "A", "", "", "", "", "", 10, ""],  # line 9
        [
            "pa3",
            "2024-04-03",
            "refill",
            "v9",
            "A",
            "",
            "",
            "",
            "",
            "",
            10,
            "ring 555-201-3344",
        ],  # 10
        ["pa3", "2024-04-04", "refill", "v10", "A", "", 250, "", "", "", 10, ""],  # line 11
        ["pa3", "2024-04-05", "refill", "v11", "A", "", "", "", "abc", "", 10, ""],  # line 12
    ]
    path = write_csv(tmp_path / "visits.csv", VISIT_HEADER, rows)
    results, faults = validate_files(path)
    got = {(int(r.line), r.column_name, r.reason) for r in faults.itertuples()}
    assert got == {
        (5, "visit_date", "unparseable date (expected YYYY-MM-DD)"),
        (6, "visit_type", "unknown value (did you mean `refill`?)"),
        (7, "volume_added_ml", "out of range (allowed from 0 to 100)"),
        (8, "visit_date", "date before 1980"),
        (9, "visit_date", "date after today"),
        (10, "notes", "identifier-like text in notes"),
        (11, "reservoir_ml", "out of range (allowed from 1 to 100)"),
        (12, "concentration_mg_ml", "not a number"),
    }
    assert results[0].rows_read == 11 and results[0].rows_loaded == 3


def test_quoted_newlines_keep_line_numbers(tmp_path: Path) -> None:
    rows = good_visit_rows()
    rows[0][-1] = "first line\nsecond line"
    rows.append(["pa2", "2024-02-30", "refill", "v9", "B", "", "", "", "", "", 30, ""])
    path = write_csv(tmp_path / "visits.csv", VISIT_HEADER, rows)
    _, faults = validate_files(path)
    assert faults["line"].tolist() == [6]  # header 1, row 2-3 (two lines), rows 4, 5, bad row 6


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
@pytest.mark.parametrize("blank_after", [None, 1, 2])
@pytest.mark.parametrize("final_newline", [True, False])
def test_line_numbers_without_quotes(
    tmp_path: Path, ending: str, blank_after: int | None, final_newline: bool
) -> None:
    """A file with no quotes is numbered without scanning it when no line is blank; a
    blank line (or a missing final newline) must still give every row its own line."""
    good = ["pa,2024-01-01,implant", "pa,2024-02-01,refill", "pa,2024-03-01,refill"]
    lines = ["patient_id,visit_date,visit_type", *good, "pa,2024-13-01,refill"]
    if blank_after is not None:
        lines.insert(blank_after + 1, "")
    path = tmp_path / "visits.csv"
    path.write_bytes((ending.join(lines) + (ending if final_newline else "")).encode())
    results, faults = validate_files(path)
    assert results[0].rows_read == 4 and results[0].rows_loaded == 3
    assert faults["line"].tolist() == [len(lines)]  # the bad row is the last line


def test_lone_carriage_return_keeps_line_numbers(tmp_path: Path) -> None:
    """A lone CR inside a line splits it into two records for the parser; with a blank
    line elsewhere the counts would agree, so the quick numbering must not be used."""
    path = tmp_path / "visits.csv"
    path.write_bytes(
        b"patient_id,visit_date,visit_type\n"
        b"pa,2024-01-01,implant\rpa,2024-02-01,refill\n"
        b"\n"
        b"pa,2024-13-01,refill\n"
    )
    results, faults = validate_files(path)
    assert results[0].rows_read == 3
    # numbered by the exact reader, for which a lone CR ends a line too: header 1,
    # implant 2, refill 3, blank 4, bad row 5 (the quick numbering would have said 4)
    assert faults["line"].tolist() == [5]


def test_malformed_rows_are_quarantined_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    text = "patient_id,visit_date,visit_type\npa,2024-01-01,implant\npa,2024-02-01\npa,2024-03-01,refill,extra\n"
    path.write_text(text)
    results, faults = validate_files(path)
    assert results[0].rows_read == 3 and results[0].rows_loaded == 1
    assert faults["line"].tolist() == [3, 4]
    assert all("wrong number of fields" in r for r in faults["reason"])


def test_duplicates_and_conflicts(tmp_path: Path) -> None:
    rows = good_visit_rows()
    rows.append(list(rows[0]))  # exact copy -> duplicate
    changed = list(rows[2])
    changed[10] = 39  # same id v3, other content -> both conflict
    rows.append(changed)
    path = write_csv(tmp_path / "visits.csv", VISIT_HEADER, rows)
    results, faults = validate_files(path)
    reasons = sorted(zip(faults["line"], faults["reason"], strict=True))
    assert reasons[0] == (4, "conflicting duplicate id (rows with this id differ in content)")
    assert reasons[1][0] == 5 and reasons[1][1].startswith("duplicate")
    assert reasons[2] == (6, "conflicting duplicate id (rows with this id differ in content)")
    assert results[0].rows_loaded == 2


def test_derived_ids_are_stable_and_exact_copies_are_duplicates(tmp_path: Path) -> None:
    header = [c for c in VISIT_HEADER if c != "visit_id"]
    rows = [[v for i, v in enumerate(r) if i != 3] for r in good_visit_rows()]
    rows.append(list(rows[1]))
    path = write_csv(tmp_path / "visits.csv", header, rows)
    db = tmp_path / "x.duckdb"
    (res,) = ingest_files(db, path)
    assert (res.rows_loaded, res.rows_quarantined) == (3, 1)
    with reader(db) as con:
        ids = sorted(r[0] for r in con.execute("SELECT visit_id FROM visits").fetchall())
    (tmp_path / "again").mkdir()
    path2 = write_csv(tmp_path / "again" / "visits_b.csv", header, list(reversed(rows[:3])))
    (res2,) = ingest_files(db, path2)
    assert (res2.rows_loaded, res2.rows_already_present) == (0, 3)
    assert all(i.startswith("v-") for i in ids)


# --- idempotence, overlap, transactions ----------------------------------------------


def test_reingest_same_file_changes_nothing(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "visits.csv", VISIT_HEADER, good_visit_rows())
    db = tmp_path / "x.duckdb"
    code, out, _ = run("ingest", "--db", str(db), str(path), "--quiet")
    assert code == 0 and "3 read = 3 loaded" in out
    before = db.read_bytes()
    code, out, _ = run("ingest", "--db", str(db), str(path), "--quiet")
    assert code == 0 and "nothing changed" in out
    assert db.read_bytes() == before


def test_overlapping_extract_loads_only_new_rows(tmp_path: Path) -> None:
    rows = good_visit_rows()
    db = tmp_path / "x.duckdb"
    ingest_files(db, write_csv(tmp_path / "jan.csv", VISIT_HEADER, rows[:2]))
    conflict = list(rows[0])
    conflict[10] = 18
    (res,) = ingest_files(db, write_csv(tmp_path / "feb.csv", VISIT_HEADER, [*rows[1:], conflict]))
    assert (res.rows_read, res.rows_loaded, res.rows_already_present, res.rows_quarantined) == (
        3,
        1,
        1,
        1,
    )
    with reader(db) as con:
        q = con.execute("SELECT reason, line FROM quarantine").fetchall()
        vol = con.execute("SELECT volume_added_ml FROM visits WHERE visit_id='v1'").fetchall()
    assert q == [("conflicting duplicate id (differs from the row loaded by an earlier ingest)", 4)]
    assert vol == [(20.0,)], "a conflict never overwrites"


def test_schema_1_database_is_refused_for_reading_then_migrated_by_an_ingest(
    tmp_path: Path,
) -> None:
    rows = good_visit_rows()
    db = tmp_path / "x.duckdb"
    ingest_files(db, write_csv(tmp_path / "jan.csv", VISIT_HEADER, rows[:2]))
    # what a pumpqi of schema 1 wrote: a content hash stored with every row
    con = duckdb.connect(str(db))
    for table in ("visits", "complications"):
        con.execute(f"ALTER TABLE {table} ADD COLUMN content_hash VARCHAR DEFAULT 'h'")
    con.execute("ALTER TABLE visits DROP COLUMN pump_implant_date")
    con.execute("UPDATE pumpqi_meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(SchemaVersionError, match="pumpqi upgrade --db x.duckdb"), reader(db):
        pass
    conflict = list(rows[0])
    conflict[10] = 18
    (res,) = ingest_files(db, write_csv(tmp_path / "feb.csv", VISIT_HEADER, [*rows[1:], conflict]))
    assert (res.rows_loaded, res.rows_already_present, res.rows_quarantined) == (1, 1, 1)
    with reader(db) as con:
        version = con.execute("SELECT value FROM pumpqi_meta WHERE key = 'schema_version'")
        assert version.fetchall() == [("3",)]
        hashed = con.execute(
            "SELECT table_name FROM duckdb_columns() WHERE column_name = 'content_hash'"
        ).fetchall()
        assert hashed == [("ingest_log",)], "only the files' hashes are kept"
        assert con.execute("SELECT count(*) FROM visits").fetchall() == [(3,)]


def test_upgrade_command_migrates_and_keeps_every_row(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    ingest_files(db, write_csv(tmp_path / "jan.csv", VISIT_HEADER, good_visit_rows()))
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE visits DROP COLUMN pump_implant_date")
    con.execute("UPDATE pumpqi_meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    res = CliRunner().invoke(main, ["upgrade", "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "up to date (schema 3)" in res.output
    with reader(db) as con:
        assert con.execute("SELECT count(*) FROM visits").fetchall() == [(3,)]
        assert con.execute("SELECT count(pump_implant_date) FROM visits").fetchall() == [(0,)]


def test_pump_implant_date_takes_a_year_month_as_its_15th(tmp_path: Path) -> None:
    header = [*VISIT_HEADER, "pump_implant_date"]
    rows = [[*r, d] for r, d in zip(good_visit_rows(), ["2019-03", "2019-03-02", ""], strict=True)]
    db = tmp_path / "x.duckdb"
    ingest_files(db, write_csv(tmp_path / "v.csv", header, rows))
    with reader(db) as con:
        got = con.execute("SELECT pump_implant_date FROM visits ORDER BY visit_id").fetchall()
    assert [g[0] for g in got] == [dt.date(2019, 3, 15), dt.date(2019, 3, 2), None]


def test_rows_with_missing_values_are_recognised_as_already_present(tmp_path: Path) -> None:
    rows = good_visit_rows()
    sparse = [list(r) for r in rows]
    for r in sparse:
        r[VISIT_HEADER.index("notes")] = ""
        r[VISIT_HEADER.index("pump_model")] = ""
    db = tmp_path / "x.duckdb"
    ingest_files(db, write_csv(tmp_path / "jan.csv", VISIT_HEADER, sparse))
    (res,) = ingest_files(db, write_csv(tmp_path / "feb.csv", VISIT_HEADER, sparse[::-1]))
    assert (res.rows_loaded, res.rows_already_present, res.rows_quarantined) == (0, 3, 0)


def test_failure_half_way_leaves_database_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "x.duckdb"
    ingest_files(db, write_csv(tmp_path / "jan.csv", VISIT_HEADER, good_visit_rows()[:2]))
    before = db_digest(db)
    comp = write_csv(
        tmp_path / "c.csv",
        ["patient_id", "report_date", "complication"],
        [["pa1", "2024-02-01", "csf_leak"]],
    )

    def boom(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest_mod, "mark_present", boom)
    with pytest.raises(KeyboardInterrupt):
        ingest_files(db, write_csv(tmp_path / "feb.csv", VISIT_HEADER, good_visit_rows()), comp)
    assert db_digest(db) == before
    assert not list(tmp_path.glob(".x.duckdb.pumpqi-tmp-*"))


def test_complications_get_category(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    comp = write_csv(
        tmp_path / "c.csv",
        ["patient_id", "report_date", "complication", "serious", "severity"],
        [
            ["pa1", "2024-02-01", "CSF leak", "yes", "Mild"],
            ["pa1", "2024-02-03", "pocket-fill", "0", ""],
            ["pa1", "2024-02-03", "bruise", "0", ""],
            ["pa1", "2024-02-04", "granuloma", "maybe", ""],
        ],
    )
    _, res = ingest_files(db, write_csv(tmp_path / "v.csv", VISIT_HEADER, good_visit_rows()), comp)
    assert (res.rows_loaded, res.rows_quarantined) == (2, 2)
    with reader(db) as con:
        got = con.execute(
            "SELECT complication, category, serious, severity FROM complications ORDER BY report_date"
        ).fetchall()
    assert got == [
        ("csf_leak", "wound", True, "mild"),
        ("pocket_fill", "refill error", False, None),
    ]


def test_old_schema_gets_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE pumpqi_meta (key VARCHAR, value VARCHAR); INSERT INTO pumpqi_meta VALUES ('schema_version', '0')"
    )
    con.close()
    with pytest.raises(SchemaVersionError, match="older pumpqi"), reader(db):
        pass
    code, _, err = run(
        "ingest",
        "--db",
        str(db),
        str(write_csv(tmp_path / "v.csv", VISIT_HEADER, good_visit_rows())),
    )
    assert code == 2 and "older pumpqi" in err


def test_clean_file_quarantine_frame_is_the_query_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no row set aside the empty quarantine frame is made without the query: it
    has the columns and types the query gives, and the ingest loads and logs the same."""
    import analytics.ingest.quarantine as quarantine

    path = write_csv(tmp_path / "v.csv", VISIT_HEADER, good_visit_rows())
    frames: dict[str, pd.DataFrame] = {}
    original = quarantine.quarantine_frame

    def keep(label: str) -> object:
        def spy(*args: object, **kwargs: object) -> pd.DataFrame:
            frame = original(*args, **kwargs)  # type: ignore[arg-type]
            frames[label] = frame
            return frame

        return spy

    dbs = {}
    for label in ("fast", "query"):
        if label == "query":  # as if a row were set aside: the query runs
            monkeypatch.setattr(quarantine, "_set_aside", lambda con, table: 1)
        monkeypatch.setattr(ingest_mod, "quarantine_frame", keep(label))
        dbs[label] = tmp_path / f"{label}.duckdb"
        (res,) = ingest_files(dbs[label], path)
        assert res.rows_quarantined == 0 and res.rows_loaded == len(good_visit_rows())
    assert frames["fast"].empty and frames["query"].empty
    pd.testing.assert_frame_equal(frames["fast"], frames["query"])
    for db in dbs.values():
        with reader(db) as con:
            assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(0,)]

"""Ingest: a patient_id that looks like a record number or a name is refused (most rows)
or quarantined (a few rows), and quarantined rows are stored with identifier-like text
redacted in every cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analytics.cli.commands import main
from analytics.ingest.contract import VISIT_TYPES
from analytics.ingest.load import ingest_files, validate_files
from analytics.ingest.redaction import REDACTED
from analytics.store import reader
from tests.conftest import VISIT_HEADER, good_visit_rows, write_csv

SECRET_NAME = "Alice Zebrowski"
SECRET_DOB = "1961-04-17"


def quarantine(db: Path) -> list[tuple[str | None, str, dict[str, object]]]:
    with reader(db) as con:
        rows = con.execute(
            "SELECT column_name, reason, raw_row FROM quarantine ORDER BY line"
        ).fetchall()
    return [(c, r, json.loads(raw)) for c, r, raw in rows]


def everything(db: Path) -> str:
    with reader(db) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return "\n".join(con.execute(f'SELECT * FROM "{t}"').df().to_csv() for t in tables)


# --- patient ids that are not pseudonyms ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("H1000000", "a record number"),
        ("AB7919X", "a record number"),
        ("00123456", "a record number"),
        ("MRN 1234567", "a record number"),
        (SECRET_NAME, "a person's name"),
        ("Zebrowski, Alice", "a person's name"),
        (f"zebrowski {SECRET_DOB}", "a date"),
    ],
)
def test_a_few_rows_are_quarantined_and_redacted(tmp_path: Path, value: str, kind: str) -> None:
    rows = good_visit_rows()
    rows[1][0] = value
    path = write_csv(tmp_path / "visits.csv", VISIT_HEADER, rows)
    db = tmp_path / "x.duckdb"
    (result,) = ingest_files(db, path)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    ((column, reason, raw),) = quarantine(db)
    assert column == "patient_id"
    assert reason == f"patient_id looks like {kind}, not a pseudonym"
    assert raw["patient_id"] == REDACTED and raw["visit_date"] == "2024-03-01"
    assert value not in everything(db)


@pytest.mark.parametrize(
    ("ids", "kind"),
    [
        (["H1000000", "H1000001", "pa3"], "a record number"),
        ([SECRET_NAME, "Bob Yates", "pa3"], "a person's name"),
    ],
)
def test_most_rows_refuse_the_file_naming_no_value(
    tmp_path: Path, ids: list[str], kind: str
) -> None:
    rows = [[pid, *r[1:]] for pid, r in zip(ids, good_visit_rows(), strict=True)]
    path = write_csv(tmp_path / "visits.csv", VISIT_HEADER, rows)
    db = tmp_path / "x.duckdb"
    res = CliRunner().invoke(main, ["ingest", "--db", str(db), str(path), "--quiet"])
    assert res.exit_code == 2
    assert res.stderr == (
        f"pumpqi: visits.csv, column 'patient_id': looks like {kind} in 2 of 3 rows:"
        " patient_id must be a pseudonym; make the file with `pumpqi deidentify`"
        " (keyed pseudonyms)\n"
    )
    assert not any(i in res.output for i in ids) and not db.exists()


def test_half_is_not_most(tmp_path: Path) -> None:
    rows = good_visit_rows() + [
        ["pa4", "2024-02-11", "implant", "v4", "B", "", "", "", "", "", "", ""]
    ]
    rows[0][0], rows[1][0] = "H1000000", "H1000000"
    path = write_csv(tmp_path / "visits.csv", VISIT_HEADER, rows)
    results, faults = validate_files(path)
    assert results[0].rows_quarantined == 2 and set(faults["column_name"]) == {"patient_id"}


def test_pseudonyms_and_synthetic_ids_pass(tmp_path: Path) -> None:
    """`pumpqi synth` output (lower-case hex ids) ingests with no patient_id fault."""
    out = tmp_path / "synth"
    res = CliRunner().invoke(main, ["synth", "--patients", "400", "--years", "2", "--seed", "5",
                                    "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    db = tmp_path / "s.duckdb"
    results = ingest_files(db, out / "visits.csv", out / "complications.csv")
    assert all(r.rows_quarantined == 0 for r in results), [r.line() for r in results]
    rows = [[f"p_{i:016x}", *r[1:]] for i, r in enumerate(good_visit_rows())]
    rows[1][0] = rows[0][0]
    path = write_csv(tmp_path / "deid.csv", VISIT_HEADER, rows)
    results, faults = validate_files(path)
    assert len(faults) == 0


# --- every quarantined cell redacted when it looks like an identifier -----------------


def test_name_and_birth_date_typed_into_other_cells_are_redacted(tmp_path: Path) -> None:
    header = [*VISIT_HEADER, "next_refill_due", "pain_nrs", "ward"]
    rows = [[*r, "", "", "W1"] for r in good_visit_rows()]
    rows[0][VISIT_HEADER.index("visit_date")] = f"{SECRET_NAME} {SECRET_DOB}"  # a date cell
    rows[1][VISIT_HEADER.index("reservoir_ml")] = SECRET_DOB  # a birth date in a number cell
    rows[2][VISIT_HEADER.index("visit_type")] = SECRET_NAME  # a name as an enum value
    rows[2][-1] = "Ward 3 " + SECRET_NAME  # an ignored column is not stored at all
    path = write_csv(tmp_path / "visits.csv", header, rows)
    db = tmp_path / "x.duckdb"
    (result,) = ingest_files(db, path, ignore=["ward"])
    assert result.rows_quarantined == 3
    q = quarantine(db)
    assert [(c, r) for c, r, _ in q] == [
        ("visit_date", "unparseable date (expected YYYY-MM-DD)"),
        ("reservoir_ml", "not a number"),
        ("visit_type", "unknown value (allowed: " + ", ".join(VISIT_TYPES) + ")"),
    ]
    assert q[0][2]["visit_date"] == REDACTED and q[0][2]["site"] == "A"
    assert q[1][2]["reservoir_ml"] == REDACTED and q[1][2]["notes"] == "routine"
    assert q[2][2]["visit_type"] == REDACTED and q[2][2]["drug"] == "morphine"
    assert all("ward" not in raw for _, _, raw in q)
    dump = everything(db)
    assert SECRET_NAME not in dump and SECRET_DOB not in dump


def test_ordinary_values_of_quarantined_rows_are_kept(tmp_path: Path) -> None:
    """A valid enum with a space, a date in a date cell, a model name: not redacted."""
    header = [*VISIT_HEADER, "next_refill_due"]
    rows = [[*r, "2024-04-01"] for r in good_visit_rows()]
    rows[1][VISIT_HEADER.index("visit_type")] = "follow up"
    rows[1][VISIT_HEADER.index("volume_added_ml")] = "lots"  # the row's fault
    path = write_csv(tmp_path / "visits.csv", header, rows)
    db = tmp_path / "x.duckdb"
    ingest_files(db, path)
    ((column, _, raw),) = quarantine(db)
    assert column == "volume_added_ml"
    assert raw["visit_type"] == "follow up" and raw["next_refill_due"] == "2024-04-01"
    assert raw["volume_added_ml"] == "lots" and raw["patient_id"] == "pa1"


def test_identifier_patterns_in_any_cell_are_redacted(tmp_path: Path) -> None:
    rows = good_visit_rows()
    rows[0][VISIT_HEADER.index("site")] = "call 555-123-4567"
    rows[0][VISIT_HEADER.index("reservoir_ml")] = "MRN 8675309"
    path = write_csv(tmp_path / "visits.csv", VISIT_HEADER, rows)
    db = tmp_path / "x.duckdb"
    ingest_files(db, path)
    ((_, _, raw),) = quarantine(db)
    assert raw["site"] == REDACTED and raw["reservoir_ml"] == REDACTED
    assert "8675309" not in everything(db) and "555-123-4567" not in everything(db)

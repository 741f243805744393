"""`pumpqi deidentify`: key handling, mapping, transforms, refusals and the ingest round trip."""

from __future__ import annotations

import datetime as dt
import stat
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from analytics.cli.commands import main
from analytics.deidentify.core import Options, deidentify
from analytics.deidentify.keys import Keyed, load_key, new_key_file
from analytics.deidentify.transforms import age_at, parse_dates, scrub_note, zip3
from analytics.errors import PumpqiError
from analytics.ingest.identifiers import NOTES_PATTERNS
from analytics.ingest.load import validate_files
from tests.conftest import write_csv

RAW_HEADER = [
    "MRN", "Patient Name", "DOB", "Refill Date", "Visit Type", "Reservoir Volume",
    "Volume Added", "Pump Serial", "ZIP", "Phone", "Email", "SSN", "Address", "Notes",
]  # fmt: skip
RAW_ROWS: list[list[object]] = [
    ["0012345", "John Smith", "1930-02-03", "2024-03-15", "refill", 20, 18, "NGP123456",
     "03601", "555-123-4567", "js@example.org", "123-45-6789", "1 Main St", "called 555-123-4567"],
    ["0012345", "John Smith", "1930-02-03", "2024-04-20", "refill", 20, 17, "NGP123456",
     "03601", "555-123-4567", "js@example.org", "123-45-6789", "1 Main St", ""],
    ["0099999", "Ann Lee", "1960-12-31", "2024-01-05", "implant", 40, 40, "NGP999111",
     "02134", "555-999-0000", "al@example.org", "987-65-4321", "2 Oak Rd", "SSN 987-65-4321"],
]  # fmt: skip
SECRETS = ["0012345", "0099999", "John Smith", "Ann Lee", "1930-02-03", "1960-12-31",
           "NGP123456", "NGP999111", "03601", "02134", "555-123-4567", "555-999-0000",
           "js@example.org", "al@example.org", "123-45-6789", "987-65-4321", "Main St", "Oak Rd"]  # fmt: skip
EXTRAS_MAP = 'extras = ["age", "zip3"]\n'


def invoke(args: Sequence[str]) -> Result:
    return CliRunner().invoke(main, list(args))


def printed(result: Result) -> str:
    """Everything the command showed the user, stdout and stderr."""
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.key"
    new_key_file(path)
    return path


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "export.csv", RAW_HEADER, RAW_ROWS)


def write_map(tmp_path: Path, text: str, name: str = "map.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the key -------------------------------------------------------------------------


def test_new_key_is_0600_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    first = invoke(["deidentify", "--new-key", str(path)])
    assert first.exit_code == 0, printed(first)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_bytes()
    assert len(load_key(path)) == 32
    again = invoke(["deidentify", "--new-key", str(path)])
    assert again.exit_code == 2
    assert "already exists" in printed(again)
    assert path.read_bytes() == content
    assert content.strip().decode() not in printed(first) + printed(again)


def test_missing_key_file_refuses_and_writes_nothing(tmp_path: Path, raw: Path) -> None:
    out = tmp_path / "out.csv"
    result = invoke(
        ["deidentify", str(raw), "--key-file", str(tmp_path / "no.key"), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "key file not found" in printed(result) and "--new-key" in printed(result)
    assert "Traceback" not in printed(result)
    assert not out.exists()


def test_short_key_file_refuses(tmp_path: Path, raw: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("secret\n")
    bad.chmod(0o600)
    result = invoke(
        ["deidentify", str(raw), "--key-file", str(bad), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2 and "not a pumpqi key" in printed(result)
    assert "secret" not in printed(result).replace("keep it secret", "")


def test_same_key_same_pseudonym_other_key_other(tmp_path: Path) -> None:
    a, b = tmp_path / "a.key", tmp_path / "b.key"
    new_key_file(a)
    new_key_file(b)
    ka, ka_again, kb = Keyed(load_key(a)), Keyed(load_key(a)), Keyed(load_key(b))
    assert ka.pseudonym("patient", "0012345") == ka_again.pseudonym("patient", "0012345")
    assert ka.pseudonym("patient", "0012345") != kb.pseudonym("patient", "0012345")
    assert ka.pseudonym("patient", "0012345") != ka.pseudonym("patient", "0012346")
    p = ka.pseudonym("patient", "0012345")
    assert p.startswith("p_") and len(p) == 18
    assert "key" not in repr(ka).replace("Keyed(", "")  # the key is not in the repr


def test_same_key_same_pseudonyms_across_months(tmp_path: Path, key: Path, raw: Path) -> None:
    other = tmp_path / "other.key"
    new_key_file(other)
    march = write_csv(tmp_path / "march.csv", RAW_HEADER, RAW_ROWS[:1])
    april = write_csv(tmp_path / "april.csv", RAW_HEADER, RAW_ROWS[1:])
    ids = {}
    for name, src, k in [("m", march, key), ("a", april, key), ("o", march, other)]:
        out = tmp_path / f"{name}.csv"
        deidentify(Options(src, k, out))
        ids[name] = pd.read_csv(out, dtype=str)["patient_id"].tolist()
    assert ids["m"][0] == ids["a"][0]  # same patient, next month, same key
    assert ids["o"][0] != ids["m"][0]


# --- what is written -----------------------------------------------------------------


def test_identifiers_dropped_and_file_passes_validate(tmp_path: Path, key: Path, raw: Path) -> None:
    out = tmp_path / "visits.csv"
    mapping = write_map(tmp_path, EXTRAS_MAP)
    result = invoke(["deidentify", str(raw), "--key-file", str(key), "--out", str(out),
                     "--map", str(mapping), "--keep-notes"])  # fmt: skip
    assert result.exit_code == 0, printed(result)
    written = out.read_text()
    shown = printed(result)
    for value in SECRETS:
        assert value not in written and value not in shown, value
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.columns) == ["patient_id", "visit_date", "visit_type", "reservoir_ml",
                                "volume_added_ml", "notes", "age", "zip3",
                                "key_fingerprint"]  # fmt: skip
    assert df["age"].tolist() == ["90+", "90+", "63"]
    assert df["zip3"].tolist() == ["000", "000", "021"]  # 036 is a restricted ZIP3
    assert "--ignore-columns age,zip3" in shown
    results, faults = validate_files(out, ignore=["age", "zip3"])
    assert len(faults) == 0
    assert results[0].rows_loaded == 3


def test_default_drops_birth_date_zip_and_notes(tmp_path: Path, key: Path, raw: Path) -> None:
    out = tmp_path / "visits.parquet"
    summary = deidentify(Options(raw, key, out))
    df = pd.read_parquet(out)
    assert list(df.columns) == ["patient_id", "visit_date", "visit_type", "reservoir_ml",
                                "volume_added_ml", "key_fingerprint"]  # fmt: skip
    dropped = " ".join(summary.dropped)
    for name in ["dob", "zip", "notes", "patient_name", "pump_serial", "phone", "ssn"]:
        assert name in dropped
    results, faults = validate_files(out)
    assert len(faults) == 0 and results[0].rows_loaded == 3


def test_unmapped_column_refuses_naming_it(tmp_path: Path, key: Path) -> None:
    src = write_csv(tmp_path / "x.csv", [*RAW_HEADER, "Insurer"], [[*r, "ACME"] for r in RAW_ROWS])
    out = tmp_path / "out.csv"
    result = invoke(["deidentify", str(src), "--key-file", str(key), "--out", str(out)])
    assert result.exit_code == 2
    assert "insurer" in printed(result) and "ACME" not in printed(result)
    assert not out.exists()
    ok = invoke(
        ["deidentify", str(src), "--key-file", str(key), "--out", str(out), "--drop-unmapped"]
    )
    assert ok.exit_code == 0, printed(ok)
    assert "insurer (unmapped" in printed(ok)
    assert "ACME" not in out.read_text()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[columns]\n"Refill Date" = "refill_when"\n', "not a column of the visits table"),
        ('[columns]\n"Phone" = "visit_date"\n', "all map to visit_date"),
        ('drop = ["MRN"]\n', "required visits column patient_id"),
        ('[columnz]\n"a" = "b"\n', "unknown section"),
        ("[columns\n", "not a readable TOML"),
    ],
)
def test_bad_mapping_refuses(tmp_path: Path, key: Path, raw: Path, toml: str, message: str) -> None:
    mapping = write_map(tmp_path, toml)
    out = tmp_path / "out.csv"
    result = invoke(["deidentify", str(raw), "--key-file", str(key), "--out", str(out),
                     "--map", str(mapping)])  # fmt: skip
    assert result.exit_code == 2 and message in printed(result), printed(result)
    assert not out.exists()


def test_mapping_renames_recodes_and_parses_dates(tmp_path: Path, key: Path) -> None:
    src = write_csv(
        tmp_path / "x.csv",
        ["Acct", "Appt", "Kind", "Med", "RN", "Billing"],
        [["A1", "03/15/2024", "Pump Refill", "Lioresal", "Nurse Jones", "x"],
         ["A2", "12/01/2023", "implant", "baclofen", "Dr Who", "y"]],
    )  # fmt: skip
    mapping = write_map(
        tmp_path,
        'drop = ["Billing"]\n[columns]\nAcct = "patient_id"\nAppt = "visit_date"\n'
        'Kind = "visit_type"\nMed = "drug"\nRN = "clinician"\n[dates]\nformat = "%m/%d/%Y"\n'
        '[values.visit_type]\n"Pump Refill" = "refill"\n[values.drug]\nLioresal = "baclofen"\n',
    )
    out = tmp_path / "out.csv"
    deidentify(Options(src, key, out, mapping=mapping))
    df = pd.read_csv(out, dtype=str)
    assert df["visit_date"].tolist() == ["2024-03-15", "2023-12-01"]
    assert df["visit_type"].tolist() == ["refill", "implant"]
    assert df["drug"].tolist() == ["baclofen", "baclofen"]
    assert all(c.startswith("cl_") for c in df["clinician"])
    assert "Jones" not in out.read_text()


def test_identifier_values_in_a_kept_column_refuse(tmp_path: Path, key: Path) -> None:
    src = write_csv(
        tmp_path / "x.csv",
        ["MRN", "Visit Date", "Visit Type", "Site"],
        [["1", "2024-01-01", "refill", "someone@example.org"]],
    )
    with pytest.raises(PumpqiError, match="site.*e-mail address") as err:
        deidentify(Options(src, key, tmp_path / "o.csv"))
    assert "someone" not in str(err.value)
    assert not (tmp_path / "o.csv").exists()


def test_out_must_not_be_the_raw_file_and_must_be_csv_or_parquet(key: Path, raw: Path) -> None:
    with pytest.raises(PumpqiError, match="raw export"):
        deidentify(Options(raw, key, raw))
    with pytest.raises(PumpqiError, match=r"\.csv or \.parquet"):
        deidentify(Options(raw, key, raw.with_suffix(".xlsx")))


def test_excel_export_and_complications_table(tmp_path: Path, key: Path) -> None:
    src = tmp_path / "complications.xlsx"
    pd.DataFrame(
        {
            "Patient ID": ["0012345", "0099999"],
            "Complication Date": [dt.datetime(2024, 3, 1), dt.datetime(2024, 2, 2)],
            "Complication": ["pocket_fill", "infection_deep"],
            "Severity": ["mild", "severe"],
            "Patient Name": ["John Smith", "Ann Lee"],
            "Encounter ID": ["E1", "E2"],
        }
    ).to_excel(src, index=False)
    out = tmp_path / "complications.csv"
    summary = deidentify(Options(src, key, out, table="complications", shift_dates=True))
    df = pd.read_csv(out, dtype=str)
    assert list(df.columns) == ["patient_id", "report_date", "complication", "visit_id", "severity",
                                "key_fingerprint"]  # fmt: skip
    assert all(v.startswith("v_") for v in df["visit_id"])
    assert "Smith" not in out.read_text()
    assert any("shifted" in t for t in summary.transformed)
    visits = tmp_path / "visits.csv"
    write_csv(
        visits, ["patient_id", "visit_date", "visit_type"], [["p_x", "2024-01-01", "implant"]]
    )
    _, faults = validate_files(visits, out)
    assert len(faults) == 0


# --- transforms ----------------------------------------------------------------------


def test_age_whole_years_top_coded_at_90() -> None:
    birth = parse_dates(pd.Series(["1950-06-15", "1950-06-15", "1930-01-01", "2030-01-01", ""]))
    at = parse_dates(
        pd.Series(["2024-06-14", "2024-06-15", "2024-01-01", "2024-01-01", "2024-01-01"])
    )
    assert age_at(birth, at).tolist() == ["73", "74", "90+", "", ""]


def test_zip3_restricted_and_formats() -> None:
    values = pd.Series(["03601", "02134", "2134", "12345-6789", "893", "ABCDE", "", None])
    assert zip3(values).tolist() == ["000", "021", "021", "123", "000", "", "", ""]


@pytest.mark.parametrize(
    "note",
    [
        "call 555-123-4567 or 555.987.6543",
        "ssn 123-45-6789, mrn 0012345",
        "mail jo.doe+x@clinic.example.com",
        "DOB 1950-01-02, lives in 02134",
        "chart #12345678 reviewed",
    ],
)
def test_scrubbed_notes_pass_the_ingest_guard(note: str) -> None:
    import re

    out = scrub_note(note)
    assert "[removed]" in out
    assert not any(re.search(p, out) for p in NOTES_PATTERNS.values())
    for digits in re.findall(r"\d{4,}", note):
        assert digits not in out


def test_shift_warning_goes_to_stderr(tmp_path: Path, key: Path, raw: Path) -> None:
    result = invoke(["deidentify", str(raw), "--key-file", str(key),
                     "--out", str(tmp_path / "o.csv"), "--shift-dates"])  # fmt: skip
    assert result.exit_code == 0
    assert "approximate" in result.stderr and "Safe Harbor" in result.stderr
    assert "approximate" not in result.stdout


def test_example_mapping_file_works(tmp_path: Path, key: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "deidentify-map.toml"
    header = ["Acct #", "Patient Name", "Birth Dt", "Appt Date", "Encounter Type", "Pump",
              "Res Vol (mL)", "Med", "Vol In (mL)", "Alarm Date", "RN", "Location",
              "Billing Code", "Insurance", "Dx Group", "Catheter Lot #"]  # fmt: skip
    rows = [["0012345", "John Smith", "02/03/1930", "03/15/2024", "Pump Refill", "SynchroMed II",
             20, "Lioresal", 18, "05/01/2024", "Nurse Jones", "A", 99213, "BCBS", "MS", "L77"],
            ["0099999", "Ann Lee", "12/31/1960", "01/05/2024", "implant", "Prometra II", 40,
             "Morphine Sulfate PF", 40, "", "Dr Who", "B", 99214, "Aetna", "FBSS", "L78"]]  # fmt: skip
    src = write_csv(tmp_path / "export.csv", header, rows)
    out = tmp_path / "visits.csv"
    result = invoke(["deidentify", str(src), "--key-file", str(key), "--out", str(out),
                     "--map", str(example), "--shift-dates"])  # fmt: skip
    assert result.exit_code == 0, printed(result)
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert df["drug"].tolist() == ["baclofen", "morphine"]
    assert df["indication"].tolist() == ["spasticity", "noncancer_pain"]
    assert df["age"].tolist() == ["90+", "63"]
    for value in ["0012345", "Smith", "Jones", "1930", "99213", "BCBS", "L77"]:
        assert value not in out.read_text() and value not in printed(result)
    _, faults = validate_files(out, ignore=["age"])
    assert len(faults) == 0


def test_help_has_an_example() -> None:
    result = invoke(["deidentify", "--help"])
    assert result.exit_code == 0
    assert "pumpqi deidentify export.xlsx --key-file" in result.output

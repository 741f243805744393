"""`pumpqi deidentify --relink`: the clinic's own patient ids added to a worklist on the
clinic's machine, from the raw export and the key; nothing in the database."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from analytics.cli.commands import main
from analytics.deidentify.keys import new_key_file
from analytics.deidentify.relink import CLINIC_ID_COLUMN
from tests.conftest import write_csv

RAW_HEADER = ["MRN", "Refill Date", "Visit Type", "Clinic", "Drug", "Conc", "Dose",
              "Reservoir Volume", "Volume Added"]  # fmt: skip
RAW_ROWS: list[list[object]] = [
    # one patient, typed three ways ("AB7919X" most often)
    ["AB7919X", "2024-09-02", "implant", "=cmd|' /C calc'!A0", "baclofen", 2, 0.4, 20, 20],
    ["ab7919x ", "2024-10-01", "refill", "=cmd|' /C calc'!A0", "", "", "", "", 18],
    ["AB7919X", "2024-10-28", "refill", "=cmd|' /C calc'!A0", "", "", "", "", 18],
    # another, as an Excel number once
    ["1000000", "2024-10-10", "implant", "North", "morphine", 10, 2, 40, 40],
    ["1000000.0", "2024-11-20", "refill", "North", "", "", "", "", 38],
    ["0012345", "2024-11-01", "implant", "North", "morphine", 10, 1, 20, 20],
]
MAP = '[columns]\n"Clinic" = "site"\n"Conc" = "concentration_mg_ml"\n"Dose" = "daily_dose_mg"\n'


def invoke(args: Sequence[str]) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def printed(result: Result) -> str:
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def clinic(tmp_path: Path) -> dict[str, Path]:
    """A key, the raw export, its contract file, the database and a worklist CSV."""
    key = tmp_path / "clinic.key"
    new_key_file(key)
    raw = write_csv(tmp_path / "export.csv", RAW_HEADER, RAW_ROWS)
    mapping = tmp_path / "map.toml"
    mapping.write_text(MAP)
    visits, db, worklist = tmp_path / "visits.csv", tmp_path / "pumps.duckdb", tmp_path / "wl.csv"
    for args in (
        ["deidentify", raw, "--key-file", key, "--map", mapping, "--out", visits],
        ["ingest", "--db", db, visits],
        ["refills", "--db", db, "--as-of", "2024-12-31", "--out", worklist],
    ):
        res = invoke(args)
        assert res.exit_code == 0, printed(res)
    return {"key": key, "raw": raw, "map": mapping, "db": db, "worklist": worklist}


def test_relink_adds_the_clinic_ids(clinic: dict[str, Path], tmp_path: Path) -> None:
    db_before = sha(clinic["db"])
    wl = pd.read_csv(clinic["worklist"], dtype=str, keep_default_na=False)
    extra = wl.iloc[:1].assign(patient_id="p_0000000000000000")  # a pseudonym of no one here
    pd.concat([wl, extra]).to_csv(clinic["worklist"], index=False)
    out = tmp_path / "named.csv"
    res = invoke(["deidentify", "--relink", clinic["worklist"], "--raw", clinic["raw"],
                  "--key-file", clinic["key"], "--map", clinic["map"], "--out", out])  # fmt: skip
    assert res.exit_code == 0, printed(res)
    rows = len(wl) + 1
    assert f"{rows} rows, {rows - 1} re-linked" in res.stdout
    assert "1 row(s) could not be matched" in res.stderr
    assert "AB7919X" not in printed(res) and "1000000" not in printed(res)
    named = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(named.columns[:2]) == ["patient_id", CLINIC_ID_COLUMN]
    assert list(named.drop(columns=CLINIC_ID_COLUMN).columns) == list(wl.columns)
    by_pseudonym = dict(zip(named["patient_id"], named[CLINIC_ID_COLUMN], strict=True))
    assert sorted(set(by_pseudonym.values())) == ["", "0012345", "1000000", "AB7919X"]
    assert by_pseudonym["p_0000000000000000"] == ""
    # every row of one patient has the same clinic id; rows of other patients other ids
    assert named.groupby("patient_id")[CLINIC_ID_COLUMN].nunique().max() == 1
    assert (out.stat().st_mode & 0o777) == 0o600
    assert sha(clinic["db"]) == db_before  # nothing written to the database
    with clinic["db"].open("rb") as f:
        assert b"AB7919X" not in f.read() and b"ab7919x" not in clinic["db"].read_bytes()


def test_relinked_cells_never_run_in_a_spreadsheet(clinic: dict[str, Path], tmp_path: Path) -> None:
    wl = pd.read_csv(clinic["worklist"], dtype=str, keep_default_na=False)
    wl["site"] = "=cmd|' /C calc'!A0"
    wl.to_csv(clinic["worklist"], index=False)
    out = tmp_path / "named.csv"
    res = invoke(["deidentify", "--relink", clinic["worklist"], "--raw", clinic["raw"],
                  "--key-file", clinic["key"], "--map", clinic["map"], "--out", out])  # fmt: skip
    assert res.exit_code == 0, printed(res)
    named = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert set(named["site"]) == {"'=cmd|' /C calc'!A0"}


def test_relink_refuses_without_the_key(clinic: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "named.csv"
    res = invoke(["deidentify", "--relink", clinic["worklist"], "--raw", clinic["raw"],
                  "--out", out])  # fmt: skip
    assert res.exit_code == 2 and "--relink needs --key-file" in printed(res)
    res = invoke(["deidentify", "--relink", clinic["worklist"], "--raw", clinic["raw"],
                  "--key-file", tmp_path / "lost.key", "--out", out])  # fmt: skip
    assert res.exit_code == 2 and "key file not found" in printed(res)
    assert not out.exists()


def test_another_key_matches_nothing(clinic: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    new_key_file(other)
    out = tmp_path / "named.csv"
    res = invoke(["deidentify", "--relink", clinic["worklist"], "--raw", clinic["raw"],
                  "--key-file", other, "--map", clinic["map"], "--out", out])  # fmt: skip
    assert res.exit_code == 0
    rows = len(pd.read_csv(clinic["worklist"]))
    assert f"{rows} rows, 0 re-linked" in res.stdout
    assert f"{rows} row(s) could not be matched" in res.stderr
    assert set(pd.read_csv(out, dtype=str, keep_default_na=False)[CLINIC_ID_COLUMN]) == {""}


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("worklist", "--out must not be the worklist itself"),
        ("raw", "--out must not be the raw export"),
        ("key", "the re-linked worklist is written as .csv"),
    ],
)
def test_relink_never_overwrites_its_inputs(
    clinic: dict[str, Path], target: str, message: str
) -> None:
    before = sha(clinic[target])
    res = invoke(["deidentify", "--relink", clinic["worklist"], "--raw", clinic["raw"],
                  "--key-file", clinic["key"], "--out", clinic[target]])  # fmt: skip
    assert res.exit_code == 2 and message in printed(res)
    assert sha(clinic[target]) == before


def test_relink_follows_the_maps_normalising(clinic: dict[str, Path], tmp_path: Path) -> None:
    """Relink hashes the export's ids as the map says: with normalising off, `AB7919X` is
    hashed as typed and no longer gives the pseudonym the worklist holds (made from the
    normalised `ab7919x`); an id already in normal form still does."""
    clinic["map"].write_text(MAP + "[normalise]\npatient_id = false\n")
    out = tmp_path / "named.csv"
    res = invoke(["deidentify", "--relink", clinic["worklist"], "--raw", clinic["raw"],
                  "--key-file", clinic["key"], "--map", clinic["map"], "--out", out])  # fmt: skip
    assert res.exit_code == 0, printed(res)
    named = pd.read_csv(out, dtype=str, keep_default_na=False)
    linked = set(named[CLINIC_ID_COLUMN]) - {""}
    assert "AB7919X" not in linked and "0012345" in linked

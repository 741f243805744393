"""`pumpqi worklist`, `pumpqi plan ...` and `pumpqi dose-flags` on a small database."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.cli.commands import main
from analytics.ingest.contract import VISITS
from analytics.ingest.load import ingest_files
from tests.engine_helpers import _write
from tests.test_battery import measure_rows
from tests.test_worklist_today import five_pumps


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The worklist's five pumps (data end 2024-03-01) and the battery measure's pumps
    (renamed, data end 2024-12-31: the data's end is then 2024-12-31 for both)."""
    d = tmp_path_factory.mktemp("plan")
    rows = five_pumps()
    for r in measure_rows():
        rows.append({**r, "patient_id": f"bat-{r['patient_id']}"})
    for i, r in enumerate(rows):
        r.setdefault("visit_id", f"v{i:03d}")
    ingest_files(d / "t.duckdb", _write(d / "visits.csv", VISITS.names, rows), None)
    return d / "t.duckdb"


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_worklist_prints_the_list_in_its_order(db: Path) -> None:
    """Today 2025-01-06, data end 2024-12-31 (6 days old). The five pumps of 2024-01-01
    have run dry long ago (empty dates in March 2024): ran dry, in risk order."""
    code, out, err = run("worklist", "--db", str(db), "--today", "2025-01-06")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    five = df[~df["patient_id"].str.startswith("bat-")]
    assert list(five["patient_id"]) == ["b", "x", "m", "z", "u"]
    assert set(five["status"]) == {"ran dry (computed)"}
    assert set(df["data_end"]) == {"2024-12-31"} and set(df["data_age_days"]) == {6}
    assert {"risk_class", "days_to_empty", "empty_date", "due_date"} <= set(df.columns)


def test_worklist_counts_and_suppression(db: Path) -> None:
    """Ran dry on 2025-01-06: b, x and bat-s (its new pump's fill of 2024-06-01) at A;
    m, z and u at B. Below 5 (the lowest threshold allowed) they are shown as <5; zeros stay
    zeros."""
    args = ("worklist", "--db", str(db), "--today", "2025-01-06", "--counts")
    code, out, _ = run(*args)
    assert code == 0
    df = pd.read_csv(io.StringIO(out), dtype=str)
    assert "patient_id" not in df.columns
    ran_dry = df[df["status_code"] == "missed"].set_index("site")["fills"].to_dict()
    assert ran_dry == {"A": "3", "B": "3"}
    code, out, _ = run(*args, "--suppress-below", "5")
    df = pd.read_csv(io.StringIO(out), dtype=str)
    assert df[df["status_code"] == "missed"]["fills"].tolist() == ["<5", "<5"]
    assert set(df[df["status_code"] != "missed"]["fills"]) == {"0"}


def test_suppression_of_a_patient_list_is_refused(db: Path) -> None:
    code, _, err = run("worklist", "--db", str(db), "--suppress-below", "11")
    assert code == 2 and err.startswith("pumpqi: ") and err.count("\n") == 1
    assert "--counts" in err


def test_bad_today_is_one_line(db: Path) -> None:
    code, _, err = run("worklist", "--db", str(db), "--today", "06/12/2026")
    assert code == 2 and "--today" in err and err.count("\n") == 1


def test_plan_battery_and_replaced(db: Path) -> None:
    """The measure's pumps as of 2024-12-31: 2 of 5 replaced before end of life (see
    tests/test_battery.py; the five worklist pumps reach theirs in 2031). The plan on
    2025-01-06, to 2026-01-06: only y is in place with its end of life (2024-04-01) by
    then, already past; the replaced pumps' successors reach theirs in 2030-2031."""
    code, out, err = run("plan", "replaced", "--db", str(db), "--format", "json")
    assert code == 0, err
    assert json.loads(out) == [
        {"group": "all", "pumps_reached_eol": 5, "replaced_before_eol": 2, "proportion": 0.4}
    ]
    code, out, err = run("plan", "battery", "--db", str(db), "--today", "2025-01-06")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    assert list(df["patient_id"]) == ["bat-y"]
    assert list(df["battery_status"]) == ["past_eol"]
    code, out, _ = run("plan", "battery", "--db", str(db), "--today", "2025-01-06", "--counts")
    counts = pd.read_csv(io.StringIO(out))
    assert counts["pumps"].sum() == 1 and counts["past_eol"].sum() == 1


def test_plan_workload(db: Path) -> None:
    """Today Monday 2025-01-06: every open fill is overdue, counted in the first week."""
    code, out, err = run("plan", "workload", "--db", str(db), "--today", "2025-01-06")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    first = df[df["week_start"] == "2025-01-06"]
    assert first["refills_due"].sum() == first["overdue"].sum() > 0
    assert df[df["week_start"] != "2025-01-06"]["refills_due"].sum() == 0
    assert df["week_start"].nunique() == 8


def test_dose_flags_list_and_counts(db: Path) -> None:
    """None of these pumps records a dose: no flags, and a table of zeros per month."""
    code, out, err = run("dose-flags", "--db", str(db))
    assert code == 0, err
    assert out.startswith("patient_id,visit_date,") and out.count("\n") == 1
    code, out, err = run("dose-flags", "--db", str(db), "--counts", "--by", "site")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    assert len(df) > 0 and df["visits_flagged"].sum() == 0

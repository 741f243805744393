"""Device survival on a hand-built database: pump periods (replacements, late entry with
pump_implant_date, reports on a replacement day, exit <= entry, as_of), the curve, the
1- and 5-year figures and `pumpqi survival`."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.cli.commands import main
from analytics.engine.survival import (
    CURVE_COLUMNS,
    GROUP_COLUMNS,
    INTERVAL_COLUMNS,
    SUMMARY_COLUMNS,
    pump_periods,
    survival_curve,
    survival_summary,
)
from analytics.errors import PumpqiError
from analytics.ingest.contract import COMPLICATIONS, VISITS
from analytics.ingest.load import ingest_files
from analytics.vocabulary import BY_IDS
from tests.engine_helpers import BASE, D, engine_db, implant, visit
from tests.engine_helpers import _write as write_rows

AS_OF = D("2025-06-30")


def days(a: str, b: str) -> int:
    return (D(b) - D(a)).days


def visits() -> list[dict[str, object]]:
    return [
        # p1: implant, replacement, explant
        implant("p1", "2024-01-01", site="A", **BASE),
        visit("p1", "2024-03-01", "refill", site="A", volume_added_ml=20),
        visit("p1", "2024-06-01", "replacement", site="A", volume_added_ml=20),
        visit("p1", "2025-01-01", "explant", site="A"),
        # p2: in place before the data; pump_implant_date (a month: its 15th) on a later visit
        visit("p2", "2024-03-01", "refill", site="B", drug="morphine", volume_added_ml=20),
        visit("p2", "2024-05-01", "refill", site="B", pump_implant_date="2020-03"),
        # p3: in place before the data, no pump_implant_date: left out
        visit("p3", "2024-02-01", "refill", site="B", drug="morphine", volume_added_ml=20),
        # p4: a catheter problem on the implant day: exit = entry = 0
        implant("p4", "2024-02-01", site="A", **BASE),
        # p5: discharged; a catheter report on the discharge day counts
        implant("p5", "2024-04-01", site="B", **BASE),
        visit("p5", "2024-08-01", "discharge", site="B"),
        # p6: a trial with a report before the implant (not this pump's)
        visit("p6", "2024-01-05", "trial", site="A"),
        implant("p6", "2024-01-20", site="A", **BASE),
        # p7: the log opens with a replacement; a report that day is the old pump's
        visit("p7", "2024-05-01", "replacement", site="A", pump_implant_date="2019-01-01", **BASE),
        # p8: late entry, then replaced; a pump failure on the replacement day is the old pump's
        visit("p8", "2023-06-01", "refill", site="B", pump_implant_date="2018-06-15", **BASE),
        visit("p8", "2024-01-10", "replacement", site="B"),
        # p9: in place before the data, but its pump_implant_date is after its first visit
        visit("p9", "2024-03-01", "refill", site="B", pump_implant_date="2024-04-01", **BASE),
        # p10: entered late, but had a catheter problem before its first visit
        visit("p10", "2024-03-01", "refill", site="B", pump_implant_date="2021-01-01", **BASE),
    ]


def reports() -> list[dict[str, object]]:
    r = [
        ("p1", "2024-06-01", "catheter_occlusion"),
        ("p1", "2024-09-10", "pump_failure"),
        ("p2", "2024-05-01", "battery_depletion"),
        ("p3", "2024-04-01", "pump_failure"),
        ("p4", "2024-02-01", "catheter_kink"),
        ("p5", "2024-08-01", "catheter_fracture"),
        ("p5", "2024-08-02", "pump_flip"),
        ("p6", "2024-01-10", "catheter_occlusion"),
        ("p7", "2024-05-01", "pump_flip"),
        ("p8", "2024-01-10", "pump_failure"),
        ("p10", "2023-12-01", "catheter_occlusion"),
    ]
    return [{"patient_id": p, "report_date": d, "complication": c} for p, d, c in r]


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    with engine_db(visits(), reports()) as connection:
        yield connection


def rows(df: pd.DataFrame) -> list[tuple[object, ...]]:
    out = df.assign(implant_date=df["implant_date"].dt.strftime("%Y-%m-%d"))
    return [tuple(r) for r in out.loc[:, list(INTERVAL_COLUMNS)].itertuples(index=False)]


def test_pump_periods_device_endpoint(con: duckdb.DuckDBPyConnection) -> None:
    periods = pump_periods(con, AS_OF, "device")
    p2_implant = "2020-03-15"
    assert rows(periods) == [
        ("all", "p1", "2024-01-01", 0, days("2024-01-01", "2024-06-01"), 1),  # 152: replacement day
        ("all", "p1", "2024-06-01", 0, days("2024-06-01", "2024-09-10"), 1),  # 101
        ("all", "p10", "2021-01-01", days("2021-01-01", "2024-03-01"),
         days("2021-01-01", "2023-12-01"), 1),  # an event before entry: not in the curve
        ("all", "p2", p2_implant, days(p2_implant, "2024-03-01"), days(p2_implant, "2025-06-30"), 0),
        ("all", "p4", "2024-02-01", 0, 0, 1),
        ("all", "p5", "2024-04-01", 0, days("2024-04-01", "2024-08-01"), 1),  # 122
        ("all", "p6", "2024-01-20", 0, days("2024-01-20", "2025-06-30"), 0),
        ("all", "p7", "2024-05-01", 0, days("2024-05-01", "2025-06-30"), 0),
        ("all", "p8", "2018-06-15", days("2018-06-15", "2023-06-01"),
         days("2018-06-15", "2024-01-10"), 1),
        ("all", "p8", "2024-01-10", 0, days("2024-01-10", "2025-06-30"), 0),
    ]  # fmt: skip
    assert periods["in_curve"].tolist() == [True, True, False, True, False] + [True] * 5
    assert periods.loc[periods["patient_id"] == "p2", "late"].tolist() == [True]
    assert periods.loc[periods["patient_id"] == "p2", "entry_days"].tolist() == [1447]


def test_pumps_that_cannot_be_timed(con: duckdb.DuckDBPyConnection) -> None:
    everything = pump_periods(con, AS_OF, "device", keep_untimed=True)
    untimed = everything[~everything["timed"]]
    assert untimed["patient_id"].tolist() == ["p3", "p9"]
    assert untimed["entry_days"].isna().all() and untimed["event"].isna().all()
    assert not untimed["in_curve"].any() and untimed["late"].all()
    timed = pump_periods(con, AS_OF, "device")
    assert timed["timed"].all() and len(timed) == len(everything) - 2
    pd.testing.assert_frame_equal(survival_curve(everything), survival_curve(timed))


def test_pump_and_catheter_endpoints(con: duckdb.DuckDBPyConnection) -> None:
    pump = pump_periods(con, AS_OF, "pump")
    by_patient = pump.groupby("patient_id")["event"].apply(list).to_dict()
    # battery depletion is not a pump event (p2); p1's first pump had only a catheter problem
    assert by_patient == {"p1": [0, 1], "p2": [0], "p4": [0], "p5": [0], "p6": [0], "p7": [0],
                          "p8": [1, 0], "p10": [0]}  # fmt: skip
    p1 = pump[pump["patient_id"] == "p1"]
    assert p1["exit_days"].tolist() == [152, 101]
    catheter = pump_periods(con, AS_OF, "catheter").set_index(["patient_id", "implant_date"])
    assert catheter.loc[("p1", pd.Timestamp("2024-06-01")), "exit_days"] == days(
        "2024-06-01", "2025-01-01"
    )  # censored at the explant
    assert catheter.loc[("p1", pd.Timestamp("2024-06-01")), "event"] == 0
    assert catheter.loc[("p5", pd.Timestamp("2024-04-01")), "event"] == 1


def test_an_earlier_cut_off_sees_only_what_was_known(con: duckdb.DuckDBPyConnection) -> None:
    periods = pump_periods(con, D("2024-07-01"), "device")
    p1 = periods[periods["patient_id"] == "p1"]
    assert p1["exit_days"].tolist() == [152, 30] and p1["event"].tolist() == [1, 0]
    assert "p2" in set(periods["patient_id"])  # its pump_implant_date was recorded by then
    early = pump_periods(con, D("2024-04-15"), "device")
    assert "p2" not in set(early["patient_id"])  # not yet: left out


def test_groups_are_the_values_at_the_first_visit(con: duckdb.DuckDBPyConnection) -> None:
    periods = pump_periods(con, AS_OF, "device", by="site")
    assert periods.groupby("group")["patient_id"].apply(lambda s: sorted(set(s))).to_dict() == {
        "A": ["p1", "p4", "p6", "p7"],
        "B": ["p10", "p2", "p5", "p8"],
    }
    drugs = pump_periods(con, AS_OF, "device", by="drug")
    assert set(drugs["group"]) == {"baclofen", "morphine"}
    assert set(GROUP_COLUMNS) == set(BY_IDS)  # every --by of the vocabulary
    with pytest.raises(PumpqiError, match="--by: 'clinician' is not one of"):
        pump_periods(con, AS_OF, "device", by="clinician")
    with pytest.raises(PumpqiError, match="endpoint 'battery' is not one of"):
        pump_periods(con, AS_OF, "battery")


def test_curve_and_summary(con: duckdb.DuckDBPyConnection) -> None:
    periods = pump_periods(con, AS_OF, "device")
    curve = survival_curve(periods)
    assert tuple(curve.columns) == CURVE_COLUMNS
    # in the curve: 8 pumps (p4 left out). Exits: 101 (event), 122 (event), 152 (event),
    # then censorings; p2 (entry 1447) and p8's first pump (entry 1812) enter late.
    first = curve.iloc[0]
    assert (first["time_days"], first["n_risk"], first["n_event"]) == (101, 6, 1)
    assert first["survival"] == pytest.approx(5 / 6)
    second = curve.iloc[1]
    assert (second["time_days"], second["n_risk"], second["n_event"]) == (122, 5, 1)
    assert curve["n_event"].sum() == 4 and curve["n_censor"].sum() == 4
    # p2 (1447, 1933] and p8's first pump (1812, 2035] are the only ones followed that long
    late = curve.set_index("time_days").loc[[1933, 2035], ["n_risk", "n_event", "n_censor"]]
    assert late.values.tolist() == [[2, 0, 1], [1, 1, 0]]
    assert curve["survival"].iloc[-1] == 0.0 and np.isnan(curve["ci_low"].iloc[-1])
    summary = survival_summary(con, AS_OF, "device")
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    assert summary["days"].tolist() == [365, 1826]
    year = summary.iloc[0]
    # by 365 days: events at 101, 122, 152 among 6, 5, 4 at risk: S = 5/6 · 4/5 · 3/4 = 1/2
    assert year["survival"] == pytest.approx(0.5)
    assert year["n_risk"] == 3  # p6, p7, p8's second pump (entry 0 < 365 <= exit)
    assert year["ci_low"] < 0.5 < year["ci_high"]
    five = summary.iloc[1]
    assert five["n_risk"] == 2  # p2 (1447, 1933] and p8's first pump (1812, 2035]
    assert five["survival"] == pytest.approx(0.5)  # no event between 152 and 1826
    assert survival_summary(con, AS_OF, "device", days=(2036,))["survival"].isna().all()


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_cli_curve_intervals_and_errors(tmp_path: Path) -> None:
    vis = visits()
    for i, v in enumerate(vis):
        v["visit_id"] = f"v{i:03d}"
    vpath = write_rows(tmp_path / "visits.csv", VISITS.names, vis)
    cpath = write_rows(tmp_path / "complications.csv", COMPLICATIONS.names, reports())
    db = str(tmp_path / "s.duckdb")
    ingest_files(tmp_path / "s.duckdb", vpath, cpath)
    code, out, err = run("survival", "--db", db, "--as-of", "2025-06-30")
    assert code == 0, err
    assert "2 pump(s) whose event or exit is not after their entry" in err
    assert "2 pump(s) implanted before the data without a usable pump_implant_date" in err
    curve = pd.read_csv(io.StringIO(out))
    assert tuple(curve.columns) == CURVE_COLUMNS
    assert curve["time_days"].iloc[0] == 101 and curve["n_risk"].iloc[0] == 6
    assert curve["ci_low"].isna().tolist() == [False] * (len(curve) - 1) + [True]
    code, out, err = run("survival", "--db", db, "--as-of", "2025-06-30", "--intervals",
                         "--by", "site", "--endpoint", "pump", "--format", "json")  # fmt: skip
    assert code == 0, err
    items = json.loads(out)
    assert list(items[0]) == list(INTERVAL_COLUMNS)
    assert items[0] == {"group": "A", "patient_id": "p1", "implant_date": "2024-01-01",
                        "entry_days": 0, "exit_days": 152, "event": 0}  # fmt: skip
    code, _, err = run("survival", "--db", db, "--by", "clinician")
    assert code == 2 and err.count("\n") == 1
    code, _, err = run("survival", "--db", str(tmp_path / "none.duckdb"))
    assert code == 2 and "not found" in err
    code, out, _ = run("survival", "--help")
    assert code == 0 and "pumpqi survival --db" in out

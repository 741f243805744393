"""An incremental ingest (engine/incremental.py) leaves exactly the stored tables a full
computation gives: every engine table, the stored metrics and the planning tables,
compared row for row (EXCEPT ALL both ways), on generated registry data with late
corrections, a new patient at a new site, an explant, events chaining across the
append and a surgical outcome window spanning it, and on random visit logs ingested in
random parts (hypothesis)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import analytics.engine.incremental as incremental
import analytics.ingest.load as load
from analytics import store
from analytics.engine.dose_flags import dose_flags
from analytics.engine.metrics import monthly_metrics
from analytics.engine.refills import episodes, refills
from analytics.engine.surgical import procedure_list
from analytics.engine.tables import rebuild_stored
from analytics.engine.worklist import worklist
from analytics.ingest.contract import COMPLICATIONS, VISITS
from analytics.synth import generate
from tests.engine_helpers import _write
from tests.test_engine_properties import START, reports_for, visit_logs


@pytest.fixture
def modes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The way each ingest brought the stored tables up to date ('incremental'/'full')."""
    seen: list[str] = []
    original = incremental.refresh_stored

    def spy(con: duckdb.DuckDBPyConnection, ingest_id: int) -> str:
        mode = original(con, ingest_id)
        seen.append(mode)
        return mode

    monkeypatch.setattr(load, "refresh_stored", spy)
    yield seen


def stored_differences(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    """Per stored engine table (engine_*) of either database: rows only in a, only in b."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        names = {
            str(r[0])
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() "
                "WHERE database_name IN ('a', 'b') AND starts_with(table_name, 'engine_')"
            ).fetchall()
        }
        out: dict[str, tuple[int, int]] = {}
        for n in sorted(names):
            ab = f"SELECT * FROM a.{n} EXCEPT ALL SELECT * FROM b.{n}"
            ba = f"SELECT * FROM b.{n} EXCEPT ALL SELECT * FROM a.{n}"
            out[n] = (
                con.execute(f"SELECT count(*) FROM ({ab})").fetchall()[0][0],
                con.execute(f"SELECT count(*) FROM ({ba})").fetchall()[0][0],
            )
        meta = "SELECT * FROM {x}.pumpqi_meta WHERE key <> 'created_by'"
        out["pumpqi_meta"] = (
            con.execute(
                f"SELECT count(*) FROM ({meta.format(x='a')} EXCEPT {meta.format(x='b')})"
            ).fetchall()[0][0],
            con.execute(
                f"SELECT count(*) FROM ({meta.format(x='b')} EXCEPT {meta.format(x='a')})"
            ).fetchall()[0][0],
        )
        return out
    finally:
        con.close()


def assert_same_as_full_recomputation(db: Path, tmp: Path) -> None:
    """A copy of `db` with every stored table computed again equals `db`."""
    full = tmp / f"full-{db.name}"
    shutil.copyfile(db, full)
    with store.writer(full) as con:
        rebuild_stored(con)
    diffs = stored_differences(db, full)
    assert len(diffs) >= 12, diffs  # every engine table, the metrics, the keys, the meta
    assert all(d == (0, 0) for d in diffs.values()), {k: d for k, d in diffs.items() if d != (0, 0)}


def figures(db: Path) -> list[pd.DataFrame]:
    """What the CLI shows from the stored tables (no internal key in it)."""
    with store.reader(db) as con:
        return [
            refills(con, detail=True),
            monthly_metrics(con, by="site"),
            monthly_metrics(con, by="drug", per="report"),
            episodes(con),
            dose_flags(con),
            worklist(con),
            procedure_list(con),
        ]


# --- generated registry data ----------------------------------------------------------


def _registry(tmp: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    res = generate(patients=120, years=3, seed=11, sites=2)
    v, c = res.visits.copy(), res.complications.copy()
    end = v.visit_date.max()
    cut = pd.Timestamp(end) - pd.Timedelta(days=40)
    return v, c, cut


def _special_rows(v: pd.DataFrame, cut: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame, dt.date]:
    """Rows for the append that test its hard cases (visits, reports)."""
    day = pd.Timedelta(days=1)
    ordered = v.sort_values(["visit_date", "visit_id"])
    last, first = ordered.groupby("patient_id").tail(1), ordered.groupby("patient_id").head(1)
    # patients in therapy across the cut: seen before it, last seen after it, not closed
    across = last[
        (last.visit_date > cut)
        & ~last.visit_type.isin(["explant", "discharge"])
        & last.patient_id.isin(first[first.visit_date < cut - 60 * day].patient_id)
    ].sort_values("patient_id")
    explanted, surgical = across.iloc[0], across.iloc[1]
    rows = [
        {
            **explanted.to_dict(),
            "visit_id": "X-EXPLANT",
            "visit_date": explanted.visit_date + day,
            "visit_type": "explant",
            "volume_added_ml": None,
            "next_refill_due": None,
        },
        # a revision before the cut (in the first file's dates, arriving late) whose deep
        # infection window spans the cut
        {
            **surgical.to_dict(),
            "visit_id": "X-REVISION",
            "visit_date": cut - 20 * day,
            "visit_type": "revision",
            "volume_added_ml": None,
            "next_refill_due": None,
        },
    ]
    # a new patient at a new site
    for i, (vtype, offset) in enumerate([("implant", 2), ("refill", 20), ("reprogram", 25)]):
        rows.append(
            {
                "patient_id": "P-NEW-1",
                "visit_id": f"X-NEW-{i}",
                "visit_date": cut + offset * day,
                "visit_type": vtype,
                "site": "Z",
                "pump_model": "SynchroMed II",
                "reservoir_ml": 20,
                "drug": "baclofen",
                "concentration_mg_ml": 2,
                "daily_dose_mg": 0.4,
                "volume_added_ml": 20 if vtype != "reprogram" else None,
            }
        )
    reports = [
        # chains with a report in the first file (same patient and code, 9 days apart)
        {
            "report_id": "X-R1",
            "patient_id": surgical.patient_id,
            "report_date": cut + 3 * day,
            "complication": "infection_deep",
        },
        {
            "report_id": "X-R2",
            "patient_id": "P-NEW-1",
            "report_date": cut + 21 * day,
            "complication": "pocket_fill",
        },
    ]
    return pd.DataFrame(rows), pd.DataFrame(reports), (explanted.visit_date + day).date()


def test_append_equals_full_recomputation_on_generated_data(
    tmp_path: Path, modes: list[str]
) -> None:
    v, c, cut = _registry(tmp_path)
    extra_v, extra_c, explant_date = _special_rows(v, cut)
    first_v, later_v = v[v.visit_date < cut], v[v.visit_date >= cut]
    first_c, later_c = c[c.report_date < cut], c[c.report_date >= cut]
    # late corrections: old rows arriving with the append
    late_v = first_v.sample(n=15, random_state=1)
    late_c = first_c.sample(n=min(4, len(first_c)), random_state=2)
    first_v, first_c = first_v.drop(late_v.index), first_c.drop(late_c.index)
    surgical_patient = extra_c.iloc[0].patient_id
    chain_start = pd.DataFrame(
        [
            {
                "report_id": "X-R0",
                "patient_id": surgical_patient,
                "report_date": cut - 6 * pd.Timedelta(days=1),
                "complication": "infection_deep",
            }
        ]
    )
    first_c = pd.concat([first_c, chain_start])
    # reports naming a visit: an old refill of a patient the append does not touch (a
    # visit none of the steps reads: found by its id), and a visit that does not exist
    quiet = v[~v.patient_id.isin([*later_v.patient_id, *late_v.patient_id, surgical_patient])]
    old_visit = quiet[quiet.visit_type == "refill"].sort_values("visit_id").iloc[1]
    named = pd.DataFrame(
        [
            {
                "report_id": f"X-N{i}",
                "patient_id": "P-NEW-1",
                "report_date": cut + 22 * pd.Timedelta(days=1),
                "complication": "catheter_kink",
                "visit_id": visit_id,
            }
            for i, visit_id in enumerate([old_visit.visit_id, "NO-SUCH-VISIT"])
        ]
    )
    later_v = pd.concat([later_v, late_v, extra_v])
    later_c = pd.concat([later_c, late_c, extra_c, named])
    files = {}
    for name, frame, contract in (
        ("v1", first_v, VISITS),
        ("v2", later_v, VISITS),
        ("c1", first_c, COMPLICATIONS),
        ("c2", later_c, COMPLICATIONS),
    ):
        path = tmp_path / f"{name}.csv"
        frame.reindex(columns=list(contract.names)).to_csv(
            path, index=False, date_format="%Y-%m-%d"
        )
        files[name] = path
    db = tmp_path / "inc.duckdb"
    for vf, cf in (("v1", "c1"), ("v2", "c2")):
        for r in load.ingest_files(db, files[vf], files[cf]):
            assert r.rows_quarantined == 0, r.line()
    assert modes == ["full", "incremental"]
    assert_same_as_full_recomputation(db, tmp_path)
    # and the same figures as one load of every row (patient keys numbered afresh)
    once = tmp_path / "once.duckdb"
    allv, allc = tmp_path / "all_v.csv", tmp_path / "all_c.csv"
    pd.concat([pd.read_csv(files["v1"]), pd.read_csv(files["v2"])]).to_csv(allv, index=False)
    pd.concat([pd.read_csv(files["c1"]), pd.read_csv(files["c2"])]).to_csv(allc, index=False)
    load.ingest_files(once, allv, allc)
    for a, b in zip(figures(db), figures(once), strict=True):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    # the hard cases were really there
    with store.reader(db) as con:
        assert (
            con.execute(
                "SELECT count(*) FROM engine_cache_pq_episodes WHERE end_date = ?", [explant_date]
            ).fetchall()[0][0]
            >= 1
        )
        assert (
            con.execute(
                "SELECT count(*) FROM engine_cache_pq_reports WHERE report_id = 'X-R1' "
                "AND event_id = 'X-R0'"
            ).fetchall()[0][0]
            == 1
        )
        assert con.execute(
            "SELECT report_id, unknown_visit FROM engine_cache_pq_reports "
            "WHERE report_id IN ('X-N0', 'X-N1') ORDER BY report_id"
        ).fetchall() == [("X-N0", False), ("X-N1", True)]
        assert con.execute(
            "SELECT deep_90d_report_id FROM engine_cache_pq_procedures "
            "WHERE procedure_visit_id = 'X-REVISION'"
        ).fetchall() == [("X-R0",)]
        assert (
            con.execute(
                "SELECT count(*) FROM engine_cache_metrics WHERE by_column = 'site' AND \"group\" = 'Z'"
            ).fetchall()[0][0]
            > 1
        )


# --- random logs in random parts --------------------------------------------------------


def _ingest_parts(
    tmp: Path,
    log: list[dict[str, object]],
    reports: list[dict[str, object]],
    bounds: list[int],
    late: set[int],
) -> Path:
    """Ingest the log in parts split at the day offsets `bounds`; rows whose index is in
    `late` arrive one part late."""
    db = tmp / "parts.duckdb"
    cuts = [START + dt.timedelta(days=b) for b in sorted(bounds)] + [dt.date.max]

    def part(date: str, i: int) -> int:
        k = next(j for j, c in enumerate(cuts) if dt.date.fromisoformat(date) < c)
        return min(k + (i in late), len(cuts) - 1)

    for k in range(len(cuts)):
        vs = [r for i, r in enumerate(log) if part(str(r["visit_date"]), i) == k]
        cs = [r for i, r in enumerate(reports) if part(str(r["report_date"]), i) == k]
        if not vs and not cs:
            continue
        vpath = _write(tmp / f"v{k}.csv", VISITS.names, vs)
        cpath = _write(tmp / f"c{k}.csv", COMPLICATIONS.names, cs) if cs else None
        if not vs:  # reports alone: an empty visits file
            vpath = _write(tmp / f"v{k}.csv", VISITS.names, [])
        for r in load.ingest_files(db, vpath, cpath):
            assert r.rows_quarantined == 0, r.line()
    return db


@st.composite
def rich_visit_logs(draw: st.DrawFn) -> list[dict[str, object]]:
    """visit_logs with the columns they leave out, now and then: a recorded pump implant
    date (before or during the log), a pump model, an alarm volume, a programmed rate,
    residuals, a clinician and an indication (values in force, pump periods, alarms)."""
    log = draw(visit_logs())
    for row in log:
        if draw(st.integers(0, 4)) == 0:
            day = draw(st.integers(-2000, 300))
            row["pump_implant_date"] = (START + dt.timedelta(days=day)).isoformat()
        if draw(st.integers(0, 3)) == 0:
            row["pump_model"] = draw(st.sampled_from(["SynchroMed II", "Prometra II"]))
        if draw(st.integers(0, 4)) == 0:
            row["alarm_ml"] = draw(st.sampled_from([2, 4]))
        if draw(st.integers(0, 5)) == 0:
            row["daily_rate_ml"] = draw(st.sampled_from([0.1, 0.5, 1]))
        if draw(st.integers(0, 4)) == 0:
            row["expected_residual_ml"] = draw(st.sampled_from([2, 5]))
            row["actual_residual_ml"] = draw(st.sampled_from([1, 5, 9]))
        if draw(st.integers(0, 3)) == 0:
            row["clinician"] = draw(st.sampled_from(["c1", "c2"]))
        if draw(st.integers(0, 4)) == 0:
            row["indication"] = draw(st.sampled_from(["spasticity", "cancer_pain"]))
    return log


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    log=rich_visit_logs(),
    bounds=st.lists(st.integers(0, 900), min_size=1, max_size=3),
)
def test_ingest_in_parts_equals_full_recomputation(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    data: st.DataObject,
    log: list[dict[str, object]],
    bounds: list[int],
) -> None:
    monkeypatch.setattr(incremental, "FULL_SHARE", 1.0)  # never a full computation for size
    reports = data.draw(reports_for(log))
    for r in reports:  # some name a visit: of the log (perhaps arriving later) or unknown
        if data.draw(st.integers(0, 2)) == 0:
            r["visit_id"] = data.draw(st.sampled_from([*(v["visit_id"] for v in log), "v-none"]))
    late = set(data.draw(st.lists(st.integers(0, len(log) - 1), max_size=3)))
    tmp = tmp_path_factory.mktemp("parts")
    db = _ingest_parts(tmp, log, reports, bounds, late)
    assert_same_as_full_recomputation(db, tmp)


def test_append_after_a_month_end_equals_full_recomputation(
    tmp_path: Path, modes: list[str]
) -> None:
    """The usual monthly extract: the first load ends on a month's last day (a visit on
    it), the append brings the next month. The open episodes' pump-days of the month
    that ended are complete and stay as stored; every table equals a full computation."""
    v, c, _ = _registry(tmp_path)
    month = (pd.Timestamp(v.visit_date.max()) - pd.Timedelta(days=45)).to_period("M")
    first_day = month.start_time.normalize()
    last_day_before = first_day - pd.Timedelta(days=1)
    first_v, later_v = v[v.visit_date < first_day], v[v.visit_date >= first_day]
    first_c, later_c = c[c.report_date < first_day], c[c.report_date >= first_day]
    if not (first_v.visit_date == last_day_before).any():  # a visit on the month's last day
        row = first_v.sort_values("visit_date").iloc[-1].to_dict()
        row.update(visit_id="X-MONTH-END", visit_date=last_day_before, visit_type="reprogram")
        row.update(volume_added_ml=None, next_refill_due=None)
        first_v = pd.concat([first_v, pd.DataFrame([row])])
    db = tmp_path / "month.duckdb"
    for i, (vs, cs) in enumerate(((first_v, first_c), (later_v, later_c))):
        vpath, cpath = tmp_path / f"mv{i}.csv", tmp_path / f"mc{i}.csv"
        vs.reindex(columns=list(VISITS.names)).to_csv(vpath, index=False, date_format="%Y-%m-%d")
        cs.reindex(columns=list(COMPLICATIONS.names)).to_csv(
            cpath, index=False, date_format="%Y-%m-%d"
        )
        for r in load.ingest_files(db, vpath, cpath):
            assert r.rows_quarantined == 0, r.line()
        if i == 0:
            with store.reader(db) as con:
                open_episodes = con.execute(
                    "SELECT count(*) FROM engine_cache_pq_episodes WHERE end_date IS NULL"
                ).fetchall()[0][0]
                end = con.execute("SELECT max(visit_date) FROM visits").fetchall()[0][0]
            assert end == last_day_before.date() and open_episodes > 0
    assert modes == ["full", "incremental"]
    assert_same_as_full_recomputation(db, tmp_path)

"""Hand-worked episodes, pump-days and monthly metrics."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.engine.metrics import METRIC_COLUMNS, monthly_metrics
from analytics.engine.refills import episodes, refills
from tests.engine_helpers import BASE, D, engine_db, implant, visit


def test_episodes_replacement_explant_reimplant_left_truncation() -> None:
    """p: trial 2023-12-01, implant 2024-01-01, replacement 06-01 (continues), explant 09-01,
    a refill on 10-01 outside any episode (not a refill), implant 11-01 (new episode).
    Episode 1 = [01-01, 09-01): 244 pump-days (leap year); episode 2 open to as_of 12-31
    inclusive: 61 days. q: first visit a refill -> left-truncated from 02-01. s: a second
    implant during an open episode is a fill, not a new episode."""
    with engine_db(
        [
            visit("p", "2023-12-01", "trial"),
            implant("p", "2024-01-01", **BASE),
            visit("p", "2024-06-01", "replacement", volume_added_ml=20),
            visit("p", "2024-09-01", "explant"),
            visit("p", "2024-10-01", "refill", volume_added_ml=20),
            implant("p", "2024-11-01", **BASE),
            visit("q", "2024-02-01", "refill", **BASE),
            implant("s", "2024-01-01", **BASE),
            implant("s", "2024-02-01", volume_added_ml=20),
        ]
    ) as con:
        ep = episodes(con, D("2024-12-31"))
        fills = refills(con, D("2024-12-31"))
    p = ep[ep.patient_id == "p"]
    assert [
        (r.start_date.date(), None if pd.isna(r.end_date) else r.end_date.date(), r.pump_days)
        for r in p.itertuples()
    ] == [(D("2024-01-01"), D("2024-09-01"), 244), (D("2024-11-01"), None, 61)]
    assert not p.left_truncated.any()
    q = ep[ep.patient_id == "q"].iloc[0]
    assert (bool(q.left_truncated), q.start_date.date()) == (True, D("2024-02-01"))
    assert len(ep[ep.patient_id == "s"]) == 1
    pf = fills[fills.patient_id == "p"].fill_date.dt.date.tolist()
    assert pf == [D("2024-01-01"), D("2024-06-01"), D("2024-11-01")], (
        "the 10-01 refill is outside any episode"
    )
    assert len(fills[fills.patient_id == "s"]) == 2


def test_pump_days_split_exactly_at_month_boundaries() -> None:
    """Implant 2024-01-15, explant 03-10, as_of 03-31: January 17 days (15th-31st),
    February 29, March 9 (1st-9th; the explant day does not count). Patient b, open, from
    03-30: 2 days in March (30th and 31st = as_of). Active patients: 1, 1, 2."""
    with engine_db(
        [
            implant("a", "2024-01-15", **BASE),
            visit("a", "2024-03-10", "explant"),
            implant("b", "2024-03-30", **BASE),
        ]
    ) as con:
        m = monthly_metrics(con, D("2024-03-31"))
    assert m.month.tolist() == ["2024-01", "2024-02", "2024-03"]
    assert m.pump_days.tolist() == [17, 29, 11]
    assert m.active_patients.tolist() == [1, 1, 2]


def test_monthly_metrics_hand_worked_by_site() -> None:
    """Site A: a filled 01-01 (due 03-31) refilled 03-20 (on time, due in March) and that
    fill (due 06-18) refilled 06-25 (late: 7 days, empty 06-28). Site B: b filled 01-01,
    due 03-31, never refilled: overdue on 04-05 ... missed from 04-11 (empty 04-10).
    as_of 2024-06-30. Complications: a csf_leak for a on 01-10 (A), a pocket_fill for b on
    03-05 (B, refill error), a trial complication for c on 02-01 (outside any episode)."""
    vis = [
        implant("a", "2024-01-01", site="A", **BASE),
        visit("a", "2024-03-20", "refill", site="A", volume_added_ml=20),
        visit("a", "2024-06-25", "refill", site="A", volume_added_ml=20),
        implant("b", "2024-01-01", site="B", **BASE),
        visit("c", "2024-02-01", "trial", site="A"),
    ]
    comps = [
        {"patient_id": "a", "report_date": "2024-01-10", "complication": "csf_leak"},
        {"patient_id": "b", "report_date": "2024-03-05", "complication": "pocket_fill"},
        {"patient_id": "c", "report_date": "2024-02-01", "complication": "csf_leak"},
    ]
    with engine_db(vis, comps) as con:
        allm = monthly_metrics(con, D("2024-06-30")).set_index("month")
        site = monthly_metrics(con, D("2024-06-30"), by="site").set_index(["month", "group"])
        f = refills(con, D("2024-06-30")).set_index("fill_date")
    assert list(allm.columns) == list(METRIC_COLUMNS[1:])
    assert f.loc[pd.Timestamp("2024-03-20")].due_date == pd.Timestamp("2024-06-18")
    mar = allm.loc["2024-03"]
    assert (mar.refills_due, mar.on_time, mar.missed, mar.on_time_rate) == (2, 1, 1, 0.5)
    assert (allm.loc["2024-06"].refills_due, allm.loc["2024-06"].late) == (1, 1)
    assert allm.loc["2024-01"].pump_days == 62 and allm.loc["2024-01"].fills == 2
    assert allm.loc["2024-01"].complications == 1 and allm.loc["2024-02"].complications == 0
    assert allm.loc["2024-03"].refill_errors == 1
    assert allm.loc["2024-03"].refill_error_rate_per_100 == pytest.approx(
        100 / 1
    )  # 1 error / 1 fill in March
    assert allm.loc["2024-01"].complication_rate_per_1000 == pytest.approx(1000 / 62)
    assert site.loc[("2024-03", "A")].on_time == 1 and site.loc[("2024-03", "B")].missed == 1
    assert site.loc[("2024-05", "B")].pump_days == 31 and site.loc[("2024-05", "A")].fills == 0
    assert set(site.index.get_level_values("group")) == {"A", "B"}
    assert len(site) == 2 * 6, "every group appears in every month"


def test_cli_metrics_and_refills_columns(tmp_path) -> None:
    from analytics.cli.commands import main
    from analytics.ingest.contract import VISITS
    from analytics.ingest.load import ingest_files
    from tests.engine_helpers import _write

    rows = [
        implant("a", "2024-01-01", visit_id="x1", **BASE),
        visit("a", "2024-03-20", "refill", visit_id="x2", volume_added_ml=20),
    ]
    db = tmp_path / "m.duckdb"
    ingest_files(db, _write(tmp_path / "v.csv", VISITS.names, rows))
    r = CliRunner().invoke(
        main, ["metrics", "--db", str(db), "--as-of", "2024-03-31", "--from", "2024-02"]
    )
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert lines[0] == ",".join(METRIC_COLUMNS)
    assert [ln.split(",")[0] for ln in lines[1:]] == ["2024-02", "2024-03"]
    r = CliRunner().invoke(
        main, ["refills", "--db", str(db), "--as-of", "2024-03-31", "--format", "json"]
    )
    assert r.exit_code == 0 and '"due_source": "computed"' in r.stdout
    r = CliRunner().invoke(main, ["metrics", "--db", str(db), "--from", "2024-13"])
    assert r.exit_code == 2 and "not a month" in r.stderr

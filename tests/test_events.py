"""Complication events (chained reports of one code) and the refill-error measure:
hand-worked cases, a property against a plain reference, the CLI."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.config import DEFAULT
from analytics.engine import complications as comp
from analytics.engine.metrics import METRIC_COLUMNS, monthly_metrics
from analytics.engine.refill_errors import refills_between_errors
from analytics.engine.tables import prepare
from analytics.errors import PumpqiError
from tests.engine_helpers import BASE, D, engine_db, implant, visit


def report(rid: str, pid: str, date: str, code: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "report_id": rid,
        "patient_id": pid,
        "report_date": date,
        "complication": code,
    }
    row.update(kw)
    return row


def _reports_table(con) -> pd.DataFrame:
    return con.execute(
        "SELECT report_id, event_id, event_start, event_date FROM pq_reports ORDER BY report_id"
    ).df()


def test_chained_reports_are_one_event_dated_at_the_first() -> None:
    """N = 30. Patient a, catheter_occlusion on days 0, 20, 45 (2024-02-01, 02-21, 03-17):
    each within 30 days of the one before, so one event dated 02-01, although 45 days
    pass from first to last. Patient a, granuloma on days 0 and 31 (02-01, 03-03): two
    events. Patient a, catheter_kink on 02-01 (another code: its own event) and patient
    b, catheter_occlusion on 02-10 (another patient: its own event); b's report of 03-11
    is 30 days later: the same event (30 is within the window)."""
    vis = [implant("a", "2024-01-01", **BASE), implant("b", "2024-01-01", **BASE)]
    reports = [
        report("r1", "a", "2024-02-01", "catheter_occlusion"),
        report("r2", "a", "2024-02-21", "catheter_occlusion"),
        report("r3", "a", "2024-03-17", "catheter_occlusion"),
        report("g1", "a", "2024-02-01", "granuloma"),
        report("g2", "a", "2024-03-03", "granuloma"),
        report("k1", "a", "2024-02-01", "catheter_kink"),
        report("b1", "b", "2024-02-10", "catheter_occlusion"),
        report("b2", "b", "2024-03-11", "catheter_occlusion"),
    ]
    with engine_db(vis, reports) as con:
        prepare(con, D("2024-03-31"))
        t = _reports_table(con).set_index("report_id")
        ev = monthly_metrics(con, D("2024-03-31")).set_index("month")
        rep = monthly_metrics(con, D("2024-03-31"), per="report").set_index("month")
    assert t.loc[["r1", "r2", "r3"], "event_id"].tolist() == ["r1"] * 3
    assert t.loc[["r1", "r2", "r3"], "event_start"].tolist() == [True, False, False]
    assert {str(d)[:10] for d in t.loc[["r1", "r2", "r3"], "event_date"]} == {"2024-02-01"}
    assert t.loc[["g1", "g2"], "event_id"].tolist() == ["g1", "g2"]
    assert t.loc["k1", "event_id"] == "k1"
    assert t.loc[["b1", "b2"], "event_id"].tolist() == ["b1", "b1"]
    # events: February r1, g1, k1, b1 = 4; March g2 = 1 (r2, r3, b2 belong to February's)
    assert ev.loc["2024-02"].complications == 4 and ev.loc["2024-03"].complications == 1
    assert rep.loc["2024-02"].complications == 5 and rep.loc["2024-03"].complications == 3
    assert set(ev.count_unit) == {"event"} and set(rep.count_unit) == {"report"}
    # rates follow the unit: February has 29 + 29 pump-days
    assert ev.loc["2024-02"].complication_rate_per_1000 == pytest.approx(4 / 58 * 1000)
    assert rep.loc["2024-02"].complication_rate_per_1000 == pytest.approx(5 / 58 * 1000)


def test_an_event_counts_in_the_period_and_group_of_its_first_report() -> None:
    """Patient a (site A until a visit at site B on 2024-03-01): seroma reported on
    2024-02-20 at site A (recorded) and on 2024-03-05 at site B (recorded): one event,
    in February and at site A. March has the second report but no event; a period of
    March alone has 0 events and 1 report; February to March has 1 event, 2 reports."""
    vis = [
        implant("a", "2024-01-01", site="A", **BASE),
        visit("a", "2024-03-01", "follow_up", site="B"),
    ]
    reports = [
        report("s1", "a", "2024-02-20", "seroma", site="A"),
        report("s2", "a", "2024-03-05", "seroma", site="B"),
    ]
    with engine_db(vis, reports) as con:
        by_site = monthly_metrics(con, D("2024-03-31"), "site").set_index(["month", "group"])
        march = comp.rates_by_category(
            con, D("2024-03-31"), period=comp.Period("2024-03", "2024-03")
        )
        both = comp.rates_by_category(
            con, D("2024-03-31"), period=comp.Period("2024-02", "2024-03")
        )
        by_rep = comp.rates_by_category(
            con, D("2024-03-31"), "site", comp.Period("2024-03", "2024-03"), per="report"
        )
    assert by_site.loc[("2024-02", "A")].complications == 1
    assert by_site.loc[("2024-03", "B")].complications == 0
    assert by_site.complications.sum() == 1
    wound = march.set_index("category").loc["wound"]
    assert (wound.events, wound.reports, wound.count_unit) == (0, 1, "event")
    assert wound.rate_per_1000 == 0
    w2 = both.set_index("category").loc["wound"]
    assert (w2.events, w2.reports) == (1, 2)
    b = by_rep.set_index(["group", "category"]).loc[("B", "wound")]
    assert (b.events, b.reports, b.count_unit) == (0, 1, "report")
    assert b.rate_per_1000 == pytest.approx(1 / 31 * 1000)  # site B: March's 31 pump-days


def test_event_starting_outside_an_episode_is_not_in_the_rate() -> None:
    """Reading chosen: reports are chained whether or not inside an episode, and an event
    is in a rate when its first report is. A post-dural-puncture headache at the trial
    (2024-01-05, outside) and again on 2024-01-20 after the implant of 01-15 (inside):
    one event, started outside: 0 events in the rate, 1 report."""
    vis = [visit("a", "2024-01-05", "trial"), implant("a", "2024-01-15", **BASE)]
    reports = [
        report("h1", "a", "2024-01-05", "post_dural_puncture_headache"),
        report("h2", "a", "2024-01-20", "post_dural_puncture_headache"),
    ]
    with engine_db(vis, reports) as con:
        ev = monthly_metrics(con, D("2024-01-31"))
        rep = monthly_metrics(con, D("2024-01-31"), per="report")
    assert ev.complications.tolist() == [0] and rep.complications.tolist() == [1]


def test_merge_window_is_a_setting() -> None:
    """event_merge_days = 10: reports on days 0, 20, 45 are three events; 0: every report
    is its own event except those on the same day."""
    vis = [implant("a", "2024-01-01", **BASE)]
    reports = [
        report("r1", "a", "2024-02-01", "catheter_occlusion"),
        report("r2", "a", "2024-02-21", "catheter_occlusion"),
        report("r3", "a", "2024-03-17", "catheter_occlusion"),
        report("r4", "a", "2024-03-17", "catheter_occlusion"),
    ]
    with engine_db(vis, reports) as con:
        ten = monthly_metrics(con, D("2024-03-31"), config=replace(DEFAULT, event_merge_days=10))
        zero = monthly_metrics(con, D("2024-03-31"), config=replace(DEFAULT, event_merge_days=0))
        default = monthly_metrics(con, D("2024-03-31"))
    assert ten.complications.sum() == 3 and zero.complications.sum() == 3
    assert default.complications.sum() == 1


def _reference_events(rows: list[tuple[str, str, int]], n: int) -> int:
    """Events by the definition, in plain Python: per patient and code, sorted days, a new
    event when the gap to the previous report exceeds n."""
    events = 0
    for key in {(p, c) for p, c, _ in rows}:
        days = sorted(d for p, c, d in rows if (p, c) == key)
        events += 1 + sum(1 for a, b in zip(days, days[1:], strict=False) if b - a > n)
    return events


@settings(max_examples=12, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.sampled_from(["catheter_kink", "pocket_fill", "seroma"]),
            st.integers(0, 300),
        ),
        max_size=15,
    ),
    n=st.sampled_from([0, 7, 30, 60]),
)
def test_events_match_the_definition_and_never_exceed_reports(rows, n) -> None:
    vis = [implant("a", "2024-01-01", **BASE), implant("b", "2024-01-01", **BASE)]
    start = dt.date(2024, 1, 1)
    reports = [
        report(f"r{i:02d}", p, (start + dt.timedelta(days=d)).isoformat(), c)
        for i, (p, c, d) in enumerate(rows)
    ]
    config = replace(DEFAULT, event_merge_days=n)
    as_of = D("2024-12-31")
    with engine_db(vis, reports) as con:
        ev = int(monthly_metrics(con, as_of, config=config).complications.sum())
        rep = int(monthly_metrics(con, as_of, config=config, per="report").complications.sum())
        cats = comp.rates_by_category(con, as_of, config=config)
    assert rep == len(rows)
    assert ev == _reference_events(rows, n) <= rep
    assert int(cats.events.sum()) == ev and int(cats.reports.sum()) == rep
    assert ((cats.ci_low <= cats.rate_per_1000) & (cats.rate_per_1000 <= cats.ci_high)).all()


def test_unknown_unit_is_refused() -> None:
    with engine_db([implant("a", "2024-01-01", **BASE)]) as con, pytest.raises(PumpqiError):
        monthly_metrics(con, per="episode")


# --- the refill-error measure ----------------------------------------------------------

REFILL_VISITS = [
    # March: implant's first fill (surgical), three refill visits, a replacement's first
    # fill (surgical) and a follow-up that added volume (a fill, not a refill visit)
    implant("a", "2024-03-01", **BASE),
    visit("a", "2024-03-05", "refill", volume_added_ml=5),
    visit("a", "2024-03-10", "refill", volume_added_ml=5),
    visit("a", "2024-03-15", "refill", volume_added_ml=5),
    visit("a", "2024-03-20", "replacement", **BASE),
    visit("a", "2024-03-25", "follow_up", volume_added_ml=3),
    # April: two refill visits
    visit("a", "2024-04-02", "refill", volume_added_ml=5),
    visit("a", "2024-04-09", "refill", volume_added_ml=5),
]
ERRORS = [
    report("e1", "a", "2024-03-10", "pocket_fill"),
    report("e2", "a", "2024-03-12", "pocket_fill"),  # 2 days later: one event, two errors
    report("e3", "a", "2024-04-09", "programming_error"),
    report("e4", "a", "2024-04-09", "refill_overfill"),
]


def test_percutaneous_refills_leave_out_surgical_fills_and_errors_count_reports() -> None:
    """March: 6 fills, 3 of them at refill visits; 2 pocket-fill reports (one event, but
    refill errors count reports): 2 / 3 x 10,000 = 6,666.7; the deprecated rate: 2 / 6 x
    100. April: 2 refills, 2 errors: 10,000."""
    with engine_db(REFILL_VISITS, ERRORS) as con:
        m = monthly_metrics(con, D("2024-04-30")).set_index("month")
    march, april = m.loc["2024-03"], m.loc["2024-04"]
    assert (march.fills, march.percutaneous_refills, march.refill_errors) == (6, 3, 2)
    assert march.refill_error_rate_per_10000 == pytest.approx(2 / 3 * 10000)
    assert march.refill_error_rate_per_100 == pytest.approx(2 / 6 * 100)
    assert (april.percutaneous_refills, april.refill_errors) == (2, 2)
    assert april.refill_error_rate_per_10000 == pytest.approx(10000)
    assert list(m.reset_index().columns) == list(METRIC_COLUMNS)


def test_refills_between_errors_hand_worked() -> None:
    """Refill visits 03-05, 03-10, 03-15, 04-02, 04-09. e1 (03-10): refills 03-05 and
    03-10 (the one it happened at counts) = 2, first error; e2 (03-12): none since 03-10
    = 0, 2 days; e3 (04-09): 03-15, 04-02, 04-09 = 3, 28 days; e4 the same day: 0, 0 days.
    A period of April alone keeps e3 and e4 with the same figures (their previous error
    lies before it)."""
    with engine_db(REFILL_VISITS, ERRORS) as con:
        g = refills_between_errors(con, D("2024-04-30"))
        april = refills_between_errors(con, D("2024-04-30"), period=comp.Period("2024-04"))
    assert g.report_id.tolist() == ["e1", "e2", "e3", "e4"]
    assert g.refills_between.tolist() == [2, 0, 3, 0]
    assert g.days_between.tolist() == [pd.NA, 2, 28, 0]
    assert g.after_previous.tolist() == [False, True, True, True]
    assert april.report_id.tolist() == ["e3", "e4"]
    assert april.refills_between.tolist() == [3, 0]


def test_refills_between_errors_by_group() -> None:
    """Each site counts its own refills: site A's error after A's two refills, site B's
    after B's one (B's refills do not count for A)."""
    vis = [
        implant("a", "2024-01-01", site="A", **BASE),
        visit("a", "2024-02-01", "refill", site="A", volume_added_ml=5),
        visit("a", "2024-03-01", "refill", site="A", volume_added_ml=5),
        implant("b", "2024-01-01", site="B", **BASE),
        visit("b", "2024-02-15", "refill", site="B", volume_added_ml=5),
    ]
    errs = [
        report("ea", "a", "2024-03-01", "pocket_fill", site="A"),
        report("eb", "b", "2024-02-20", "pocket_fill", site="B"),
    ]
    with engine_db(vis, errs) as con:
        g = refills_between_errors(con, D("2024-03-31"), by="site").set_index("group")
    assert g.loc["A"].refills_between == 2 and g.loc["B"].refills_between == 1


def test_cli_metrics_per_and_complications_refill_errors(tmp_path) -> None:
    from analytics.cli.commands import main
    from analytics.ingest.contract import COMPLICATIONS, VISITS
    from analytics.ingest.load import ingest_files
    from tests.engine_helpers import _write

    rows = [dict(r, visit_id=f"v{i}") for i, r in enumerate(REFILL_VISITS)]
    db = tmp_path / "m.duckdb"
    ingest_files(
        db,
        _write(tmp_path / "v.csv", VISITS.names, rows),
        _write(tmp_path / "c.csv", COMPLICATIONS.names, ERRORS),
    )
    run = CliRunner().invoke
    r = run(main, ["metrics", "--db", str(db), "--format", "json"])
    assert r.exit_code == 0, r.output
    march = pd.read_json(pd.io.common.StringIO(r.stdout)).iloc[0]
    assert (march.complications, march.count_unit) == (1, "event")
    r = run(main, ["metrics", "--db", str(db), "--per", "report", "--format", "json"])
    march = pd.read_json(pd.io.common.StringIO(r.stdout)).iloc[0]
    assert (march.complications, march.count_unit) == (2, "report")
    r = run(main, ["metrics", "--help"])
    assert "deprecated" in r.stdout and "count_unit" in r.stdout
    r = run(main, ["complications", "--db", str(db), "--refill-errors"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == (
        "group,report_id,report_date,complication,refills_between,days_between,after_previous"
    )
    r = run(main, ["complications", "--db", str(db), "--refill-errors", "--suppress-below", "11"])
    assert r.exit_code == 2 and "not for sharing" in r.stderr
    r = run(main, ["complications", "--db", str(db), "--per", "report"])
    assert r.exit_code == 0 and ",report," in r.stdout.splitlines()[1]

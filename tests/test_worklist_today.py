"""The worklist as of today and the workload forecast: hand-worked cases.

Every pump is a SynchroMed II (alarm 2 mL) at 0.2 mL/day filled on 2024-01-01 (2024 is a
leap year: +90 days = 03-31). A fill of V mL reaches the alarm after (V - 2) / 0.2 days
and is empty after V / 0.2 days:

    patient  drug                    risk  V    due    empty
    b        baclofen                1     20   03-31  04-10
    x        bupivacaine+clonidine   2     17   03-16  03-26   (clonidine 2 beats 3)
    m        morphine                2     18   03-21  03-31
    z        bupivacaine             3     16   03-11  03-21   (not configured: default 3)
    u        (no drug recorded)      3     20   03-31  04-10   (default 3)

No stability cap binds (every cap is 90 days or more). A follow-up of patient b on
2024-03-01 makes that the data's end.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest

from analytics.config import DEFAULT
from analytics.engine.worklist import WORKLIST_COLUMNS, worklist, worklist_counts, workload
from tests.engine_helpers import D, engine_db, implant, visit

PUMP: dict[str, object] = dict(pump_model="SynchroMed II", reservoir_ml=20, daily_rate_ml=0.2)


def five_pumps(end: str = "2024-03-01") -> list[dict[str, object]]:
    return [
        implant("b", "2024-01-01", drug="baclofen", volume_added_ml=20, site="A", **PUMP),
        implant(
            "x", "2024-01-01", drug="bupivacaine+clonidine", volume_added_ml=17, site="A", **PUMP
        ),
        implant("m", "2024-01-01", drug="morphine", volume_added_ml=18, site="B", **PUMP),
        implant("z", "2024-01-01", drug="bupivacaine", volume_added_ml=16, site="B", **PUMP),
        implant("u", "2024-01-01", volume_added_ml=20, site="B", **PUMP),
        visit("b", end, "follow_up"),
    ]


def as_rows(df: pd.DataFrame) -> list[tuple[object, ...]]:
    return [
        (r.patient_id, int(r.risk_class), r.status, int(r.days_to_due), int(r.days_to_empty))
        for r in df.itertuples()
    ]


def test_risk_class_first_then_days_to_empty() -> None:
    """Today = the data's end (03-01), within 60 days: everyone is due. Baclofen first
    although it is empty last; then class 2 by days to empty (x 25 before m 30); then
    class 3 (z 20, u 40)."""
    with engine_db(five_pumps()) as con:
        df = worklist(con, D("2024-03-01"), 60)
    assert tuple(df.columns) == WORKLIST_COLUMNS
    assert as_rows(df) == [
        ("b", 1, "due in 30 days", 30, 40),
        ("x", 2, "due in 15 days", 15, 25),
        ("m", 2, "due in 20 days", 20, 30),
        ("z", 3, "due in 10 days", 10, 20),
        ("u", 3, "due in 30 days", 30, 40),
    ]
    assert set(df["data_age_days"]) == {0}
    assert set(df["data_end"]) == {pd.Timestamp("2024-03-01")}


def test_within_window_is_inclusive() -> None:
    """Within 15 days: z (10) and x (15) only; within 14: z only."""
    with engine_db(five_pumps()) as con:
        assert list(worklist(con, D("2024-03-01"), 15)["patient_id"]) == ["x", "z"]
        assert list(worklist(con, D("2024-03-01"), 14)["patient_id"]) == ["z"]
        assert worklist(con, D("2024-03-01"))["patient_id"].tolist() == ["z"]  # default 14


def test_check_rows_when_today_is_after_the_data_end() -> None:
    """Today 03-22, data end 03-01 (21 days old). z (due 03-11), x (03-16) and m (03-21)
    fell due since the extract: 'check'. z's empty date (03-21) has passed too, but the
    data cannot say whether it was refilled since: still 'check', days to empty -1. b and u
    (due 03-31) are due in 9 days."""
    with engine_db(five_pumps()) as con:
        df = worklist(con, D("2024-03-22"), 14)
    check = "check: may be due, data is 21 days old"
    assert as_rows(df) == [
        ("b", 1, "due in 9 days", 9, 19),
        ("x", 2, check, -6, 4),
        ("m", 2, check, -1, 9),
        ("z", 3, check, -11, -1),
        ("u", 3, "due in 9 days", 9, 19),
    ]
    assert set(df["data_age_days"]) == {21}
    assert list(df["status_code"]) == ["due", "check", "check", "check", "due"]
    assert set(df["today"]) == {pd.Timestamp("2024-03-22")}


def test_overdue_and_ran_dry_as_of_today() -> None:
    """Data end 03-25. z: due 03-11, empty 03-21 < 03-25: dry in the data -> 'ran dry'.
    x: due 03-16 < 03-25 <= empty 03-26: overdue at the data's end. m: due 03-21, empty
    03-31: overdue at the data's end. b, u: due 03-31 (6 days).
    Today 03-25: x and m 'alarm date passed'. Today 03-28: x's empty date (03-26) has
    passed since: 'ran dry (computed)' (it was already overdue in the data); m still
    'alarm date passed'; b and u are due in 3 days."""
    with engine_db(five_pumps("2024-03-25")) as con:
        same_day = worklist(con, D("2024-03-25"), 14)
        later = worklist(con, D("2024-03-28"), 14)
    assert as_rows(same_day) == [
        ("b", 1, "due in 6 days", 6, 16),
        ("x", 2, "alarm date passed", -9, 1),
        ("m", 2, "alarm date passed", -4, 6),
        ("z", 3, "ran dry (computed)", -14, -4),
        ("u", 3, "due in 6 days", 6, 16),
    ]
    assert as_rows(later) == [
        ("b", 1, "due in 3 days", 3, 13),
        ("x", 2, "ran dry (computed)", -12, -2),
        ("m", 2, "alarm date passed", -7, 3),
        ("z", 3, "ran dry (computed)", -17, -7),
        ("u", 3, "due in 3 days", 3, 13),
    ]


def test_same_day_statuses_match_the_refill_engine() -> None:
    """With today = the data's end, the worklist's statuses are the engine's own."""
    from analytics.engine.refills import refills

    with engine_db(five_pumps("2024-03-25")) as con:
        wl = worklist(con, D("2024-03-25"), 14).set_index("patient_id")["status_code"]
        rf = refills(con).set_index("patient_id")["status"]
    mapping = {"missed": "missed", "overdue": "overdue", "due": "pending"}
    assert {p: mapping[s] for p, s in wl.items()} == {p: rf[p] for p in wl.index}


def test_grace_days_and_a_day_in_grace() -> None:
    """Grace 3 days. b is due 03-31 (due + grace 04-03); data end 03-30.
    Today 04-02: due date passed, grace not -> 'due 2 days ago, within grace'.
    Today 04-05: due + grace (04-03) fell between the data's end and today -> check."""
    config = replace(DEFAULT, grace_days=3)
    rows = [five_pumps()[0], visit("b", "2024-03-30", "follow_up")]
    with engine_db(rows) as con:
        in_grace = worklist(con, D("2024-04-02"), 14, config)
        after = worklist(con, D("2024-04-05"), 14, config)
    assert list(in_grace["status"]) == ["due 2 days ago, within grace"]
    assert list(in_grace["status_code"]) == ["grace"]
    assert list(after["status"]) == ["check: may be due, data is 6 days old"]


def test_due_today_and_singular_words() -> None:
    """b due 03-31, data end 03-30: on 03-31 'due today'; on 03-30 'due in 1 day'; on
    04-01 the due date fell after the data's end: 'check', data 2 days old."""
    rows = [five_pumps()[0], visit("b", "2024-03-30", "follow_up")]
    with engine_db(rows) as con:
        assert list(worklist(con, D("2024-03-31"), 14)["status"]) == ["due today"]
        assert list(worklist(con, D("2024-03-30"), 14)["status"]) == ["due in 1 day"]
        assert list(worklist(con, D("2024-04-01"), 14)["status"]) == [
            "check: may be due, data is 2 days old"
        ]


def test_only_open_fills_of_open_episodes() -> None:
    """b is refilled on 02-15 (its first fill is closed; the new one, 20 mL, is due
    02-15 + 90 = 05-15); m is explanted on 02-20 (episode closed: not listed); a fill
    whose due date is unknown (q: no rate, no dose) is not listed. Today 03-01, within 90."""
    rows = five_pumps()
    rows += [
        visit("b", "2024-02-15", "refill", volume_added_ml=20),
        visit("m", "2024-02-20", "explant"),
        implant("q", "2024-01-01", pump_model="SynchroMed II", volume_added_ml=20),
    ]
    with engine_db(rows) as con:
        df = worklist(con, D("2024-03-01"), 90)
    assert sorted(df["patient_id"]) == ["b", "u", "x", "z"]
    b = df[df["patient_id"] == "b"].iloc[0]
    assert (b.fill_date, b.due_date) == (pd.Timestamp("2024-02-15"), pd.Timestamp("2024-05-15"))


def test_today_before_the_data_end_uses_the_data_known_then() -> None:
    """b is refilled on 03-25; a list made on 03-20 is the one of 03-20: b's 01-01 fill is
    open then (due in 11 days), and the data's end is 03-20 (age 0)."""
    rows = [*five_pumps(), visit("b", "2024-03-25", "refill", volume_added_ml=20)]
    with engine_db(rows) as con:
        df = worklist(con, D("2024-03-20"), 14)
    b = df[df["patient_id"] == "b"].iloc[0]
    assert (b.status, b.fill_date, b.data_age_days) == (
        "due in 11 days",
        pd.Timestamp("2024-01-01"),
        0,
    )
    assert set(df["data_end"]) == {pd.Timestamp("2024-03-20")}


def test_risk_classes_are_configurable() -> None:
    """A site moving morphine to class 1 and baclofen to 2: m leads; b and x are both
    class 2, so x (empty in 25 days) comes before b (40); then z and u."""
    config = replace(DEFAULT, risk_class={**DEFAULT.risk_class, "morphine": 1, "baclofen": 2})
    with engine_db(five_pumps()) as con:
        df = worklist(con, D("2024-03-01"), 60, config)
    assert list(df["patient_id"]) == ["m", "x", "b", "z", "u"]
    assert list(df["risk_class"]) == [1, 2, 2, 3, 3]


def test_counts_by_site_and_status() -> None:
    """Today 03-22 (see the check case): site A has b (due) and x (check); site B has m
    and z (check) and u (due). Every status is listed per site, zeros included."""
    with engine_db(five_pumps()) as con:
        counts = worklist_counts(con, D("2024-03-22"), 14)
    got = {(r.site, r.status_code): r.fills for r in counts.itertuples()}
    assert got == {
        ("A", "missed"): 0,
        ("A", "overdue"): 0,
        ("A", "check"): 1,
        ("A", "grace"): 0,
        ("A", "due"): 1,
        ("B", "missed"): 0,
        ("B", "overdue"): 0,
        ("B", "check"): 2,
        ("B", "grace"): 0,
        ("B", "due"): 1,
    }
    assert "patient_id" not in counts.columns


@pytest.mark.parametrize("today", ["2024-03-06", "2024-03-10"])
def test_workload_weeks_start_on_monday(today: str) -> None:
    """Data end 03-01; today Wednesday 03-06 (or Sunday 03-10): week 1 is Mon 03-04 to Sun
    03-10. Site A: x due 03-16 (week 2), b due 03-31 (Sunday: week 4). Site B: z due 03-11
    (Monday: week 2), m 03-21 (week 3), u 03-31 (week 4). An overdue pump, o at site B
    (due 02-20, filled 01-01 with 12 mL: (12-2)/0.2 = 50 days), counts in week 1."""
    rows = [
        *five_pumps(),
        implant("o", "2024-01-01", drug="baclofen", volume_added_ml=12, site="B", **PUMP),
    ]
    with engine_db(rows) as con:
        df = workload(con, D(today), 8)
    assert len(df) == 16 and list(df["week_start"].unique()) == list(
        pd.date_range("2024-03-04", periods=8, freq="7D")
    )
    got = {
        (str(r.week_start.date()), r.site): (r.refills_due, r.overdue)
        for r in df.itertuples()
        if r.refills_due
    }
    assert got == {
        ("2024-03-04", "B"): (1, 1),
        ("2024-03-11", "A"): (1, 0),
        ("2024-03-11", "B"): (1, 0),
        ("2024-03-18", "B"): (1, 0),
        ("2024-03-25", "A"): (1, 0),
        ("2024-03-25", "B"): (1, 0),
    }
    assert (df["week_end"] - df["week_start"]).eq(pd.Timedelta(days=6)).all()


def test_workload_counts_only_the_weeks_asked_for() -> None:
    """Two weeks from Wednesday 03-06: weeks of 03-04 and 03-11 only (z and x); m, b and u
    are due later and not counted."""
    with engine_db(five_pumps()) as con:
        df = workload(con, D("2024-03-06"), 2)
    assert df["refills_due"].sum() == 2
    assert set(df["week_start"]) == {pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-11")}


def test_default_today_is_the_date_it_runs() -> None:
    with engine_db(five_pumps()) as con:
        df = worklist(con, None, 10_000)
    assert set(df["today"]) == {pd.Timestamp(dt.date.today())}


@pytest.mark.parametrize("stored", [True, False])
def test_a_dashboard_filter_narrows_the_list(stored: bool) -> None:
    """The dashboard's site filter (`narrow`) keeps site B's pumps only (m, z, u), with the
    stored open fills or with ones built for another configuration."""
    from analytics.engine.tables import narrow, prepare

    config = DEFAULT if stored else replace(DEFAULT, suppress_below=5)
    with engine_db(five_pumps()) as con:
        prepare(con, None, config)
        narrow(con, "site", "B", "unknown")
        df = worklist(con, D("2024-03-01"), 60, config)
        load = workload(con, D("2024-03-01"), 8, config)
    assert list(df["patient_id"]) == ["m", "z", "u"]
    assert set(load["site"]) == {"B"} and load["refills_due"].sum() == 3

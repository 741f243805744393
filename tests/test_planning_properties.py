"""Invariants of the worklist, battery and dose-flag figures over random visit logs."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.config import DEFAULT, Config
from analytics.engine.battery import battery_plan, battery_plan_counts, replaced_before_eol
from analytics.engine.dose_flags import dose_flag_counts, dose_flags
from analytics.engine.refills import refills
from analytics.engine.worklist import worklist, worklist_counts, workload
from tests.engine_helpers import engine_db
from tests.test_engine_properties import START, visit_logs

OTHER = replace(DEFAULT, suppress_below=DEFAULT.suppress_below + 1)
"""Changes nothing these figures use, but forces every engine table to be computed."""


@st.composite
def planning_logs(draw: st.DrawFn) -> list[dict[str, object]]:
    """Random logs with pump models and, now and then, a recorded pump implant date."""
    rows = draw(visit_logs())
    for row in rows:
        if draw(st.integers(0, 2)) == 0:
            row["pump_model"] = draw(st.sampled_from(["SynchroMed II", "Prometra II"]))
        if draw(st.integers(0, 3)) == 0:
            back = draw(st.integers(0, 3000))
            row["pump_implant_date"] = (START - dt.timedelta(days=back)).isoformat()
    return rows


def figures(con, config: Config, today: dt.date, as_of: dt.date | None = None):  # type: ignore[no-untyped-def]
    return (
        worklist(con, today, 30, config),
        worklist_counts(con, today, 30, config),
        workload(con, today, 8, config),
        battery_plan(con, today, 120, config),
        battery_plan_counts(con, today, 12, config),
        replaced_before_eol(con, as_of, "site", config),
        dose_flags(con, as_of, config),
        dose_flag_counts(con, as_of, "site", config),
    )


@settings(max_examples=6, deadline=None)
@given(log=planning_logs(), after=st.integers(0, 60))
def test_stored_tables_equal_computed_ones(log, after) -> None:
    """Ingest stores pq_pumps and pq_dose_flags for the data's end; a configuration that
    changes nothing they use forces computing them: the figures must be identical."""
    with engine_db(log) as con:
        end = refills(con)["fill_date"].max()
        today = (pd.Timestamp(end).date() if pd.notna(end) else START) + dt.timedelta(days=after)
        stored = figures(con, DEFAULT, today)
        computed = figures(con, OTHER, today)
    for a, b in zip(stored, computed, strict=True):
        pd.testing.assert_frame_equal(a, b)


@settings(max_examples=6, deadline=None)
@given(log=planning_logs(), offset=st.integers(0, 900))
def test_earlier_cut_off_equals_computing(log, offset) -> None:
    """At a cut-off before the data's end (reused stored refills, on-demand pumps and dose
    flags) the figures equal a full computation at that cut-off."""
    day = START + dt.timedelta(days=offset)
    with engine_db(log) as con:
        reused = figures(con, DEFAULT, day, day)
        computed = figures(con, OTHER, day, day)
    for a, b in zip(reused, computed, strict=True):
        pd.testing.assert_frame_equal(a, b)


@settings(max_examples=8, deadline=None)
@given(log=planning_logs())
def test_worklist_on_the_data_end_is_the_engine_status(log) -> None:
    """With today = the data's end: every open fill of an open episode that is overdue or
    missed is listed with that status, pending ones as due (or grace); the list is in
    risk, days-to-empty (unknown last), days-to-due order; the measure's numerator never
    exceeds its denominator."""
    with engine_db(log) as con:
        rf = refills(con, detail=False)
        from analytics.engine.tables import resolve_as_of

        end = resolve_as_of(con, None)
        wl = worklist(con, end, 10_000)
        measure = replaced_before_eol(con)
        episodes_open = con.execute(
            "SELECT fill_visit_id FROM pq_refills WHERE episode_end IS NULL "
            "AND next_fill_date IS NULL AND due_date IS NOT NULL"
        ).df()["fill_visit_id"]
    open_fills = rf[rf["fill_visit_id"].isin(set(episodes_open))]
    expected = dict(zip(open_fills["fill_visit_id"], open_fills["status"], strict=True))
    mapping = {"missed": "missed", "overdue": "overdue", "due": "pending", "grace": "pending"}
    got = {v: mapping[s] for v, s in zip(wl["fill_visit_id"], wl["status_code"], strict=True)}
    assert got == expected
    key = list(
        zip(
            wl["risk_class"],
            wl["days_to_empty"].isna(),
            wl["days_to_empty"].fillna(0),
            wl["days_to_due"],
            strict=True,
        )
    )
    assert key == sorted(key)
    assert (measure["replaced_before_eol"] <= measure["pumps_reached_eol"]).all()

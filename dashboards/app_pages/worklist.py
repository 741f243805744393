"""Worklist: pumps that have run dry (computed), are past the alarm date, may have fallen
due since the data's end, or are due soon — as of today, most at risk first, each linked
to the patient's timeline."""

from urllib.parse import quote

import streamlit as st
from _data import load, require_data, run_page
from _draw import figure_table, md, not_shared_now
from _figcache import shared
from _state import DEFAULT_WORKLIST_DAYS, current_scope

from analytics.export import csv_bytes
from analytics.figures import FigureTable, WorklistFigures

SHOWN = ("patient_id", "status", "risk_class", "days_to_empty", "due_date", "empty_date",
         "drug", "site", "fill_date", "fill_visit_id")  # fmt: skip


def _days_from_url() -> int:
    if "pq_days" not in st.session_state:
        raw = st.query_params.get("days", "")
        st.session_state["pq_days"] = (
            int(raw) if raw.isdigit() and 1 <= int(raw) <= 365 else DEFAULT_WORKLIST_DAYS
        )
    return int(st.session_state["pq_days"])


def body() -> None:
    st.title("Refill worklist")
    require_data()
    scope = current_scope()
    if scope is not None and scope.shared:
        not_shared_now()
        return
    _days_from_url()
    days = st.number_input(
        "Show refills due within (days)", min_value=1, max_value=365, step=1, key="pq_days",
        help="Pumps whose due date falls within this many days of today.",
    )  # fmt: skip
    if days != DEFAULT_WORKLIST_DAYS:
        st.query_params["days"] = str(days)
    else:
        st.query_params.pop("days", None)
    data: WorklistFigures = load("worklist", int(days))
    who = scope.describe() if scope else "all patients"
    age = data.data_age_days
    st.caption(
        f"As of today, {data.today:%d %b %Y} · data up to {data.data_end:%d %b %Y} "
        f"({age} day{'s' if age != 1 else ''} old) · {md(who)} · the period does not apply: "
        "this list is about the patients now. Baclofen first: abrupt withdrawal can be fatal."
    )
    assert data.counts is not None and data.items is not None, "not a shared view"
    figure_table(data.counts)
    if data.items.empty:
        st.success("Nothing due, past the alarm date or dry for this selection.")
        return
    items = data.items.frame.assign(patient_id=data.items.frame["patient_id"].map(quote))
    shown = tuple(c for c in data.items.columns if c.key in SHOWN)  # the CSV has every column
    figure_table(
        FigureTable(data.items.key, data.items.caption, items, shown, data.items.note),
        height=min(36 * (len(items) + 1) + 2, 640),
        links={"patient_id": "timeline?patient="},
    )
    st.download_button(
        "Download as CSV",
        shared(csv_bytes, data.items.frame),
        file_name=f"pumpqi-worklist-{data.today:%Y-%m-%d}.csv",
        mime="text/csv",
        help="For the clinic's own machine: `pumpqi deidentify --relink` adds the clinic's "
        "patient identifiers to this file there.",
    )


run_page(body)

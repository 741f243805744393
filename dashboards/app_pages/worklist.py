"""Worklist: pumps due for a refill soon, overdue or already dry, most urgent first."""

import streamlit as st
from _data import load, require_data, run_page
from _draw import table
from _state import current_filters

from analytics.export import csv_bytes
from analytics.figures import WorklistData
from analytics.figures.text import md

DEFAULT_DAYS = 14
SHOWN = ["patient_id", "status", "when", "days_to_due", "due_date", "empty_date", "drug", "site",
         "pump_model", "fill_date", "fill_visit_id"]  # fmt: skip


def _days_from_url() -> int:
    if "pq_days" not in st.session_state:
        raw = st.query_params.get("days", "")
        st.session_state["pq_days"] = (
            int(raw) if raw.isdigit() and 1 <= int(raw) <= 365 else DEFAULT_DAYS
        )
    return int(st.session_state["pq_days"])


def body() -> None:
    st.title("Refill worklist")
    require_data()
    _days_from_url()
    days = st.number_input(
        "Show refills due within (days)", min_value=1, max_value=365, step=1, key="pq_days",
        help="Pending refills whose due date falls within this many days of the data cut-off.",
    )  # fmt: skip
    if days != DEFAULT_DAYS:
        st.query_params["days"] = str(days)
    else:
        st.query_params.pop("days", None)
    data: WorklistData = load("worklist", int(days))
    f = current_filters()
    st.caption(
        f"As of {data.as_of:%d %b %Y} (the data cut-off) · {md(f.describe())} · the period filter "
        "does not apply: this list is about today. Missed = the pump has run dry; overdue = "
        "the low-reservoir alarm date has passed."
    )
    cols = st.columns(len(data.counts))
    for col, row in zip(cols, data.counts.itertuples(), strict=True):
        col.metric(str(row.status).capitalize(), str(row.fills), border=True)
    if f.sharing:
        st.caption("Sharing mode: the list of patients is not shown.")
        return
    if data.table.empty:
        st.success("Nothing due, overdue or missed for this selection.")
        return
    table(
        data.table,
        height=min(36 * (len(data.table) + 1) + 2, 700),
        column_order=SHOWN,
        patient_id=st.column_config.TextColumn("Patient (pseudonym)"),
        when=st.column_config.TextColumn("When"),
        days_to_due=st.column_config.NumberColumn(
            "Days to due date", help="Negative: days late. Sort on this column.", format="%d"
        ),
        due_date=st.column_config.DateColumn("Due date"),
        empty_date=st.column_config.DateColumn("Runs dry on"),
        fill_date=st.column_config.DateColumn("Last fill"),
        fill_visit_id=st.column_config.TextColumn("Fill visit id"),
    )
    st.download_button(
        "Download as CSV",
        csv_bytes(data.table),
        file_name=f"pumpqi-worklist-{data.as_of:%Y-%m-%d}.csv",
        mime="text/csv",
    )


run_page(body)

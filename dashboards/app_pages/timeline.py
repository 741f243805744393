"""Patient timeline: one pseudonymous patient's visits, fills, due and empty dates, dose
changes and complications on one time axis."""

import streamlit as st
from _data import load, require_data, run_page
from _draw import table
from _state import current_filters
from _timeline import timeline_figure

from analytics.figures import TimelineData


def _patient(ids: list[str]) -> str:
    if st.session_state.get("pq_patient") not in ids:
        wanted = st.query_params.get("patient")
        st.session_state["pq_patient"] = wanted if wanted in ids else ids[0]
    chosen = st.selectbox(
        "Patient (pseudonymous id)", ids, key="pq_patient",
        help="Patients with a fill or a pump-day in the sidebar's site, drug, pump model and "
        "indication. Type to search.",
    )  # fmt: skip
    st.query_params["patient"] = chosen
    return str(chosen)


def body() -> None:
    st.title("Patient timeline")
    require_data()
    if current_filters().sharing:
        st.info("Sharing mode: single-patient views are not shown.")
        return
    ids: list[str] = load("patients")
    if not ids:
        st.info("No patients match the sidebar filters.")
        return
    data: TimelineData = load("timeline", _patient(ids))
    if data.message:
        st.info(data.message)
        return
    st.plotly_chart(timeline_figure(data), width="stretch", key="timeline")
    st.caption(
        "How to read this: each row of marks is one kind of event; a refill after the due "
        "mark is late, after the dry mark the pump ran dry. Fill colour: green on time, amber "
        "late, red missed, orange overdue, blue pending, grey other. The lower panel is the "
        "programmed daily dose; shaded spans are therapy episodes. Hover for details."
    )
    st.subheader("Fills")
    table(data.fills)
    with st.expander("Visits"):
        table(data.visits)
    with st.expander("Dose and rate changes"):
        table(data.doses)
    with st.expander("Complication reports"):
        table(data.complications)


run_page(body)

"""Patient timeline: one pseudonymous patient's visits, fills, due and empty dates, dose
changes and complications on one time axis."""

import streamlit as st
from _data import load, require_data, run_page
from _draw import frame_table
from _state import current_scope
from _timeline import timeline_figure

from analytics.figures import TimelineData

NOT_FOUND = (
    "The patient in the link is not among the patients listed here: no such pseudonymous "
    "id in the database, or not in the sidebar's site, drug, pump model or indication. "
    "No patient is shown; choose one below."
)


def _patient(ids: list[str]) -> str | None:
    """The patient to show: the chosen one, else the link's, else the first. A link naming a
    patient not in `ids` shows nobody (never another patient) and says so."""
    if st.session_state.get("pq_patient") not in ids:
        wanted = st.query_params.get("patient")
        st.session_state["pq_patient"] = ids[0] if wanted is None else (
            wanted if wanted in ids else None
        )  # fmt: skip
    if st.session_state["pq_patient"] is None:
        st.warning(NOT_FOUND)
    chosen = st.selectbox(
        "Patient (pseudonymous id)", ids, key="pq_patient", placeholder="Choose a patient",
        help="Patients with a fill or a pump-day in the sidebar's site, drug, pump model and "
        "indication. Type to search.",
    )  # fmt: skip
    if chosen is None:
        return None
    st.query_params["patient"] = chosen
    return str(chosen)


def body() -> None:
    st.title("Patient timeline")
    require_data()
    scope = current_scope()
    if scope is None or scope.shared:
        st.info("Sharing mode: single-patient views are not shown.")
        return
    ids: list[str] = load("patients")
    if not ids:
        st.info("No patients match the sidebar filters.")
        return
    patient = _patient(ids)
    if patient is None:
        return
    data: TimelineData = load("timeline", patient)
    if data.message:
        st.info(data.message)
        return
    st.plotly_chart(timeline_figure(data), width="stretch", key="timeline")
    st.caption(
        "How to read this: each row of marks is one kind of event; a refill after the due "
        "mark is late, after the computed empty date the pump ran dry. Fill colour: the "
        "status (green on time, yellow late, red ran dry, orange alarm date passed, grey "
        "not due yet). Projected due and empty dates are open marks. The lower panel is the "
        "programmed daily dose; shaded spans are therapy episodes. Hover for details."
    )
    st.subheader("Fills")
    frame_table(data.fills)
    with st.expander("Visits"):
        frame_table(data.visits)
    with st.expander("Dose and rate changes"):
        frame_table(data.doses)
    with st.expander("Complication reports"):
        frame_table(data.complications)


run_page(body)

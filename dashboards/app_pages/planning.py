"""Planning: the refill workload of the coming weeks, pumps reaching battery end of life
in the next 12 months, replaced before end of life, and the dose-safety flags."""

import streamlit as st
from _data import load, require_data, run_page
from _draw import figure_table, md, not_shared_now, sharing_note
from _state import current_scope

from analytics.figures.planning import PlanningFigures


def body() -> None:
    st.title("Planning")
    require_data()
    data: PlanningFigures = load("planning")
    scope = current_scope()
    assert scope is not None
    if data.workload is None or data.battery_counts is None or data.battery_list is None:
        not_shared_now()
    else:
        st.subheader("Refill workload")
        st.caption(f"From today, {data.today:%d %b %Y}: the clinic time the coming weeks need.")
        figure_table(data.workload, caption=False)
        st.subheader("Battery end of life")
        figure_table(data.battery_counts, caption=False)
        with st.expander("Pumps reaching end of life in the next 12 months"):
            figure_table(data.battery_list, caption=False)
    figure_table(data.replaced)
    st.subheader("Dose safety")
    st.caption(
        f"{md(scope.label())}: fills and reprogramming visits above a configured maximum "
        "dose or concentration, or a large step up. Each maximum is a setting (see the "
        "Definitions page): confirm against local policy."
    )
    figure_table(data.dose_counts, caption=False)
    if data.dose_list is None:
        sharing_note("the list of flagged visits")
    else:
        with st.expander("Flagged visits"):
            figure_table(data.dose_list, caption=False)


run_page(body)

"""Complications: u-chart, rates by category and code, by group with a funnel plot,
time from surgery, serious events and reports outside therapy episodes."""

import streamlit as st
from _data import load, require_data, run_page
from _draw import bar_chart, control_chart, num, sharing_note, table
from _funnel import funnel_chart
from _state import current_filters

from analytics.figures import DIMENSION_LABELS, ComplicationsData
from analytics.figures.text import md

RATE_COLUMNS = {
    "rate_per_1000": num("Per 1,000 pump-days", "%.3f"),
    "ci_low": num("95 % CI low", "%.3f"),
    "ci_high": num("95 % CI high", "%.3f"),
}


def body() -> None:
    st.title("Complications")
    require_data()
    data: ComplicationsData = load("complications")
    if data.base.message:
        st.info(md(data.base.message))
        return
    sharing = current_filters().sharing
    control_chart(data.chart, key="complications_u")
    left, right = st.columns(2)
    with left:
        bar_chart(
            data.categories, "category", "reports", key="compl_categories", horizontal=True,
            title="Reports by category in the period",
            how_to_read="longer bars are more frequent categories; the table below gives the "
            "rate per 1,000 pump-days with its 95 % interval.",
        )  # fmt: skip
    with right:
        bar_chart(
            data.time_since_surgery, "category", "reports", color="time_since_surgery",
            key="compl_time", horizontal=True,
            title="Time from the latest surgery to the report",
            how_to_read="early reports (within 30 days) point to surgical technique, later "
            "ones to long-term device or drug problems.",
            labels={"time_since_surgery": "time since surgery"},
        )  # fmt: skip
    with st.expander("Rates by category"):
        table(data.categories, **RATE_COLUMNS)
    with st.expander("Rates by complication code"):
        table(data.codes, **RATE_COLUMNS)

    st.subheader("By group")
    tabs = st.tabs(
        [f"Funnel: {b}" for b in data.funnels] + [DIMENSION_LABELS[d] for d in data.by_group]
    )
    for tab, f in zip(tabs, data.funnels.values(), strict=False):
        with tab:
            funnel_chart(f)
    for tab, df in zip(tabs[len(data.funnels) :], data.by_group.values(), strict=True):
        with tab:
            table(
                df,
                complication_rate_per_1000=num("Per 1,000 pump-days", "%.3f"),
                rate_ci_low=num("95 % CI low", "%.3f"),
                rate_ci_high=num("95 % CI high", "%.3f"),
            )

    st.subheader("Severity and serious events")
    left, right = st.columns(2)
    with left:
        table(data.severity)
    with right:
        st.metric("Serious events in the period", data.serious_count, border=True)
        st.caption("Serious = flagged serious, or life-threatening or fatal.")
    if sharing:
        sharing_note("the list of serious events")
    else:
        with st.expander("List of serious events"):
            table(data.serious)

    st.subheader("Reports outside a therapy episode")
    st.caption(
        "During a trial, before an implant or after an explant: counted here, never in the rates."
    )
    table(data.outside)
    if not sharing:
        with st.expander("List of reports outside an episode"):
            table(data.outside_list)


run_page(body)

"""Complications: u-chart, reports by category and code, by group with a funnel plot,
time from surgery, severity and serious events, reports outside therapy episodes."""

import streamlit as st
from _data import load, require_data, run_page
from _draw import bar_chart, control_chart, figure_table, md, sharing_note
from _funnel import funnel_chart
from _state import current_scope

from analytics.figures import ComplicationsFigures, is_hidden
from analytics.figures.outcomes import OutcomesFigures
from analytics.vocabulary import DIMENSION


def body() -> None:
    st.title("Complications")
    require_data()
    data: ComplicationsFigures = load("complications")
    scope = current_scope()
    assert scope is not None
    st.caption(f"{md(scope.label())} · {md(scope.describe())}")
    control_chart(data.chart, key="complications_u")
    left, right = st.columns(2)
    cats = data.categories.frame
    with left:
        bar_chart(
            cats[:-1], "category", "reports", key="compl_categories", horizontal=True,
            title="Complications by category in the period",
            how_to_read="longer bars are more frequent categories (complications counted "
            "per event); the table below gives the rate per 1,000 pump-days with its 95 % "
            "interval.",
            labels={"reports": "complications", "category": ""},
        )  # fmt: skip
    with right:
        surgery = data.surgery.frame
        long = surgery.melt(
            id_vars=["category"], value_vars=[c.key for c in data.surgery.columns[1:-1]],
            var_name="time from surgery", value_name="complications",
        )  # fmt: skip
        bar_chart(
            long, "category", "complications", color="time from surgery", key="compl_time",
            horizontal=True, title="Time from the latest surgery to the complication",
            how_to_read="early complications (first reported within 30 days) point to "
            "surgical technique, later ones to long-term device or drug problems.",
            labels={"category": ""},
        )  # fmt: skip
    with st.expander("Rates by category"):
        figure_table(data.categories, caption=False)
    with st.expander("Rates by complication code"):
        figure_table(data.codes, caption=False)

    st.subheader("By group")
    names = [f"Funnel: {DIMENSION[b].label.lower()}" for b in data.funnels]
    tabs = st.tabs(names + [DIMENSION[d].label for d in data.by_group])
    for tab, f in zip(tabs, data.funnels.values(), strict=False):
        with tab:
            funnel_chart(f)
    for tab, fig in zip(tabs[len(data.funnels) :], data.by_group.values(), strict=True):
        with tab:
            figure_table(fig, caption=False)

    st.subheader("Severity and serious events")
    left, right = st.columns([2, 1])
    with left:
        figure_table(data.severity, caption=False)
    with right:
        n = data.serious_count
        st.metric("Serious events in the period", n if is_hidden(n) else f"{int(n):,}", border=True)  # type: ignore[call-overload]
        st.caption("Serious: flagged serious, or life-threatening or fatal.")
    if data.serious is None or data.outside_list is None:
        sharing_note("the list of serious events")
    else:
        with st.expander("List of serious events"):
            figure_table(data.serious, caption=False)

    outcomes: OutcomesFigures = load("outcomes")
    st.subheader("Surgical outcomes, per procedure")
    st.caption(
        "Most infections and wound problems start at surgery: counted per 100 procedures "
        "(implant, replacement, revision) in a window after each, not per pump-day, so that a "
        "site that implants many pumps does not look worse for it."
    )
    tabs = st.tabs([w.label.capitalize() for w in outcomes.surgical])
    for tab, w in zip(tabs, outcomes.surgical, strict=True):
        with tab:
            control_chart(w.chart, key=f"surgical_{w.window_id}")
            figure_table(w.by_site)
            if w.by_type is not None:
                figure_table(w.by_type)
    st.subheader("By category of complication")
    st.caption(
        "Each category has its own chart: a rise in infections is not hidden by fewer side effects."
    )
    left, right = st.columns(2)
    for i, chart in enumerate(outcomes.categories):
        with left if i % 2 == 0 else right:
            control_chart(chart, key=f"category_{i}")
    if outcomes.refill_errors is not None and outcomes.deep_infections is not None:
        st.subheader("Rare events")
        st.caption(
            "For events too rare for a monthly rate: the gap before each event. A point above "
            "the upper limit is an unusually long spell without events; below the lower limit, "
            "events unusually close together."
        )
        left, right = st.columns(2)
        with left:
            control_chart(outcomes.refill_errors, key="rare_refill_errors")
        with right:
            control_chart(outcomes.deep_infections, key="rare_deep_infections")

    st.subheader("Reports outside a therapy episode")
    st.caption(
        "During a trial, before an implant or after an explant: counted here, never in the rates."
    )
    figure_table(data.outside, caption=False)
    if data.outside_list is not None:
        with st.expander("List of reports outside an episode"):
            figure_table(data.outside_list, caption=False)


run_page(body)

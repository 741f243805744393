"""Refills: on-time p-chart, refills due by month and status, how late, by group, fills
left out of the rate, early refills and residual-volume checks."""

import streamlit as st
from _data import load, require_data, run_page
from _draw import bar_chart, control_chart, figure_table, md, sharing_note
from _state import current_scope

from analytics.figures import RefillsFigures, is_hidden
from analytics.vocabulary import DIMENSION


def body() -> None:
    st.title("Refills")
    require_data()
    data: RefillsFigures = load("refills")
    scope = current_scope()
    assert scope is not None
    st.caption(f"{md(scope.label())} · {md(scope.describe())}")
    control_chart(data.chart, key="refills_on_time")
    left, right = st.columns(2)
    with left:
        unit = data.by_period_unit
        bar_chart(
            data.by_period, "label", "refills", color="status", key="refills_statuses",
            title=f"Refills due by {unit}, by outcome",
            how_to_read=f"each bar is the refills due that {unit} (by due date); red parts are "
            "pumps that ran dry (computed), orange ones are past the alarm date and waiting.",
            labels={"label": f"due {unit}", "refills": "refills due"},
        )  # fmt: skip
    with right:
        bar_chart(
            data.days_late.frame, "bucket", "refills", color="status", key="refills_days_late",
            title="How late: refills due in the period",
            how_to_read="days from the due date to the refill (or to the cut-off while "
            "waiting); bars further right are later.",
            labels={"bucket": "days after the due date", "refills": "refills"},
        )  # fmt: skip
    figure_table(data.excluded)

    st.subheader("By group")
    tabs = st.tabs([DIMENSION[d].label for d in data.by_group])
    for tab, fig in zip(tabs, data.by_group.values(), strict=True):
        with tab:
            figure_table(fig, caption=False)

    st.subheader("Early refills")
    early = data.early_count
    shown = early if is_hidden(early) else f"{int(early):,}"  # type: ignore[call-overload]
    st.caption(
        f"{shown} refills due in the period came more than {data.early_days} days before "
        "their due date. Early is a flag, not a status: they count as on time, but frequent "
        "early refills cost clinic time and drug."
    )
    if data.early is None:
        sharing_note("the list of early refills")
    else:
        with st.expander("List of early refills"):
            figure_table(data.early, caption=False)

    st.subheader("Refill errors and residual volumes")
    st.caption(
        "At a refill the volume left in the pump is compared with the volume expected; a "
        "difference above the tolerance may mean a pump, catheter or pocket-fill problem."
    )
    figure_table(data.quality, caption=False)
    if data.residual_flags is None or data.missed is None:
        sharing_note("the lists of missed fills and flagged refills")
    else:
        with st.expander("Refills with a residual discrepancy"):
            figure_table(data.residual_flags, caption=False)
        with st.expander("Fills due in the period that ran dry (computed)"):
            figure_table(data.missed, caption=False)


run_page(body)

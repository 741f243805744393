"""Refills: on-time p-chart, statuses by month, how late, by group, early refills and
residual-volume discrepancies."""

import streamlit as st
from _data import load, require_data, run_page
from _draw import bar_chart, control_chart, num, pct, sharing_note, table
from _state import current_filters

from analytics.figures import DIMENSION_LABELS, RefillsData
from analytics.figures.text import md


def body() -> None:
    st.title("Refills")
    require_data()
    data: RefillsData = load("refills")
    if data.base.message:
        st.info(md(data.base.message))
        return
    sharing = current_filters().sharing
    control_chart(data.chart, key="refills_on_time")
    left, right = st.columns(2)
    with left:
        bar_chart(
            data.statuses, "month", "refills", color="status", key="refills_statuses",
            title="Refills due each month, by what happened",
            how_to_read="each bar is the refills due that month (by due date); red parts are "
            "pumps that ran dry, orange ones are past the alarm date and still waiting.",
            labels={"month": "due month", "refills": "refills due"},
        )  # fmt: skip
    with right:
        bar_chart(
            data.days_late, "bucket", "refills", color="status", key="refills_days_late",
            title="How late were late refills?",
            how_to_read="days from the due date to the refill (or to today when still "
            "waiting); bars further right are later.",
            labels={"bucket": "days after the due date", "refills": "refills"},
        )  # fmt: skip
    st.caption(
        "Fills in the period that are not in the on-time rate (not due yet, therapy ended "
        "before the due date, or no due date could be worked out):"
    )
    table(data.excluded)

    st.subheader("By group")
    st.caption("Refills due in the period, summed over its months. Rate = on time / due.")
    tabs = st.tabs([DIMENSION_LABELS[d] for d in data.by_group])
    for tab, df in zip(tabs, data.by_group.values(), strict=True):
        with tab:
            table(df, on_time_rate=pct("On-time rate"), group=st.column_config.TextColumn("Group"))

    st.subheader("Early refills")
    st.caption(
        f"{data.early_count} refills due in the period came more than {data.early_days} days "
        "before their due date. Early is a flag, not a status: these count as on time, but "
        "frequent early refills cost clinic time and drug."
    )
    if sharing:
        sharing_note("the list of early refills")
    else:
        with st.expander("List of early refills"):
            table(data.early)

    st.subheader("Residual volume discrepancies")
    st.caption(
        "At a refill, the volume left in the pump is compared with the volume expected; a "
        "difference above the tolerance may mean a pump, catheter or pocket-fill problem."
    )
    table(
        data.residual_summary,
        residual_flags_per_100=num("Flags per 100 refills"),
        refill_error_rate_per_100=num("Refill errors per 100 fills"),
    )
    if sharing:
        sharing_note("the list of flagged refills")
    else:
        with st.expander("Flagged refills"):
            table(
                data.residual_flags,
                residual_diff_ml=num("Actual − expected (mL)", "%.1f"),
                residual_diff_pct=num("Difference (% of expected)", "%.0f"),
            )


run_page(body)

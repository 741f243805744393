"""Overview: this month's KPI tiles and the two main control charts."""

import streamlit as st
from _data import load, require_data, run_page
from _draw import control_chart, kpi_tiles
from _state import current_filters

from analytics.figures import OverviewData, month_label
from analytics.figures.text import md


def body() -> None:
    st.title("Overview")
    require_data()
    data: OverviewData = load("overview")
    if data.base.message:
        st.info(md(data.base.message))
        return
    f = current_filters()
    prev = f" compared with {month_label(data.previous_month)}" if data.previous_month else ""
    st.caption(
        f"**{month_label(data.month or '')}**{prev} · {md(f.describe())} · "
        f"data up to {data.base.as_of:%d %b %Y}"
    )
    kpi_tiles(data.kpis)
    left, right = st.columns(2)
    with left:
        control_chart(data.on_time, key="overview_on_time")
    with right:
        control_chart(data.complications, key="overview_complications")


run_page(body)

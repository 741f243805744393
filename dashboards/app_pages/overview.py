"""Overview: the patients now, this period's tiles and the two main control charts."""

import streamlit as st
from _data import load, require_data, run_page
from _draw import control_chart, kpi_tiles, md, not_shared_now, safe_headline
from _state import current_scope

from analytics.figures import OverviewFigures


def body() -> None:
    st.title("Overview")
    require_data()
    data: OverviewFigures = load("overview")
    scope = current_scope()
    if data.headline is not None:
        safe_headline(data.headline)
    elif scope is not None and scope.shared:
        not_shared_now()
    if data.message:
        st.info(md(data.message))
        return
    prev = f" compared with {data.previous_label}" if data.previous_label else ""
    who = scope.describe() if scope else "all patients"
    st.caption(
        f"**{md(data.period_label)}**{md(prev)} · {md(who)} · data as of {data.as_of:%d %b %Y}"
    )
    kpi_tiles(data.tiles)
    left, right = st.columns(2)
    with left:
        control_chart(data.on_time, key="overview_on_time")
    with right:
        control_chart(data.complications, key="overview_complications")


run_page(body)

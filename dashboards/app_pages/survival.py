"""Device survival: Kaplan–Meier event-free survival of pumps (device, pump, catheter),
with 95 % bands, the pumps at risk and the 1- and 5-year figures."""

import streamlit as st
from _data import load, require_data, run_page
from _draw import figure_table
from _figcache import draw_shared
from _state import DEFAULT_SURVIVAL_BY
from _survival import survival_figure

from analytics.figures.survival import SurvivalFigures
from analytics.vocabulary import DIMENSION

BY_CHOICES = (DEFAULT_SURVIVAL_BY, "site", "drug", "pump_model", "indication")


def body() -> None:
    st.title("Device survival")
    require_data()
    by = st.selectbox(
        "Curves by", BY_CHOICES, key="pq_survival_by",
        format_func=lambda v: "whole programme" if v is None else DIMENSION[v].label.lower(),
    )  # fmt: skip
    data: SurvivalFigures = load("survival", by)
    st.caption(
        "Like the manufacturers' product performance reports: the share of pumps still free "
        "of the event, by days since implant. A pump implanted before the data enters late "
        "when its implant date is recorded. The whole history of the data, all pumps: the "
        "period and the filters do not apply (use 'Curves by' to compare groups)."
    )
    tabs = st.tabs([e.label.split(" (")[0].capitalize() for e in data.endpoints])
    for tab, e in zip(tabs, data.endpoints, strict=True):
        with tab:
            if e.curve is not None and not e.curve.empty:
                draw_shared(survival_figure, e, key=f"survival_{e.endpoint}")
                st.caption(
                    "How to read this: the line steps down at each event; the band is the "
                    "95 % interval, wider where few pumps are still followed."
                )
            elif e.curve is None:
                st.caption("Sharing mode: the curves are not shown (each step is one event).")
            figure_table(e.summary)
            if e.at_risk is not None:
                figure_table(e.at_risk)
            if e.untimed and e.curve is not None:
                st.caption(
                    f"{e.untimed:,} pumps in place when the data begins have no recorded "
                    "implant date and are left out (they cannot be timed)."
                )


run_page(body)

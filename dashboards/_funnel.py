"""The funnel plot: each group's complication rate against its pump-days, with the pooled
rate and the 95 % and 99.8 % limits computed by analytics.figures."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from _draw import HEIGHT, figure_table
from _figcache import draw_shared

from analytics.figures import Funnel
from analytics.figures.text import plot
from analytics.vocabulary import DIMENSION


def _funnel_figure(data: Funnel) -> go.Figure:
    t = data.table.frame
    c = data.curve
    fig = go.Figure()
    for col, name, dash in (
        ("upper_998", "99.8 % limits", "solid"),
        ("lower_998", None, "solid"),
        ("upper_95", "95 % limits", "dash"),
        ("lower_95", None, "dash"),
    ):
        fig.add_trace(
            go.Scatter(x=c["pump_days"], y=c[col], mode="lines", name=name or "",
                       showlegend=name is not None, line={"color": "#9E9E9E", "dash": dash, "width": 1},
                       legendgroup=col[-3:], hoverinfo="skip")
        )  # fmt: skip
    fig.add_hline(
        y=data.pooled_rate_per_1000, line={"color": "#4D4D4D"}, annotation_text="all groups"
    )
    rate = pd.to_numeric(t["rate_per_1000"], errors="coerce")
    shown = t[rate.notna()]
    flagged = shown["signal"].astype(str).str.contains("99.8")
    names = [plot(g) for g in shown["group"]]  # labels are data: never markup
    fig.add_trace(
        go.Scatter(
            x=shown["pump_days"], y=rate[rate.notna()], mode="markers", text=names,
            hovertemplate="%{text}: %{y:.2f} per 1,000 pump-days, %{x:,} pump-days<extra></extra>",
            name=DIMENSION[data.by].label.lower(),
            marker={"size": 11, "color": ["#D62728" if f else "#5DA5DA" for f in flagged]},
        )
    )  # fmt: skip
    # labels beside the dots, alternating above and below so that close dots stay readable
    for i, (x, y, name) in enumerate(
        zip(shown["pump_days"], rate[rate.notna()], names, strict=True)
    ):
        fig.add_annotation(x=x, y=y, text=name, showarrow=False, yshift=14 if i % 2 == 0 else -14,
                           font={"size": 11})  # fmt: skip
    dim = DIMENSION[data.by].label.lower()
    fig.update_layout(
        title={"text": f"Complication rate by {dim} against its pump-days", "font": {"size": 15}},
        xaxis_title="pump-days in the period", yaxis_title="complications per 1,000 pump-days",
        template="plotly_white", height=HEIGHT, legend={"orientation": "h", "y": -0.2},
    )  # fmt: skip
    top = max(float(rate.max()), float(c["upper_998"].median())) if rate.notna().any() else None
    if top is not None:
        fig.update_yaxes(range=[0, top * 1.25])
    return fig


def funnel_chart(data: Funnel) -> None:
    t = data.table.frame
    if data.curve.empty or data.pooled_rate_per_1000 is None:
        st.info("No funnel: no pump-days, or the pooled rate rests on hidden numbers.")
        figure_table(data.table)
        return
    draw_shared(_funnel_figure, data, key=f"funnel_{data.by}")
    st.caption(
        "How to read this: each dot is one group; the funnel narrows as pump-days grow. A dot "
        "outside the outer (99.8 %) lines differs from the pooled rate more than chance "
        "alone would explain (red); inside it, differences are likely chance."
    )
    drawn = int(pd.to_numeric(t["rate_per_1000"], errors="coerce").notna().sum())
    if drawn < len(t):
        st.caption(f"Sharing mode: {len(t) - drawn} group(s) with small numbers not drawn.")
    figure_table(data.table, caption=False)

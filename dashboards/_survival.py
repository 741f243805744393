"""The Kaplan–Meier curves of the Device survival page, drawn from the steps
analytics.figures.survival computed."""

from __future__ import annotations

import plotly.graph_objects as go
from _draw import HEIGHT

from analytics.figures.survival import EndpointSurvival
from analytics.figures.text import plot


def survival_figure(e: EndpointSurvival) -> go.Figure:
    fig = go.Figure()
    for group, c in e.curve.groupby("group"):
        x = [0, *c["time_days"] / 365.25]
        fig.add_trace(go.Scatter(x=x, y=[1, *c["ci_high"].fillna(1)], mode="lines",
                                 line={"shape": "hv", "width": 0}, showlegend=False,
                                 hoverinfo="skip"))  # fmt: skip
        fig.add_trace(go.Scatter(x=x, y=[1, *c["ci_low"].fillna(1)], mode="lines",
                                 line={"shape": "hv", "width": 0}, fill="tonexty",
                                 fillcolor="rgba(93,165,218,0.2)", showlegend=False,
                                 hoverinfo="skip"))  # fmt: skip
        fig.add_trace(go.Scatter(x=x, y=[1, *c["survival"]], mode="lines",
                                 line={"shape": "hv"}, name=plot(group)))  # fmt: skip
    fig.update_layout(
        title={"text": f"Free of {plot(e.label)}", "font": {"size": 15}},
        xaxis_title="years since implant", yaxis_title="event-free",
        yaxis={"tickformat": ".0%", "range": [0, 1.02]}, template="plotly_white",
        height=HEIGHT,
    )  # fmt: skip
    return fig

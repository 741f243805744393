"""The patient-timeline figure: lanes of dated events over one time axis, and the
programmed daily dose below. Drawing only: every date comes from analytics.figures."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.figures import TimelineData
from analytics.figures.text import plot
from analytics.vocabulary import REFILL_STATUSES, label

LANES = ("Complications", "Empty (computed)", "Refill due", "Fills", "Visits")
STATUS_COLOURS = {s.label: s.colour for s in REFILL_STATUSES}


def _lane(
    fig: go.Figure, x: pd.Series, lane: str, text: pd.Series | list[str], **marker: object
) -> None:
    fig.add_trace(
        go.Scatter(x=x, y=[lane] * len(x), mode="markers", name=lane, text=text,
                   hovertemplate="%{x|%d %b %Y}: %{text}<extra></extra>", marker=marker),
        row=1, col=1,
    )  # fmt: skip


def timeline_figure(data: TimelineData) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28],
                        vertical_spacing=0.06)  # fmt: skip
    v, f, c = data.visits, data.fills, data.complications
    _lane(
        fig,
        v["visit_date"],
        "Visits",
        v["visit_type"],
        size=9,
        color="#4D4D4D",
        symbol="circle-open",
    )
    _lane(
        fig, f["fill_date"], "Fills",
        [f"{t}: {s}" for t, s in zip(f["fill_type"], f["status"], strict=True)],
        size=12, color=[STATUS_COLOURS.get(s, "#9E9E9E") for s in f["status"]],
    )  # fmt: skip
    due = f.dropna(subset=["due_date"])
    _lane(fig, due["due_date"], "Refill due", "due (" + due["due_source"].astype(str) + ")",
          size=10, symbol="triangle-down-open", color="#E8590C")  # fmt: skip
    empty = f.dropna(subset=["empty_date"])
    _lane(fig, empty["empty_date"], "Empty (computed)",
          ["reservoir empty at the programmed rate (projected)"] * len(empty),
          size=10, symbol="diamond-open", color="#616161")  # fmt: skip
    words = [
        f"{label('complication', x)} ({y})"
        for x, y in zip(c["complication"], c["category"], strict=True)
    ]
    _lane(fig, c["report_date"], "Complications", words, size=12, symbol="star", color="#D62728")
    for ep in data.episodes.itertuples():
        end = ep.end_date if pd.notna(ep.end_date) else pd.Timestamp(data.as_of)
        fig.add_vrect(x0=ep.start_date, x1=end, fillcolor="#5DA5DA", opacity=0.08, line_width=0)
    d = data.doses
    if len(d):
        y = d["daily_dose_mg"] if d["daily_dose_mg"].notna().any() else d["daily_volume_ml"]
        unit = "mg/day" if d["daily_dose_mg"].notna().any() else "mL/day"
        x = pd.concat([d["visit_date"], pd.Series([pd.Timestamp(data.as_of)])], ignore_index=True)
        y = pd.concat([y, y.iloc[-1:]], ignore_index=True)
        fig.add_trace(
            go.Scatter(x=x, y=y, mode="lines+markers", line_shape="hv", name=f"daily dose ({unit})",
                       line={"color": "#5DA5DA"}, hovertemplate="%{x|%d %b %Y}: %{y}<extra></extra>"),
            row=2, col=1,
        )  # fmt: skip
        fig.update_yaxes(title_text=unit, row=2, col=1)
    fig.update_yaxes(categoryorder="array", categoryarray=list(LANES), row=1, col=1)
    fig.update_layout(
        title={"text": f"Patient {plot(data.patient_id)}", "font": {"size": 15}},
        template="plotly_white", height=520, showlegend=False, hovermode="closest",
        margin={"t": 60, "l": 10},
    )  # fmt: skip
    return fig

"""The plotly figure of a computed chart, and a one-line "how to read this chart".

Each part is drawn on its own: the values as a line with dots, the centre line
(dashed when the run rules fired in that part), the limits as steps that follow
the denominators (line_shape 'hvh': a limit changes half-way between two points).
Points outside the limits are red; process changes are vertical lines with text.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

from analytics.spc.annotations import Annotation
from analytics.spc.core import SpcResult
from analytics.spc.options import CHART_LABELS, MEDIAN_CHARTS, RARE_EVENT_CHARTS

LINE_COLOUR = "#5DA5DA"
CENTRE_COLOUR = "#4D4D4D"
LIMIT_COLOUR = "#9E9E9E"
SIGNAL_COLOUR = "#D62728"
NOTE_COLOUR = "#7F7F7F"


def how_to_read(result: SpcResult) -> str:
    """One line telling a reader what the lines mean and when to act."""
    p = result.parts[0].runs
    runs = (
        f"a run of more than {p.longest_run_max} points on one side of the centre line, "
        f"or fewer than {p.n_crossings_min} crossings of it, suggests a real change "
        "(the centre line turns dashed)"
        if p.longest_run_max is not None
        else "runs on one side of the centre line suggest a real change"
    )
    chart = result.options.chart
    centre = "the median" if chart in MEDIAN_CHARTS else "the average"
    unit = result.x_kind if result.x_kind in ("month", "quarter") else "point"
    if chart == "run":
        return f"Each dot is one {unit}; the solid line is {centre}; {runs}."
    if chart in RARE_EVENT_CHARTS:
        return _gap_how_to_read(chart, runs)
    return (
        f"Each dot is one {unit}; the solid line is {centre} and the grey steps are the "
        f"limits of chance variation; a red dot outside them is a signal, and {runs}."
    )


def _gap_how_to_read(chart: str, runs: str) -> str:
    gap = "opportunities (e.g. refills)" if chart == "g" else "days"
    centre = (
        "the median" if chart == "g" else "the typical gap (the average on a transformed scale)"
    )
    return (
        f"Each dot is one event: the {gap} since the event before it; the solid line is "
        f"{centre} and the grey steps are the limits of chance variation; a red dot above "
        "them is an unusually long spell without events, one below them events unusually "
        f"close together, and {runs}."
    )


def _part_traces(result: SpcResult, part: pd.DataFrame, first: bool) -> list[go.Scatter]:
    x, runs = part["x"], bool(part["runs_signal"].iloc[0])
    traces = [
        go.Scatter(x=x, y=part["y"], mode="lines+markers", name="value",
                   line={"color": LINE_COLOUR}, marker={"size": 6}, showlegend=first),
        go.Scatter(x=x, y=part["cl"], mode="lines", line_shape="hvh",
                   name="centre line (runs signal)" if runs else "centre line",
                   line={"color": CENTRE_COLOUR, "dash": "dash" if runs else "solid"},
                   showlegend=first or runs),
    ]  # fmt: skip
    if result.options.chart != "run":
        for col, label in (("ucl", "upper limit"), ("lcl", "lower limit")):
            traces.append(
                go.Scatter(x=x, y=part[col], mode="lines", line_shape="hvh", name=label,
                           line={"color": LIMIT_COLOUR, "width": 1}, showlegend=first)
            )  # fmt: skip
    signal = part[part["sigma_signal"]]
    if len(signal):
        traces.append(
            go.Scatter(x=signal["x"], y=signal["y"], mode="markers", name="outside the limits",
                       marker={"color": SIGNAL_COLOUR, "size": 10}, showlegend=first)
        )  # fmt: skip
    return traces


NOTE_CHARS = 28
"""A process change's words on the chart (the rest on hover)."""


def _add_notes(fig: go.Figure, result: SpcResult, notes: Iterable[Annotation]) -> None:
    from analytics.figures.text import plot  # here: analytics.figures imports analytics.spc

    if result.x_kind not in ("month", "quarter", "date"):
        return
    for note in notes:
        x = pd.Timestamp(note.change_date)
        fig.add_shape(type="line", x0=x, x1=x, xref="x", y0=0, y1=1, yref="paper",
                      line={"color": NOTE_COLOUR, "dash": "dot", "width": 1})  # fmt: skip
        full = note.description + (" (new part)" if note.rebase else "")
        short = full if len(full) <= NOTE_CHARS else full[: NOTE_CHARS - 1].rstrip() + "…"
        fig.add_annotation(x=x, y=1, xref="x", yref="paper", text=plot(short), showarrow=False,
                           xanchor="left", yanchor="bottom", hovertext=plot(full),
                           font={"size": 10, "color": NOTE_COLOUR})  # fmt: skip


def spc_figure(
    result: SpcResult,
    *,
    title: str | None = None,
    y_title: str | None = None,
    notes: Iterable[Annotation] = (),
) -> go.Figure:
    """The chart as a plotly figure; `notes` (process changes) become vertical lines."""
    fig = go.Figure()
    for i, (_, part) in enumerate(result.table.groupby("part", sort=True)):
        for trace in _part_traces(result, part, first=i == 0):
            fig.add_trace(trace)
    _add_notes(fig, result, notes)
    fig.update_layout(
        title=title or CHART_LABELS[result.options.chart],
        yaxis_title=y_title,
        template="plotly_white",
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 60, "r": 20},
    )
    if result.x_kind == "month":
        fig.update_xaxes(tickformat="%b %Y")
    elif result.x_kind == "quarter":
        fig.update_xaxes(tickformat="Q%q %Y", dtick="M3")
    return fig

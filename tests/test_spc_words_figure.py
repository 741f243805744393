"""Signals in plain words, the "how to read" line and the plotly figure."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from analytics.spc import Annotation, how_to_read, qic, signal_sentences, spc_figure
from analytics.spc.words import point_label, summary_sentence

MONTHS = [str(p) for p in pd.period_range("2025-01", periods=24, freq="M")]


def shifted() -> list[float]:
    # 9 low months then 9 high ones, with one extreme month (Mar 2026, the 15th).
    y = [10, 11, 10, 12, 11, 10, 11, 12, 10, 20, 21, 20, 22, 21, 60, 20, 22, 21]
    return [float(v) for v in y]


def test_month_sentences() -> None:
    result = qic(y=shifted(), x=MONTHS[:18], chart="run")
    assert signal_sentences(result) == [
        "an unusually long run of 9 months below the centre line ending Sep 2025",
        "an unusually long run of 9 months above the centre line ending Jun 2026",
        "too few crossings of the centre line (1, expected at least 5)",
    ]
    assert summary_sentence(result) == "signals: a non-random pattern of runs"


def test_sigma_sentences_name_the_month_and_side() -> None:
    y = [10.0, 11, 10, 12, 11, 10, 11, 12, 10, 11, 50, 10, 11, 12, 0, 11]
    result = qic(y=y, x=MONTHS[:16], chart="i")
    assert signal_sentences(result)[:2] == [
        "Nov 2025: above the upper limit",
        "Mar 2026: below the lower limit",
    ]
    assert summary_sentence(result).startswith("signals: 2 points outside the limits")


def test_generic_labels_without_dates() -> None:
    result = qic(y=shifted(), chart="run")
    sentences = signal_sentences(result)
    assert (
        sentences[0] == "an unusually long run of 9 points below the centre line ending at point 9"
    )
    assert point_label("Ward A", "label") == "Ward A"
    assert point_label(pd.Timestamp("2026-03-04"), "date") == "4 Mar 2026"


def test_parts_are_named_in_sentences() -> None:
    part = [1] * 9 + [2] * 11
    y = [1.0, 2] * 4 + [1.0] + [float(v) for v in range(1, 12)]
    result = qic(y=y, x=MONTHS[:20], chart="run", part=part)
    assert result.parts[1].runs.n_useful == 10  # the 6 is on part 2's median
    assert signal_sentences(result) == [
        "part 2 (from Oct 2025): too few crossings of the centre line (1, expected at least 2)"
    ]
    quiet = qic(y=[1.0, 2] * 10, x=MONTHS[:20], chart="i", part=part)
    assert signal_sentences(quiet) == []
    assert summary_sentence(quiet).startswith("no signals")


def test_run_chart_how_to_read() -> None:
    text = how_to_read(qic(y=shifted(), x=MONTHS[:18], chart="run"))
    assert text.startswith("Each dot is one month; the solid line is the median")
    assert "more than 7 points" in text and "fewer than 5 crossings" in text
    assert "\n" not in text


def test_figure_draws_lines_signals_and_notes() -> None:
    y = [10.0, 11, 10, 12, 11, 10, 11, 12, 10, 11, 50, 10, 11, 12, 10, 11]
    counts, n = [int(v) for v in y], [100] * 16
    result = qic(y=counts, n=n, x=MONTHS[:16], chart="u", multiply=1000)
    note = Annotation(1, dt.date(2025, 6, 1), "new refill kit", True, dt.datetime(2025, 6, 2))
    fig = spc_figure(result, title="Complications", y_title="per 1,000 pump-days", notes=[note])
    assert isinstance(fig, go.Figure)
    names = [t.name for t in fig.data]
    assert names[0] == "value" and str(names[1]).startswith("centre line")
    assert names[2:4] == ["upper limit", "lower limit"]
    assert fig.data[2].line.shape == "hvh"
    signals = [t for t in fig.data if t.name == "outside the limits"]
    assert len(signals) == 1 and list(signals[0].y) == [500.0]
    assert fig.layout.shapes[0].x0 == pd.Timestamp("2025-06-01")
    assert "new refill kit (new part)" in fig.layout.annotations[0].text
    fig.to_json()  # serialisable for Streamlit and the report


def test_runs_signal_draws_a_dashed_centre_line() -> None:
    fig = spc_figure(qic(y=shifted(), x=MONTHS[:18], chart="run"))
    centre = [t for t in fig.data if str(t.name).startswith("centre line")]
    assert centre[0].line.dash == "dash"
    assert centre[0].name == "centre line (runs signal)"

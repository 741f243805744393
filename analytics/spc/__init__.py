"""Statistical process control: run and control charts like qicharts2's qic().

    from analytics.spc import qic, spc_figure, signal_sentences
    result = qic(df, chart="p", y="on_time", n="refills_due", x="month", multiply=100)
    result.table              # one row per point: x, y, n, cl, lcl, ucl, signals, runs …
    spc_figure(result)        # plotly figure
    signal_sentences(result)  # ["Mar 2026: above the upper limit", …]

The names below load their module on first use, so that `pumpqi` commands that
draw no chart do not pay for importing scipy and plotly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analytics.spc.anhoej import (
        Run,
        RunsResult,
        longest_run_max,
        n_crossings_min,
        runs_analysis,
    )
    from analytics.spc.annotations import (
        Annotation,
        add_annotation,
        annotations_table,
        list_annotations,
        parts_from_annotations,
    )
    from analytics.spc.core import (
        CLI_COLUMNS,
        PartSummary,
        SpcResult,
        compute,
        parse_freeze,
        qic,
    )
    from analytics.spc.figure import how_to_read, spc_figure
    from analytics.spc.inputs import SpcSeries, make_series, series_from_frame
    from analytics.spc.options import CHART_TYPES, ChartType, SpcOptions
    from analytics.spc.words import signal_sentences, summary_sentence

_EXPORTS: dict[str, str] = {
    "Run": "anhoej",
    "RunsResult": "anhoej",
    "longest_run_max": "anhoej",
    "n_crossings_min": "anhoej",
    "runs_analysis": "anhoej",
    "Annotation": "annotations",
    "add_annotation": "annotations",
    "annotations_table": "annotations",
    "list_annotations": "annotations",
    "parts_from_annotations": "annotations",
    "CLI_COLUMNS": "core",
    "PartSummary": "core",
    "SpcResult": "core",
    "compute": "core",
    "parse_freeze": "core",
    "qic": "core",
    "how_to_read": "figure",
    "spc_figure": "figure",
    "SpcSeries": "inputs",
    "make_series": "inputs",
    "series_from_frame": "inputs",
    "CHART_TYPES": "options",
    "ChartType": "options",
    "SpcOptions": "options",
    "signal_sentences": "words",
    "summary_sentence": "words",
}

__all__ = [
    "CHART_TYPES",
    "CLI_COLUMNS",
    "Annotation",
    "ChartType",
    "PartSummary",
    "Run",
    "RunsResult",
    "SpcOptions",
    "SpcResult",
    "SpcSeries",
    "add_annotation",
    "annotations_table",
    "compute",
    "how_to_read",
    "list_annotations",
    "longest_run_max",
    "make_series",
    "n_crossings_min",
    "parse_freeze",
    "parts_from_annotations",
    "qic",
    "runs_analysis",
    "series_from_frame",
    "signal_sentences",
    "spc_figure",
    "summary_sentence",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'analytics.spc' has no attribute '{name}'")
    return getattr(importlib.import_module(f"analytics.spc.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)

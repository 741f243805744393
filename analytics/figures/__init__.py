"""Every figure the dashboard and the pack show, computed once, with its disclosure rule.

The dashboard's pages and the report only lay these out. Each page function takes an
explicit cut-off and a scope:

    with reader(db) as con:
        cut = open_cutoff(con)                          # as of the data's end
        figures = overview(cut, Scope.months("2026-01", "2026-06"))
        shared = refills_figures(cut, Scope.quarter("2026Q2", 11))   # for sharing
"""

from analytics.figures.charts import ChartFigure
from analytics.figures.complications import ComplicationsFigures, Funnel, complications_figures
from analytics.figures.definitions import DefinitionsFigures, definitions_figures
from analytics.figures.model import COMPLEMENT, Column, FigureTable, is_hidden
from analytics.figures.now import Headline, headline
from analytics.figures.options import FilterOptions, filter_options
from analytics.figures.overview import OverviewFigures, Tile, overview
from analytics.figures.quality import Flag, QualityData, data_quality
from analytics.figures.refills import RefillsFigures, refills_figures
from analytics.figures.scope import Cutoff, Scope, month_label, open_cutoff, quarter_label
from analytics.figures.timeline import TimelineData, patient_ids, patient_timeline
from analytics.figures.worklist import WorklistFigures, worklist_figures

__all__ = [
    "COMPLEMENT",
    "ChartFigure",
    "Column",
    "ComplicationsFigures",
    "Cutoff",
    "DefinitionsFigures",
    "FigureTable",
    "FilterOptions",
    "Flag",
    "Funnel",
    "Headline",
    "OverviewFigures",
    "QualityData",
    "RefillsFigures",
    "Scope",
    "Tile",
    "TimelineData",
    "WorklistFigures",
    "complications_figures",
    "data_quality",
    "definitions_figures",
    "filter_options",
    "headline",
    "is_hidden",
    "month_label",
    "open_cutoff",
    "overview",
    "patient_ids",
    "patient_timeline",
    "quarter_label",
    "refills_figures",
    "worklist_figures",
]

"""Page data for the dashboard: every figure a page shows, computed by the analytics
API (the dashboard only draws). One function per page; each takes a connection from
`analytics.store.reader` and the page's `Filters`.

    with reader(db) as con:
        data = overview(con, Filters(month_from="2026-01", site="A"))
"""

from analytics.figures.common import ChartData, Measure
from analytics.figures.complications_page import ComplicationsData, FunnelData, complications_page
from analytics.figures.definitions_page import DefinitionsData, definitions_page
from analytics.figures.filters import (
    DIMENSION_LABELS,
    DIMENSIONS,
    FilterOptions,
    Filters,
    apply_filters,
    filter_options,
)
from analytics.figures.labels import STATUS_LABELS, month_label
from analytics.figures.overview import Kpi, OverviewData, PageBase, overview
from analytics.figures.quality import Flag, QualityData, data_quality
from analytics.figures.refills_page import RefillsData, refills_page
from analytics.figures.timeline import TimelineData, patient_ids, patient_timeline
from analytics.figures.worklist_page import WorklistData, worklist_page

__all__ = [
    "DIMENSIONS",
    "DIMENSION_LABELS",
    "STATUS_LABELS",
    "ChartData",
    "ComplicationsData",
    "DefinitionsData",
    "FilterOptions",
    "Filters",
    "Flag",
    "FunnelData",
    "Kpi",
    "Measure",
    "OverviewData",
    "PageBase",
    "QualityData",
    "RefillsData",
    "TimelineData",
    "WorklistData",
    "apply_filters",
    "complications_page",
    "data_quality",
    "definitions_page",
    "filter_options",
    "month_label",
    "overview",
    "patient_ids",
    "patient_timeline",
    "refills_page",
    "worklist_page",
]

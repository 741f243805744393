"""Page data for the dashboard: every figure a page shows, computed by the analytics
API (the dashboard only draws). One function per page; each takes a connection from
`analytics.store.reader` and the page's `Filters`.

    with reader(db) as con:
        data = overview(con, Filters(month_from="2026-01", site="A"))
"""

from analytics.views.common import ChartData, Measure
from analytics.views.complications_page import ComplicationsData, FunnelData, complications_page
from analytics.views.definitions_page import DefinitionsData, definitions_page
from analytics.views.filters import (
    DIMENSION_LABELS,
    DIMENSIONS,
    FilterOptions,
    Filters,
    apply_filters,
    filter_options,
)
from analytics.views.labels import STATUS_LABELS, month_label
from analytics.views.overview import Kpi, OverviewData, PageBase, overview
from analytics.views.quality import Flag, QualityData, data_quality
from analytics.views.refills_page import RefillsData, refills_page
from analytics.views.timeline import TimelineData, patient_ids, patient_timeline
from analytics.views.worklist_page import WorklistData, worklist_page

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

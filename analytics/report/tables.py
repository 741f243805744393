"""The pack's tables: the figure tables of the figures layer, laid out as report tables,
and the few tables that are the pack's own layout (key figures, process changes, the
configuration, the input files, the monthly metrics sheet)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.figures import FigureTable, is_hidden
from analytics.figures.model import Column
from analytics.figures.overview import row_of
from analytics.report.content import Content
from analytics.report.table import Cell, Kind, Table, clean, frame_table
from analytics.vocabulary import MEASURES, Measure

C = Column
_KINDS: dict[str, Kind] = {
    "%": "pct",
    "per 1,000 pump-days": "rate2",
    "per 100 fills": "rate1",
    "per 10,000 refills": "rate1",
}


def figure(fig: FigureTable, caption: str | None = None) -> Table:
    """A figure table as a report table (its columns, labels, note and total row)."""
    return frame_table(
        fig.key, caption or fig.caption, fig.frame, fig.columns, fig.notes(), fig.total_row
    )


def measure_kind(measure: Measure) -> Kind:
    if measure.id == "pump_days":
        return "number"
    return _KINDS.get(measure.unit, "count")


def key_figures(content: Content) -> Table:
    """Key figures: this period and the one before (the Overview's tiles, as shown), and
    for the committee the 12 months pooled (a rate over the 12 months' numerator and
    denominator; a count as a monthly mean)."""
    o = content.overview
    assert o.rows is not None and o.period is not None
    now = row_of(o.rows, o.period)
    before = row_of(o.rows, o.previous) if o.previous and o.previous in o.rows.index else None
    long = content.long_totals
    columns = [
        C("measure", "Measure"),
        C("this", o.period_label, "rate2"),
        C("before", o.previous_label or "previous period", "rate2"),
    ]
    if long is not None:
        first = content.long_scope.first if content.long_scope else ""
        columns.append(C("long", f"12 months from {pd.Timestamp(first + '-01'):%b %Y}", "rate2"))
    columns.append(C("signal", "Control-chart signal"))
    out = []
    for m in MEASURES:
        kind = measure_kind(m)
        cells = [Cell(m.label), Cell(clean(now.get(m.id), kind), kind),
                 Cell(clean(before.get(m.id), kind) if before is not None else None, kind)]  # fmt: skip
        if long is not None:
            if m.denominator is None:
                cells.append(Cell(_monthly_mean(content, m.id), "rate1"))
            else:
                cells.append(Cell(clean(long.get(m.id), kind), kind))
        cells.append(Cell(_signal(content, m.id) or "no chart"))
        out.append(tuple(cells))
    note = (
        "Rates over 12 months are pooled (total numerator ÷ total denominator); counts are a "
        "monthly mean. Signal: a point outside the control limits, or a non-random run, on "
        "the charts below."
    )
    return Table("key_figures", "Key figures", tuple(columns), tuple(out), note)


def _monthly_mean(content: Content, column: str) -> float | None:
    """The mean of the 12 months' monthly values (a count's 12-month figure)."""
    assert content.long_scope is not None
    h = content.history
    months = h[(h["month"] >= content.long_scope.first) & (h["month"] <= content.long_scope.last)]
    values = months[column]
    if values.map(is_hidden).any() or not len(values):
        return None
    return float(pd.to_numeric(values).mean())


def _signal(content: Content, measure_id: str) -> str:
    period = content.overview.period or ""
    for chart in (content.on_time, content.complications):
        if chart.measure.id == measure_id:
            return chart.point_signal(period) if chart.result is not None else ""
    return ""


def categories(content: Content) -> Table:
    """Complications by category in the period, and (committee) over the 12 months beside."""
    fig = content.categories
    if content.categories_long is None:
        return figure(fig)
    long = content.categories_long.frame[["category", "reports", "rate_per_1000"]].rename(
        columns={"reports": "reports_12m", "rate_per_1000": "rate_per_1000_12m"}
    )
    frame = fig.frame.merge(long, on="category", how="left")
    cols = (
        *fig.columns,
        C("reports_12m", "Complications, 12 months", "count"),
        C("rate_per_1000_12m", "per 1,000 pump-days, 12 months", "rate2"),
    )
    merged = FigureTable(fig.key, fig.caption, frame, cols, fig.note, fig.total_row)
    return figure(merged)


def process_changes(content: Content, only_period: bool) -> Table:
    rows = []
    for number, a in enumerate(chart_notes(content), start=1):
        if only_period and not (
            content.scope.first <= a.change_date.strftime("%Y-%m") <= content.scope.last
        ):
            continue
        rows.append((Cell(str(number)), Cell(a.change_date, "date"), Cell(a.description),
                     Cell("yes" if a.rebase else "no")))  # fmt: skip
    cols = (C("note", "Note"), C("change_date", "Date", "date"), C("description", "Change"),
            C("rebase", "New chart part"))  # fmt: skip
    key, caption = (
        ("process_changes", f"Process changes logged in {content.meta.period_label}")
        if only_period
        else ("chart_notes", "Process changes marked on the charts")
    )
    return Table(key, caption, cols, tuple(rows))


def chart_notes(content: Content) -> list[Any]:
    """The annotations dated inside the charts' months, oldest first (numbered from 1)."""
    if content.history.empty:
        return []
    first = pd.Timestamp(str(content.history["month"].iloc[0]) + "-01").date()
    return [a for a in content.annotations if a.change_date >= first]


def configuration(content: Content) -> Table:
    cols = (C("setting", "Setting"), C("value", "Value"), C("meaning", "Meaning"))
    rows = tuple(tuple(Cell(v) for v in row) for row in content.meta.config_rows)
    return Table("configuration", "Configuration in effect", cols, rows)


def input_files(content: Content) -> Table:
    cols = (
        C("table_name", "Table"), C("file_name", "File"), C("content_hash", "Content hash (SHA-256)"),
        C("ingested_at", "Loaded"), C("ingest_id", "Ingest", "number"),
    )  # fmt: skip
    return frame_table("input_files", "Input files", content.manifest, cols)


def monthly_metrics(content: Content) -> Table:
    """The metrics rows of the charts' months (as shown): the workbook's data sheet."""
    kinds: dict[str, Kind] = {
        "month": "text", "group": "text", "pump_days": "number", "on_time_rate": "pct",
        "complication_rate_per_1000": "rate2", "rate_ci_low": "rate2", "rate_ci_high": "rate2",
        "refill_error_rate_per_100": "rate1",
    }  # fmt: skip
    df: pd.DataFrame = content.history
    cols = tuple(C(c, c, kinds.get(c, "count")) for c in df.columns)
    return frame_table("monthly_metrics", "Monthly metrics", df, cols)

"""The report's tables, built from a (possibly suppressed) Content.

Each builder selects and labels columns of one library table; the key-figure table
reads this month, last month and the 12-month totals from the metrics rows and the
signals from the control charts.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.report.content import Content
from analytics.report.control import point_signal
from analytics.report.period import month_label
from analytics.report.table import Cell, Column, Kind, Table, clean, frame_table
from analytics.vocabulary import MEASURES, Measure

C = Column
_KINDS: dict[str, Kind] = {
    "%": "pct",
    "per 1,000 pump-days": "rate2",
    "per 100 fills": "rate1",
    "per 10,000 refills": "rate1",
}


def measure_kind(measure: Measure) -> Kind:
    if measure.id == "pump_days":
        return "number"
    return _KINDS.get(measure.unit, "count")


def _mean(total: Any, months: int) -> float | None:
    """A monthly mean of a 12-month count; None when the count itself is hidden."""
    value = clean(total, "number")
    if not isinstance(value, int | float) or not months:
        return None
    return float(value) / months


def _key_row(content: Content, measure: Measure) -> tuple[Cell, ...]:
    kind = measure_kind(measure)
    last = content.last_month
    totals = content.totals_12m.iloc[0]
    months = int(totals["months"])
    if measure.denominator is None:
        average = Cell(_mean(totals[measure.id], months), "rate1")
    else:
        average = Cell(clean(totals[measure.id], kind), kind)
    signal = point_signal(content.charts, measure.id, content.meta.month.month)
    return (
        Cell(measure.label),
        Cell(clean(content.this_month[measure.id], kind), kind),
        Cell(clean(last[measure.id], kind) if last is not None else None, kind),
        average,
        Cell(signal or "no chart"),
    )


def key_figures(content: Content) -> Table:
    month = content.meta.month
    last = content.last_month
    previous = month_label(str(last["month"])) if last is not None else "last month"
    first = str(content.totals_12m["month"].iloc[0]).split(" ")[0]
    columns = (
        C("measure", "Measure"),
        C("this_month", month_label(month.month), "rate2"),
        C("last_month", previous, "rate2"),
        C("average_12m", f"12 months from {month_label(first)}", "rate2"),
        C("signal", "Control-chart signal this month"),
    )
    rows = tuple(_key_row(content, m) for m in MEASURES)
    note = (
        "12 months: rates pooled over the months (total numerator ÷ total denominator); "
        "counts as a monthly mean. Signals: a point outside the control limits, or a "
        "non-random run, on the charts below."
    )
    return Table("key_figures", "Key figures", columns, rows, note)


def statuses_by_site(content: Content) -> Table:
    cols = (
        C("group", "Site"), C("refills_due", "Refills due", "count"),
        C("on_time", "On time", "count"), C("late", "Late", "count"),
        C("missed", "Missed (ran dry)", "count"), C("overdue", "Overdue", "count"),
        C("on_time_rate", "On-time rate", "pct"), C("fills", "Fills dated in the month", "count"),
    )  # fmt: skip
    note = "Refills due in the month by due date; status as known at the cut-off."
    return frame_table(
        "statuses_by_site", "Refill status by site", content.by_site, cols, note, True
    )


def not_in_rate(content: Content) -> Table:
    cols = (C("status", "Status"), C("fills", "Fills", "count"), C("meaning", "Meaning"))
    caption = "Fills left out of the on-time rate"
    return frame_table("not_in_rate", caption, content.not_in_rate, cols)


def missed_fills(content: Content) -> Table:
    cols = (
        C("site", "Site"), C("drug", "Drug"), C("patient_id", "Patient (pseudonym)"),
        C("fill_date", "Filled", "date"), C("due_date", "Due", "date"),
        C("empty_date", "Empty", "date"), C("next_fill_date", "Next fill", "date"),
        C("dry_days", "Dry days", "number"),
    )  # fmt: skip
    note = "Next fill empty: no refill yet at the cut-off."
    caption = "Pumps that ran dry: fills due in the month with status missed"
    return frame_table("missed_fills", caption, content.missed, cols, note)


def refill_quality(content: Content) -> Table:
    cols = (
        C("group", "Site"), C("fills", "Fills", "count"),
        C("refill_errors", "Refill-error reports", "count"),
        C("refill_error_rate_per_100", "per 100 fills", "rate1"),
        C("refills_with_residuals", "Refills with residuals recorded", "count"),
        C("residual_flags", "Residual discrepancies", "count"),
        C("residual_flags_per_100", "per 100 refills", "rate1"),
    )  # fmt: skip
    note = "A residual discrepancy: |actual − expected residual| above the tolerance."
    caption = "Refill errors and residual discrepancies by site"
    return frame_table("refill_quality_by_site", caption, content.quality, cols, note, True)


def worklist_counts(content: Content) -> Table:
    cols = (
        C("site", "Site"), C("missed", "Ran dry, not refilled", "count"),
        C("overdue", "Overdue", "count"),
        C("pending", "Due within the worklist window", "count"), C("total", "Total", "count"),
    )  # fmt: skip
    caption = "Worklist at the cut-off: open therapies needing a refill"
    return frame_table("worklist_counts", caption, content.worklist, cols, total_row=True)


def categories(content: Content) -> Table:
    cols = (
        C("category", "Category"), C("reports", "Reports", "count"),
        C("serious", "Serious", "count"), C("rate_per_1000", "per 1,000 pump-days", "rate2"),
        C("ci_low", "95 % CI low", "rate2"), C("ci_high", "95 % CI high", "rate2"),
        C("reports_12m", "Reports, 12 months", "count"),
        C("rate_per_1000_12m", "per 1,000 pump-days, 12 months", "rate2"),
    )  # fmt: skip
    caption = "Complication reports by category"
    return frame_table(
        "complications_by_category", caption, content.categories, cols, total_row=True
    )


def codes(content: Content) -> Table:
    cols = (
        C("complication", "Code"), C("category", "Category"), C("reports", "Reports", "count"),
        C("serious", "Serious", "count"), C("rate_per_1000", "per 1,000 pump-days", "rate2"),
        C("reports_12m", "Reports, 12 months", "count"),
        C("rate_per_1000_12m", "per 1,000 pump-days, 12 months", "rate2"),
    )  # fmt: skip
    note = "Only codes reported in the 12 months are listed."
    return frame_table(
        "complications_by_code", "Complication reports by code", content.codes, cols, note
    )


def funnel(content: Content) -> Table:
    cols = (
        C("group", "Site"), C("reports", "Reports", "count"), C("pump_days", "Pump-days", "number"),
        C("rate_per_1000", "per 1,000 pump-days", "rate2"),
        C("lower_998", "99.8 % limit low", "rate2"), C("upper_998", "99.8 % limit high", "rate2"),
        C("signal", "Outside the funnel"),
    )  # fmt: skip
    note = "12 months. Limits: exact Poisson around the pooled rate for each site's pump-days."
    return frame_table(
        "funnel_by_site", "Complication rate by site (funnel)", content.funnel, cols, note, True
    )


def serious_events(content: Content) -> Table:
    cols = (
        C("report_date", "Date", "date"), C("site", "Site"), C("drug", "Drug"),
        C("complication", "Code"), C("severity", "Severity"), C("action", "Action"),
    )  # fmt: skip
    caption = "Serious events reported in the month"
    return frame_table("serious_events", caption, content.serious, cols)


def surgery(content: Content) -> Table:
    cols = (
        C("category", "Category"), C("within_30_days", "Within 30 days", "count"),
        C("31_days_to_1_year", "31 days to 1 year", "count"),
        C("after_1_year", "After 1 year", "count"),
        C("no_surgery_in_the_data", "No surgery in the data", "count"), C("total", "Total", "count"),
    )  # fmt: skip
    note = "12 months; time from the latest implant, replacement or revision of the episode."
    return frame_table(
        "time_from_surgery", "Reports by time from surgery", content.surgery, cols, note
    )


def data_quality(content: Content) -> Table:
    cols = (C("check", "Check"), C("detail", "Detail"), C("count", "Rows", "count"))
    note = "Quarantined rows: every ingest so far; they are in no figure of this report."
    return frame_table("data_quality", "Data quality", content.data_quality, cols, note)


def process_changes(content: Content, only_month: bool) -> Table:
    month = content.meta.month.month
    rows = []
    for number, a in enumerate(chart_notes(content), start=1):
        if only_month and a.change_date.strftime("%Y-%m") != month:
            continue
        rows.append((Cell(str(number)), Cell(a.change_date, "date"), Cell(a.description),
                     Cell("yes" if a.rebase else "no")))  # fmt: skip
    cols = (C("note", "Note"), C("change_date", "Date", "date"), C("description", "Change"),
            C("rebase", "New chart part"))  # fmt: skip
    key, caption = (
        ("process_changes", f"Process changes logged in {content.meta.month.label}")
        if only_month
        else ("chart_notes", "Process changes marked on the charts")
    )
    return Table(key, caption, cols, tuple(rows))


def chart_notes(content: Content) -> list[Any]:
    """The annotations dated inside the charts' months, oldest first (numbered from 1)."""
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
    """The metrics rows of the charts' months, every column of `pumpqi metrics`."""
    kinds: dict[str, Kind] = {
        "month": "text", "group": "text", "pump_days": "number", "on_time_rate": "pct",
        "complication_rate_per_1000": "rate2", "rate_ci_low": "rate2", "rate_ci_high": "rate2",
        "refill_error_rate_per_100": "rate1",
    }  # fmt: skip
    df: pd.DataFrame = content.history
    cols = tuple(C(c, c, kinds.get(c, "count")) for c in df.columns)
    return frame_table("monthly_metrics", "Monthly metrics", df, cols)

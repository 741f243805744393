"""The report's sections, in order, as plain data the HTML template and the workbook lay out.

1 cover · 2 summary · 3 key figures · 4 refill safety · 5 complications ·
6 process changes · 7 data quality · 8 definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.definitions import DEFINITIONS_MARKDOWN
from analytics.report import tables
from analytics.report.charts import funnel_svg, spc_svg
from analytics.report.content import Content
from analytics.report.markdown_lite import to_html
from analytics.report.narrative import count_of, summary
from analytics.report.suppressed import hidden_months
from analytics.report.table import Table
from analytics.spc import how_to_read, signal_sentences, summary_sentence
from analytics.vocabulary import MEASURE as BY_ID


@dataclass(frozen=True)
class Text:
    paragraphs: tuple[str, ...]
    style: str = "text"


@dataclass(frozen=True)
class Figure:
    key: str
    caption: str
    svg: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Html:
    html: str


Block = Text | Figure | Html | Table


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: tuple[Block, ...]

    @property
    def tables(self) -> tuple[Table, ...]:
        return tuple(b for b in self.blocks if isinstance(b, Table))


def _chart(content: Content, measure_id: str, key: str, y_title: str, fmt: str) -> Block:
    measure = BY_ID[measure_id]
    result = content.charts.get(measure_id)
    if result is None:
        return Text((f"{measure.label}: fewer than 2 months with a denominator, no chart.",))
    hidden = hidden_months(content.history, measure_id) if content.meta.suppress_below else []
    notes = tables.chart_notes(content)
    svg = spc_svg(result, key, y_title, fmt, hidden, notes)
    words = [f"Reading – {summary_sentence(result)}."]
    words += [f"Signal – {s}." for s in signal_sentences(result)]
    if hidden:
        words.append(f"{len(hidden)} month(s) not plotted: small numbers (suppression).")
    words.append(how_to_read(result))
    if notes:
        words.append("Dotted lines: process changes, numbered as in section 6.")
    return Figure(
        key, f"{measure.label}, by month ({result.options.chart}-chart)", svg, tuple(words)
    )


def _list_or_count(content: Content, table: Table, name: str, noun: str) -> Block:
    if not content.lists_hidden:
        if table.empty:
            return Text((f"{table.caption}: none.",))
        return table
    n = content.list_counts.set_index("list").at[name, "count"]
    return Text((f"{table.caption}: {count_of(n, noun)} (not listed: outputs for sharing).",))


def refill_section(content: Content) -> Section:
    blocks: tuple[Block, ...] = (
        _chart(content, "on_time_rate", "chart-on-time", "On-time refills (%)", "{:.1f} %"),
        tables.statuses_by_site(content),
        tables.not_in_rate(content),
        _list_or_count(content, tables.missed_fills(content), "missed fills", "fill"),
        tables.refill_quality(content),
        tables.worklist_counts(content),
    )
    return Section("refill-safety", "Refill safety", blocks)


def complication_section(content: Content) -> Section:
    svg = funnel_svg(content.funnel, "chart-funnel")
    funnel: Block = (
        Figure("chart-funnel", "Complication rate by site over 12 months (funnel plot)", svg,
               ("Each dot is a site; a site outside the 99.8 % limits is unlikely to differ by chance.",))
        if svg else Text(("Funnel plot: no site with a rate that can be shown.",))
    )  # fmt: skip
    blocks: tuple[Block, ...] = (
        _chart(content, "complication_rate_per_1000", "chart-complications",
               "Reports per 1,000 pump-days", "{:.2f}"),
        tables.categories(content),
        tables.codes(content),
        funnel,
        tables.funnel(content),
        _list_or_count(content, tables.serious_events(content), "serious events", "event"),
        tables.surgery(content),
    )  # fmt: skip
    return Section("complications", "Complications", blocks)


def change_section(content: Content) -> Section:
    month, notes = tables.process_changes(content, True), tables.process_changes(content, False)
    blocks: list[Block] = [
        month if not month.empty else Text(("No process change was logged this month.",))
    ]
    blocks.append(
        notes if not notes.empty else Text(("No process change falls inside the charts' months.",))
    )
    return Section("process-changes", "Process changes", tuple(blocks))


def sections(content: Content) -> tuple[Section, ...]:
    """Sections 2 to 8 (the cover is laid out from `content.meta`)."""
    return (
        Section("summary", "Summary", (Text(summary(content), "summary"),)),
        Section("key-figures", "Key figures", (tables.key_figures(content),)),
        refill_section(content),
        complication_section(content),
        change_section(content),
        Section("data-quality", "Data quality", (tables.data_quality(content),)),
        Section("definitions", "Definitions",
                (Html(to_html(DEFINITIONS_MARKDOWN, 2)), tables.configuration(content))),
    )  # fmt: skip

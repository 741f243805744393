"""The report's sections, in order, as plain data the HTML template and the workbook lay out.

1 cover · 2 summary · 3 key figures · 4 refill safety · 5 complications · 6 surgical
outcomes and device survival · 7 planning and dose safety · 8 process changes · 9 data
quality · 10 definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.figures import ChartFigure, FigureTable
from analytics.figures.definitions import definitions_markdown
from analytics.figures.now import NOT_SHARED
from analytics.report import tables
from analytics.report.charts import funnel_svg, spc_svg
from analytics.report.content import Content
from analytics.report.markdown_lite import to_html
from analytics.report.narrative import count_of, summary
from analytics.report.table import Table


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


def _chart(content: Content, chart: ChartFigure, key: str, y_title: str, fmt: str) -> Block:
    if chart.result is None:
        return Text((f"{chart.title}: {chart.message or 'no chart'}",))
    notes = tables.chart_notes(content)
    svg = spc_svg(chart.result, key, y_title, fmt, (), notes)
    words = [f"Reading – {chart.summary}."]
    words += [f"Signal – {s}." for s in chart.signals]
    if chart.hidden:
        words.append(
            f"{chart.hidden} {chart.unit}(s) not plotted: small numbers (suppression); the "
            "centre line and limits use the plotted points only."
        )
    words.append(chart.caption)
    if notes:
        words.append("Dotted lines: process changes, numbered as in the section Process changes.")
    return Figure(key, f"{chart.title} ({chart.result.options.chart}-chart)", svg, tuple(words))


def _list_or_count(
    content: Content, fig: FigureTable | None, count: object, caption: str, noun: str
) -> Block:
    if fig is None:
        return Text((f"{caption}: {count_of(count, noun)} (not listed: outputs for sharing).",))
    if fig.empty:
        return Text((f"{fig.caption}: none.",))
    return tables.figure(fig)


def refill_section(content: Content) -> Section:
    blocks: tuple[Block, ...] = (
        _chart(content, content.on_time, "chart-on-time", "On-time refills (%)", "{:.1f} %"),
        tables.figure(content.by_site),
        tables.figure(content.excluded),
        _list_or_count(content, content.missed, content.missed_count,
                       f"Refills due in {content.meta.period_label} that ran dry (computed)", "fill"),
        tables.figure(content.quality),
    )  # fmt: skip
    if content.worklist is not None:  # the patients now: not in a shared pack (see its cover)
        blocks = (*blocks, tables.figure(content.worklist))
    return Section("refill-safety", "Refill safety", blocks)


def complication_section(content: Content) -> Section:
    funnel = content.funnel
    svg = funnel_svg(funnel, "chart-funnel") if funnel.pooled_rate_per_1000 is not None else None
    span = content.long_scope.label() if content.long_scope else content.meta.period_label
    funnel_block: Block = (
        Figure("chart-funnel", f"Complication rate by site, {span} (funnel plot)", svg,
               ("Each dot is a site; a site outside the 99.8 % limits is unlikely to differ by chance.",))
        if svg else Text(("Funnel plot: no pooled rate that can be shown.",))
    )  # fmt: skip
    blocks: tuple[Block, ...] = (
        _chart(content, content.complications, "chart-complications",
               content.complications.measure.y_title, "{:.2f}"),
        tables.categories(content),
        tables.figure(content.codes),
        funnel_block,
        tables.figure(funnel.table),
        tables.figure(content.severity),
        _list_or_count(content, content.serious, content.serious_count,
                       f"Serious events reported in {content.meta.period_label}", "event"),
        tables.figure(content.surgery),
    )  # fmt: skip
    return Section("complications", "Complications", blocks)


def outcome_section(content: Content) -> Section:
    """Surgical outcomes per procedure, the charts per category, the rare-event charts and
    device survival."""
    blocks: list[Block] = []
    for w in content.outcomes.surgical:
        blocks.append(_chart(content, w.chart, f"chart-surgical-{w.window_id}",
                             "% of procedures", "{:.1f} %"))  # fmt: skip
        blocks.append(tables.figure(w.by_site))
    for i, chart in enumerate(content.outcomes.categories):
        blocks.append(
            _chart(content, chart, f"chart-category-{i}", "per 1,000 pump-days", "{:.2f}")
        )
    for key, rare, y_title in (
        ("chart-refill-errors", content.outcomes.refill_errors, "refills between errors"),
        ("chart-deep-infections", content.outcomes.deep_infections, "days between events"),
    ):
        if rare is not None:
            blocks.append(_chart(content, rare, key, y_title, "{:.0f}"))
    for e in content.survival.endpoints:
        blocks.append(tables.figure(e.summary, f"Free of {e.label} at 1 and 5 years"))
    return Section("outcomes", "Surgical outcomes and device survival", tuple(blocks))


def planning_section(content: Content) -> Section:
    """The coming weeks' workload, battery end of life, replaced before it, dose flags."""
    p = content.planning
    ahead: tuple[Block, ...] = (
        (tables.figure(p.workload), tables.figure(p.battery_counts))
        if p.workload is not None and p.battery_counts is not None
        else (Text((NOT_SHARED,)),)
    )
    blocks = (*ahead, tables.figure(p.replaced), tables.figure(p.dose_counts))
    return Section("planning", "Planning and dose safety", blocks)


def change_section(content: Content) -> Section:
    month, notes = tables.process_changes(content, True), tables.process_changes(content, False)
    blocks: list[Block] = [
        month if not month.empty else Text(("No process change was logged in the period.",))
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
        outcome_section(content),
        planning_section(content),
        change_section(content),
        Section("data-quality", "Data quality", (tables.figure(content.data_quality),)),
        Section("definitions", "Definitions",
                (Html(to_html(definitions_markdown(), 2)), tables.configuration(content))),
    )  # fmt: skip

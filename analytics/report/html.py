"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no links
to fetch. The same HTML feeds the PDF (print styles in the same stylesheet)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from analytics.report.content import Content
from analytics.report.sections import Figure, Html, Section
from analytics.report.table import Cell, Table
from analytics.report.tables import input_files

GENERATED_FORMAT = "%Y-%m-%d %H:%M UTC"
MAX_PRINTED_ROWS = 60
"""Rows of one table in the HTML and PDF (about two printed pages); a longer list, such
as the missed fills of a registry, is cut there with a line pointing to the workbook,
which always holds every row."""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("analytics.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals["cell_class"] = cell_class
    env.globals["max_rows"] = MAX_PRINTED_ROWS
    return env


def cell_class(cell: Cell) -> Markup:
    """' class="num count"' for counts (the suppression tests look for these cells)."""
    if cell.kind == "count":
        return Markup(' class="num count"')
    return Markup(' class="num"') if cell.numeric else Markup("")


def _kind(block: object) -> str:
    if isinstance(block, Table):
        return "table"
    if isinstance(block, Figure):
        return "figure"
    return "html" if isinstance(block, Html) else "text"


def facts(content: Content) -> list[tuple[str, str]]:
    """The cover's facts: what, from which data, when, by which version and settings."""
    m = content.meta
    threshold = (
        f"counts below {m.suppress_below} hidden" if m.suppress_below else "none (full figures)"
    )
    return [
        ("Programme", m.programme),
        ("Month reported", m.month.label),
        ("Period of the tables", m.period_label),
        ("Data cut-off", m.month.as_of.isoformat()),
        ("Latest record in the data", m.data_end.isoformat()),
        ("Generated", m.generated_at.strftime(GENERATED_FORMAT)),
        ("pumpqi version", m.version),
        ("Configuration hash", m.config_digest),
        ("Small-cell suppression", threshold),
    ]


def render_html(content: Content, sections: tuple[Section, ...]) -> str:
    """The whole report as HTML text."""
    css = resources.files("analytics.report").joinpath("templates/report.css").read_text("utf-8")
    items: list[dict[str, Any]] = [
        {
            "key": s.key,
            "title": s.title,
            "parts": [{"kind": _kind(b), "block": b} for b in s.blocks],
        }
        for s in sections
    ]
    template = _environment().get_template("report.html.j2")
    return template.render(
        meta=content.meta,
        css=Markup(css),
        facts=facts(content),
        input_files=input_files(content),
        sections=items,
    )

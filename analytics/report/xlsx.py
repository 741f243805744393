"""The workbook: one tidy sheet per table of the report (snake_case header, frozen,
number formats, widths), the summary sentences, the manifest, and native Excel line
charts of the on-time rate and the complication rate on the monthly-metrics sheet.

Text cells are written as strings, never as formulas (`strings_to_formulas` off), with a
leading quote where a spreadsheet would run them once copied elsewhere (analytics.export).
Deterministic: the document's created date is the report's generation time, and
xlsxwriter stores fixed timestamps inside the zip.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from analytics.export import neutralise_text
from analytics.report.content import Content
from analytics.report.html import facts
from analytics.report.sections import Section
from analytics.report.table import EXCEL_FORMATS, Cell, Column, Table
from analytics.report.tables import input_files, monthly_metrics

CHARTS: tuple[tuple[str, str, str], ...] = (
    ("on_time_rate", "On-time refill rate", "0%"),
    ("complication_rate_per_1000", "Complications per 1,000 pump-days", "0.0"),
)


class _Formats:
    def __init__(self, book: Workbook) -> None:
        self.header = book.add_format({"bold": True, "bg_color": "#F3F5F7", "bottom": 1})
        self.text = book.add_format({"valign": "top"})
        self.hidden = book.add_format({"align": "right"})
        self.kinds = {k: book.add_format({"num_format": v}) for k, v in EXCEL_FORMATS.items()}

    def of(self, cell: Cell) -> Any:
        if isinstance(cell.value, str):
            return self.hidden if cell.kind != "text" else self.text
        return self.kinds.get(cell.kind, self.text)


def _write_cell(ws: Worksheet, row: int, col: int, cell: Cell, fmt: _Formats) -> None:
    v = cell.value
    if v is None:
        ws.write_blank(row, col, None, fmt.of(cell))
    elif isinstance(v, dt.date):
        ws.write_datetime(row, col, dt.datetime(v.year, v.month, v.day), fmt.of(cell))
    elif isinstance(v, str):  # always a string cell, never a formula, and neutralised
        ws.write_string(row, col, neutralise_text(v), fmt.of(cell))
    else:
        ws.write_number(row, col, float(v), fmt.of(cell))


def _width(column: Column, cells: Sequence[Cell]) -> float:
    longest = max([len(column.key), *(len(c.text()) for c in cells)])
    return float(min(60, max(9, longest + 2)))


def write_table(book: Workbook, table: Table, fmt: _Formats, name: str | None = None) -> Worksheet:
    """One sheet: snake_case header in row 1 (frozen), one row per table row."""
    ws = book.add_worksheet((name or table.key)[:31])
    for j, column in enumerate(table.columns):
        ws.write_string(0, j, neutralise_text(column.key), fmt.header)  # a site can name one
        ws.set_column(j, j, _width(column, [r[j] for r in table.rows]))
    for i, row in enumerate(table.rows, start=1):
        for j, cell in enumerate(row):
            _write_cell(ws, i, j, cell, fmt)
    ws.freeze_panes(1, 0)
    return ws


def _lines(book: Workbook, ws: Worksheet, table: Table) -> None:
    """Native line charts of the charted rates, to the right of the table."""
    keys = [c.key for c in table.columns]
    last = len(table.rows)
    for k, (key, title, number_format) in enumerate(CHARTS):
        col = keys.index(key)
        chart = book.add_chart({"type": "line"})
        chart.add_series({
            "name": title,
            "categories": [ws.name, 1, 0, last, 0],
            "values": [ws.name, 1, col, last, col],
            "marker": {"type": "circle", "size": 4},
        })  # fmt: skip
        chart.set_title({"name": title, "name_font": {"size": 11}})
        chart.set_legend({"none": True})
        chart.set_y_axis({"num_format": number_format})
        chart.show_blanks_as("gap")
        chart.set_size({"width": 620, "height": 260})
        ws.insert_chart(1, len(keys) + 1 if k == 0 else len(keys) + 1, chart,
                        {"y_offset": 280 * k})  # fmt: skip


def _text_sheet(
    book: Workbook, name: str, header: Sequence[str], rows: Sequence[Sequence[str]], fmt: _Formats
) -> None:
    cols = tuple(Column(h, h) for h in header)
    table = Table(name, name, cols, tuple(tuple(Cell(v) for v in r) for r in rows))
    write_table(book, table, fmt)


def write_xlsx(
    content: Content, sections: tuple[Section, ...], summary: Sequence[str], path: Path
) -> None:
    """The workbook for the report's content and sections."""
    book = xlsxwriter.Workbook(
        str(path), {"strings_to_numbers": False, "strings_to_formulas": False}
    )
    meta = content.meta
    book.set_properties({
        "title": f"{meta.programme} – QI report {meta.month.label}",
        "author": "pumpqi", "comments": f"pumpqi {meta.version}",
        "created": meta.generated_at.replace(tzinfo=None),
    })  # fmt: skip
    fmt = _Formats(book)
    _text_sheet(book, "manifest", ("item", "value"), facts(content), fmt)
    write_table(book, input_files(content), fmt)
    _text_sheet(book, "summary", ("sentence",), [(s,) for s in summary], fmt)
    metrics = monthly_metrics(content)
    _lines(book, write_table(book, metrics, fmt), metrics)
    for section in sections:
        for table in section.tables:
            write_table(book, table, fmt)
    book.close()

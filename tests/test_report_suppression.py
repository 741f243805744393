"""Small-cell suppression in the report: no count from 1 to N-1 in any output."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import openpyxl
import openpyxl.worksheet.worksheet
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from test_report_fixtures import GENERATED, MONTH, build_db

from analytics.figures import COMPLEMENT
from analytics.report import ReportRequest, build_report
from analytics.report.narrative import WORDS
from analytics.vocabulary import MEASURE, SURGERY_BUCKETS

NOUNS = (r"(?:of [\d,]+|pumps?|refills?|reports?|fills?|serious events?|events?|rows?|"
         r"refill-error reports?|residual discrepanc(?:y|ies))")  # fmt: skip
NUMBER_PHRASE = re.compile(rf"(?<![\w.<])([\d,]+) {NOUNS}\b")
WORD_PHRASE = re.compile(rf"\b({'|'.join(WORDS[1:])}) {NOUNS}\b", re.IGNORECASE)
COUNT_CELL = re.compile(r'<td class="num count">([^<]*)</td>')
COUNT_KEYS = {
    "active_patients", "fills", "refills_due", "on_time", "late", "missed", "overdue",
    "complications", "refill_errors", "reports", "serious", "reports_12m",
    "refills_with_residuals", "residual_flags", "patients_with_complication", "pending",
    "total", "count", "rows_loaded", "with_residuals", "early",
    *(b[0] for b in SURGERY_BUCKETS),
}  # fmt: skip
COUNT_MEASURES = {MEASURE["missed"].label, MEASURE["active_patients"].label}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("suppress-db"))


def small_in_text(text: str, n: int) -> list[str]:
    """Count phrases ('3 reports', 'two pumps', '(4 of 20)') showing a count in 1..n-1."""
    found = [
        m.group(0)
        for m in NUMBER_PHRASE.finditer(text)
        if 1 <= int(m.group(1).replace(",", "")) < n
    ]
    found += [m.group(0) for m in WORD_PHRASE.finditer(text) if WORDS.index(m.group(1).lower()) < n]
    return found


def check_html(html: str, n: int) -> None:
    cells = COUNT_CELL.findall(html)
    assert cells, "no count cells found"
    for text in map(unescape, cells):
        assert (
            text in (f"<{n}", COMPLEMENT, "–")
            or int(text.replace(",", "")) == 0
            or int(text.replace(",", "")) >= n
        ), text
    summary = unescape(html.split('<ul class="summary">')[1].split("</ul>")[0])
    assert small_in_text(summary, n) == []
    for tag in ("missed_fills", "serious_events"):
        assert f'id="{tag}"' not in html


def _count_cells(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[tuple[str, object]]:
    """(column, value) of the sheet's count cells (key figures: the count measures' rows)."""
    header = [c.value for c in ws[1]]
    out: list[tuple[str, object]] = []
    for row in ws.iter_rows(min_row=2, values_only=True):
        cells = dict(zip(header, row, strict=False))
        if ws.title == "key_figures":
            if cells["measure"] in COUNT_MEASURES:
                out += [(k, cells[k]) for k in ("this", "before")]
            continue
        out += [(k, v) for k, v in cells.items() if k in COUNT_KEYS]
    return out


def check_xlsx(path: Path, n: int) -> None:
    book = openpyxl.load_workbook(path)
    seen = 0
    for ws in book.worksheets:
        for key, value in _count_cells(ws):
            seen += 1
            assert value in (None, f"<{n}", COMPLEMENT) or not 1 <= float(str(value)) < n, (
                ws.title,
                key,
                value,
            )
        for row in ws.iter_rows(min_row=2, values_only=True):
            for value in row:
                if isinstance(value, str):
                    assert small_in_text(value, n) == [], (ws.title, value)
    assert seen > 100


def check_pdf(path: Path, n: int) -> None:
    text = "\n".join(p.extract_text() or "" for p in PdfReader(str(path)).pages)
    text = text.split("10. Definitions")[0]  # the appendix's wording is static, not figures
    assert f"<{n}" in text or COMPLEMENT in text
    assert "For sharing" in text
    assert small_in_text(text, n) == []


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(min_value=5, max_value=40))
def test_suppressed_outputs_show_no_small_count(
    db: Path, tmp_path_factory: pytest.TempPathFactory, n: int
) -> None:
    out = tmp_path_factory.mktemp(f"suppressed-{n}")
    files = build_report(ReportRequest(db, MONTH, out, suppress_below=n, generated_at=GENERATED))
    assert files.html is not None and files.xlsx is not None and files.pdf is not None
    check_html(files.html.read_text("utf-8"), n)
    check_xlsx(files.xlsx, n)
    check_pdf(files.pdf, n)


def test_the_checks_catch_an_unsuppressed_report(db: Path, tmp_path: Path) -> None:
    files = build_report(
        ReportRequest(db, MONTH, tmp_path, generated_at=GENERATED, formats=("html", "xlsx"))
    )
    assert files.html is not None and files.xlsx is not None
    with pytest.raises(AssertionError):
        check_html(files.html.read_text("utf-8"), 11)
    with pytest.raises(AssertionError):
        check_xlsx(files.xlsx, 11)

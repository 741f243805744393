"""`pumpqi report`: structure (golden outline), PDF, workbook, determinism, errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from test_report_fixtures import GENERATED, MONTH, build_db, normalise, outline

from analytics.cli.commands import main
from analytics.engine.metrics import monthly_metrics
from analytics.report import ReportFiles, ReportRequest, build_report
from analytics.store import reader

GOLDEN = Path(__file__).parent / "golden" / "report" / "outline-2026-06.txt"
SECTIONS = ("2. Summary", "3. Key figures", "4. Refill safety", "5. Complications",
            "6. Surgical outcomes and device survival", "7. Planning and dose safety",
            "8. Process changes", "9. Data quality", "10. Definitions")  # fmt: skip


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("report-db"))


@pytest.fixture(scope="module")
def files(db: Path, tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    out = tmp_path_factory.mktemp("report-out")
    return build_report(ReportRequest(db, MONTH, out, generated_at=GENERATED))


def test_html_outline_matches_golden(files: ReportFiles) -> None:
    assert files.html is not None
    text = outline(normalise(files.html.read_text("utf-8")))
    if os.environ.get("PUMPQI_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_html_is_self_contained(files: ReportFiles) -> None:
    assert files.html is not None
    html = files.html.read_text("utf-8")
    assert "<style>" in html and html.count("<svg ") >= 3
    for fetch in ('src="http', 'href="http', "<link ", "<script", "@import"):
        assert fetch not in html


def test_pdf_has_every_section_on_its_own_page(files: ReportFiles, db: Path) -> None:
    assert files.pdf is not None
    pages = [p.extract_text() or "" for p in PdfReader(str(files.pdf)).pages]
    assert len(pages) >= 8
    assert "Monthly QI report" in pages[0] and "June 2026" in pages[0]
    for title in SECTIONS:
        starts = [i for i, p in enumerate(pages) if p.lstrip().startswith(title)]
        assert starts, f"no page starts with {title!r}"
    assert f"page 2 / {len(pages)}" in pages[1]
    with reader(db) as con:
        row = monthly_metrics(con, dt.date(2026, 6, 30), None, MONTH, MONTH).iloc[0]
    text = "\n".join(pages)
    assert f"{row.on_time_rate * 100:.1f} %" in text
    assert f"{row.complication_rate_per_1000:.2f}" in text
    assert f"({row.on_time} of {row.refills_due} due)" in text


def test_workbook_numbers_equal_monthly_metrics(files: ReportFiles, db: Path) -> None:
    assert files.xlsx is not None
    book = openpyxl.load_workbook(files.xlsx)
    ws = book["monthly_metrics"]
    header = [c.value for c in ws[1]]
    rows = {
        r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)
    }
    with reader(db) as con:
        # the pack counts complications per event, as the CLI does by default (count_unit)
        expected = monthly_metrics(con, dt.date(2026, 6, 30), None, MONTH, MONTH).iloc[0]
    got = rows[MONTH]
    for col, value in expected.items():
        if isinstance(value, str):
            assert got[col] == value
        else:
            assert got[col] == pytest.approx(float(value), rel=1e-12), col
    assert ws.freeze_panes == "A2"
    rate_col = header.index("on_time_rate") + 1
    assert ws.cell(row=2, column=rate_col).number_format == "0.0%"
    for sheet in ("manifest", "summary", "key_figures", "refills_by_site",
                  "complications_by_category", "funnel_by_site", "worklist_counts",
                  "data_quality", "input_files"):  # fmt: skip
        assert sheet in book.sheetnames
    with zipfile.ZipFile(files.xlsx) as z:
        assert len([n for n in z.namelist() if n.startswith("xl/charts/chart")]) == 2


def test_same_db_and_month_give_identical_files(
    db: Path, files: ReportFiles, tmp_path: Path
) -> None:
    again = build_report(
        ReportRequest(db, MONTH, tmp_path / "a", generated_at=GENERATED, formats=("html", "xlsx"))
    )
    assert files.html is not None and files.xlsx is not None
    assert again.html is not None and again.xlsx is not None
    assert again.html.read_bytes() == files.html.read_bytes()
    assert again.xlsx.read_bytes() == files.xlsx.read_bytes()
    later = build_report(
        ReportRequest(db, MONTH, tmp_path / "b", generated_at=GENERATED + dt.timedelta(hours=5),
                      formats=("html", "xlsx"))
    )  # fmt: skip
    assert later.html is not None and later.xlsx is not None
    assert normalise(later.html.read_text("utf-8")) == normalise(files.html.read_text("utf-8"))
    with zipfile.ZipFile(later.xlsx) as a, zipfile.ZipFile(files.xlsx) as b:
        differ = [n for n in a.namelist() if a.read(n) != b.read(n)]
    assert set(differ) <= {"docProps/core.xml", "xl/sharedStrings.xml"}


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-08", "after the end of the data"),
        ("2023-01", "no pump therapy, fills or reports"),
        ("2026-13", "is not a month"),
    ],
)
def test_month_without_data_is_one_line_exit_2(
    db: Path, tmp_path: Path, month: str, message: str
) -> None:
    result = CliRunner().invoke(
        main, ["report", "--db", str(db), "--month", month, "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("pumpqi: ")
    assert not list(tmp_path.iterdir())


def test_cli_writes_three_files(db: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--db",
            str(db),
            "--month",
            MONTH,
            "--out",
            str(tmp_path),
            "--programme",
            "ITDD",
        ],
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["pumpqi-2026-06.html", "pumpqi-2026-06.pdf", "pumpqi-2026-06.xlsx"]
    assert "ITDD" in (tmp_path / "pumpqi-2026-06.html").read_text("utf-8")


def test_request_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ReportRequest("x", MONTH, "y").month = "2026-01"  # type: ignore[misc]


def test_long_lists_are_cut_in_html_and_whole_in_the_workbook(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registry's month can list hundreds of missed fills: the HTML/PDF show the first
    MAX_PRINTED_ROWS with a line saying so, the workbook keeps every row."""
    from analytics.report import html

    monkeypatch.setattr(html, "MAX_PRINTED_ROWS", 1)
    out = build_report(
        ReportRequest(db, MONTH, tmp_path, generated_at=GENERATED, formats=("html", "xlsx"))
    )
    assert out.html is not None and out.xlsx is not None
    text = out.html.read_text("utf-8")
    book = openpyxl.load_workbook(out.xlsx, read_only=True)
    cut = [
        s
        for s in book.sheetnames
        if f'<table id="{s}" class="data">' in text and (book[s].max_row or 0) > 2
    ]
    assert "data_quality" in cut  # a table without a total row of several rows
    for sheet in cut:
        rows = book[sheet].max_row - 1
        assert f"The first 1 of {rows:,} rows are shown; the workbook (sheet {sheet})" in text
        table = text.split(f'<table id="{sheet}"', 1)[1].split("</table>", 1)[0]
        assert table.count("<tr") == 2  # the header and one row

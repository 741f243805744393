"""Build the three files of one monthly report from a database."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from analytics.config import load_config
from analytics.errors import PumpqiError
from analytics.report.content import Content, gather
from analytics.report.html import render_html
from analytics.report.narrative import summary
from analytics.report.pdf import write_pdf
from analytics.report.period import ReportMonth
from analytics.report.sections import sections
from analytics.report.xlsx import write_xlsx
from analytics.store import reader

DEFAULT_PROGRAMME = "Intrathecal pump programme"
FORMATS: tuple[str, ...] = ("html", "pdf", "xlsx")


@dataclass(frozen=True)
class ReportRequest:
    """What to report: the database, the month (YYYY-MM), where to write, and how.

    generated_at: the time printed on the cover (default: now, UTC); fix it for
    byte-identical files. formats: any of html, pdf, xlsx.
    """

    db: str | os.PathLike[str]
    month: str
    out_dir: str | os.PathLike[str]
    programme: str = DEFAULT_PROGRAMME
    suppress_below: int | None = None
    config_file: str | None = None
    generated_at: dt.datetime | None = None
    formats: tuple[str, ...] = FORMATS


@dataclass(frozen=True)
class ReportFiles:
    html: Path | None
    pdf: Path | None
    xlsx: Path | None


def report_content(request: ReportRequest) -> Content:
    """The figures of the report (suppressed when asked), without writing anything."""
    month = ReportMonth.parse(request.month)
    config = load_config(request.config_file)
    now = request.generated_at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with reader(request.db) as con:
        content = gather(con, month, config, request.programme, now, request.suppress_below)
    return content


def _out_dir(path: str | os.PathLike[str]) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise PumpqiError(f"--out {out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    return out


def file_stem(month: str, suppress_below: int | None) -> str:
    """'pumpqi-2026-10' for the committee, 'pumpqi-2026-10-shared' for sharing: the two
    packs never share a file name, so the wrong one is not sent by mistake."""
    return f"pumpqi-{month}-shared" if suppress_below else f"pumpqi-{month}"


def build_report(request: ReportRequest) -> ReportFiles:
    """Write pumpqi-YYYY-MM.html, .pdf and .xlsx (…-shared.* for sharing) into `out_dir`;
    return their paths."""
    unknown = set(request.formats) - set(FORMATS)
    if unknown:
        raise PumpqiError(f"unknown report format(s): {', '.join(sorted(unknown))}")
    content = report_content(request)
    out = _out_dir(request.out_dir)
    stem = out / file_stem(content.meta.month.month, request.suppress_below)
    parts = sections(content)
    html = render_html(content, parts)
    paths = {f: stem.with_suffix(f".{f}") for f in request.formats}
    if "html" in paths:
        paths["html"].write_text(html, encoding="utf-8")
    if "pdf" in paths:
        write_pdf(html, paths["pdf"])
    if "xlsx" in paths:
        write_xlsx(content, parts, summary(content), paths["xlsx"])
    return ReportFiles(paths.get("html"), paths.get("pdf"), paths.get("xlsx"))

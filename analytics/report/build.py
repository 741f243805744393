"""Build the three files of one monthly report from a database."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from analytics.atomic import all_or_nothing, original_name, remove_stale
from analytics.config import load_config
from analytics.errors import PumpqiError
from analytics.faults import fault
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
    """Write pumpqi-YYYY-MM.html, .pdf and .xlsx (…-shared.* for sharing) into `out_dir`,
    all of them or none; return their paths."""
    unknown = set(request.formats) - set(FORMATS)
    if unknown:
        raise PumpqiError(f"unknown report format(s): {', '.join(sorted(unknown))}")
    content = report_content(request)
    out = _out_dir(request.out_dir)
    stem = out / file_stem(content.meta.month.month, request.suppress_below)
    parts = sections(content)
    html = render_html(content, parts)
    paths = {f: stem.with_suffix(f".{f}") for f in request.formats}
    writers: dict[str, Callable[[Path], object]] = {
        "html": lambda tmp: tmp.write_text(html, encoding="utf-8"),
        "pdf": lambda tmp: write_pdf(html, tmp),
        "xlsx": lambda tmp: write_xlsx(content, parts, summary(content), tmp),
    }
    _write_all(paths, writers)
    return ReportFiles(paths.get("html"), paths.get("pdf"), paths.get("xlsx"))


def _write_all(paths: dict[str, Path], writers: dict[str, Callable[[Path], object]]) -> None:
    """Every file under a temporary name in the output folder, renamed at the end: all
    of them or none (an error leaves no new file, and says so)."""
    for path in paths.values():
        remove_stale(path)  # temporaries of a report killed earlier
    try:
        with all_or_nothing(paths) as temps:
            for kind, tmp in temps.items():
                writers[kind](tmp)
    except Exception as exc:  # the temporaries are gone: nothing was written
        told = fault(exc, "; nothing was written")
        if told is not None:
            raise told from None
        if isinstance(exc, OSError):
            name = Path(os.fsdecode(exc.filename or "")).name or "the report"
            raise PumpqiError(
                f"{original_name(name)}: could not be written ({exc.strerror or 'error'});"
                " nothing was written"
            ) from None
        raise

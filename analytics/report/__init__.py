"""The monthly QI report (`pumpqi report`): HTML, PDF and Excel from one set of figures.

    from analytics.report import ReportRequest, build_report
    files = build_report(ReportRequest(db="pumps.duckdb", month="2026-10", out_dir="out"))

Modules: `content` gathers the figures from the analytics library, `suppressed` makes
the shareable copy, `narrative` the summary sentences, `tables`/`sections` the layout,
`charts` the SVG charts, `html`/`pdf`/`xlsx` the three files, `build` ties them together.
"""

from __future__ import annotations

from analytics.report.build import ReportFiles, ReportRequest, build_report, report_content

__all__ = ["ReportFiles", "ReportRequest", "build_report", "report_content"]

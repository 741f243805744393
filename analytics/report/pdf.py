"""The PDF: WeasyPrint lays out the report's own HTML with its print styles (A4,
one section per page run, page numbers in the footer)."""

from __future__ import annotations

import logging
from pathlib import Path


def write_pdf(html: str, path: Path) -> None:
    """Render `html` (self-contained: nothing is fetched) to `path`."""
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    HTML(string=html, base_url=None).write_pdf(path)

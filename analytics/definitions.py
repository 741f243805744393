"""The metric definitions in the product's own words (definitions.md, shown by the
dashboard's Definitions page and the report's appendix)."""

from __future__ import annotations

from importlib import resources

DEFINITIONS_MARKDOWN: str = (
    resources.files("analytics").joinpath("definitions.md").read_text(encoding="utf-8")
)

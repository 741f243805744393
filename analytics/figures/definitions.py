"""Definitions page (and the pack's appendix): how every figure is computed, in the
product's own words, with the parts that come from the vocabulary and the configuration
generated from them (statuses, measures, settings), so that they cannot drift."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.vocabulary import MEASURES, REFILL_STATUSES

DEFINITIONS_TEXT: str = (
    resources.files("analytics").joinpath("definitions.md").read_text(encoding="utf-8")
)


def status_table() -> str:
    """The refill statuses as a markdown table (from the vocabulary)."""
    rows = ["| status | meaning | in the on-time rate |", "|---|---|---|"]
    for s in REFILL_STATUSES:
        rows.append(f"| {s.label} | {s.meaning} | {'yes' if s.in_rate else 'no (counted apart)'} |")
    return "\n".join(rows)


def measure_list() -> str:
    """The headline measures as a markdown list (from the vocabulary)."""
    return "\n".join(f"- **{m.label}** ({m.unit}): {m.help}" for m in MEASURES)


def definitions_markdown() -> str:
    """definitions.md with its generated parts filled in."""
    return DEFINITIONS_TEXT.replace("{{status_table}}", status_table()).replace(
        "{{measure_list}}", measure_list()
    )


@dataclass(frozen=True)
class DefinitionsFigures:
    markdown: str
    config: pd.DataFrame  # setting, value, meaning


def definitions_figures(config: Config = DEFAULT) -> DefinitionsFigures:
    table = pd.DataFrame(config.table(), columns=["setting", "value", "meaning"])
    return DefinitionsFigures(definitions_markdown(), table)

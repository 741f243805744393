"""Definitions page data: the metric definitions in the product's words and the
effective configuration."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics.config import DEFAULT, Config


@dataclass(frozen=True)
class DefinitionsData:
    markdown: str
    config: pd.DataFrame  # setting, value, meaning


def definitions_page(config: Config = DEFAULT) -> DefinitionsData:
    from analytics.definitions import DEFINITIONS_MARKDOWN

    table = pd.DataFrame(config.table(), columns=["setting", "value", "meaning"])
    return DefinitionsData(DEFINITIONS_MARKDOWN, table)

"""Words and labels the pages show (months, statuses) — one place for each."""

from __future__ import annotations

import pandas as pd

from analytics.vocabulary import REFILL_STATUSES

STATUS_LABELS: dict[str, str] = {s.id: s.label for s in REFILL_STATUSES}


def month_label(month: str) -> str:
    """'2026-10' -> 'Oct 2026'."""
    return pd.Timestamp(month + "-01").strftime("%b %Y")

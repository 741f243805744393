"""Words and labels the pages show (months, statuses) — one place for each."""

from __future__ import annotations

import pandas as pd

STATUS_LABELS: dict[str, str] = {
    "on_time": "on time",
    "late": "late (not dry)",
    "missed": "missed (ran dry)",
    "overdue": "overdue (alarm passed, not dry yet)",
    "pending": "pending (not due yet)",
    "not_due": "not due (therapy ended)",
    "unknown": "unknown due date",
}


def month_label(month: str) -> str:
    """'2026-10' -> 'Oct 2026'."""
    return pd.Timestamp(month + "-01").strftime("%b %Y")

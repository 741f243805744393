"""The reported month: parsing, its cut-off and the windows the report looks back over."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from analytics.errors import PumpqiError

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
CHART_MONTHS = 24
"""Months shown on the control charts (fewer when the data start later)."""
AVERAGE_MONTHS = 12
"""Months pooled for the '12-month' figures and the funnel plot."""


@dataclass(frozen=True)
class ReportMonth:
    """One calendar month: `2026-10` → as_of 2026-10-31, windows ending in that month."""

    month: str

    @classmethod
    def parse(cls, text: str) -> ReportMonth:
        value = str(text).strip()
        try:
            first = dt.date.fromisoformat(value + "-01")
        except ValueError:
            raise PumpqiError(f"--month: '{text}' is not a month (YYYY-MM)") from None
        if len(value) != 7:
            raise PumpqiError(f"--month: '{text}' is not a month (YYYY-MM)")
        return cls(first.strftime("%Y-%m"))

    @property
    def period(self) -> pd.Period:
        return pd.Period(self.month, freq="M")

    @property
    def first_day(self) -> dt.date:
        return dt.date.fromisoformat(self.month + "-01")

    @property
    def as_of(self) -> dt.date:
        """The data cut-off of the report: the last day of the month."""
        return self.period.end_time.date()

    @property
    def label(self) -> str:
        """'October 2026'."""
        return f"{MONTH_NAMES[self.first_day.month - 1]} {self.first_day.year}"

    @property
    def short(self) -> str:
        """'October' (the month alone, for sentences)."""
        return MONTH_NAMES[self.first_day.month - 1]

    def shifted(self, months: int) -> str:
        """The month `months` later (negative: earlier), as YYYY-MM."""
        return (self.period + months).strftime("%Y-%m")

    def window(self, months: int) -> tuple[str, str]:
        """(first, last) month of the `months` months ending with this one."""
        return self.shifted(-(months - 1)), self.month


def month_label(month: str) -> str:
    """'2026-10' → 'Oct 2026' (for axes and table rows)."""
    first = dt.date.fromisoformat(month + "-01")
    return f"{MONTH_NAMES[first.month - 1][:3]} {first.year}"

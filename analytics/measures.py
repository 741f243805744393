"""The measure registry: one entry per headline measure.

The dashboard, the monthly report and the definitions page iterate over it, so a
measure's label, chart and reading are written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Measure:
    """A headline measure: which `metrics` columns make it and how to chart it."""

    id: str
    label: str
    numerator: str
    denominator: str | None
    multiplier: float
    unit: str
    chart: Literal["p", "u", "run", "i"] | None
    higher_is_better: bool | None
    help: str


MEASURES: tuple[Measure, ...] = (
    Measure(
        "on_time_rate",
        "On-time refill rate",
        "on_time",
        "refills_due",
        1.0,
        "%",
        "p",
        True,
        "Share of refills due in the month (by due date) that were done by the due date (+ grace).",
    ),
    Measure(
        "missed",
        "Refills missed (pump ran dry)",
        "missed",
        None,
        1.0,
        "fills",
        None,
        False,
        "Fills due in the month whose next refill came after the reservoir's empty date, or not at all.",
    ),
    Measure(
        "complication_rate_per_1000",
        "Complication reports per 1,000 pump-days",
        "complications",
        "pump_days",
        1000.0,
        "per 1,000 pump-days",
        "u",
        False,
        "Reports inside a therapy episode per 1,000 days of pump therapy, with an exact Poisson interval.",
    ),
    Measure(
        "refill_error_rate_per_100",
        "Refill errors per 100 fills",
        "refill_errors",
        "fills",
        100.0,
        "per 100 fills",
        "u",
        False,
        "Pocket fills, programming errors and overfills reported, per 100 fills in the month.",
    ),
    Measure(
        "active_patients",
        "Active patients",
        "active_patients",
        None,
        1.0,
        "patients",
        None,
        None,
        "Patients with at least one day of pump therapy in the month.",
    ),
    Measure(
        "pump_days",
        "Pump-days",
        "pump_days",
        None,
        1.0,
        "days",
        None,
        None,
        "Days of pump therapy in the month (implant day counts, explant day does not).",
    ),
)

BY_ID: dict[str, Measure] = {m.id: m for m in MEASURES}

"""The product's vocabulary, declared once as data.

Refill statuses, grouping dimensions, measures, complication codes and categories and
the readable words for every coded value. The engine's SQL, the CLI choices, the pages,
the pack and the Definitions page read from here (or a test ties their copy to it:
tests/test_vocabulary.py), so that adding a status or a measure touches this file, the
SQL that computes it and a test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analytics.spc.options import ChartType

# --- refill statuses ---------------------------------------------------------------


@dataclass(frozen=True)
class RefillStatus:
    """One status of a fill (definitions.md "Refill timeliness").

    in_rate: counted in "refills due" (the on-time rate's denominator, by due month).
    open: the pump is still waiting for its refill (no next fill).
    worklist_rank: order on the worklist (0 first); None = never on it.
    """

    id: str
    label: str
    meaning: str
    in_rate: bool
    open: bool
    colour: str
    worklist_rank: int | None = None


REFILL_STATUSES: tuple[RefillStatus, ...] = (
    RefillStatus(
        "on_time", "on time", "refilled by the due date (+ grace days)", True, False, "#2E7D32"
    ),
    RefillStatus(
        "late",
        "late, not dry",
        "refilled after the due date (+ grace) but before the computed empty date",
        True,
        False,
        "#E6B000",
    ),
    RefillStatus(
        "missed",
        "ran dry (computed)",
        "the pump reached its computed empty date before the next refill (or has no refill yet)",
        True,
        False,
        "#B71C1C",
        worklist_rank=0,
    ),
    RefillStatus(
        "overdue",
        "alarm date passed",
        "no refill yet; past the due (alarm) date + grace, not dry yet",
        True,
        True,
        "#E8590C",
        worklist_rank=1,
    ),
    RefillStatus(
        "pending",
        "not due yet",
        "no refill yet; the due date + grace has not passed",
        False,
        True,
        "#78909C",
        worklist_rank=2,
    ),
    RefillStatus(
        "not_due",
        "therapy ended",
        "the episode ended (explant, discharge) by the due date + grace without a refill",
        False,
        False,
        "#BDBDBD",
    ),
    RefillStatus(
        "unknown",
        "due date unknown",
        "neither a recorded nor a computable due date (see data quality)",
        False,
        False,
        "#616161",
    ),
)
STATUS: dict[str, RefillStatus] = {s.id: s for s in REFILL_STATUSES}
STATUS_IDS: tuple[str, ...] = tuple(s.id for s in REFILL_STATUSES)
DUE_STATUS_IDS: tuple[str, ...] = tuple(s.id for s in REFILL_STATUSES if s.in_rate)
"""The statuses counted in "refills due" (on_time + late + missed + overdue)."""
EXCLUDED_STATUS_IDS: tuple[str, ...] = tuple(s.id for s in REFILL_STATUSES if not s.in_rate)
WORKLIST_STATUS_IDS: tuple[str, ...] = tuple(
    s.id
    for s in sorted(REFILL_STATUSES, key=lambda s: s.worklist_rank or 0)
    if s.worklist_rank is not None
)

# --- the worklist as of today, battery and dose safety -----------------------------


@dataclass(frozen=True)
class WorklistStatus:
    """A worklist row's status, judged on today against the data's end.

    label: fixed words (counts, legends); words: a row's words, where {n} is the number
    of days (days to the due date, or the data's age) and {s} its plural 's'.
    """

    id: str
    label: str
    words: str
    meaning: str
    colour: str


WORKLIST_STATUSES: tuple[WorklistStatus, ...] = (
    WorklistStatus(
        "missed",
        STATUS["missed"].label,
        STATUS["missed"].label,
        "no refill in the data, already past due (+ grace) at the data's end, and past the "
        "computed empty date today",
        STATUS["missed"].colour,
    ),
    WorklistStatus(
        "overdue",
        STATUS["overdue"].label,
        STATUS["overdue"].label,
        "no refill in the data, past due (+ grace) at the data's end, not dry by today",
        STATUS["overdue"].colour,
    ),
    WorklistStatus(
        "check",
        "check: may have fallen due since the data's end",
        "check: may be due, data is {n} day{s} old",
        "not yet due (+ grace) at the data's end, past it today: a refill may have been "
        "done since the extract",
        "#8E24AA",
    ),
    WorklistStatus(
        "grace",
        "due date passed, within grace",
        "due {n} day{s} ago, within grace",
        "the due date has passed, the grace days have not",
        "#F9A825",
    ),
    WorklistStatus(
        "due",
        "due soon",
        "due in {n} day{s}",
        "due today or within the worklist window (due today: 'due today')",
        STATUS["pending"].colour,
    ),
)
WORKLIST_STATUS: dict[str, WorklistStatus] = {s.id: s for s in WORKLIST_STATUSES}

BATTERY_STATUS_LABELS: dict[str, str] = {
    "past_eol": "past end of life",
    "eri": "elective-replacement warning",
    "eol_soon": "end of life ahead",
}
"""A pump in place on the battery plan, judged on today (in this order)."""
IMPLANT_SOURCE_LABELS: dict[str, str] = {
    "implant": "implant visit",
    "replacement": "replacement visit",
    "recorded": "recorded pump implant date",
}
DOSE_RULE_LABELS: dict[str, str] = {
    "dose_above_max": "daily dose above the maximum",
    "concentration_above_max": "concentration above the maximum",
    "dose_step_up": "dose step up above the limit",
}
"""The dose-safety rules, in the order they are listed and counted."""

# --- grouping dimensions -----------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """A grouping of figures: `--by`, the dashboard's filters and by-group tables.

    column: the engine column (a fixed allow-list: never user input).
    by: offered as `--by` and as a filter; funnel: offered as a funnel grouping.
    """

    id: str
    label: str
    column: str
    by: bool = True
    funnel: bool = False


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("site", "Site", "site", funnel=True),
    Dimension("drug", "Drug", "drug"),
    Dimension("pump_model", "Pump model", "pump_model"),
    Dimension("indication", "Indication", "indication"),
    Dimension("clinician", "Clinician", "clinician", by=False, funnel=True),
)
DIMENSION: dict[str, Dimension] = {d.id: d for d in DIMENSIONS}
BY_IDS: tuple[str, ...] = tuple(d.id for d in DIMENSIONS if d.by)
"""The `--by` values and the dashboard's filter dimensions."""
FUNNEL_IDS: tuple[str, ...] = tuple(d.id for d in DIMENSIONS if d.funnel)
UNKNOWN_GROUP = "unknown"
"""A missing value is the group `unknown` (`--by`, filters, funnels)."""

# --- measures -----------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """A headline measure: which `metrics` columns make it, how it is charted and read.

    multiplier: the rate's unit (per 1,000 pump-days: 1000); a proportion has 1 and is
    charted in percent (`chart_multiply` 100). min_points: fewer points with a
    denominator than this, no chart.
    """

    id: str
    label: str
    short_label: str
    numerator: str
    denominator: str | None
    multiplier: float
    unit: str
    chart: ChartType | None
    higher_is_better: bool | None
    help: str
    y_title: str = ""
    value_format: str = "{:,.0f}"
    min_points: int = 3

    @property
    def chart_multiply(self) -> float:
        """Values on the chart: percent for proportions, the rate's own unit otherwise."""
        return 100.0 if self.chart == "p" else self.multiplier


MEASURES: tuple[Measure, ...] = (
    Measure(
        "on_time_rate",
        "On-time refill rate",
        "On-time refills",
        "on_time",
        "refills_due",
        1.0,
        "%",
        "p",
        True,
        "Share of refills due in the month (by due date) that were done by the due date "
        "(+ grace days).",
        y_title="% on time",
        value_format="{:.1f} %",
    ),
    Measure(
        "missed",
        "Refills due in the period that ran dry",
        "Refills that ran dry",
        "missed",
        None,
        1.0,
        "fills",
        None,
        False,
        "Adherence: fills due in the month whose pump reached its computed empty date before "
        "the next refill, or has none yet.",
    ),
    Measure(
        "complication_rate_per_1000",
        "Complications per 1,000 pump-days",
        "Complication rate",
        "complications",
        "pump_days",
        1000.0,
        "per 1,000 pump-days",
        "u",
        False,
        "Complications (events: repeat reports of one complication chained within the merge "
        "window count once) inside a therapy episode per 1,000 days of pump therapy, with "
        "an exact Poisson interval.",
        y_title="complications per 1,000 pump-days",
        value_format="{:.2f}",
    ),
    Measure(
        "refill_error_rate_per_10000",
        "Refill errors per 10,000 percutaneous refills",
        "Refill errors",
        "refill_errors",
        "percutaneous_refills",
        10000.0,
        "per 10,000 refills",
        # drawn as a g-chart of refills between errors (refills_between_errors) once the
        # spc module has chart "g"; a monthly rate of rare errors is nearly always 0
        None,
        False,
        "Pocket fills, programming errors and overfills reported, per 10,000 percutaneous "
        "refills (refill visits; the first fill of an implant or replacement is surgical).",
        y_title="refill errors per 10,000 refills",
        value_format="{:.1f}",
    ),
    Measure(
        "active_patients",
        "Active patients",
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
MEASURE: dict[str, Measure] = {m.id: m for m in MEASURES}

# --- complications ------------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    """A complication code of the contract's taxonomy and its category."""

    id: str
    label: str
    category: str


CATEGORY_LABELS: dict[str, str] = {
    "infection": "Infection",
    "wound": "Wound",
    "catheter": "Catheter",
    "inflammatory mass": "Inflammatory mass (granuloma)",
    "device": "Device",
    "refill error": "Refill error",
    "medication": "Medication",
    "neurological": "Neurological",
    "other": "Other",
}
"""Categories in display order; the key is the category as stored."""

CODES: tuple[Code, ...] = (
    Code("infection_superficial", "superficial infection", "infection"),
    Code("infection_deep", "deep infection", "infection"),
    Code("meningitis", "meningitis", "infection"),
    Code("csf_leak", "CSF leak", "wound"),
    Code("post_dural_puncture_headache", "post-dural-puncture headache", "wound"),
    Code("seroma", "seroma", "wound"),
    Code("hematoma", "hematoma", "wound"),
    Code("wound_dehiscence", "wound dehiscence", "wound"),
    Code("catheter_occlusion", "catheter occlusion", "catheter"),
    Code("catheter_dislodgement", "catheter dislodgement", "catheter"),
    Code("catheter_kink", "catheter kink", "catheter"),
    Code("catheter_fracture", "catheter fracture", "catheter"),
    Code("catheter_disconnection", "catheter disconnection", "catheter"),
    Code("granuloma", "granuloma", "inflammatory mass"),
    Code("pump_failure", "pump failure", "device"),
    Code("pump_flip", "pump flip", "device"),
    Code("battery_depletion", "battery depletion", "device"),
    Code("pocket_fill", "pocket fill", "refill error"),
    Code("programming_error", "programming error", "refill error"),
    Code("refill_overfill", "refill overfill", "refill error"),
    Code("overdose", "overdose", "medication"),
    Code("withdrawal", "withdrawal", "medication"),
    Code("side_effect", "side effect", "medication"),
    Code("neurological_deficit", "neurological deficit", "neurological"),
    Code("other", "other", "other"),
)
CODE: dict[str, Code] = {c.id: c for c in CODES}

# --- counting complications: events or reports ---------------------------------------

COUNT_UNITS: dict[str, str] = {
    "event": "complication events (reports of one code chained within the merge window)",
    "report": "complication reports",
}
"""What a complication count counts (the `count_unit` column): per event by default."""
DEFAULT_COUNT_UNIT = "event"

# --- procedure-anchored surgical outcomes ----------------------------------------------


@dataclass(frozen=True)
class OutcomeWindow:
    """An outcome window after a procedure (day 0 = the procedure, both ends counted).

    id: the `outcome_window` value and the prefix of its columns in the engine's
    procedures table (sql/09_procedures.sql names them; a test ties the two).
    """

    id: str
    label: str
    days: int
    codes: tuple[str, ...]


PROCEDURE_TYPES: tuple[str, ...] = ("implant", "replacement", "revision")
"""Visit types that are surgical procedures (the denominator of the surgical outcomes)."""
OUTCOME_WINDOWS: tuple[OutcomeWindow, ...] = (
    OutcomeWindow(
        "superficial_30d",
        "infection or wound, 30 days",
        30,
        ("infection_superficial", *(c.id for c in CODES if c.category == "wound")),
    ),
    OutcomeWindow(
        "deep_90d", "deep infection or meningitis, 90 days", 90, ("infection_deep", "meningitis")
    ),
)
OUTCOME_WINDOW: dict[str, OutcomeWindow] = {w.id: w for w in OUTCOME_WINDOWS}
SURGICAL_BY_IDS: tuple[str, ...] = (
    "site",
    "clinician",
    "procedure_type",
    "drug",
    "pump_model",
    "indication",
)
"""Groupings of the surgical outcomes (`complications --surgical --by`)."""
SURGICAL_PERIODS: tuple[str, ...] = ("month", "quarter", "all")
COMPLICATION_CATEGORIES: dict[str, str] = {c.id: c.category for c in CODES}
"""code -> category (the contract's taxonomy)."""
REFILL_ERROR_CATEGORY = "refill error"

# --- breakdowns of counts -----------------------------------------------------------

LATE_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("1-7 days", 1, 7),
    ("8-14 days", 8, 14),
    ("15-30 days", 15, 30),
    ("31-60 days", 31, 60),
    ("over 60 days", 61, 10**9),
)
"""Days from the due date to the refill (or to the cut-off while waiting): (label, from, to)."""
SURGERY_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("within 30 days", 0, 30),
    ("31 days to 1 year", 31, 365),
    ("after 1 year", 366, None),
    ("no surgery in the data", None, None),
)
"""Days from the latest implant, replacement or revision of the episode to a report."""
OUTSIDE_CONTEXTS: tuple[str, ...] = (
    "trial or before implant",
    "after explant or discharge",
    "no therapy episode",
)
"""Why a report is outside any therapy episode (such reports are in no rate)."""
UNKNOWN_SEVERITY = "unknown"
SERIOUS_RULE = "serious = true, or severity life-threatening or fatal"
"""The one definition of a serious event (tiles, tables, lists and the pack)."""

# --- readable words for coded values -----------------------------------------------

SEVERITY_LABELS: dict[str, str] = {
    "mild": "mild",
    "moderate": "moderate",
    "severe": "severe",
    "life_threatening": "life-threatening",
    "fatal": "fatal",
}
ACTION_LABELS: dict[str, str] = {
    "none": "none",
    "medical": "medical treatment",
    "dose_change": "dose change",
    "revision": "revision surgery",
    "explant": "explant",
    "hospitalisation": "hospitalisation",
}
VISIT_TYPE_LABELS: dict[str, str] = {
    "trial": "screening trial",
    "implant": "implant",
    "replacement": "pump replacement",
    "refill": "refill",
    "reprogram": "reprogramming",
    "follow_up": "follow-up",
    "unscheduled": "unscheduled visit",
    "revision": "revision surgery",
    "explant": "explant",
    "discharge": "discharge",
}
"""In the order visits of one patient on the same day are taken."""
INDICATION_LABELS: dict[str, str] = {
    "cancer_pain": "cancer pain",
    "noncancer_pain": "non-cancer pain",
    "spasticity": "spasticity",
    "other": "other",
}
DUE_SOURCE_LABELS: dict[str, str] = {
    "recorded": "recorded by the programmer",
    "computed": "computed from volume and rate",
    "stability_cap": "drug stability cap",
}

WORDS: dict[str, Mapping[str, str]] = {
    "status": {s.id: s.label for s in REFILL_STATUSES},
    "dimension": {d.id: d.label for d in DIMENSIONS},
    "measure": {m.id: m.label for m in MEASURES},
    "complication": {c.id: c.label for c in CODES},
    "category": CATEGORY_LABELS,
    "severity": SEVERITY_LABELS,
    "action": ACTION_LABELS,
    "visit_type": VISIT_TYPE_LABELS,
    "indication": INDICATION_LABELS,
    "due_source": DUE_SOURCE_LABELS,
    "count_unit": {"event": "events", "report": "reports"},
    "outcome_window": {w.id: w.label for w in OUTCOME_WINDOWS},
    "worklist_status": {s.id: s.label for s in WORKLIST_STATUSES},
    "battery_status": BATTERY_STATUS_LABELS,
    "implant_source": IMPLANT_SOURCE_LABELS,
    "dose_rule": DOSE_RULE_LABELS,
}
"""Every coded value's readable words, by the column (or kind) that holds it."""


def label(kind: str, value: object) -> str:
    """The readable words for a coded value ('life_threatening' -> 'life-threatening');
    a value the vocabulary does not know is shown as it is (missing: 'unknown')."""
    if value is None or (isinstance(value, float) and value != value):
        return "unknown"
    text = str(value)
    return WORDS.get(kind, {}).get(text, text)

"""Planning page (and the pack's planning section): the refill workload of the coming
weeks, the pumps reaching battery end of life in the next 12 months, replaced before end
of life, and the dose-safety flags of the period. Lists of patients for the QI committee
only; counts for sharing, small ones hidden. The coming weeks' workload and the battery plan
are about the pumps now: not in a shared view (`analytics.figures.now.NOT_SHARED`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from analytics.engine.battery import battery_plan, battery_plan_counts, replaced_before_eol
from analytics.engine.dose_flags import RULES, dose_flag_counts, dose_flags
from analytics.engine.worklist import workload
from analytics.figures.disclosure import Rules, suppress_table
from analytics.figures.memo import memo
from analytics.figures.model import Column, FigureTable
from analytics.figures.scope import Cutoff, Scope
from analytics.vocabulary import DOSE_RULE_LABELS, label

C = Column
WEEKS = 8
BATTERY_MONTHS = 12
ALL_SITES = "all sites"


@dataclass(frozen=True)
class PlanningFigures:
    today: dt.date
    workload: FigureTable | None  # the pumps now: None in a shared view
    battery_counts: FigureTable | None
    battery_list: FigureTable | None  # lists: None in a shared view
    replaced: FigureTable
    dose_counts: FigureTable
    dose_list: FigureTable | None


def _by_site_wide(long: pd.DataFrame, key: str, value: str) -> pd.DataFrame:
    """Rows `key` (week, month), one column per site and an all-sites column."""
    wide = long.pivot_table(index=key, columns="site", values=value, aggfunc="sum", fill_value=0)
    wide[ALL_SITES] = wide.sum(axis=1)
    return wide.reset_index().rename_axis(columns=None)


def workload_table(cut: Cutoff, scope: Scope) -> FigureTable:
    """Refills due per week (Monday to Sunday) and site in the coming weeks (the pumps
    now: for the committee and the clinic team only)."""
    assert not scope.shared, "the pumps now are not in a shared view"
    long = memo(cut, ("workload", cut.today, scope.selection),
                lambda: workload(cut.ready(), cut.today, WEEKS, cut.config, scope.selection))  # fmt: skip
    sites = sorted(long["site"].unique().tolist())
    wide = _by_site_wide(long, "week_start", "refills_due")
    cols = (C("week_start", "Week from", "date"),
            *(C(s, f"Site {s}", "count") for s in sites), C(ALL_SITES, "All sites", "count"))  # fmt: skip
    note = (
        "From the due dates of the pumps waiting for a refill; one already past its due date "
        "counts in the first week."
    )
    caption = f"Refills due per week, the next {WEEKS} weeks from {cut.today:%d %b %Y}"
    return FigureTable("workload", caption, wide, cols, note)


def battery_tables(cut: Cutoff, scope: Scope) -> tuple[FigureTable, FigureTable]:
    """Pumps in place reaching battery end of life per month and site within 12 months
    (already past it: in this month), and the list, soonest first (the pumps now: for the
    committee and the clinic team only)."""
    assert not scope.shared, "the pumps now are not in a shared view"
    long = memo(cut, ("battery", cut.today, scope.selection),
                lambda: battery_plan_counts(cut.ready(), cut.today, BATTERY_MONTHS, cut.config,
                                            scope.selection))  # fmt: skip
    sites = sorted(long["site"].unique().tolist())
    wide = _by_site_wide(long, "month", "pumps")
    cols = (C("month", "Month of end of life"),
            *(C(s, f"Site {s}", "count") for s in sites), C(ALL_SITES, "All sites", "count"))  # fmt: skip
    note = (
        "End of life = implant date (or the recorded pump implant date) + the model's battery "
        f"life; the elective-replacement warning comes {cut.config.eri_warning_days} days "
        "before. Models without a battery life in the configuration are not planned."
    )
    if int(pd.to_numeric(long["pumps"]).sum()) == 0:
        note = f"No pump in place reaches end of life within {BATTERY_MONTHS} months. " + note
    counts = FigureTable("battery_plan_counts", "Pumps reaching battery end of life, by month",
                         wide, cols, note)  # fmt: skip
    plan = battery_plan(cut.ready(), cut.today, BATTERY_MONTHS, cut.config, scope.selection)
    plan["battery_status"] = plan["battery_status"].map(lambda v: label("battery_status", v))
    plan["implant_source"] = plan["implant_source"].map(lambda v: label("implant_source", v))
    list_cols = (
        C("patient_id", "Patient (pseudonym)"), C("site", "Site"), C("pump_model", "Pump model"),
        C("battery_status", "Battery"), C("eri_date", "Replacement warning", "date"),
        C("eol_date", "End of life", "date"), C("days_to_eol", "Days to end of life", "number"),
        C("implant_date", "Implanted", "date"), C("implant_source", "Implant date from"),
    )  # fmt: skip
    listed = FigureTable("battery_plan", "Pumps reaching end of life in the next 12 months",
                         plan[[c.key for c in list_cols]], list_cols)  # fmt: skip
    return counts, listed


def replaced_table(cut: Cutoff, scope: Scope) -> FigureTable:
    """Replaced before end of life, by site (and all sites)."""

    def compute() -> pd.DataFrame:
        by = replaced_before_eol(cut.ready(), cut.as_of, "site", cut.config, scope.selection)
        total = replaced_before_eol(cut.ready(), cut.as_of, None, cut.config, scope.selection)
        return pd.concat([by, total.assign(group=ALL_SITES)], ignore_index=True)

    frame = memo(cut, ("replaced", scope.selection), compute)
    if scope.sharing is not None:
        rules = Rules(counts=("pumps_reached_eol", "replaced_before_eol"),
                      derived={"proportion": ("pumps_reached_eol", "replaced_before_eol")},
                      column_total=("group", ALL_SITES, ()))  # fmt: skip
        frame = suppress_table(frame, rules, scope.sharing)
    cols = (
        C("group", "Site"),
        C("pumps_reached_eol", "Pumps that reached end of life", "count"),
        C("replaced_before_eol", "Replaced before it", "count"),
        C("proportion", "Share replaced in time", "pct"),
    )
    note = "Pumps explanted or discharged before their end of life are not counted."
    return FigureTable("replaced_before_eol", "Replaced before battery end of life", frame,
                       cols, note, total_row=True)  # fmt: skip


def dose_tables(cut: Cutoff, scope: Scope) -> tuple[FigureTable, FigureTable | None]:
    """Dose-safety flags per month of the period (one column per rule, and the visits
    flagged), and for the committee the list of flagged visits."""
    first = dt.date.fromisoformat(scope.first + "-01")
    last = dt.date.fromisoformat(scope.last + "-01")
    counts = memo(cut, ("dose_counts", scope.first, scope.last, scope.selection),
                  lambda: dose_flag_counts(cut.ready(), cut.as_of, None, cut.config, (first, last),
                                           scope.selection))  # fmt: skip
    counts = counts.drop(columns=["group"])
    if scope.sharing is not None:
        counts = suppress_table(counts, Rules(counts=(*RULES, "visits_flagged")), scope.sharing)
    cols = (C("month", "Month"), *(C(r, DOSE_RULE_LABELS[r].capitalize(), "count") for r in RULES),
            C("visits_flagged", "Visits flagged", "count"))  # fmt: skip
    note = (
        "Maxima per drug are settings (confirm against local policy); a dose step up is "
        f"more than {cut.config.dose_step_up_pct:g} % above the previous programmed dose."
    )
    table = FigureTable("dose_flag_counts", "Dose-safety flags by month", counts, cols, note)
    if scope.shared:
        return table, None
    start, end = scope.period.bounds(cut.as_of)
    listed = dose_flags(cut.ready(), cut.as_of, cut.config, (start, end), scope.selection)
    list_cols = (
        C("visit_date", "Date", "date"), C("patient_id", "Patient (pseudonym)"), C("site", "Site"),
        C("drug", "Drug"), C("rule_label", "Rule"), C("daily_dose_mg", "Dose (mg/day)", "rate2"),
        C("concentration_mg_ml", "Concentration (mg/mL)", "rate2"),
        C("maximum", "Limit", "rate2"), C("step_up_pct", "Step up (%)", "rate1"),
    )  # fmt: skip
    return table, FigureTable("dose_flags", f"Dose-safety flags, {scope.label()}",
                              listed[[c.key for c in list_cols]], list_cols)  # fmt: skip


def planning_figures(cut: Cutoff, scope: Scope) -> PlanningFigures:
    """Everything the Planning page shows (workload and battery: from today, not in a
    shared view; dose flags: the scope's months)."""
    dose, dose_list = dose_tables(cut, scope)
    replaced = replaced_table(cut, scope)
    if scope.shared:
        return PlanningFigures(cut.today, None, None, None, replaced, dose, dose_list)
    battery, battery_list = battery_tables(cut, scope)
    return PlanningFigures(
        cut.today, workload_table(cut, scope), battery, battery_list, replaced, dose, dose_list
    )

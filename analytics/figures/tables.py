"""Figure tables built from cells: by group, and the breakdowns (one row per status,
bucket, category, code, severity). Shared by the pages and the pack, so that a figure
has one definition and one shape wherever it is shown."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analytics.engine.intervals import garwood
from analytics.figures.base import cells, period_id, with_rates
from analytics.figures.cells import ALL, Cells, Level
from analytics.figures.model import Column, FigureTable, is_hidden, shown_or_nonzero
from analytics.figures.scope import Cutoff, Scope
from analytics.vocabulary import (
    BY_IDS,
    CODES,
    DIMENSION,
    DUE_STATUS_IDS,
    LATE_BUCKETS,
    OUTSIDE_CONTEXTS,
    STATUS,
    SURGERY_BUCKETS,
    WORDS,
    label,
)

C = Column
EVENTS_HELP = (
    "events: repeat reports of one complication chained within the merge window count once"
)
STATUS_COLUMNS: tuple[Column, ...] = tuple(
    C(s, STATUS[s].label.capitalize(), "count", STATUS[s].meaning) for s in DUE_STATUS_IDS
)


def scope_cells_for(cut: Cutoff, scope: Scope) -> tuple[Cells, Level, str]:
    """The cells of the scope's own period, with its level and period id."""
    level, period = period_id(scope)
    return cells(cut, scope, level, (ALL, *BY_IDS)), level, period


def _value(v: object) -> object:
    return v if is_hidden(v) else int(v)  # type: ignore[call-overload]


def refills_by_group(cut: Cutoff, scope: Scope, dim: str) -> FigureTable:
    """Refills due in the period by group (fills due by due date; status as known at the
    cut-off), with the on-time rate."""
    c, level, period = scope_cells_for(cut, scope)
    df = c.table(level, period, dim, ["refills_due", *DUE_STATUS_IDS, "fills"])
    df = df[shown_or_nonzero(df["refills_due"]) | shown_or_nonzero(df["fills"])]
    df = with_rates(df.assign(complications=0, refill_errors=0)).reset_index(drop=True)
    cols = (
        C("group", DIMENSION[dim].label),
        C("refills_due", "Refills due", "count", "fills whose due date falls in the period"),
        *STATUS_COLUMNS,
        C("on_time_rate", "On-time rate", "pct"),
        C("fills", "Fills dated in the period", "count"),
    )
    caption = f"Refill status by {DIMENSION[dim].label.lower()}, {scope.label()}"
    note = "Refills due in the period by due date; status as known at the cut-off."
    return FigureTable(f"refills_by_{dim}", caption, df, cols, note)


def complications_by_group(cut: Cutoff, scope: Scope, dim: str) -> FigureTable:
    """Complications (events) in the period per 1,000 pump-days, by group, exact intervals."""
    c, level, period = scope_cells_for(cut, scope)
    df = c.table(level, period, dim, ["complications"])
    df = df[df["pump_days"] > 0]
    rated = with_rates(df.assign(on_time=0, refills_due=0, refill_errors=0, fills=0)).reset_index(
        drop=True
    )
    cols = (
        C("group", DIMENSION[dim].label),
        C("complications", "Complications", "count", EVENTS_HELP),
        C("pump_days", "Pump-days", "number"),
        C("complication_rate_per_1000", "per 1,000 pump-days", "rate2"),
        C("rate_ci_low", "95 % CI low", "rate2"),
        C("rate_ci_high", "95 % CI high", "rate2"),
    )
    caption = f"Complications by {DIMENSION[dim].label.lower()}, {scope.label()}"
    return FigureTable(f"complications_by_{dim}", caption, rated, cols)


def _breakdown(c: Cells, level: Level, period: str, names: Sequence[str]) -> list[object]:
    return [_value(c.value(level, period, ALL, ALL, n)) for n in names]


def excluded(cut: Cutoff, scope: Scope) -> FigureTable:
    """Fills of the period left out of the on-time rate: not due yet and therapy ended
    (by due date), due date unknown (by fill date)."""
    c, level, period = scope_cells_for(cut, scope)
    ids = ("pending", "not_due", "unknown")
    by = {
        "pending": "due in the period",
        "not_due": "due in the period",
        "unknown": "dated in the period",
    }
    df = pd.DataFrame(
        {
            "status": [STATUS[s].label for s in ids],
            "fills": _breakdown(c, level, period, ids),
            "meaning": [f"{STATUS[s].meaning} ({by[s]})" for s in ids],
        }
    )
    cols = (C("status", "Status"), C("fills", "Fills", "count"), C("meaning", "Meaning"))
    return FigureTable("not_in_rate", "Fills left out of the on-time rate", df, cols)


def days_late(cut: Cutoff, scope: Scope) -> FigureTable:
    """Refills due in the period that were late, ran dry or are past the alarm date, by
    days from the due date to the refill (or to the cut-off while waiting)."""
    c, level, period = scope_cells_for(cut, scope)
    rows = []
    for bucket, _, _ in LATE_BUCKETS:
        for status in ("late", "overdue", "missed"):
            value = _breakdown(c, level, period, [f"{status}|{bucket}"])[0]
            rows.append({"bucket": bucket, "status": STATUS[status].label, "refills": value})
    cols = (
        C("bucket", "Days after the due date"),
        C("status", "Status"),
        C("refills", "Refills", "count"),
    )
    return FigureTable("days_late", "How late: refills due in the period", pd.DataFrame(rows), cols)


def refill_quality(cut: Cutoff, scope: Scope) -> FigureTable:
    """Refill-error reports per 10,000 percutaneous refills (refill visits: the first fill
    of an implant or replacement is surgical) and residual-volume checks of the period."""
    c, level, period = scope_cells_for(cut, scope)
    refills = _value(c.value(level, period, ALL, ALL, "percutaneous_refills"))
    errors = _value(c.value(level, period, ALL, ALL, "refill_errors"))
    checked, flags = _breakdown(c, level, period, ["with_residuals", "residual_flags"])
    row = {"percutaneous_refills": refills, "refill_errors": errors,
           "with_residuals": checked, "residual_flags": flags}  # fmt: skip
    df = pd.DataFrame([row])
    df["refill_error_rate_per_10000"] = _per(errors, refills, 10000)
    df["residual_flags_per_100"] = _per(flags, checked, 100)
    cols = (
        C("percutaneous_refills", "Refills (percutaneous)", "count"),
        C("refill_errors", "Refill-error reports", "count"),
        C("refill_error_rate_per_10000", "per 10,000 refills", "rate1"),
        C("with_residuals", "Refills with both residual volumes recorded", "count"),
        C("residual_flags", "Residual discrepancies", "count"),
        C("residual_flags_per_100", "per 100 refills checked", "rate1"),
    )
    note = "A residual discrepancy: |actual − expected residual volume| above the tolerance."
    return FigureTable("refill_quality", "Refill errors and residual checks", df, cols, note)


def _per(num: object, den: object, k: float) -> float | None:
    if is_hidden(num) or is_hidden(den) or not den:
        return None
    return float(num) / float(den) * k  # type: ignore[arg-type]


def categories(cut: Cutoff, scope: Scope) -> FigureTable:
    """Reports inside episodes by category, per 1,000 pump-days, with exact intervals, and
    a total row (all categories)."""
    c, level, period = scope_cells_for(cut, scope)
    names = list(WORDS["category"])
    reports = _breakdown(c, level, period, [f"category|{n}" for n in names])
    total = _value(c.value(level, period, ALL, ALL, "complications"))
    days = int(c.table(level, period, ALL, [])["pump_days"].sum())
    df = pd.DataFrame({"category": [WORDS["category"][n] for n in names] + ["All categories"],
                       "reports": [*reports, total]})  # fmt: skip
    return _rate_table(df, days, "complications_by_category", "Complications by category",
                       (C("category", "Category"),), cut, total_row=True)  # fmt: skip


def codes(cut: Cutoff, scope: Scope) -> FigureTable:
    """Reports inside episodes by complication code (codes with reports only)."""
    c, level, period = scope_cells_for(cut, scope)
    reports = _breakdown(c, level, period, [f"code|{x.id}" for x in CODES])
    days = int(c.table(level, period, ALL, [])["pump_days"].sum())
    df = pd.DataFrame({
        "complication": [x.label for x in CODES],
        "category": [WORDS["category"][x.category] for x in CODES],
        "reports": reports,
    })  # fmt: skip
    df = df[shown_or_nonzero(df["reports"])].reset_index(drop=True)
    key = (C("complication", "Complication"), C("category", "Category"))
    return _rate_table(df, days, "complications_by_code", "Complications by code", key, cut)


def _rate_table(
    df: pd.DataFrame, days: int, key: str, caption: str, keys: tuple[Column, ...],
    cut: Cutoff, total_row: bool = False,
) -> FigureTable:  # fmt: skip
    numeric = pd.to_numeric(df["reports"].where(~df["reports"].map(is_hidden)), errors="coerce")
    rate, lo, hi = garwood(numeric.fillna(0).to_numpy(), [days] * len(df), 1000.0)
    hidden = df["reports"].map(is_hidden).to_numpy(dtype=bool)
    out = df.assign(
        rate_per_1000=pd.Series(rate).astype(object).where(~hidden, None),
        ci_low=pd.Series(lo).astype(object).where(~hidden, None),
        ci_high=pd.Series(hi).astype(object).where(~hidden, None),
    )
    cols = (
        *keys,
        C("reports", "Complications", "count", EVENTS_HELP),
        C("rate_per_1000", "per 1,000 pump-days", "rate2"),
        C("ci_low", "95 % CI low", "rate2"),
        C("ci_high", "95 % CI high", "rate2"),
    )
    note = (
        f"Over {days:,} pump-days, inside therapy episodes. Counted per event: repeat reports "
        f"of one complication within {cut.config.event_merge_days} days count once."
    )
    return FigureTable(key, caption, out, cols, note, total_row)


def surgery_times(cut: Cutoff, scope: Scope) -> FigureTable:
    """Reports by category and time from the latest implant, replacement or revision."""
    c, level, period = scope_cells_for(cut, scope)
    rows = []
    for cat, words in WORDS["category"].items():
        values = _breakdown(c, level, period, [f"surgery|{cat}|{b[0]}" for b in SURGERY_BUCKETS])
        total = _value(c.value(level, period, ALL, ALL, f"category|{cat}"))
        if total == 0:
            continue
        rows.append(
            {
                "category": words,
                **{b[0]: v for b, v in zip(SURGERY_BUCKETS, values, strict=True)},
                "total": total,
            }
        )
    cols = (
        C("category", "Category"),
        *(C(b[0], b[0].capitalize(), "count") for b in SURGERY_BUCKETS),
        C("total", "Total", "count"),
    )
    frame = pd.DataFrame(rows, columns=[c.key for c in cols])
    note = "Time from the latest implant, replacement or revision of the episode to the report."
    return FigureTable("time_from_surgery", "Reports by time from surgery", frame, cols, note)


def severity(cut: Cutoff, scope: Scope) -> FigureTable:
    """Every report of the period (in or outside a therapy episode) by severity, with the
    serious events among them (serious = true, or life-threatening or fatal)."""
    c, level, period = scope_cells_for(cut, scope)
    levels = [*WORDS["severity"], "unknown"]
    df = pd.DataFrame({
        "severity": [label("severity", s) if s != "unknown" else "not recorded" for s in levels] + ["All reports"],
        "reports": _breakdown(c, level, period, [f"severity|{s}" for s in levels]) + _breakdown(c, level, period, ["reports_all"]),
        "serious": _breakdown(c, level, period, [f"serious|{s}" for s in levels]) + _breakdown(c, level, period, ["serious"]),
    })  # fmt: skip
    cols = (
        C("severity", "Severity"),
        C("reports", "Reports", "count"),
        C("serious", "Serious events", "count", "serious = true, or life-threatening or fatal"),
    )
    note = "All reports of the period, inside and outside therapy episodes."
    return FigureTable("severity", "Reports by severity", df, cols, note, total_row=True)


def outside(cut: Cutoff, scope: Scope) -> FigureTable:
    """Reports dated outside any therapy episode, by context (never in a rate)."""
    c, level, period = scope_cells_for(cut, scope)
    df = pd.DataFrame({
        "context": list(OUTSIDE_CONTEXTS),
        "reports": _breakdown(c, level, period, [f"outside|{x}" for x in OUTSIDE_CONTEXTS]),
    })  # fmt: skip
    cols = (C("context", "Context"), C("reports", "Reports", "count"))
    caption = "Reports outside any therapy episode (in no rate)"
    return FigureTable("outside_episode", caption, df, cols)


def count_of(cut: Cutoff, scope: Scope, name: str) -> object:
    """One count of the scope's period for the whole programme, as shown."""
    c, level, period = scope_cells_for(cut, scope)
    return _value(c.value(level, period, ALL, ALL, name))

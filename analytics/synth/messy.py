"""`--messy`: realistic faults at ~1% of rows, each listed in a manifest.

Every injected fault is one that ingest quarantines (`pumpqi contract`, "What happens
to faults"); the manifest names the table row, column and the
start of the quarantine reason ingest gives. Faults go to distinct clean rows, so
each quarantined row has exactly the injected fault.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from analytics.synth import SynthResult

FAULT_RATE = 0.01
UNPARSEABLE = "unparseable date"
OUT_OF_RANGE = "out of range"
UNKNOWN = "unknown value"
FUTURE = "date after today"
CONFLICT = "conflicting duplicate id"
DUPLICATE = "duplicate"
NOT_BOOLEAN = "not a boolean"

Cell = Callable[[pd.Series, np.random.Generator], pd.Series]


def typo(values: pd.Series, rng: np.random.Generator) -> pd.Series:
    """A real typo: one letter dropped from the middle (`refill` -> `refll`)."""
    s = values.astype(str)
    mid = s.str.len() // 2
    return pd.Series([v[:m] + v[m + 1 :] for v, m in zip(s, mid, strict=True)], index=s.index)


def us_date(values: pd.Series, rng: np.random.Generator) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%m/%d/%Y")


def bad_month(values: pd.Series, rng: np.random.Generator) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y") + "-13-45"


def feb_30(values: pd.Series, rng: np.random.Generator) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y") + "-02-30"


def future(values: pd.Series, rng: np.random.Generator) -> pd.Series:
    days = rng.integers(3, 400, len(values))
    today = pd.Timestamp(dt.date.today())
    return pd.Series(
        (today + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"), index=values.index
    )


def negative(values: pd.Series, rng: np.random.Generator) -> pd.Series:
    return -values.astype(float)


def micrograms(values: pd.Series, rng: np.random.Generator) -> pd.Series:
    return values.astype(float) * 1000  # a µg dose typed into the mg field


def not_boolean(values: pd.Series, rng: np.random.Generator) -> pd.Series:
    return pd.Series("unk", index=values.index)


# (fault, column, make, reason, which rows qualify)
VISIT_FAULTS: tuple[tuple[str, str, Cell, str, str], ...] = (
    ("date_us_format", "visit_date", us_date, UNPARSEABLE, "all"),
    ("date_impossible", "visit_date", bad_month, UNPARSEABLE, "all"),
    ("date_future", "visit_date", future, FUTURE, "all"),
    ("visit_type_typo", "visit_type", typo, UNKNOWN, "all"),
    ("indication_typo", "indication", typo, UNKNOWN, "indication"),
    ("volume_negative", "volume_added_ml", negative, OUT_OF_RANGE, "volume_added_ml"),
    ("dose_micrograms", "daily_dose_mg", micrograms, OUT_OF_RANGE, "dose_over_1"),
    ("due_impossible", "next_refill_due", feb_30, UNPARSEABLE, "next_refill_due"),
)
REPORT_FAULTS: tuple[tuple[str, str, Cell, str, str], ...] = (
    ("date_us_format", "report_date", us_date, UNPARSEABLE, "all"),
    ("date_impossible", "report_date", bad_month, UNPARSEABLE, "all"),
    ("date_future", "report_date", future, FUTURE, "all"),
    ("complication_typo", "complication", typo, UNKNOWN, "all"),
    ("severity_typo", "severity", typo, UNKNOWN, "severity"),
    ("serious_not_boolean", "serious", not_boolean, NOT_BOOLEAN, "serious"),
)
TEXT_COLUMNS = {
    "visits": ("visit_date", "visit_type", "indication", "next_refill_due", "clinician"),
    "complications": ("report_date", "complication", "severity", "serious", "action"),
}


def _as_text(df: pd.DataFrame, table: str) -> pd.DataFrame:
    df = df.copy()
    for col in TEXT_COLUMNS[table]:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            df[col] = s.dt.strftime("%Y-%m-%d").astype(object)
        elif pd.api.types.is_bool_dtype(s):
            df[col] = s.map({True: "true", False: "false"}).astype(object)
        else:
            df[col] = s.astype(object)
    return df


def _qualifies(df: pd.DataFrame, rule: str) -> np.ndarray:
    if rule == "all":
        return np.ones(len(df), dtype=bool)
    if rule == "dose_over_1":
        return (df["daily_dose_mg"] > 1.0).to_numpy()
    return df[rule].notna().to_numpy()


def _inject_table(
    rng: np.random.Generator,
    df: pd.DataFrame,
    table: str,
    faults: tuple[tuple[str, str, Cell, str, str], ...],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cell faults on distinct rows, then exact and conflicting duplicates."""
    df = _as_text(df, table)
    n = len(df)
    per_kind = max(1, round(FAULT_RATE * n / (len(faults) + 2)))
    free = np.ones(n, dtype=bool)
    log: list[tuple[int, str, str, str]] = []  # (row before insertion, column, reason, fault)
    for fault, col, make, reason, rule in faults:
        cand = np.flatnonzero(free & _qualifies(df, rule))
        rows = np.sort(rng.choice(cand, size=min(per_kind, len(cand)), replace=False))
        free[rows] = False
        numeric = pd.api.types.is_numeric_dtype(df[col])
        values = df[col].to_numpy(dtype=float if numeric else object, copy=True)
        values[rows] = make(df[col].iloc[rows], rng).to_numpy()
        df[col] = values
        log += [(int(r), col, reason, fault) for r in rows]
    return _duplicates(rng, df, table, free, per_kind, log)


def _duplicates(
    rng: np.random.Generator,
    df: pd.DataFrame,
    table: str,
    free: np.ndarray,
    per_kind: int,
    log: list[tuple[int, str, str, str]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    cand = np.flatnonzero(free)
    picked = rng.choice(cand, size=min(2 * per_kind, len(cand)), replace=False)
    exact, conflict = np.sort(picked[:per_kind]), np.sort(picked[per_kind:])
    copies = np.sort(np.concatenate([exact, conflict]))
    order = np.sort(np.concatenate([np.arange(len(df)), copies]), kind="stable")
    pos = np.arange(len(order))
    is_copy = np.r_[False, order[1:] == order[:-1]]
    new_row = np.empty(len(df), dtype=np.int64)
    new_row[order[~is_copy]] = pos[~is_copy]
    out = df.iloc[order].reset_index(drop=True)
    id_col = "visit_id" if table == "visits" else "report_id"
    change = "clinician" if table == "visits" else "action"
    conflict_copy = pos[is_copy][np.isin(order[is_copy], conflict)]
    old = out.loc[conflict_copy, change].astype(str)
    alt = "CL01" if table == "visits" else "none"
    other = "CL02" if table == "visits" else "medical"
    out.loc[conflict_copy, change] = np.where(old == alt, other, alt)
    rows = [(int(new_row[r]), c, reason, f) for r, c, reason, f in log]
    rows += [(int(new_row[r]) + 1, "", DUPLICATE, "exact_duplicate") for r in exact]
    for r in conflict:
        rows += [(int(new_row[r]) + k, id_col, CONFLICT, "conflicting_duplicate") for k in (0, 1)]
    manifest = pd.DataFrame(rows, columns=["row", "column", "reason", "fault"])
    manifest.insert(0, "table", table)
    return out, manifest.sort_values("row", kind="stable").reset_index(drop=True)


def inject(
    rng: np.random.Generator, result: SynthResult, messy: bool, identifier: bool
) -> SynthResult:
    """The result with faults (messy) and/or a 7-digit `mrn` column (refused at ingest)."""
    visits, comps = result.visits, result.complications
    parts = []
    if messy:
        visits, mv = _inject_table(rng, visits, "visits", VISIT_FAULTS)
        comps, mc = _inject_table(rng, comps, "complications", REPORT_FAULTS)
        parts += [mv, mc]
    if identifier:
        visits = visits.copy()
        mrn = rng.integers(1_000_000, 10_000_000, len(visits)).astype(str)
        visits.insert(1, "mrn", mrn)
        refused = pd.DataFrame(
            [("visits", -1, "mrn", "looks like a direct identifier", "identifier_column")],
            columns=["table", "row", "column", "reason", "fault"],
        )
        parts.append(refused)
    manifest = pd.concat(parts, ignore_index=True) if messy else None
    return dataclasses.replace(result, visits=visits, complications=comps, manifest=manifest)

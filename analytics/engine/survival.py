"""Device survival (definitions.md "Device survival"): pump periods and Kaplan–Meier curves,
like the manufacturers' product performance reports.

* `pump_periods`  one row per pump period (sql/pump_periods.sql, from the engine's
  visit order): implant date, entry and exit in days from the implant, event 0/1;
* `survival_curve` the Kaplan–Meier curve with delayed entry per group
  (`analytics.engine.kaplan_meier`), one row per group and distinct time;
* `survival_summary` survival at 1 and 5 years (365 and 1826 days) with its interval
  and the pumps at risk then, for the survival page and the monthly pack.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.engine.kaplan_meier import KM_COLUMNS, at_risk, kaplan_meier, survival_at
from analytics.engine.tables import resolve_as_of, stage_sql, visit_order_source
from analytics.errors import PumpqiError
from analytics.vocabulary import CODES, UNKNOWN_GROUP

PUMP_CODES: tuple[str, ...] = ("pump_failure", "pump_flip")
"""Pump events; battery_depletion is the normal end of life, not an event (censored)."""
CATHETER_CODES: tuple[str, ...] = tuple(c.id for c in CODES if c.category == "catheter")


@dataclass(frozen=True)
class Endpoint:
    """What ends a pump's event-free time: the first report of one of `codes`."""

    id: str
    label: str
    codes: tuple[str, ...]


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("device", "pump or catheter event", (*PUMP_CODES, *CATHETER_CODES)),
    Endpoint("pump", "pump event (failure or flip; battery depletion censored)", PUMP_CODES),
    Endpoint("catheter", "catheter event", CATHETER_CODES),
)
ENDPOINT: dict[str, Endpoint] = {e.id: e for e in ENDPOINTS}
ENDPOINT_IDS: tuple[str, ...] = tuple(e.id for e in ENDPOINTS)

INTERVAL_COLUMNS: tuple[str, ...] = (
    "group", "patient_id", "implant_date", "entry_days", "exit_days", "event",
)  # fmt: skip
"""The columns of `pumpqi survival --intervals`."""
CURVE_COLUMNS: tuple[str, ...] = ("group", *KM_COLUMNS)
"""The columns of `pumpqi survival`."""
SUMMARY_COLUMNS: tuple[str, ...] = (
    "group", "days", "n_risk", "survival", "ci_low", "ci_high",
)  # fmt: skip
SUMMARY_DAYS: tuple[int, ...] = (365, 1826)
"""1 and 5 years (5 × 365.25, rounded), the manufacturers' usual time points."""
GROUP_COLUMNS: dict[str, str] = {
    "site": "site", "drug": "drug_if", "pump_model": "pump_model_if",
    "indication": "indication_if",
}  # fmt: skip
"""`--by` value -> column of the visit order (the value in force at the pump's first
visit; the site is the visit's own)."""
_ORDER = 'ORDER BY "group", patient_id, implant_date, seq'


def _endpoint(endpoint: str) -> Endpoint:
    if endpoint not in ENDPOINT:
        raise PumpqiError(f"endpoint '{endpoint}' is not one of {', '.join(ENDPOINT_IDS)}")
    return ENDPOINT[endpoint]


def _group_sql(by: str | None) -> tuple[str, str]:
    """The visit-order column and the group expression, from the fixed allow-list only."""
    if by is None or by == "all":
        return "NULL", "'all'"
    if by not in GROUP_COLUMNS:
        raise PumpqiError(f"--by: '{by}' is not one of {', '.join(GROUP_COLUMNS)}")
    return GROUP_COLUMNS[by], "coalesce(CAST(group_value AS VARCHAR), $unknown)"


def pump_periods(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    endpoint: str = "device",
    by: str | None = None,
    keep_untimed: bool = False,
    ordered: bool = True,
) -> pd.DataFrame:
    """One row per pump period as known on as_of (default: the data's end).

    A period runs from a pump's implant (implant or replacement visit) to the next
    replacement, the episode's end (explant, discharge) or as_of. Its event is the first
    report of an endpoint code from its first day (the day after, for a replacement: a
    report on a replacement day belongs to the outgoing pump) to its exit. A pump in
    place when the data begins is timed only when its visits give pump_implant_date; it
    then enters late. Columns: the INTERVAL_COLUMNS (group = the `by` value in force at
    the pump's first visit, 'unknown' when missing, 'all' without `by`), then
    start_date, exit_date, event_date, start_type, late, timed and in_curve (exit >
    entry). With `keep_untimed`, the pumps in place when the data begins that cannot be
    timed (no usable pump_implant_date) are kept too (timed false, days and event empty),
    so that a page can say how many were left out. `ordered`: rows by group, patient
    and implant date (the curves do not need it).
    """
    codes = list(_endpoint(endpoint).codes)
    value, group = _group_sql(by)
    as_of = resolve_as_of(con, as_of)
    sql = (
        stage_sql("pump_periods", visit_order=visit_order_source(con))
        .replace("{group_value}", value)
        .replace("{group}", group)
        .replace("{order}", _ORDER if ordered else "")
    )
    params: dict[str, object] = {"as_of": as_of, "codes": codes}
    if "$unknown" in group:
        params["unknown"] = UNKNOWN_GROUP
    df = con.execute(sql, params).df()
    if not keep_untimed:
        df = df[df["timed"]].reset_index(drop=True)
    all_timed = bool(df["timed"].all())
    for c in ("entry_days", "exit_days", "event"):
        df[c] = df[c].astype("int64") if all_timed else df[c].astype("Int64")
    df["in_curve"] = (df["exit_days"] > df["entry_days"]).fillna(False).astype(bool)
    return df


def _timed(periods: pd.DataFrame) -> pd.DataFrame:
    """The periods that can be timed (all of them when the table does not say)."""
    if "timed" not in periods:
        return periods
    return periods[periods["timed"].astype(bool)]


def survival_curve(periods: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier curves of pump periods (from `pump_periods`), one per group: one row
    per group and distinct time with an event or a censoring (CURVE_COLUMNS). Periods
    with exit <= entry are left out, as R leaves them out."""
    frames = []
    for name, part in _timed(periods).groupby("group", sort=True):
        curve = kaplan_meier(part["entry_days"], part["exit_days"], part["event"], level)
        if len(curve):
            curve.insert(0, "group", str(name))
            frames.append(curve)
    if not frames:
        empty = kaplan_meier([], [], [])
        empty.insert(0, "group", pd.Series(dtype="object"))
        return empty
    return pd.concat(frames, ignore_index=True).loc[:, list(CURVE_COLUMNS)]


def device_survival(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    endpoint: str = "device",
    by: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Event-free survival of pumps (Kaplan–Meier with delayed entry, Greenwood variance,
    log-log interval) per group: `pumpqi survival`. Subjects: the pump periods of
    `pump_periods` with exit > entry; event: the first report of the endpoint's codes
    (device: pump failure, pump flip or any catheter code; pump: failure or flip;
    catheter: any catheter code); time: days from the implant date."""
    return survival_curve(pump_periods(con, as_of, endpoint, by, ordered=False), level)


def summary_at(
    periods: pd.DataFrame, days: Sequence[int] = SUMMARY_DAYS, level: float = 0.95
) -> pd.DataFrame:
    """Survival at each of `days` per group, with its interval and the pumps at risk then
    (entry < t <= exit); survival is empty when no pump was followed that long."""
    rows = []
    for name, part in _timed(periods).groupby("group", sort=True):
        curve = kaplan_meier(part["entry_days"], part["exit_days"], part["event"], level)
        kept = part[part["exit_days"] > part["entry_days"]]
        for t in days:
            surv, low, high = survival_at(curve, t)
            n = at_risk(kept["entry_days"], kept["exit_days"], t)
            rows.append([str(name), int(t), n, surv, low, high])
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    out["n_risk"] = out["n_risk"].astype("int64")
    out["days"] = out["days"].astype("int64")
    for c in ("survival", "ci_low", "ci_high"):
        out[c] = out[c].astype(np.float64)
    return out


def survival_summary(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    endpoint: str = "device",
    by: str | None = None,
    days: Sequence[int] = SUMMARY_DAYS,
    level: float = 0.95,
) -> pd.DataFrame:
    """The 1- and 5-year figures (survival at 365 and 1826 days by default) per group, with
    the log-log interval and the pumps still at risk then (SUMMARY_COLUMNS): for the
    survival page and the pack. Survival is empty where no pump was followed that long."""
    return summary_at(pump_periods(con, as_of, endpoint, by, ordered=False), days, level)

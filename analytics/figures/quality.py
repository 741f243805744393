"""Data-quality page data: what was refused at ingest and what looks doubtful in what
was loaded. Counts and pseudonymous ids only: never raw rows or free-text notes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.refills import episodes, refills
from analytics.engine.tables import data_end, prepare
from analytics.figures.disclosure import Rules, suppress_table
from analytics.ingest.contract import TABLES, VISITS
from analytics.ingest.validation import q

_QUARANTINE = """
SELECT table_name, source_file, coalesce(column_name, '(whole row)') AS column_name, reason,
       count(*) AS rows
FROM quarantine GROUP BY ALL ORDER BY rows DESC, table_name, source_file, column_name
"""
_INGEST_LOG = """
SELECT ingest_id, ingested_at, table_name, file_name, rows_read, rows_loaded,
       rows_already_present, rows_quarantined, package_version
FROM ingest_log ORDER BY ingest_id, table_name
"""
_AFTER_EXPLANT = """
SELECT patient_id, visit_date, visit_type, visit_id, site
FROM pq_visits WHERE NOT in_ep AND close_grp > 0 AND visit_type <> 'trial'
ORDER BY patient_id, seq
"""
_NO_DOSE = """
SELECT patient_id, visit_date, visit_type, visit_id, site, drug_if AS drug
FROM pq_visits WHERE is_fill AND dose_if IS NULL AND rate_if IS NULL
ORDER BY patient_id, seq
"""
_RATE_SET = """
FROM pq_visits
WHERE in_ep AND rate_if > 0
  AND (daily_rate_ml IS NOT NULL OR daily_dose_mg IS NOT NULL OR concentration_mg_ml IS NOT NULL)
"""
_SLOW_RATE = f"""
SELECT patient_id, visit_date, visit_type, visit_id, site, drug_if AS drug,
       reservoir_if AS reservoir_ml, rate_if AS daily_volume_ml
{_RATE_SET}  AND coalesce(reservoir_if, $unknown_reservoir) > rate_if * $slow_days
ORDER BY patient_id, seq
"""
_FAST_RATE = f"""
SELECT patient_id, visit_date, visit_type, visit_id, site, drug_if AS drug,
       dose_if AS daily_dose_mg, concentration_if AS concentration_mg_ml,
       rate_if AS daily_volume_ml
{_RATE_SET}  AND rate_if > $max_rate
ORDER BY patient_id, seq
"""
_IMPLANT_AFTER_VISIT = """
SELECT patient_id, visit_date, visit_type, visit_id, site, pump_implant_date
FROM pq_visits WHERE pump_implant_date > visit_date
ORDER BY patient_id, seq
"""
_UNKNOWN_VISIT = """
SELECT patient_id, report_date, visit_id, complication, site
FROM pq_reports WHERE unknown_visit ORDER BY report_date, patient_id
"""
RATE_LIMITS: dict[str, float] = {
    "slow_days": 10 * 365.25,
    "unknown_reservoir": 20.0,
    "max_rate": float(VISITS.column("daily_rate_ml").maximum or 0),
}
"""Implausible daily volumes (FLAG_TEXT): a full reservoir lasting more than ten years
(a 20 mL reservoir when its size is unknown), or more than the largest programmable
daily volume (the contract's maximum daily_rate_ml)."""
FLAG_TEXT: dict[str, tuple[str, str]] = {
    "overfilled": (
        "Fills above reservoir capacity",
        "volume added is more than the pump's reservoir holds (counted as a full reservoir)",
    ),
    "after_explant": (
        "Visits after an explant without a new implant",
        "visits (other than a trial) dated after the therapy ended; they belong to no episode",
    ),
    "no_dose": (
        "Fills without dose data",
        "no daily dose, concentration or rate was ever recorded, so no due date can be computed",
    ),
    "slow_rate": (
        "Daily volume that would last more than ten years",
        "a daily volume above 0 at which a full reservoir "
        f"({RATE_LIMITS['unknown_reservoir']:g} mL when its size is unknown) "
        "would take more than ten years to empty: the due date comes from the stability cap "
        "and the pump may never be shown as dry; check the units of rate, dose and "
        "concentration",
    ),
    "fast_rate": (
        f"Daily volume above {RATE_LIMITS['max_rate']:g} mL/day",
        "the daily dose divided by the concentration gives more than the largest daily volume "
        f"a pump is programmed to ({RATE_LIMITS['max_rate']:g} mL/day): the pump is computed "
        "to empty on the day of its fill; usually a unit error (mcg written as mg)",
    ),
    "alarm_at_fill": (
        "Fills not above the alarm volume",
        "the volume in the reservoir after the fill is at or below the low-reservoir alarm "
        "volume, so the fill is due on its own day",
    ),
    "due_before_fill": (
        "Recorded due date before the fill",
        "the next-refill date recorded for the fill is earlier than the fill itself (kept as "
        "recorded)",
    ),
    "implant_after_visit": (
        "Pump implant date after the visit",
        "the visit gives an implant date of the pump in place that is later than the visit",
    ),
    "unknown_visit": (
        "Complications linked to an unknown visit",
        "the report's visit_id matches no loaded visit",
    ),
    "unknown_due": (
        "Fills with an unknown due date",
        "neither a recorded next_refill_due nor enough data to compute one: status 'unknown'",
    ),
    "left_truncated": (
        "Patients whose log starts after their implant",
        "the log starts after the implant (left truncation); the first episode starts at the "
        "first visit",
    ),
}
COUNT_RULES = Rules(counts=("rows", "count"))
MISSING_RULES = Rules(counts=("missing",), derived={"missing_share": ("missing",)})
LOG_RULES = Rules(
    counts=("rows_read", "rows_loaded", "rows_already_present", "rows_quarantined"),
    row_totals={"rows_read": ("rows_loaded", "rows_already_present", "rows_quarantined")},
)
_INTERNAL = {"notes"}


@dataclass(frozen=True)
class Flag:
    key: str
    title: str
    description: str
    count: int
    rows: pd.DataFrame


@dataclass(frozen=True)
class QualityData:
    as_of: dt.date | None
    quarantine: pd.DataFrame
    ingest_log: pd.DataFrame
    missing: pd.DataFrame  # table, column, missing, rows, missing_share
    flags: tuple[Flag, ...]
    summary: pd.DataFrame  # check, count (suppressed in sharing mode)
    message: str | None = None


def data_quality(
    con: duckdb.DuckDBPyConnection, config: Config = DEFAULT, sharing: bool = False
) -> QualityData:
    """Quarantined rows by reason and file, missing-field rates, the ingest log and the
    flags listed in FLAG_TEXT (whole database, no filters). In sharing mode: counts
    only, small ones suppressed."""
    quarantine = con.execute(_QUARANTINE).df()
    log = con.execute(_INGEST_LOG).df()
    missing = _missing(con)
    as_of = data_end(con)
    if as_of is None:
        return QualityData(
            None, quarantine, log, missing, (), pd.DataFrame(), "The database holds no visits yet."
        )
    prepare(con, as_of, config)
    detail = refills(con, as_of, config, detail=True)
    eps = episodes(con, as_of, config)
    fill_cols = ["patient_id", "fill_date", "fill_type", "site", "drug", "pump_model"]
    at_alarm = detail["start_volume_ml"] <= detail["alarm_volume_ml"]
    frames = {
        "overfilled": detail[detail["overfilled"]][[*fill_cols, "reservoir_ml", "volume_added_ml"]],
        "slow_rate": con.execute(
            _SLOW_RATE,
            {k: RATE_LIMITS[k] for k in ("slow_days", "unknown_reservoir")},
        ).df(),
        "fast_rate": con.execute(_FAST_RATE, {"max_rate": RATE_LIMITS["max_rate"]}).df(),
        "alarm_at_fill": detail[at_alarm.fillna(False).astype(bool)][
            [*fill_cols, "start_volume_ml", "alarm_volume_ml"]
        ],
        "due_before_fill": detail[
            (detail["recorded_due"] < detail["fill_date"]).fillna(False).astype(bool)
        ][[*fill_cols, "recorded_due"]],
        "implant_after_visit": con.execute(_IMPLANT_AFTER_VISIT).df(),
        "after_explant": con.execute(_AFTER_EXPLANT).df(),
        "no_dose": con.execute(_NO_DOSE).df(),
        "unknown_visit": con.execute(_UNKNOWN_VISIT).df(),
        "unknown_due": detail[detail["status"] == "unknown"][fill_cols],
        "left_truncated": eps[eps["left_truncated"]][
            ["patient_id", "episode_id", "start_date", "start_type"]
        ],
    }
    flags = tuple(
        Flag(k, *FLAG_TEXT[k], len(df), pd.DataFrame() if sharing else df.reset_index(drop=True))
        for k, df in frames.items()
    )
    summary = pd.DataFrame(
        {
            "check": ["Rows quarantined at ingest"] + [f.title for f in flags],
            "count": [int(quarantine["rows"].sum())] + [f.count for f in flags],
        }
    )
    if sharing:
        threshold = config.suppress_below
        summary = suppress_table(summary, COUNT_RULES, threshold)
        quarantine = suppress_table(quarantine, COUNT_RULES, threshold)
        missing = suppress_table(missing, MISSING_RULES, threshold)
        log = suppress_table(log, LOG_RULES, threshold)
    return QualityData(as_of, quarantine, log, missing, flags, summary)


def _missing(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Share of rows with an empty value, per contract column (names from the contract)."""
    frames = []
    for name, table in TABLES.items():
        cols = [c.name for c in table.columns if c.name not in _INTERNAL]
        counts = ", ".join(f"count({q(c)})" for c in cols)
        row = con.execute(f"SELECT count(*), {counts} FROM {name}").fetchall()[0]
        total = int(row[0])
        for col, present in zip(cols, row[1:], strict=True):
            frames.append(
                {
                    "table": name,
                    "column": col,
                    "rows": total,
                    "missing": total - int(present),
                    "missing_share": (total - int(present)) / total if total else None,
                }
            )
    return pd.DataFrame(frames)

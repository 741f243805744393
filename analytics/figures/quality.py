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
from analytics.ingest.contract import TABLES
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
_UNKNOWN_VISIT = """
SELECT patient_id, report_date, visit_id, complication, site
FROM pq_reports WHERE unknown_visit ORDER BY report_date, patient_id
"""
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
    "unknown_visit": (
        "Complications linked to an unknown visit",
        "the report's visit_id matches no loaded visit",
    ),
    "unknown_due": (
        "Fills with an unknown due date",
        "neither a recorded next_refill_due nor enough data to compute one: status 'unknown'",
    ),
    "left_truncated": (
        "Left-truncated patients",
        "the log starts after the implant; the first episode starts at the first visit",
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
    frames = {
        "overfilled": detail[detail["overfilled"]][[*fill_cols, "reservoir_ml", "volume_added_ml"]],
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

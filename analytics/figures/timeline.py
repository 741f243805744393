"""Patient timeline data: one pseudonymous patient's visits, fills, due and empty
dates, dose changes, complications and therapy episodes (never free-text notes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.refills import episodes, refills
from analytics.engine.selection import with_facts
from analytics.engine.tables import prepare
from analytics.figures.scope import Cutoff, Scope
from analytics.vocabulary import label

_VISITS = """
SELECT visit_date, visit_type, visit_id, site, pump_model_if AS pump_model, drug_if AS drug,
       volume_added_ml, in_ep AS in_episode
FROM pq_visits WHERE patient_id = $patient ORDER BY seq
"""
_DOSES = """
SELECT visit_date, visit_type, drug_if AS drug, dose_if AS daily_dose_mg,
       concentration_if AS concentration_mg_ml, rate_if AS daily_volume_ml
FROM pq_visits
WHERE patient_id = $patient
  AND (daily_rate_ml IS NOT NULL OR daily_dose_mg IS NOT NULL OR concentration_mg_ml IS NOT NULL)
ORDER BY seq
"""
_REPORTS = """
SELECT report_date, complication, category, severity, serious, action, in_episode
FROM pq_reports WHERE patient_id = $patient ORDER BY report_date, report_id
"""


@dataclass(frozen=True)
class TimelineData:
    patient_id: str
    as_of: dt.date
    visits: pd.DataFrame
    fills: pd.DataFrame
    doses: pd.DataFrame
    complications: pd.DataFrame
    episodes: pd.DataFrame
    message: str | None = None


def patient_ids(cut: Cutoff, scope: Scope) -> list[str]:
    """Patients with a fill or a pump-day in the selected groups, sorted."""
    sql, params = with_facts(
        "SELECT patient_id FROM {refills} UNION SELECT patient_id FROM {exposure} ORDER BY 1",
        scope.selection,
    )
    return [str(r[0]) for r in cut.ready().execute(sql, params).fetchall()]


def patient_timeline(
    con: duckdb.DuckDBPyConnection,
    patient_id: str,
    as_of: dt.date | None = None,
    config: Config = DEFAULT,
) -> TimelineData:
    """Everything dated for one patient as of `as_of` (values bound as parameters)."""
    as_of = prepare(con, as_of, config)
    p = {"patient": patient_id}
    visits = con.execute(_VISITS, p).df()
    fills = refills(con, as_of, config, detail=True)
    fills = fills[fills["patient_id"] == patient_id][
        ["fill_date", "fill_type", "due_date", "due_source", "empty_date", "next_fill_date",
         "status", "days_late", "dry_days", "volume_added_ml"]
    ].reset_index(drop=True)  # fmt: skip
    fills["status"] = fills["status"].map(lambda s: label("status", s))
    fills["due_source"] = fills["due_source"].map(lambda s: label("due_source", s) if s else "")
    eps = episodes(con, as_of, config)
    eps = eps[eps["patient_id"] == patient_id].drop(columns=["patient_id"]).reset_index(drop=True)
    message = None if len(visits) else "No visits for this patient up to the data cut-off."
    return TimelineData(
        patient_id,
        as_of,
        visits,
        fills,
        con.execute(_DOSES, p).df(),
        con.execute(_REPORTS, p).df(),
        eps,
        message,
    )

"""Refill timeliness: one row per fill (definitions: "Fills and due dates", "Refill
timeliness") and the nurse manager's worklist."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.selection import Selection, with_facts
from analytics.engine.tables import prepare
from analytics.vocabulary import DUE_STATUS_IDS, STATUS_IDS

REFILL_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "fill_visit_id",
    "fill_date",
    "due_date",
    "due_source",
    "empty_date",
    "next_fill_date",
    "status",
    "days_late",
    "dry_days",
    "early",
)
"""The columns of `pumpqi refills`, in order."""

DETAIL_COLUMNS: tuple[str, ...] = (
    "episode_id",
    "fill_type",
    "site",
    "drug",
    "pump_model",
    "indication",
    "reservoir_ml",
    "volume_added_ml",
    "start_volume_ml",
    "alarm_volume_ml",
    "rate_at_fill",
    "recorded_due",
    "computed_due",
    "cap_days",
    "cap_date",
    "residual_diff_ml",
    "residual_diff_pct",
    "residual_flag",
    "overfilled",
)

EPISODE_LABEL = "patient_id || ':' || CAST(episode_id % 1000000 AS VARCHAR)"
"""A readable, cut-off-independent episode id: the patient and the number of earlier
explants/discharges (the engine keys episodes by integers internally)."""

STATUSES: tuple[str, ...] = STATUS_IDS
DUE_STATUSES: tuple[str, ...] = DUE_STATUS_IDS


def refills(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    config: Config = DEFAULT,
    detail: bool = False,
    dated_in: tuple[dt.date, dt.date] | None = None,
    selection: Selection = (),
) -> pd.DataFrame:
    """One row per fill as of `as_of`: due date and its source, empty date, next fill,
    status, days late, dry days and the early flag (with `detail`, the values in force
    and the residual check too). Fills outside a therapy episode are not refills.
    With `dated_in` (first, last day), only the fills dated or due in that range; with
    `selection`, only the fills of the selected groups."""
    as_of = prepare(con, as_of, config)
    cols = REFILL_COLUMNS + (DETAIL_COLUMNS if detail else ())
    exprs = [EPISODE_LABEL + " AS episode_id" if c == "episode_id" else c for c in cols]
    where, params = "", {}
    if dated_in is not None:
        where = "WHERE fill_date BETWEEN $first AND $last OR due_date BETWEEN $first AND $last"
        params = {"first": dated_in[0], "last": dated_in[1]}
    sql, extra = with_facts(
        f"SELECT {', '.join(exprs)} FROM {{refills}} {where} "
        "ORDER BY patient_id, fill_date, fill_visit_id",
        selection,
    )
    # through Arrow: about three times faster than .df() for a large table
    df = (
        con.sql(sql, params={**params, **extra} or None)
        .to_arrow_table()
        .to_pandas(date_as_object=False)
    )
    # whole days stay whole numbers even where a status leaves them empty (unknown)
    for col in ("days_late", "dry_days", "cap_days"):
        if col in df.columns:
            df[col] = df[col].astype("Int64")
    return df


def status_counts(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None, config: Config = DEFAULT
) -> dict[str, int]:
    """How many fills to `as_of` have each status (every status listed, zeros too)."""
    prepare(con, as_of, config)
    rows = con.execute("SELECT status, count(*) FROM pq_refills GROUP BY status").fetchall()
    found = {str(s): int(n) for s, n in rows}
    return {s: found.get(s, 0) for s in STATUSES}


def worklist(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    days: int | None = None,
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """The nurse manager's action list as of `as_of`: the latest fill of each open
    therapy whose refill is due within `days` (pending), overdue (alarm passed, not
    dry yet) or missed (ran dry, no refill yet), most urgent first. The list as of
    today, ordered by risk, is analytics.engine.worklist.worklist."""
    as_of = prepare(con, as_of, config)
    days = config.worklist_days if days is None else days
    sql, extra = with_facts(
        """
        SELECT patient_id, site, drug, pump_model, fill_date, due_date, empty_date, status,
               CASE WHEN status = 'pending' THEN due_date - CAST($as_of AS DATE) END AS days_left,
               CASE WHEN status IN ('overdue', 'missed') THEN days_late END AS days_late,
               dry_days, fill_visit_id
        FROM {refills}
        WHERE next_fill_date IS NULL AND episode_end IS NULL
          AND (status IN ('overdue', 'missed')
               OR (status = 'pending' AND due_date <= CAST($as_of AS DATE) + CAST($days AS INTEGER)))
        ORDER BY CASE status WHEN 'missed' THEN 0 WHEN 'overdue' THEN 1 ELSE 2 END,
                 due_date, patient_id
        """,
        selection,
    )
    return con.execute(sql, {"as_of": as_of, "days": days, **extra}).df()


def episodes(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None, config: Config = DEFAULT
) -> pd.DataFrame:
    """Therapy episodes: start, end (empty while open), left-truncated flag, pump-days
    counted [start, end) with open episodes to as_of inclusive."""
    as_of = prepare(con, as_of, config)
    return con.execute(
        f"""
        SELECT patient_id, {EPISODE_LABEL} AS episode_id, start_date, end_date, start_type,
               left_truncated, visits, fills,
               coalesce(end_date, CAST($as_of AS DATE) + 1) - start_date AS pump_days
        FROM pq_episodes ORDER BY patient_id, start_date
        """,
        {"as_of": as_of},
    ).df()

"""Counts behind the figures' breakdowns, per period: fills left out of the on-time rate,
early refills, residual checks, how late, and reports by category, code, time from
surgery, severity, seriousness and (outside episodes) context.

One SQL over the fact tables (engine/selection.py) returns long rows (period, count,
value); `per` makes the period a month (YYYY-MM), a calendar quarter (YYYYQn) or the
whole range ('period'). Count names: a status (`pending`, `not_due`, `unknown`),
`early`, `with_residuals`, `residual_flags`, `late|1-7 days` (status|bucket),
`category|infection`, `code|meningitis`, `surgery|infection|within 30 days` (these three
count complication events, by their first report, like the metrics table), `severity|mild`,
`serious|mild` (reports, and serious reports, of that severity, in or outside episodes),
`outside|<context>` (reports outside any episode).
The relations between them (a category is the sum of its codes, ...) are in
analytics/figures/cells.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import duckdb
import pandas as pd

from analytics.engine.selection import Selection, with_facts
from analytics.vocabulary import LATE_BUCKETS, OUTSIDE_CONTEXTS, SURGERY_BUCKETS

Per = Literal["month", "quarter", "period"]


def _key(per: Per, column: str) -> str:
    if per == "month":
        return f"strftime({column}, '%Y-%m')"
    if per == "quarter":
        return f"CAST(year({column}) AS VARCHAR) || 'Q' || CAST(quarter({column}) AS VARCHAR)"
    return "'period'"


def _late_bucket() -> str:
    whens = " ".join(
        f"WHEN days_late BETWEEN {lo} AND {hi} THEN '{label}'" for label, lo, hi in LATE_BUCKETS
    )
    return f"CASE {whens} END"


def _surgery_bucket() -> str:
    whens = []
    for label, lo, hi in SURGERY_BUCKETS:
        if lo is None:
            whens.append(f"WHEN surgery_date IS NULL THEN '{label}'")
        elif hi is None:
            whens.append(f"WHEN report_date - surgery_date >= {lo} THEN '{label}'")
        else:
            whens.append(f"WHEN report_date - surgery_date BETWEEN {lo} AND {hi} THEN '{label}'")
    return "CASE " + " ".join(whens) + " END"


_CONTEXT = f"""
CASE WHEN EXISTS (SELECT 1 FROM pq_visits v WHERE v.patient_id = r.patient_id
                  AND v.visit_type = 'trial' AND v.visit_date <= r.report_date)
          AND NOT EXISTS (SELECT 1 FROM pq_episodes e WHERE e.patient_id = r.patient_id
                          AND e.start_date <= r.report_date)
     THEN '{OUTSIDE_CONTEXTS[0]}'
     WHEN EXISTS (SELECT 1 FROM pq_episodes e WHERE e.patient_id = r.patient_id
                  AND e.end_date < r.report_date)
     THEN '{OUTSIDE_CONTEXTS[1]}'
     ELSE '{OUTSIDE_CONTEXTS[2]}' END
"""
"""Why a report is outside any episode (the same words as outside_episode_reports)."""

SERIOUS_SQL = "coalesce(serious, FALSE) OR severity IN ('life_threatening', 'fatal')"
"""The one definition of a serious event (vocabulary.SERIOUS_RULE)."""


def _sql(per: Per) -> str:
    due, fill, rep = _key(per, "due_date"), _key(per, "fill_date"), _key(per, "report_date")
    return f"""
    WITH fills AS (SELECT * FROM {{refills}}),
    reps AS (SELECT * FROM {{reports}} WHERE report_date BETWEEN $start AND $end)
    SELECT {due} AS period, status AS count, count(*) AS value FROM fills
    WHERE status IN ('pending', 'not_due') AND due_date BETWEEN $start AND $end GROUP BY ALL
    UNION ALL
    SELECT {fill}, 'unknown', count(*) FROM fills
    WHERE status = 'unknown' AND fill_date BETWEEN $start AND $end GROUP BY ALL
    UNION ALL
    SELECT {due}, 'early', count(*) FROM fills
    WHERE status = 'on_time' AND early AND due_date BETWEEN $start AND $end GROUP BY ALL
    UNION ALL
    SELECT {fill}, 'with_residuals', count(*) FROM fills
    WHERE residual_diff_ml IS NOT NULL AND fill_date BETWEEN $start AND $end GROUP BY ALL
    UNION ALL
    SELECT {fill}, 'residual_flags', count(*) FROM fills
    WHERE residual_flag AND fill_date BETWEEN $start AND $end GROUP BY ALL
    UNION ALL
    SELECT {due}, status || '|' || {_late_bucket()}, count(*) FROM fills
    WHERE status IN ('late', 'missed', 'overdue') AND due_date BETWEEN $start AND $end
    GROUP BY ALL
    UNION ALL
    SELECT {rep}, 'category|' || category, count(*) FROM reps
    WHERE in_episode AND event_start GROUP BY ALL
    UNION ALL
    SELECT {rep}, 'code|' || complication, count(*) FROM reps
    WHERE in_episode AND event_start GROUP BY ALL
    UNION ALL
    SELECT {rep}, 'surgery|' || category || '|' || {_surgery_bucket()}, count(*) FROM reps
    WHERE in_episode AND event_start GROUP BY ALL
    UNION ALL
    SELECT {rep}, 'severity|' || coalesce(severity, 'unknown'), count(*) FROM reps GROUP BY ALL
    UNION ALL
    SELECT {rep}, 'serious|' || coalesce(severity, 'unknown'), count(*) FROM reps
    WHERE {SERIOUS_SQL} GROUP BY ALL
    UNION ALL
    SELECT {_key(per, "r.report_date")}, 'outside|' || ({_CONTEXT}), count(*) FROM reps r
    WHERE NOT r.in_episode GROUP BY ALL
    """


def breakdown_counts(
    con: duckdb.DuckDBPyConnection,
    start: dt.date,
    end: dt.date,
    per: Per,
    selection: Selection = (),
) -> pd.DataFrame:
    """Long rows (period, count, value) of the breakdown counts dated from `start` to
    `end` (inclusive) on the prepared engine tables; zero counts are not listed."""
    sql, params = with_facts(_sql(per), selection)
    df = con.execute(sql, {"start": start, "end": end, **params}).df()
    df["value"] = df["value"].astype("int64")
    return df

"""Refills between refill errors: the input of a g-chart (definitions.md "Complication
rates", refill-error rate).

Refill errors (pocket fills, programming errors, overfills) are rare, about 1 per 10,000
refills: a monthly rate is nearly always 0 and can never signal. A g-chart plots instead,
for each error in date order, how many percutaneous refills were done since the previous
one; a long run of refills without an error is good news, a short one a signal.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.complications import Period
from analytics.engine.metrics import group_expr
from analytics.engine.tables import prepare
from analytics.vocabulary import REFILL_ERROR_CATEGORY

ALL_MONTHS = Period()
"""Every month of the data up to the cut-off."""
BETWEEN_COLUMNS: tuple[str, ...] = (
    "group",
    "report_id",
    "report_date",
    "complication",
    "refills_between",
    "days_between",
    "after_previous",
)

_BETWEEN_SQL = """
WITH refills AS (
    SELECT coalesce({g}, 'unknown') AS grp, fill_date AS day, 0 AS kind,
           NULL::VARCHAR AS report_id, NULL::VARCHAR AS complication
    FROM pq_refills WHERE fill_type = 'refill'
),
errors AS (
    SELECT coalesce({g}, 'unknown') AS grp, report_date AS day, 1 AS kind, report_id, complication
    FROM pq_reports WHERE in_episode AND category = $category
),
counted AS (
    -- refills so far, each group's refills and errors in date order (a refill before an
    -- error of the same day: the refill at which the error happened counts)
    SELECT *,
           count(*) FILTER (WHERE kind = 0) OVER (
               PARTITION BY grp ORDER BY day, kind, report_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS refills_so_far
    FROM (SELECT * FROM refills UNION ALL SELECT * FROM errors)
),
gaps AS (
    SELECT grp, report_id, day, complication,
           refills_so_far - coalesce(lag(refills_so_far) OVER w, 0) AS refills_between,
           day - lag(day) OVER w AS days_between,
           lag(day) OVER w IS NOT NULL AS after_previous
    FROM counted
    WHERE kind = 1
    WINDOW w AS (PARTITION BY grp ORDER BY day, report_id)
)
SELECT grp AS "group", report_id, day AS report_date, complication, refills_between,
       days_between, after_previous
FROM gaps
WHERE day BETWEEN $start AND $end
ORDER BY "group", report_date, report_id
"""


def refills_between_errors(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    by: str | None = None,
    period: Period = ALL_MONTHS,
    config: Config = DEFAULT,
) -> pd.DataFrame:
    """For each refill error (a report in the category `refill error` inside an episode)
    dated in the period, in date order: the percutaneous refills (fills of visit type
    `refill`) of its group dated after the previous error's date up to and including its
    own date (`refills_between`: the refill at which the error happened counts; a second
    error on the same day has 0), and the days since the previous error
    (`days_between`, empty for the first). The previous error may lie before the period;
    the first error of the data counts the refills since the data's start
    (`after_previous` false: a chart may leave it out). Each report is one error (not
    merged into events). The g-chart's y is `refills_between`, the t-chart's
    `days_between`.
    """
    as_of = prepare(con, as_of, config)
    start, end = period.bounds(as_of)
    df = con.execute(
        _BETWEEN_SQL.replace("{g}", group_expr(by)),
        {"category": REFILL_ERROR_CATEGORY, "start": start, "end": end},
    ).df()
    df["refills_between"] = df["refills_between"].astype("int64")
    df["days_between"] = df["days_between"].astype("Int64")
    df["after_previous"] = df["after_previous"].astype(bool)
    df["report_date"] = pd.to_datetime(df["report_date"]).dt.date
    return df[list(BETWEEN_COLUMNS)]

"""Procedure-anchored surgical outcomes (the `complications --surgical` table).

Most infections and wound complications start at surgery: counted per procedure, a site
that implants many pumps does not look worse than one that implants few. The engine's
`pq_procedures` (sql/09_procedures.sql) holds one row per procedure with, per outcome
window, whether a report was attributed to it and whether the window is still open at
the cut-off; this module counts them by period and group.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.complications import Period
from analytics.engine.intervals import clopper_pearson
from analytics.engine.metrics import group_expr
from analytics.engine.refills import EPISODE_LABEL
from analytics.engine.tables import prepare
from analytics.errors import PumpqiError
from analytics.vocabulary import OUTCOME_WINDOWS, SURGICAL_BY_IDS, SURGICAL_PERIODS

ALL_MONTHS = Period()
"""Every month of the data up to the cut-off."""
SURGICAL_COLUMNS: tuple[str, ...] = (
    "period",
    "group",
    "outcome_window",
    "procedures",
    "with_outcome",
    "rate_per_100",
    "ci_low",
    "ci_high",
    "window_open",
)
SURGICAL_GROUPS: dict[str, str] = {"all": "'all'", **{b: b for b in SURGICAL_BY_IDS}}
"""The allowed `--by` values and the pq_procedures column each groups on (allow-list)."""
PERIOD_SQL: dict[str, str] = {
    "month": "strftime(procedure_date, '%Y-%m')",
    "quarter": "strftime(procedure_date, '%Y') || '-Q' || CAST(quarter(procedure_date) AS VARCHAR)",
    "all": "'all'",
}
"""How a procedure's period is named: 2024-03, 2024-Q1, or all."""
assert set(PERIOD_SQL) == set(SURGICAL_PERIODS)
assert all(re.fullmatch(r"[a-z0-9_]+", w.id) for w in OUTCOME_WINDOWS)

_WINDOW_ROWS = " UNION ALL ".join(
    f"SELECT {{period}} AS period, coalesce({{g}}, 'unknown') AS grp, '{w.id}' AS outcome_window, "
    f"{w.id}_open AS is_open, {w.id} AS outcome "
    "FROM pq_procedures WHERE procedure_date BETWEEN $start AND $end"
    for w in OUTCOME_WINDOWS
)
_COUNTS_SQL = f"""
SELECT period, grp AS "group", outcome_window,
       count(*) FILTER (WHERE NOT is_open) AS procedures,
       count(*) FILTER (WHERE NOT is_open AND outcome) AS with_outcome,
       count(*) FILTER (WHERE is_open) AS window_open
FROM ({_WINDOW_ROWS})
GROUP BY ALL
"""
"""One row per procedure and outcome window (ids from the vocabulary), counted."""


def _periods(period: str, first: dt.date, last: dt.date) -> list[str]:
    if period == "all":
        return ["all"]
    if period == "month":
        return [p.strftime("%Y-%m") for p in pd.period_range(first, last, freq="M")]
    return [f"{p.year}-Q{p.quarter}" for p in pd.period_range(first, last, freq="Q")]


def surgical_outcomes(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    by: str | None = None,
    period: str = "month",
    months: Period = ALL_MONTHS,
    level: float = 0.95,
    config: Config = DEFAULT,
) -> pd.DataFrame:
    """Procedures with an outcome in a window, per 100 procedures, by period of the
    procedure (month, quarter or all) and group, one row per outcome window.

    Numerator (`with_outcome`): procedures whose window has ended by as_of with at least
    one report attributed to them in it (reports are attributed to the patient's latest
    procedure on or before the report, when within its window: day 0 = the procedure,
    the last day counted). Denominator (`procedures`): procedures (implant, replacement,
    revision in an episode; one per patient and day) dated in the period whose window has
    ended by as_of. Excluded: procedures whose window is still open (`window_open`,
    counted apart). Interval: exact binomial (Clopper-Pearson), empty without
    procedures. Every period from the first procedure (or --from) to as_of (or --to),
    every group with a procedure and every window are listed, with zeros.
    """
    if period not in PERIOD_SQL:
        raise PumpqiError(f"--period: '{period}' is not one of {', '.join(SURGICAL_PERIODS)}")
    as_of = prepare(con, as_of, config)
    start, end = months.bounds(as_of)
    sql = _COUNTS_SQL.replace("{period}", PERIOD_SQL[period])
    sql = sql.replace("{g}", group_expr(by, SURGICAL_GROUPS))
    counts = con.execute(sql, {"start": start, "end": end}).df()
    if counts.empty:
        out = pd.DataFrame({c: pd.Series(dtype="object") for c in SURGICAL_COLUMNS})
        return out
    first = con.execute(
        "SELECT min(procedure_date) FROM pq_procedures WHERE procedure_date BETWEEN $s AND $e",
        {"s": start, "e": end},
    ).fetchall()[0][0]
    grid = pd.MultiIndex.from_product(
        [
            _periods(period, start if months.month_from else first, end),
            sorted(counts["group"].unique()),
            [w.id for w in OUTCOME_WINDOWS],
        ],
        names=["period", "group", "outcome_window"],
    )
    df = (
        counts.set_index(["period", "group", "outcome_window"])
        .reindex(grid, fill_value=0)
        .reset_index()
    )
    for col in ("procedures", "with_outcome", "window_open"):
        df[col] = df[col].astype("int64")
    rate, lo, hi = clopper_pearson(df["with_outcome"], df["procedures"], 100.0, level)
    df["rate_per_100"], df["ci_low"], df["ci_high"] = rate, lo, hi
    return df[list(SURGICAL_COLUMNS)]


def procedure_list(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    months: Period = ALL_MONTHS,
    config: Config = DEFAULT,
) -> pd.DataFrame:
    """The procedures behind `surgical_outcomes`, one row each, with per window: the
    outcome flag, the first attributed report (id and date), the window's last day and
    whether it is still open at as_of (each figure traced to its rows). The episode is
    named as in `refills` (patient:number)."""
    as_of = prepare(con, as_of, config)
    start, end = months.bounds(as_of)
    return con.execute(
        f"SELECT * REPLACE ({EPISODE_LABEL} AS episode_id) FROM pq_procedures "
        "WHERE procedure_date BETWEEN $s AND $e "
        "ORDER BY procedure_date, patient_id",
        {"s": start, "e": end},
    ).df()

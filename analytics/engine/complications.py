"""Complication-report rates (definitions.md "Complication rates").

Exposure is the engine's pump-days (pq_exposure) and reports are the engine's
pq_reports, so the rates here and in `pumpqi metrics` share one definition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.funnels import (
    BANDS,
    Dispersion,
    check_method,
    estimate,
    poisson_limits,
    poisson_se,
    signals,
    with_dispersion,
)
from analytics.engine.intervals import garwood
from analytics.engine.metrics import count_unit, group_expr
from analytics.engine.selection import Selection, with_facts
from analytics.engine.tables import prepare
from analytics.errors import PumpqiError
from analytics.ingest.contract import SEVERITIES
from analytics.vocabulary import COMPLICATION_CATEGORIES, DIMENSION, FUNNEL_IDS

FUNNEL_GROUPS: dict[str, str] = {d: DIMENSION[d].column for d in FUNNEL_IDS}
TIME_BUCKETS: tuple[str, ...] = (
    "within 30 days",
    "31 days to 1 year",
    "after 1 year",
    "no surgery in the data",
)


@dataclass(frozen=True)
class Period:
    """An inclusive range of whole months; None ends mean the data's first month / as_of."""

    month_from: str | None = None
    month_to: str | None = None

    def bounds(self, as_of: dt.date) -> tuple[dt.date, dt.date]:
        """First day and last day (inclusive, never after as_of) of the period."""
        start = _month_start(self.month_from, "--from") if self.month_from else dt.date(1900, 1, 1)
        if self.month_to:
            first = _month_start(self.month_to, "--to")
            end = (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).date()
        else:
            end = as_of
        return start, min(end, as_of)


def _month_start(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value + "-01")
    except ValueError:
        raise PumpqiError(f"{option}: '{value}' is not a month (YYYY-MM)") from None


PERIOD_MONTHS_SQL = """month_start BETWEEN date_trunc('month', CAST($start AS DATE))
                      AND date_trunc('month', CAST($end AS DATE))"""
"""The months of a period (bound $start/$end) in pq_exposure."""


def _exposure_sql(group_sql: str) -> str:
    """Pump-days per group over the period's months (group_sql from an allow-list)."""
    return (
        f"SELECT coalesce({group_sql}, 'unknown') AS \"group\", sum(pump_days) AS pump_days "
        f"FROM {{exposure}} WHERE {PERIOD_MONTHS_SQL} GROUP BY ALL"
    )


def _run(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object], selection: Selection
) -> duckdb.DuckDBPyConnection:
    """Run SQL over the fact tables ({refills}, {exposure}, {reports}) of the selection."""
    sql, extra = with_facts(sql, selection)
    return con.execute(sql, {**params, **extra})


def _with_rate(df: pd.DataFrame, events: str, exposure: str, level: float) -> pd.DataFrame:
    rate, lo, hi = garwood(df[events].to_numpy(), df[exposure].to_numpy(), 1000.0, level)
    return df.assign(rate_per_1000=rate, ci_low=lo, ci_high=hi)


def rates_by_category(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    by: str | None = None,
    period: Period = Period(),
    level: float = 0.95,
    config: Config = DEFAULT,
    codes: bool = False,
    selection: Selection = (),
    per: str | None = None,
) -> pd.DataFrame:
    """Complications per 1,000 pump-days per category (or code) and group over a period.

    Numerator, by `per` (the `count_unit` column): events (default; reports of one code
    chained within `event_merge_days`, counted in the period and group of their first
    report) or reports dated in the period inside a therapy episode, in the category.
    Both counts are listed (`events`, `reports`; `serious` counts reports). Denominator:
    the group's pump-days in the period. Excluded: reports outside any episode (see
    `outside_episode_reports`). Interval: exact Poisson (Garwood). Every category of the
    taxonomy is listed, with zeros.
    """
    unit = count_unit(per)
    as_of = prepare(con, as_of, config)
    start, end = period.bounds(as_of)
    g = group_expr(by)
    key = "complication" if codes else "category"
    taxonomy = pd.DataFrame(
        {
            "complication": list(COMPLICATION_CATEGORIES),
            "category": list(COMPLICATION_CATEGORIES.values()),
        }
    )
    if not codes:
        taxonomy = taxonomy[["category"]].drop_duplicates()
    con.register("taxonomy_frame", taxonomy)
    df = _run(
        con,
        f"""
        WITH exposure AS ({_exposure_sql(g)}),
        counts AS (
            SELECT coalesce({g}, 'unknown') AS "group", {key} AS k, count(*) AS reports,
                   count(*) FILTER (WHERE event_start) AS events,
                   count(*) FILTER (WHERE serious) AS serious
            FROM {{reports}} WHERE in_episode AND report_date BETWEEN $start AND $end GROUP BY ALL
        )
        SELECT e."group", t.*, coalesce(c.events, 0) AS events, coalesce(c.reports, 0) AS reports,
               coalesce(c.serious, 0) AS serious, e.pump_days
        FROM exposure e CROSS JOIN taxonomy_frame t
        LEFT JOIN counts c ON c."group" = e."group" AND c.k = t.{key}
        ORDER BY e."group", t.{key}
        """,
        {"start": start, "end": end},
        selection,
    ).df()
    con.unregister("taxonomy_frame")
    df["pump_days"] = df["pump_days"].fillna(0).astype("int64")
    df["events"] = df["events"].astype("int64")
    df["count_unit"] = unit
    return _with_rate(df, f"{unit}s", "pump_days", level)


def outside_episode_reports(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    period: Period = Period(),
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """Reports dated outside any therapy episode (during a trial, before an implant or
    after an explant): counted and shown separately, never in a rate, never dropped."""
    as_of = prepare(con, as_of, config)
    start, end = period.bounds(as_of)
    return _run(
        con,
        """
        SELECT r.report_id, r.patient_id, r.report_date, r.complication, r.category, r.severity, r.serious,
               CASE WHEN EXISTS (SELECT 1 FROM pq_visits v WHERE v.patient_id = r.patient_id
                                 AND v.visit_type = 'trial' AND v.visit_date <= r.report_date)
                         AND NOT EXISTS (SELECT 1 FROM pq_episodes e WHERE e.patient_id = r.patient_id
                                         AND e.start_date <= r.report_date)
                    THEN 'trial or before implant'
                    WHEN EXISTS (SELECT 1 FROM pq_episodes e WHERE e.patient_id = r.patient_id
                                 AND e.end_date < r.report_date)
                    THEN 'after explant or discharge'
                    ELSE 'no therapy episode' END AS context
        FROM {reports} r
        WHERE NOT r.in_episode AND r.report_date BETWEEN $start AND $end
        ORDER BY r.report_date, r.patient_id
        """,
        {"start": start, "end": end},
        selection,
    ).df()


def time_since_surgery(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    period: Period = Period(),
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """Reports by time from the latest surgery (implant, replacement or revision) of the
    episode to the report: within 30 days, 31 days to 1 year, after 1 year, or no surgery
    in the data (left-truncated patients). Per category, with the share of each bucket.
    Answers "a surgical-technique problem or a long-term one?"."""
    as_of = prepare(con, as_of, config)
    start, end = period.bounds(as_of)
    df = _run(
        con,
        f"""
        SELECT category,
               CASE WHEN surgery_date IS NULL THEN '{TIME_BUCKETS[3]}'
                    WHEN report_date - surgery_date <= 30 THEN '{TIME_BUCKETS[0]}'
                    WHEN report_date - surgery_date <= 365 THEN '{TIME_BUCKETS[1]}'
                    ELSE '{TIME_BUCKETS[2]}' END AS time_since_surgery,
               count(*) AS reports
        FROM {{reports}} WHERE in_episode AND report_date BETWEEN $start AND $end
        GROUP BY ALL
        """,
        {"start": start, "end": end},
        selection,
    ).df()
    cats = sorted(set(COMPLICATION_CATEGORIES.values()))
    grid = pd.MultiIndex.from_product(
        [cats, TIME_BUCKETS], names=["category", "time_since_surgery"]
    )
    out = df.set_index(["category", "time_since_surgery"]).reindex(grid, fill_value=0).reset_index()
    total = out.groupby("category")["reports"].transform("sum")
    out["share"] = np.where(total > 0, out["reports"] / total.where(total > 0, 1), np.nan)
    out["reports"] = out["reports"].astype("int64")
    return out


def severity_table(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    period: Period = Period(),
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """Reports inside episodes by severity and the `serious` flag (missing shown as unknown)."""
    as_of = prepare(con, as_of, config)
    start, end = period.bounds(as_of)
    df = _run(
        con,
        """
        SELECT coalesce(severity, 'unknown') AS severity,
               CASE WHEN serious IS NULL THEN 'unknown' WHEN serious THEN 'serious' ELSE 'not serious' END
                   AS serious,
               count(*) AS reports
        FROM {reports} WHERE in_episode AND report_date BETWEEN $start AND $end
        GROUP BY ALL
        """,
        {"start": start, "end": end},
        selection,
    ).df()
    order = {s: i for i, s in enumerate((*SEVERITIES, "unknown"))}
    df["reports"] = df["reports"].astype("int64")
    return df.sort_values(
        ["severity", "serious"], key=lambda s: s.map(order) if s.name == "severity" else s
    )


def serious_events(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    period: Period = Period(),
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """Serious reports (serious = true, or severity life-threatening/fatal) in the period, listed."""
    as_of = prepare(con, as_of, config)
    start, end = period.bounds(as_of)
    return _run(
        con,
        """
        SELECT report_date, patient_id, complication, category, severity, action, site, drug, in_episode
        FROM {reports}
        WHERE report_date BETWEEN $start AND $end
          AND (serious OR severity IN ('life_threatening', 'fatal'))
        ORDER BY report_date, patient_id
        """,
        {"start": start, "end": end},
        selection,
    ).df()


def funnel(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    by: str = "site",
    period: Period = Period(),
    category: str | None = None,
    config: Config = DEFAULT,
    selection: Selection = (),
    overdispersion: str = "none",
    per: str | None = None,
) -> pd.DataFrame:
    """Funnel table comparing sites or clinicians: each group's rate per 1,000 pump-days
    against the pooled rate. Numerator (`complications`), by `per` as for
    `rates_by_category`: events (default) or reports dated in the period inside an
    episode; both counts are listed. Each group gets exact Poisson 95 % and 99.8 %
    limits for its exposure (qpois of pooled x pump-days, divided by pump-days). A group outside the 99.8 % limits
    is flagged; random variation alone puts about 1 in 500 there. `overdispersion`
    (none | multiplicative | additive) widens the limits when groups vary more than
    chance allows (analytics.engine.funnels); the columns overdispersion, phi and tau2
    say how (phi and tau2 are estimated whatever the choice)."""
    check_method(overdispersion)
    unit = count_unit(per)
    as_of = prepare(con, as_of, config)
    start, end = period.bounds(as_of)
    g = group_expr(by, FUNNEL_GROUPS)
    cat_filter = "AND category = $category" if category else ""
    params: dict[str, object] = {"start": start, "end": end}
    if category:
        params["category"] = category
    df = _run(
        con,
        f"""
        WITH exposure AS ({_exposure_sql(g)}),
        counts AS (
            SELECT coalesce({g}, 'unknown') AS "group", count(*) AS reports,
                   count(*) FILTER (WHERE event_start) AS events
            FROM {{reports}} WHERE in_episode AND report_date BETWEEN $start AND $end {cat_filter}
            GROUP BY ALL
        )
        SELECT e."group", coalesce(c.{unit}s, 0) AS complications, coalesce(c.events, 0) AS events,
               coalesce(c.reports, 0) AS reports, e.pump_days
        FROM exposure e LEFT JOIN counts c USING ("group")
        WHERE e.pump_days > 0
        ORDER BY e."group"
        """,
        params,
        selection,
    ).df()
    for col in ("complications", "events", "reports", "pump_days"):
        df[col] = df[col].astype("int64")
    df["count_unit"] = unit
    days = df["pump_days"].to_numpy(dtype=float)
    pooled = df["complications"].sum() / days.sum() if days.sum() > 0 else np.nan
    rate = df["complications"].to_numpy(dtype=float) / days
    dispersion = estimate(rate, pooled, poisson_se(pooled, days), overdispersion)
    df["rate_per_1000"] = rate * 1000
    df["pooled_rate_per_1000"] = pooled * 1000
    limits = {b: funnel_limits(pooled, days, lo_q, hi_q, dispersion) for b, lo_q, hi_q in BANDS}
    for band, (lo, hi) in limits.items():
        df[f"lower_{band}"], df[f"upper_{band}"] = lo, hi
    df["signal"] = signals(df["rate_per_1000"], limits)
    return with_dispersion(df, dispersion)


def funnel_limits(
    pooled_rate: float,
    pump_days: np.ndarray,
    lower_q: float,
    upper_q: float,
    dispersion: Dispersion | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson funnel limits per 1,000 pump-days around a pooled rate (per pump-day):
    qpois(q, pooled x T) / T x 1000 at each exposure T; with a `dispersion` (from the
    funnel table: `funnels.dispersion_of`), widened for overdispersion as the table was."""
    lo, hi = poisson_limits(pooled_rate, pump_days, lower_q, upper_q, dispersion)
    return lo * 1000, hi * 1000


def refill_quality(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    by: str | None = None,
    period: Period = Period(),
    config: Config = DEFAULT,
    selection: Selection = (),
) -> pd.DataFrame:
    """Refill quality per group over a period.

    * refill-error rate per 100 fills: reports in the category `refill error` inside an
      episode / fills dated in the period x 100;
    * residual flags per 100 refills: refills (fills that are not a new pump's first fill)
      with |actual - expected residual| > tolerance / refills with both residuals recorded x 100;
    * patients with a complication: active patients with >= 1 report in the period /
      active patients (>= 1 pump-day in the period).
    """
    as_of = prepare(con, as_of, config)
    start, end = period.bounds(as_of)
    g = group_expr(by)
    df = _run(
        con,
        f"""
        WITH fills AS (
            SELECT coalesce({g}, 'unknown') AS "group", count(*) AS fills,
                   count(*) FILTER (WHERE residual_diff_ml IS NOT NULL) AS refills_with_residuals,
                   count(*) FILTER (WHERE residual_flag) AS residual_flags
            FROM {{refills}} WHERE fill_date BETWEEN $start AND $end GROUP BY ALL
        ),
        errors AS (
            SELECT coalesce({g}, 'unknown') AS "group", count(*) AS refill_errors
            FROM {{reports}}
            WHERE in_episode AND category = 'refill error' AND report_date BETWEEN $start AND $end
            GROUP BY ALL
        ),
        active AS (
            SELECT coalesce({g}, 'unknown') AS "group", patient_id
            FROM {{exposure}}
            WHERE pump_days > 0 AND {PERIOD_MONTHS_SQL}
            GROUP BY ALL
        ),
        with_report AS (
            SELECT DISTINCT coalesce({g}, 'unknown') AS "group", patient_id
            FROM {{reports}} WHERE in_episode AND report_date BETWEEN $start AND $end
        ),
        patients AS (
            SELECT a."group", count(*) AS active_patients,
                   count(w.patient_id) AS patients_with_complication
            FROM active a LEFT JOIN with_report w USING ("group", patient_id)
            GROUP BY ALL
        ),
        groups AS (SELECT "group" FROM fills UNION SELECT "group" FROM errors UNION SELECT "group" FROM patients)
        SELECT g."group", coalesce(f.fills, 0) AS fills, coalesce(e.refill_errors, 0) AS refill_errors,
               coalesce(f.refills_with_residuals, 0) AS refills_with_residuals,
               coalesce(f.residual_flags, 0) AS residual_flags,
               coalesce(p.active_patients, 0) AS active_patients,
               coalesce(p.patients_with_complication, 0) AS patients_with_complication
        FROM groups g LEFT JOIN fills f USING ("group") LEFT JOIN errors e USING ("group")
        LEFT JOIN patients p USING ("group")
        ORDER BY g."group"
        """,
        {"start": start, "end": end},
        selection,
    ).df()
    for c in df.columns[1:]:
        df[c] = df[c].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        df["refill_error_rate_per_100"] = np.where(
            df.fills > 0, df.refill_errors / df.fills * 100, np.nan
        )
        df["residual_flags_per_100"] = np.where(
            df.refills_with_residuals > 0,
            df.residual_flags / df.refills_with_residuals * 100,
            np.nan,
        )
        df["share_patients_with_complication"] = np.where(
            df.active_patients > 0, df.patients_with_complication / df.active_patients, np.nan
        )
    return df

"""Everything the monthly report shows, gathered once from the analytics library.

`gather()` calls the library functions (metrics, refills, complications, SPC,
annotations) for the reported month and holds their results, unsuppressed, in one
frozen `Content`. Nothing here defines a metric: sums over months are turned into
rates by the metrics module's own rate functions. `suppression.suppress_content`
turns a Content into the copy shared outside the committee.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.config import Config
from analytics.engine.complications import (
    Period,
    funnel,
    outside_episode_reports,
    rates_by_category,
    refill_quality,
    serious_events,
    time_since_surgery,
)
from analytics.engine.metrics import (
    complication_rate,
    monthly_metrics,
    on_time_rate,
    refill_error_rate,
    refill_error_rate_per_10000,
)
from analytics.engine.refills import refills, status_counts, worklist
from analytics.engine.tables import data_end, prepare
from analytics.errors import PumpqiError
from analytics.report.control import control_charts
from analytics.report.period import AVERAGE_MONTHS, CHART_MONTHS, ReportMonth
from analytics.report.sources import (
    data_quality,
    funnel_with_total,
    ingest_manifest,
    list_counts,
    missed_fills,
    not_in_rate,
    surgery_pivot,
    worklist_counts,
)
from analytics.spc import Annotation, SpcResult, list_annotations
from analytics.store import package_version


@dataclass(frozen=True)
class Meta:
    """The cover: what was reported, from which data, by which version and settings."""

    programme: str
    month: ReportMonth
    data_end: dt.date
    generated_at: dt.datetime
    version: str
    config_digest: str
    config_rows: tuple[tuple[str, str, str], ...]
    suppress_below: int | None


@dataclass(frozen=True, eq=False)
class Content:
    """The report's figures. Frames are library outputs; counts may become '<N' strings
    and derived figures None once suppressed (see `suppression.suppress_content`)."""

    meta: Meta
    manifest: pd.DataFrame
    history: pd.DataFrame
    totals_12m: pd.DataFrame
    by_site: pd.DataFrame
    not_in_rate: pd.DataFrame
    missed: pd.DataFrame
    quality: pd.DataFrame
    worklist: pd.DataFrame
    categories: pd.DataFrame
    codes: pd.DataFrame
    funnel: pd.DataFrame
    serious: pd.DataFrame
    surgery: pd.DataFrame
    list_counts: pd.DataFrame
    data_quality: pd.DataFrame
    annotations: tuple[Annotation, ...]
    charts: Mapping[str, SpcResult]
    lists_hidden: bool = False

    @property
    def this_month(self) -> pd.Series:
        return self.history.iloc[-1]

    @property
    def last_month(self) -> pd.Series | None:
        return self.history.iloc[-2] if len(self.history) > 1 else None


def check_month(con: duckdb.DuckDBPyConnection, month: ReportMonth) -> dt.date:
    """The data's last date, after refusing a month after it or a month without data."""
    end = data_end(con)
    if end is None:
        raise PumpqiError("the database holds no visits yet; ingest a visits file first")
    if month.first_day > end:
        raise PumpqiError(
            f"--month {month.month}: after the end of the data (latest record {end.isoformat()}); "
            f"the last month with data is {end.strftime('%Y-%m')}"
        )
    return end


def _require_data(history: pd.DataFrame, month: ReportMonth) -> None:
    rows = history[history["month"] == month.month]
    if rows.empty or int(rows[["pump_days", "fills", "complications"]].iloc[0].sum()) == 0:
        raise PumpqiError(
            f"--month {month.month}: no pump therapy, fills or reports in that month; "
            "choose a month inside the data"
        )


def _totals(history: pd.DataFrame, month: ReportMonth) -> pd.DataFrame:
    """The last 12 months summed, with rates from the metrics module's rate functions."""
    first, last = month.window(AVERAGE_MONTHS)
    part = history[(history["month"] >= first) & (history["month"] <= last)]
    counts = part.drop(columns=["month", "group"]).select_dtypes("integer").sum()
    row = pd.DataFrame([counts]).astype("int64")
    row.insert(0, "group", "all")
    row.insert(0, "month", f"{part['month'].iloc[0]} to {last}")
    row["months"] = len(part)
    row["on_time_rate"] = on_time_rate(row["on_time"], row["refills_due"])
    rate, lo, hi = complication_rate(row["complications"], row["pump_days"])
    row["complication_rate_per_1000"], row["rate_ci_low"], row["rate_ci_high"] = rate, lo, hi
    row["refill_error_rate_per_10000"] = refill_error_rate_per_10000(
        row["refill_errors"], row["percutaneous_refills"]
    )
    row["refill_error_rate_per_100"] = refill_error_rate(row["refill_errors"], row["fills"])
    return row


def _with_total(by_group: pd.DataFrame, total: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([by_group, total], ignore_index=True)


def _complication_tables(
    con: duckdb.DuckDBPyConnection, month: ReportMonth, config: Config
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reports by category and by code: this month and the last 12 months side by side."""
    this, year = Period(month.month, month.month), Period(*month.window(AVERAGE_MONTHS))
    out = []
    for codes in (False, True):
        key = ["complication", "category"] if codes else ["category"]
        cols = [*key, "reports", "serious", "rate_per_1000", "ci_low", "ci_high"]
        now = rates_by_category(
            con, month.as_of, None, this, config=config, codes=codes, per="report"
        )[cols]
        past = rates_by_category(
            con, month.as_of, None, year, config=config, codes=codes, per="report"
        )
        past = past[[*key, "reports", "rate_per_1000"]].rename(
            columns={"reports": "reports_12m", "rate_per_1000": "rate_per_1000_12m"}
        )
        out.append(now.merge(past, on=key, how="left"))
    return out[0], out[1]


def _category_total(
    categories: pd.DataFrame, history: pd.DataFrame, totals: pd.DataFrame
) -> pd.DataFrame:
    """'all categories' row: this month's and the 12 months' figures from the metrics table."""
    now = history.iloc[-1]
    row = {
        "category": "all categories",
        "reports": int(now["complications"]),
        "serious": int(categories["serious"].sum()),
        "rate_per_1000": now["complication_rate_per_1000"],
        "ci_low": now["rate_ci_low"],
        "ci_high": now["rate_ci_high"],
        "reports_12m": int(totals["complications"].iloc[0]),
        "rate_per_1000_12m": totals["complication_rate_per_1000"].iloc[0],
    }
    return _with_total(categories, pd.DataFrame([row]))


def gather(
    con: duckdb.DuckDBPyConnection,
    month: ReportMonth,
    config: Config,
    programme: str,
    generated_at: dt.datetime,
    suppress_below: int | None = None,
) -> Content:
    """Every figure of the report for `month` (cut-off: its last day), unsuppressed."""
    end = check_month(con, month)
    as_of = prepare(con, month.as_of, config)
    first, _ = month.window(CHART_MONTHS)
    history = monthly_metrics(con, as_of, None, first, month.month, config, per="report")
    _require_data(history, month)
    totals = _totals(history, month)
    this, year = Period(month.month, month.month), Period(*month.window(AVERAGE_MONTHS))
    # the month's fills only (dated or due in it): every list and count below needs no more
    fills = refills(con, as_of, config, detail=True, dated_in=(month.first_day, month.as_of))
    categories, codes = _complication_tables(con, month, config)
    meta = Meta(
        programme, month, end, generated_at, package_version(), config.digest(),
        tuple(config.table()), suppress_below,
    )  # fmt: skip
    notes = tuple(a for a in list_annotations(con) if a.change_date <= as_of)
    outside = outside_episode_reports(con, as_of, this, config)
    missed, serious = missed_fills(fills, month), serious_events(con, as_of, this, config)
    by_site = monthly_metrics(con, as_of, "site", month.month, month.month, config, per="report")
    quality = refill_quality(con, as_of, "site", this, config)
    return Content(
        meta=meta,
        manifest=ingest_manifest(con),
        history=history,
        totals_12m=totals,
        by_site=_with_total(by_site, history.iloc[[-1]]),
        not_in_rate=not_in_rate(fills, month),
        missed=missed,
        quality=_with_total(quality, refill_quality(con, as_of, None, this, config)),
        worklist=worklist_counts(worklist(con, as_of, None, config)),
        categories=_category_total(categories, history, totals),
        codes=codes[codes["reports_12m"] > 0].reset_index(drop=True),
        funnel=funnel_with_total(funnel(con, as_of, "site", year, config=config)),
        serious=serious,
        surgery=surgery_pivot(time_since_surgery(con, as_of, year, config)),
        list_counts=list_counts(missed, serious),
        data_quality=data_quality(
            con, fills, outside, month, status_counts(con, as_of, config)["unknown"]
        ),
        annotations=notes,
        charts=control_charts(history, notes),
    )

"""`pumpqi complications`: complication rates per 1,000 pump-days (per event or per
report), surgical outcomes per 100 procedures (--surgical), or refills between refill
errors (--refill-errors, the input of a g- or t-chart)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from analytics.cli.common import (
    as_of_option,
    config_option,
    db_option,
    friendly,
    output_options,
    parse_date,
    period_level_options,
    suppress_option,
)
from analytics.errors import PumpqiError
from analytics.vocabulary import (
    BY_IDS,
    COUNT_UNITS,
    OUTCOME_WINDOWS,
    SURGICAL_BY_IDS,
    SURGICAL_PERIODS,
)

if TYPE_CHECKING:  # the command line starts without the engine's imports
    import datetime as dt

    import duckdb
    import pandas as pd

    from analytics.config import Config
    from analytics.engine.complications import Period

BY_CHOICES: tuple[str, ...] = (*BY_IDS, *(b for b in SURGICAL_BY_IDS if b not in BY_IDS))
_WINDOWS_HELP = "; ".join(f"{w.id} = {w.label} (days 0-{w.days})" for w in OUTCOME_WINDOWS)
HELP = f"""Complication rates per 1,000 pump-days by category (or code), with exact intervals.

Counted per event by default: reports of one patient and code within event_merge_days
(see `pumpqi config`) of the previous report of that code are one event, counted in the
period and group of its first report. --per report counts every report. The column
count_unit says which; the columns events and reports are both listed (serious counts
reports). Reports outside any therapy episode (trials, after explant) are not in these
rates; their count is printed on stderr.

--surgical: procedure-anchored surgical outcomes instead, one row per period, group and
outcome window: period, group, outcome_window, procedures, with_outcome, rate_per_100,
ci_low, ci_high (exact binomial), window_open. Procedures are implant, replacement and
revision visits; a report is attributed to the patient's latest procedure on or before
it when within its window. Windows: {_WINDOWS_HELP}. A procedure whose window has not
ended by the cut-off is counted in window_open, not in the rate. --by site, clinician,
procedure_type (or drug, pump_model, indication); --period month, quarter or all.

--refill-errors: one row per refill-error report with the percutaneous refills
(refills_between) and days (days_between) since the previous error: the input of
`pumpqi spc --chart g` (or t). A list of single reports: not for sharing.

\b
Examples:
  pumpqi complications --db pumps.duckdb --by site --from 2026-01 --to 2026-10
  pumpqi complications --db pumps.duckdb --surgical --by site --period quarter
  pumpqi complications --db pumps.duckdb --refill-errors --out errors.csv
"""


@click.command("complications", help=HELP)
@db_option
@as_of_option
@config_option
@click.option(
    "--by",
    type=click.Choice(list(BY_CHOICES)),
    default=None,
    help="One row per group (clinician and procedure_type only with --surgical).",
)
@period_level_options
@click.option(
    "--codes", is_flag=True, help="One row per complication code instead of per category."
)
@click.option(
    "--per",
    type=click.Choice(list(COUNT_UNITS)),
    default=None,
    help="Count complication events (default) or every report.",
)
@click.option("--surgical", is_flag=True, help="Surgical outcomes per 100 procedures (see above).")
@click.option(
    "--period",
    type=click.Choice(list(SURGICAL_PERIODS)),
    default=None,
    help="With --surgical: rows per month (default), quarter, or all together.",
)
@click.option(
    "--refill-errors",
    "refill_errors",
    is_flag=True,
    help="Refills and days between refill errors, one row per error (see above).",
)
@suppress_option
@output_options
@friendly
def complications(
    db: str,
    as_of: str | None,
    config_file: str | None,
    by: str | None,
    month_from: str | None,
    month_to: str | None,
    level: float,
    codes: bool,
    per: str | None,
    surgical: bool,
    period: str | None,
    refill_errors: bool,
    suppress_below: int | None,
    fmt: str,
    out: str | None,
) -> None:
    from analytics.config import load_config
    from analytics.engine.complications import Period
    from analytics.output import print_table
    from analytics.store import reader

    _check_options(by, codes, per, surgical, period, refill_errors, suppress_below)
    config = load_config(config_file)
    months = Period(month_from, month_to)
    day = parse_date(as_of, "--as-of")
    with reader(db) as con:
        if surgical:
            df = _surgical(con, day, by, period or "month", months, level, config, suppress_below)
        elif refill_errors:
            from analytics.engine.refill_errors import refills_between_errors

            df = refills_between_errors(con, day, by, months, config)
        else:
            df = _rates(con, day, by, months, level, config, codes, per, suppress_below)
    print_table(df, fmt, out)


def _check_options(
    by: str | None,
    codes: bool,
    per: str | None,
    surgical: bool,
    period: str | None,
    refill_errors: bool,
    suppress_below: int | None,
) -> None:
    if surgical and refill_errors:
        raise PumpqiError("--surgical and --refill-errors: choose one")
    if (surgical or refill_errors) and (codes or per):
        flag = "--surgical" if surgical else "--refill-errors"
        raise PumpqiError(f"--codes and --per do not apply with {flag}")
    if period and not surgical:
        raise PumpqiError("--period applies only with --surgical")
    if refill_errors and suppress_below:
        raise PumpqiError(
            "--refill-errors lists single reports, not for sharing: drop --suppress-below"
        )
    if by and by not in BY_IDS and not surgical:
        raise PumpqiError(f"--by {by} applies only with --surgical")


def _rates(
    con: duckdb.DuckDBPyConnection,
    day: dt.date | None,
    by: str | None,
    months: Period,
    level: float,
    config: Config,
    codes: bool,
    per: str | None,
    suppress_below: int | None,
) -> pd.DataFrame:
    from analytics.engine.complications import outside_episode_reports, rates_by_category

    df = rates_by_category(con, day, by, months, level, config, codes=codes, per=per)
    outside = outside_episode_reports(con, day, months, config)
    n_outside: int | str = len(outside)
    if suppress_below:
        from analytics.figures.disclosure import COMPLICATION_RULES, suppress_groups, suppress_table

        if by:  # the all-groups table is public too: protect groups against subtraction
            totals = rates_by_category(con, day, None, months, level, config, codes=codes, per=per)
            key = "complication" if codes else "category"
            df = suppress_groups(df, COMPLICATION_RULES, suppress_below, totals, partition=(key,))
        else:
            df = suppress_table(df, COMPLICATION_RULES, suppress_below)
        if 0 < len(outside) < suppress_below:
            n_outside = f"<{suppress_below}"
    click.echo(f"{n_outside} report(s) outside any therapy episode, not in these rates", err=True)
    return df


def _surgical(
    con: duckdb.DuckDBPyConnection,
    day: dt.date | None,
    by: str | None,
    period: str,
    months: Period,
    level: float,
    config: Config,
    suppress_below: int | None,
) -> pd.DataFrame:
    from analytics.engine.surgical import surgical_outcomes

    df = surgical_outcomes(con, day, by, period, months, level, config)
    if suppress_below:
        from analytics.figures.disclosure import SURGICAL_RULES, suppress_groups, suppress_table

        if by:  # the all-groups table is public too: protect groups against subtraction
            totals = surgical_outcomes(con, day, None, period, months, level, config)
            df = suppress_groups(
                df,
                SURGICAL_RULES,
                suppress_below,
                totals,
                partition=("period", "outcome_window"),
            )
        else:
            df = suppress_table(df, SURGICAL_RULES, suppress_below)
    return df

"""`pumpqi survival`: event-free survival of pumps (Kaplan–Meier), a thin command over
analytics.engine.survival."""

from __future__ import annotations

import click

from analytics.cli.common import as_of_option, db_option, friendly, output_options, parse_date
from analytics.engine.survival import ENDPOINT_IDS
from analytics.vocabulary import BY_IDS


@click.command()
@db_option
@as_of_option
@click.option("--endpoint", type=click.Choice(ENDPOINT_IDS), default="device", show_default=True,
              help="device: a pump failure, pump flip or any catheter problem; pump: failure "
                   "or flip (battery depletion is censored); catheter: any catheter problem.")  # fmt: skip
@click.option("--by", type=click.Choice(list(BY_IDS)), default=None,
              help="One curve per group (the value in force at the pump's first visit).")  # fmt: skip
@click.option("--intervals", is_flag=True,
              help="One row per pump period (entry, exit, event) instead of the curve.")  # fmt: skip
@output_options
@friendly
def survival(
    db: str,
    as_of: str | None,
    endpoint: str,
    by: str | None,
    intervals: bool,
    fmt: str,
    out: str | None,
) -> None:
    """Event-free survival of pumps (Kaplan–Meier), like the manufacturers' reports.

    A pump is followed from its implant (or replacement) to the next replacement, an
    explant or discharge, or the cut-off; its event is the first report of the endpoint.
    A pump implanted before the data is counted only when the visits give
    pump_implant_date (it then enters late). Prints one row per group and time with an
    event or a censoring: group, time_days, n_risk, n_event, n_censor, survival,
    ci_low, ci_high (95 %, log-log; empty where survival is 1 or 0). --intervals prints
    one row per pump: group, patient_id, implant_date, entry_days, exit_days, event;
    a pump with exit_days <= entry_days (an event or exit on its first day, or an event
    before it entered late) is listed there but not in the curve.

    \b
    Examples:
      pumpqi survival --db pumps.duckdb --endpoint catheter --by pump_model
      pumpqi survival --db pumps.duckdb --intervals --out pumps.csv
    """
    from analytics.engine.survival import INTERVAL_COLUMNS, pump_periods, survival_curve
    from analytics.output import print_table
    from analytics.store import reader

    with reader(db) as con:
        periods = pump_periods(
            con, parse_date(as_of, "--as-of"), endpoint, by, keep_untimed=True, ordered=intervals
        )
    untimed = int((~periods["timed"]).sum())
    if untimed:
        click.echo(
            f"{untimed} pump(s) implanted before the data without a usable pump_implant_date: "
            "not counted",
            err=True,
        )
    periods = periods[periods["timed"]].astype({"entry_days": "int64", "exit_days": "int64",
                                                "event": "int64"})  # fmt: skip
    if intervals:
        print_table(periods.loc[:, list(INTERVAL_COLUMNS)], fmt, out)
        return
    left_out = int((~periods["in_curve"]).sum())
    if left_out:
        click.echo(
            f"{left_out} pump(s) whose event or exit is not after their entry (e.g. on the "
            "implant day): listed by --intervals, not in the curve",
            err=True,
        )
    print_table(survival_curve(periods), fmt, out)

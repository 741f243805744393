"""`pumpqi worklist`, `pumpqi plan battery|replaced|workload` and `pumpqi dose-flags`:
the nurse's list as of today and the programme's planning tables."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import click

from analytics.cli.common import (
    as_of_option,
    config_option,
    db_option,
    friendly,
    output_options,
    parse_date,
    suppress_option,
)
from analytics.vocabulary import BY_IDS

if TYPE_CHECKING:
    import pandas as pd

    from analytics.figures.disclosure import Rules


def today_option(func: Any) -> Any:
    return click.option(
        "--today",
        "today",
        default=None,
        metavar="DATE",
        help="The day the list is for (default: the date it is run); fix it for a "
        "reproducible run.",
    )(func)


def counts_option(func: Any) -> Any:
    return click.option(
        "--counts", is_flag=True, help="Counts only (by site), no patient rows: for sharing."
    )(func)


def _today(value: str | None) -> dt.date:
    day = parse_date(value, "--today")
    return dt.date.today() if day is None else day


def _print(
    df: pd.DataFrame, fmt: str, out: str | None, rules: Rules | None, below: int | None
) -> None:
    """Print the table; with a suppression threshold, counts only (a list names patients)."""
    from analytics.errors import PumpqiError
    from analytics.output import print_table

    if below and rules is None:
        raise PumpqiError(
            "--suppress-below applies to counts: add --counts (a list names patients)"
        )
    if rules is not None and below:
        from analytics.figures.disclosure import suppress_table

        df = suppress_table(df, rules, below)
    print_table(df, fmt, out)


def _rules(counts: tuple[str, ...], derived: dict[str, tuple[str, ...]] | None = None) -> Rules:
    from analytics.figures.disclosure import Rules

    return Rules(counts=counts, derived=derived or {})


@click.command("worklist")
@db_option
@today_option
@click.option(
    "--within",
    type=click.IntRange(0, 3650),
    default=None,
    metavar="N",
    help="List the fills due within N days (default: the worklist_days setting, 14).",
)
@counts_option
@suppress_option
@config_option
@output_options
@friendly
def worklist(
    db: str,
    today: str | None,
    within: int | None,
    counts: bool,
    suppress_below: int | None,
    config_file: str | None,
    fmt: str,
    out: str | None,
) -> None:
    """The refill worklist as of today, most at risk first.

    One row per open pump that ran dry (computed), whose alarm date passed, that may
    have fallen due since the data's end ("check: may be due, data is N days old"), or
    that is due within N days; ordered by the drug's risk class (baclofen first), then
    days to the empty date. Shows the data's end and its age. With --counts: the
    number of pumps by site and status only.

    Example: pumpqi worklist --db pumps.duckdb --today 2026-12-06 --within 14 --out list.csv
    """
    from analytics.config import load_config
    from analytics.engine.worklist import worklist as make_list
    from analytics.engine.worklist import worklist_counts
    from analytics.store import reader

    config = load_config(config_file)
    with reader(db) as con:
        if counts:
            df = worklist_counts(con, _today(today), within, config)
        else:
            df = make_list(con, _today(today), within, config)
    _print(df, fmt, out, _rules(("fills",)) if counts else None, suppress_below)


@click.group("plan")
def plan() -> None:
    """Planning tables: battery end of life, replacements before it, refill workload.

    \b
    Examples:
      pumpqi plan battery --db pumps.duckdb --today 2026-12-06
      pumpqi plan replaced --db pumps.duckdb --by site
      pumpqi plan workload --db pumps.duckdb --today 2026-12-06
    """


@plan.command("battery")
@db_option
@today_option
@click.option(
    "--months",
    type=click.IntRange(1, 120),
    default=12,
    show_default=True,
    help="List the pumps reaching end of life within this many months.",
)
@counts_option
@suppress_option
@config_option
@output_options
@friendly
def battery(
    db: str,
    today: str | None,
    months: int,
    counts: bool,
    suppress_below: int | None,
    config_file: str | None,
    fmt: str,
    out: str | None,
) -> None:
    """Pumps in place whose battery reaches its end of life within 12 months (or has).

    End of life = the pump's implant date (implant or replacement visit, else the
    recorded pump implant date) + the model's battery life (setting
    battery_life_months); the elective-replacement warning comes eri_warning_days
    before. With --counts: pumps per month and site (already past: in this month).

    Example: pumpqi plan battery --db pumps.duckdb --today 2026-12-06 --counts
    """
    from analytics.config import load_config
    from analytics.engine.battery import battery_plan, battery_plan_counts
    from analytics.store import reader

    config = load_config(config_file)
    with reader(db) as con:
        if counts:
            df = battery_plan_counts(con, _today(today), months, config)
        else:
            df = battery_plan(con, _today(today), months, config)
    _print(df, fmt, out, _rules(("pumps", "past_eol")) if counts else None, suppress_below)


@plan.command("replaced")
@db_option
@as_of_option
@click.option("--by", type=click.Choice(list(BY_IDS)), default=None, help="One row per group.")
@suppress_option
@config_option
@output_options
@friendly
def replaced(
    db: str,
    as_of: str | None,
    by: str | None,
    suppress_below: int | None,
    config_file: str | None,
    fmt: str,
    out: str | None,
) -> None:
    """Pumps replaced before their battery's end of life, of those that reached it.

    Denominator: pumps whose end-of-life date is on or before the cut-off (not those
    explanted or discharged before it); numerator: those replaced on an earlier date.

    Example: pumpqi plan replaced --db pumps.duckdb --by site
    """
    from analytics.config import load_config
    from analytics.engine.battery import replaced_before_eol
    from analytics.store import reader

    config = load_config(config_file)
    with reader(db) as con:
        df = replaced_before_eol(con, parse_date(as_of, "--as-of"), by, config)
    rules = _rules(
        ("pumps_reached_eol", "replaced_before_eol"),
        {"proportion": ("pumps_reached_eol", "replaced_before_eol")},
    )
    _print(df, fmt, out, rules, suppress_below)


@plan.command("workload")
@db_option
@today_option
@click.option(
    "--weeks", type=click.IntRange(1, 52), default=8, show_default=True, help="Weeks ahead."
)
@suppress_option
@config_option
@output_options
@friendly
def workload(
    db: str,
    today: str | None,
    weeks: int,
    suppress_below: int | None,
    config_file: str | None,
    fmt: str,
    out: str | None,
) -> None:
    """Refills due per week (Monday to Sunday) and site, from this week on.

    From the due dates of the pumps waiting for a refill; those already past their
    due date are counted in the first week (column `overdue`).

    Example: pumpqi plan workload --db pumps.duckdb --today 2026-12-06 --weeks 8
    """
    from analytics.config import load_config
    from analytics.engine.worklist import workload as make_workload
    from analytics.store import reader

    config = load_config(config_file)
    with reader(db) as con:
        df = make_workload(con, _today(today), weeks, config)
    _print(df, fmt, out, _rules(("refills_due", "overdue")), suppress_below)


@click.command("dose-flags")
@db_option
@as_of_option
@click.option(
    "--counts", is_flag=True, help="Flags per month (and group) instead of one row per visit."
)
@click.option("--by", type=click.Choice(list(BY_IDS)), default=None, help="With --counts: groups.")
@suppress_option
@config_option
@output_options
@friendly
def dose_flags(
    db: str,
    as_of: str | None,
    counts: bool,
    by: str | None,
    suppress_below: int | None,
    config_file: str | None,
    fmt: str,
    out: str | None,
) -> None:
    """Visits whose dose or concentration is above the drug's maximum, or whose dose
    steps up by more than dose_step_up_pct % (50).

    Checked: every fill and every visit programming a dose or a concentration. The
    maxima are settings (see `pumpqi config`): confirm them against local policy.

    Example: pumpqi dose-flags --db pumps.duckdb --counts --by site
    """
    from analytics.config import load_config
    from analytics.engine.dose_flags import RULES, dose_flag_counts
    from analytics.engine.dose_flags import dose_flags as flag_list
    from analytics.store import reader

    config = load_config(config_file)
    day = parse_date(as_of, "--as-of")
    with reader(db) as con:
        df = dose_flag_counts(con, day, by, config) if counts else flag_list(con, day, config)
    _print(df, fmt, out, _rules((*RULES, "visits_flagged")) if counts else None, suppress_below)

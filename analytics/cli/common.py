"""Shared pieces of the `pumpqi` commands: options, error handling, dates, progress."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from analytics.config import MIN_THRESHOLD
from analytics.errors import PumpqiError
from analytics.faults import describe
from analytics.vocabulary import BY_IDS

F = TypeVar("F", bound=Callable[..., Any])


def output_options(func: F) -> F:
    """--format csv|json and --out FILE, shared by every table command."""
    func = click.option(
        "--out",
        "out",
        type=click.Path(dir_okay=False),
        default=None,
        help="Write the table to this file instead of stdout.",
    )(func)
    func = click.option(
        "--format",
        "fmt",
        type=click.Choice(["csv", "json"]),
        default="csv",
        show_default=True,
        help="Output format.",
    )(func)
    return func


def db_option(func: F) -> F:
    return click.option(
        "--db",
        required=True,
        type=click.Path(dir_okay=False),
        help="The pumpqi DuckDB database file.",
    )(func)


def friendly(func: F) -> F:
    """Turn library errors into one line on stderr (a traceback only with --debug).

    A full disk, a read-only folder, a missing permission, too little memory or a
    damaged database file (OSError errno, DuckDB's IO and out-of-memory errors) is told
    as what happened and what to do (analytics.faults), not as an internal error."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = bool(ctx.find_root().params.get("debug"))
        try:
            return func(*args, **kwargs)
        except PumpqiError as exc:
            if debug:
                raise
            click.echo(f"pumpqi: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("pumpqi: interrupted; nothing was changed", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug: say so in one line, without data values
            if debug:
                raise
            told = describe(exc)  # the machine's or the file's fault, not a bug
            if told is not None:
                click.echo(f"pumpqi: {told}", err=True)
                sys.exit(2)
            click.echo(
                f"pumpqi: internal error ({type(exc).__name__}); nothing was changed."
                " Run again with --debug for details and report it.",
                err=True,
            )
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PumpqiError(f"{option}: '{value}' is not a date (YYYY-MM-DD)") from None


class _Progress:
    """A stage-by-stage progress line on stderr, for long work (tqdm when a terminal)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, stage: str) -> None:
        if not self.quiet:
            click.echo(f"  … {stage}", err=True)


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False),
        default=None,
        help="TOML file overriding the metric configuration (see `pumpqi config`).",
    )(func)


def as_of_option(func: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        metavar="DATE",
        help="Data cut-off (default: the latest visit or report date).",
    )(func)


def suppress_option(func: F) -> F:
    return click.option(
        "--suppress-below",
        "suppress_below",
        type=click.IntRange(MIN_THRESHOLD, 1000),
        default=None,
        metavar="N",
        help="Small-cell suppression for sharing: counts 1..N-1 shown as <N, a cell hidden to "
        f"protect one as —, figures from them blanked (11 is usual; at least {MIN_THRESHOLD}).",
    )(func)


def group_period_options(func: F) -> F:
    """--by, --from, --to and --level, shared by the metrics and complications commands."""
    func = period_level_options(func)
    return click.option(
        "--by",
        type=click.Choice(list(BY_IDS)),
        default=None,
        help="One row per group (and month).",
    )(func)


def period_level_options(func: F) -> F:
    """--from, --to and --level."""
    func = click.option(
        "--level",
        type=click.FloatRange(0.5, 0.999),
        default=0.95,
        show_default=True,
        help="Confidence level of the exact intervals.",
    )(func)
    func = click.option("--to", "month_to", default=None, metavar="YYYY-MM", help="Last month.")(
        func
    )
    return click.option(
        "--from", "month_from", default=None, metavar="YYYY-MM", help="First month."
    )(func)


class OneLineErrors(click.Group):
    """A command group whose usage errors are one line on stderr (exit 2), (exit 2)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.format_message())  # plain `pumpqi`: the help, as usual
            sys.exit(0)
        except click.UsageError as exc:
            where = f"pumpqi {exc.ctx.info_name}" if exc.ctx and exc.ctx.parent else "pumpqi"
            click.echo(f"pumpqi: {exc.format_message()} (see `{where} --help`)", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"pumpqi: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("pumpqi: interrupted; nothing was changed", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)


def input_file_options(func: F) -> F:
    """VISITS, --complications, --ignore-columns and --quiet: the inputs of validate and ingest."""
    func = click.option("--quiet", is_flag=True, help="No progress lines.")(func)
    func = click.option(
        "--ignore-columns", default="", help="Comma-separated extra columns to skip deliberately."
    )(func)
    func = click.option(
        "--complications",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The complications file (CSV, Parquet or .xlsx).",
    )(func)
    return click.argument("visits", type=click.Path(dir_okay=False, path_type=Path))(func)

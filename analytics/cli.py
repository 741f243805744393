"""The `pumpqi` console command: a thin layer over the library.

Each command parses its options, calls one library function and prints a tidy
table. Errors meant for people (PumpqiError) become one line on stderr and exit 2.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from analytics.errors import PumpqiError

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
    """Turn library errors into one line on stderr (a traceback only with --debug)."""

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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="pumpqi")
def main(debug: bool) -> None:
    """pumpqi: refill adherence and complication-report rates for intrathecal pumps.

    \b
    Typical monthly run:
      pumpqi ingest --db pumps.duckdb visits.csv --complications complications.csv
      pumpqi metrics --db pumps.duckdb --by site
      pumpqi dashboard --db pumps.duckdb
    """


@main.command()
@click.argument("visits", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--complications",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The complications file (CSV, Parquet or .xlsx).",
)
@click.option(
    "--ignore-columns", default="", help="Comma-separated extra columns to skip deliberately."
)
@click.option("--quiet", is_flag=True, help="No progress lines.")
@output_options
@friendly
def validate(
    visits: Path,
    complications: Path | None,
    ignore_columns: str,
    quiet: bool,
    fmt: str,
    out: str | None,
) -> None:
    """Check files against the data contract without loading them.

    Prints each row fault (file, line, column, reason). Exit 0: clean; 1: row
    faults found; 2: the file is refused.

    Example: pumpqi validate visits.csv --complications complications.csv
    """
    from analytics.ingest import validate_files
    from analytics.output import print_table

    results, faults = validate_files(
        visits, complications, _split(ignore_columns), progress=_Progress(quiet)
    )
    for r in results:
        click.echo(r.line().replace(" loaded", " loadable"), err=True)
    if len(faults):
        print_table(faults[["source_file", "line", "column_name", "reason"]], fmt, out)
        sys.exit(1)
    click.echo("no row faults", err=True)


@main.command()
@db_option
@click.argument("visits", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--complications",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The complications file (CSV, Parquet or .xlsx).",
)
@click.option(
    "--ignore-columns", default="", help="Comma-separated extra columns to skip deliberately."
)
@click.option("--quiet", is_flag=True, help="No progress lines.")
@friendly
def ingest(
    db: str, visits: Path, complications: Path | None, ignore_columns: str, quiet: bool
) -> None:
    """Validate and load files into the database (one transaction).

    Row faults go to the quarantine table; prints rows read / loaded / already
    present / quarantined per table. Re-ingesting the same file changes nothing.

    Example: pumpqi ingest --db pumps.duckdb visits.csv --complications complications.csv
    """
    from analytics.ingest import ingest_files

    results = ingest_files(
        Path(db), visits, complications, _split(ignore_columns), progress=_Progress(quiet)
    )
    for r in results:
        click.echo(r.line())


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


@main.command()
@db_option
@as_of_option
@config_option
@click.option(
    "--detail", is_flag=True, help="Add the values in force, volumes, caps and residual checks."
)
@output_options
@friendly
def refills(
    db: str, as_of: str | None, config_file: str | None, detail: bool, fmt: str, out: str | None
) -> None:
    """One row per fill: due date and source, empty date, next fill, status, days late, dry days.

    Example: pumpqi refills --db pumps.duckdb --as-of 2026-10-31 --out refills.csv
    """
    from analytics.config import load_config
    from analytics.output import print_table
    from analytics.refills import refills as refills_table
    from analytics.store import reader

    config = load_config(config_file)
    with reader(db) as con:
        df = refills_table(con, parse_date(as_of, "--as-of"), config, detail=detail)
    print_table(df, fmt, out)


@main.command()
@db_option
@as_of_option
@config_option
@click.option(
    "--by",
    type=click.Choice(["site", "drug", "pump_model", "indication"]),
    default=None,
    help="One row per month and group.",
)
@click.option("--from", "month_from", default=None, metavar="YYYY-MM", help="First month shown.")
@click.option("--to", "month_to", default=None, metavar="YYYY-MM", help="Last month shown.")
@click.option(
    "--level",
    type=click.FloatRange(0.5, 0.999),
    default=0.95,
    show_default=True,
    help="Confidence level of the rate intervals.",
)
@output_options
@friendly
def metrics(
    db: str,
    as_of: str | None,
    config_file: str | None,
    by: str | None,
    month_from: str | None,
    month_to: str | None,
    level: float,
    fmt: str,
    out: str | None,
) -> None:
    """One row per month (and group): exposure, refill timeliness, complication rates.

    Example: pumpqi metrics --db pumps.duckdb --by site --from 2026-01 --to 2026-10
    """
    from analytics.config import load_config
    from analytics.metrics import monthly_metrics
    from analytics.output import print_table
    from analytics.store import reader

    config = load_config(config_file)
    with reader(db) as con:
        df = monthly_metrics(
            con, parse_date(as_of, "--as-of"), by, month_from, month_to, config, level
        )
    print_table(df, fmt, out)


@main.command("config")
@config_option
@output_options
@friendly
def config_cmd(config_file: str | None, fmt: str, out: str | None) -> None:
    """Print the effective metric configuration (defaults from METRICS.md, or your TOML file).

    Example: pumpqi config --config site.toml
    """
    import pandas as pd

    from analytics.config import load_config
    from analytics.output import print_table

    rows = load_config(config_file).table()
    print_table(pd.DataFrame(rows, columns=["setting", "value", "meaning"]), fmt, out)


def _split(value: str) -> list[str]:
    from analytics.contract import normalise_name

    return [normalise_name(v) for v in value.split(",") if v.strip()]


# --- commands defined in their own modules (one line each) ---------------------------
# COMMAND REGISTRATIONS (keep one line per command module)

from analytics.cli_deidentify import deidentify  # noqa: E402, I001

main.add_command(deidentify)


if __name__ == "__main__":  # pragma: no cover
    main()

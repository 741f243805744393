"""The `pumpqi` console command: a thin layer over the library.

Each command parses its options, calls one library function and prints a tidy
table. Errors meant for people (PumpqiError) become one line on stderr and exit 2.
Commands with more options live in their own modules (one module per command group in analytics/cli/) and are added below.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from analytics.cli.common import (
    OneLineErrors,
    _Progress,
    as_of_option,
    config_option,
    db_option,
    friendly,
    group_period_options,
    input_file_options,
    output_options,
    parse_date,
    suppress_option,
)
from analytics.vocabulary import COUNT_UNITS, DEFAULT_COUNT_UNIT

__all__ = ["main"]


@click.group(
    cls=OneLineErrors,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="pumpqi")
def main(debug: bool) -> None:
    """pumpqi: refill adherence and complication-report rates for intrathecal pumps.

    \b
    Typical monthly run:
      pumpqi validate visits.csv --complications complications.csv
      pumpqi ingest --db pumps.duckdb visits.csv --complications complications.csv
      pumpqi metrics --db pumps.duckdb --by site
      pumpqi dashboard --db pumps.duckdb

    \b
    The input files (columns, allowed values, ranges, identifier rules): pumpqi contract
    How every figure is computed: the dashboard's Definitions page
    """


@main.command()
@input_file_options
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
    """Check files against the data contract (`pumpqi contract`) without loading them.

    Prints each row fault (file, line, column, reason; a row with several faulty
    columns has a line for each). Exit 0: clean; 1: row faults found; 2: a file is
    refused (also when one fault is in most of its rows).

    Example: pumpqi validate visits.csv --complications complications.csv
    """
    from analytics.ingest.load import validate_files
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
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the page to this file instead of stdout.",
)
@friendly
def contract(out: str | None) -> None:
    """Print the data contract: the input files' columns, kinds, allowed values and ranges.

    Also which columns and values count as identifiers and what validate and ingest do
    with faults (markdown, the same page as the dashboard's Definitions page shows).

    Example: pumpqi contract --out contract.md
    """
    from analytics.ingest.contract_doc import contract_markdown

    text = contract_markdown()
    if out is None:
        click.echo(text, nl=False)
        return
    from analytics.atomic import write_text

    write_text(out, text)
    click.echo(f"wrote the data contract to {out}", err=True)


@main.command()
@db_option
@input_file_options
@friendly
def ingest(
    db: str, visits: Path, complications: Path | None, ignore_columns: str, quiet: bool
) -> None:
    """Validate and load files into the database (one transaction).

    Row faults go to the quarantine table; prints rows read / loaded / already
    present / quarantined per table. Re-ingesting the same file changes nothing.

    Example: pumpqi ingest --db pumps.duckdb visits.csv --complications complications.csv
    """
    from analytics.ingest.load import ingest_files

    results = ingest_files(
        Path(db), visits, complications, _split(ignore_columns), progress=_Progress(quiet)
    )
    for r in results:
        click.echo(r.line())


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
    from analytics.engine.refills import refills as refills_table
    from analytics.output import print_table
    from analytics.store import reader

    config = load_config(config_file)
    with reader(db) as con:
        df = refills_table(con, parse_date(as_of, "--as-of"), config, detail=detail)
    print_table(df, fmt, out)


@main.command()
@db_option
@as_of_option
@config_option
@group_period_options
@click.option(
    "--per",
    type=click.Choice(list(COUNT_UNITS)),
    default=DEFAULT_COUNT_UNIT,
    show_default=True,
    help="Count complication events or every report (column count_unit).",
)
@suppress_option
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
    per: str,
    suppress_below: int | None,
    fmt: str,
    out: str | None,
) -> None:
    """One row per month (and group): exposure, refill timeliness, complication rates.

    complications and complication_rate_per_1000 count events by default: reports of one
    patient and code within event_merge_days (see `pumpqi config`) of the previous report
    of that code are one event, counted in the month and group of its first report;
    --per report counts every report. The column count_unit says which.

    refill_errors counts reports (each error is its own); refill_error_rate_per_10000 is
    per 10,000 percutaneous refills (refill visits; the first fill of an implant or
    replacement is surgical). refill_error_rate_per_100 (per 100 fills of any kind) is
    deprecated and will be removed in the next release.

    Example: pumpqi metrics --db pumps.duckdb --by site --from 2026-01 --to 2026-10
    """
    from analytics.config import load_config
    from analytics.engine.metrics import monthly_metrics
    from analytics.output import print_table
    from analytics.store import reader

    config = load_config(config_file)
    totals = None
    with reader(db) as con:
        day = parse_date(as_of, "--as-of")
        df = monthly_metrics(con, day, by, month_from, month_to, config, level, per=per)
        if suppress_below and by:
            totals = monthly_metrics(con, day, None, month_from, month_to, config, level, per=per)
    if suppress_below:
        from analytics.figures.disclosure import METRICS_RULES, suppress_groups, suppress_table

        if by:  # the all-groups table is public too: protect groups against subtraction
            df = suppress_groups(df, METRICS_RULES, suppress_below, totals, partition=("month",))
        else:
            df = suppress_table(df, METRICS_RULES, suppress_below)
    print_table(df, fmt, out)


@main.command()
@db_option
@friendly
def upgrade(db: str) -> None:
    """Bring a database written by an older pumpqi up to date (one transaction).

    Adds what the newer schema holds and recomputes the stored figures; every row is
    kept. An ingest does the same on its own.

    Example: pumpqi upgrade --db pumps.duckdb
    """
    from pathlib import Path

    from analytics.engine.tables import rebuild_stored
    from analytics.errors import PumpqiError
    from analytics.store import SCHEMA_VERSION, writer

    if not Path(db).exists():
        raise PumpqiError(f"{Path(db).name}: database not found")
    with writer(db) as con:
        rebuild_stored(con)
    click.echo(f"{Path(db).name}: up to date (schema {SCHEMA_VERSION})")


@main.command("config")
@config_option
@output_options
@friendly
def config_cmd(config_file: str | None, fmt: str, out: str | None) -> None:
    """Print the effective metric configuration (the defaults, or your TOML file).

    Example: pumpqi config --config site.toml
    """
    import pandas as pd

    from analytics.config import load_config
    from analytics.output import print_table

    rows = load_config(config_file).table()
    print_table(pd.DataFrame(rows, columns=["setting", "value", "meaning"]), fmt, out)


def _split(value: str) -> list[str]:
    from analytics.ingest.contract import normalise_name

    return [normalise_name(v) for v in value.split(",") if v.strip()]


# --- commands defined in their own modules ------------------------------------------
def _register() -> None:
    from analytics.cli.complications import complications
    from analytics.cli.dashboard import dashboard, demo
    from analytics.cli.deidentify import deidentify
    from analytics.cli.plan import dose_flags, plan, worklist
    from analytics.cli.report import report
    from analytics.cli.spc import annotate, annotations_command, spc
    from analytics.cli.survival import survival
    from analytics.cli.synth import synth

    for command in (
        complications,
        synth,
        spc,
        annotate,
        annotations_command,
        deidentify,
        dashboard,
        demo,
        report,
    ):
        main.add_command(command)
    main.add_command(survival)
    for command in (worklist, plan, dose_flags):
        main.add_command(command)


_register()


if __name__ == "__main__":  # pragma: no cover
    main()

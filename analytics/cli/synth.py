"""`pumpqi synth`: write a realistic synthetic data set that follows the data contract."""

from __future__ import annotations

from pathlib import Path

import click

from analytics.cli.common import friendly, parse_date
from analytics.errors import PumpqiError


@click.command()
@click.option("--patients", type=click.IntRange(min=1), required=True, help="Number of patients.")
@click.option(
    "--years", type=click.FloatRange(min=0.1, max=40), required=True, help="Years of follow-up."
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same files)."
)
@click.option(
    "--start",
    default=None,
    help="First day (YYYY-MM-DD). Default: the window ends on the last day of the previous month.",
)
@click.option(
    "--sites",
    type=click.IntRange(min=1, max=99),
    default=3,
    show_default=True,
    help="Number of sites.",
)
@click.option(
    "--messy",
    is_flag=True,
    help="Inject ~1% faulty rows (bad dates, typos, out-of-range values, duplicates) and write manifest.csv.",
)
@click.option(
    "--with-identifier-column",
    is_flag=True,
    help="Add an `mrn` column of 7-digit numbers (ingest must refuse the file).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="File format.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write visits and complications into (created if missing).",
)
@friendly
def synth(
    patients: int,
    years: float,
    seed: int,
    start: str | None,
    sites: int,
    messy: bool,
    with_identifier_column: bool,
    fmt: str,
    out: Path,
) -> None:
    """Write synthetic visits and complications files that follow the data contract.

    Believable intrathecal-pump logs: trials, implants, refills driven by
    reservoir, rate and drug-stability caps, titration, replacements, explants,
    left-truncated patients and complications at realistic rates.

    Example: pumpqi synth --patients 600 --years 4 --seed 2026 --out demo/
    """
    from analytics.synth import generate, write

    try:
        result = generate(
            patients=patients,
            years=years,
            seed=seed,
            start=parse_date(start, "--start"),
            end=None,
            messy=messy,
            with_identifier_column=with_identifier_column,
            sites=sites,
        )
    except ValueError as exc:
        raise PumpqiError(str(exc)) from None
    written = write(result, out, fmt)
    summary = ", ".join(f"{rows} rows to {name}" for name, rows in written.items())
    click.echo(f"{summary} in {out} ({result.start} to {result.end})")

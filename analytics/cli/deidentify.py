"""`pumpqi deidentify`: a raw clinic export in, a contract file out (thin CLI)."""

from __future__ import annotations

from pathlib import Path

import click

from analytics.cli.common import friendly
from analytics.ingest.contract import TABLES

_PATH = click.Path(dir_okay=False, path_type=Path)


@click.command()
@click.argument("raw", type=_PATH, required=False)
@click.option("--key-file", type=_PATH, help="Secret key file (make one once with --new-key).")
@click.option("--out", type=_PATH, help="Output file: .csv or .parquet.")
@click.option("--map", "mapping", type=_PATH, help="TOML column mapping (see examples/).")
@click.option(
    "--table",
    type=click.Choice(list(TABLES)),
    default="visits",
    show_default=True,
    help="Which contract table the export holds.",
)
@click.option(
    "--shift-dates", is_flag=True, help="Move each patient's dates back 1-180 days (keyed)."
)
@click.option("--drop-unmapped", is_flag=True, help="Drop columns the mapping does not name.")
@click.option("--keep-notes", is_flag=True, help="Keep free-text notes, identifier patterns cut.")
@click.option("--new-key", type=_PATH, help="Create a new secret key file (mode 0600) and stop.")
@friendly
def deidentify(
    raw: Path | None,
    key_file: Path | None,
    out: Path | None,
    mapping: Path | None,
    table: str,
    shift_dates: bool,
    drop_unmapped: bool,
    keep_notes: bool,
    new_key: Path | None,
) -> None:
    """Turn a raw export into a contract file: keyed pseudonyms, identifiers dropped.

    Names, record numbers, addresses, phones, e-mails, SSNs, device serials and lot
    numbers are dropped; the patient id becomes an HMAC pseudonym made with the key
    (same key, same pseudonym every month). A column no rule covers stops the run
    unless --drop-unmapped. Prints counts and column names, never a value.

    \b
    Examples:
      pumpqi deidentify --new-key ~/.pumpqi/clinic.key
      pumpqi deidentify export.xlsx --key-file ~/.pumpqi/clinic.key \\
          --map examples/deidentify-map.toml --out visits.csv
    """
    from analytics.deidentify.core import Options
    from analytics.deidentify.core import deidentify as run
    from analytics.deidentify.keys import new_key_file

    if new_key is not None:
        if raw is not None or out is not None:
            raise click.UsageError("--new-key makes a key file only; run again to deidentify")
        new_key_file(new_key)
        click.echo(
            f"wrote a new key to {new_key} (mode 0600). Keep it secret and back it up:"
            " the same key gives the same pseudonyms every month; without it they cannot be"
            " matched again."
        )
        return
    if raw is None or key_file is None or out is None:
        raise click.UsageError("RAW, --key-file and --out are required (or --new-key FILE)")
    summary = run(
        Options(raw, key_file, out, table, mapping, shift_dates, drop_unmapped, keep_notes)
    )
    for line in summary.warnings:
        click.echo(line, err=True)
    for line in summary.lines():
        click.echo(line)

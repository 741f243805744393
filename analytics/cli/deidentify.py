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
@click.option(
    "--relink",
    type=_PATH,
    metavar="WORKLIST",
    help="Add the clinic's own patient ids to this worklist CSV (with --raw, --key-file, --out).",
)
@click.option(
    "--raw", "raw_option", type=_PATH, metavar="RAW_EXPORT", help="The raw export (for --relink)."
)
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
    relink: Path | None,
    raw_option: Path | None,
) -> None:
    """Turn a raw export into a contract file: keyed pseudonyms, identifiers dropped.

    Names, record numbers, addresses, phones, e-mails, SSNs, device serials and lot
    numbers are dropped; the patient id becomes an HMAC pseudonym made with the key
    (same key, same pseudonym every month). A column no rule covers stops the run
    unless --drop-unmapped. Prints counts and column names, never a value.

    The key file is made once with --new-key and must stay readable by you only.
    Patient ids are normalised before hashing (spaces, zero-width characters and case
    ignored; 1000000.0 read as 1000000); a [normalise] section of the map may turn it off.

    --relink, on the clinic's own machine: copies a worklist CSV (pseudonyms in
    patient_id) and adds clinic_patient_id from the raw export and the key, nothing
    written to any database; the file is readable by you only.

    \b
    Examples:
      pumpqi deidentify --new-key ~/.pumpqi/clinic.key
      pumpqi deidentify export.xlsx --key-file ~/.pumpqi/clinic.key \\
          --map examples/deidentify-map.toml --out visits.csv
      pumpqi deidentify --relink worklist.csv --raw export.xlsx \\
          --key-file ~/.pumpqi/clinic.key --out worklist-named.csv
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
    if relink is not None:
        _relink(relink, raw_option or raw, key_file, out, mapping, table)
        return
    if raw_option is not None:
        raise click.UsageError("--raw goes with --relink; give the export as RAW to deidentify")
    if raw is None or key_file is None or out is None:
        raise click.UsageError("RAW, --key-file and --out are required (or --new-key FILE)")
    summary = run(
        Options(raw, key_file, out, table, mapping, shift_dates, drop_unmapped, keep_notes)
    )
    for line in summary.warnings:
        click.echo(line, err=True)
    for line in summary.lines():
        click.echo(line)


def _relink(
    worklist: Path,
    raw: Path | None,
    key_file: Path | None,
    out: Path | None,
    mapping: Path | None,
    table: str,
) -> None:
    from analytics.deidentify.relink import RelinkRequest, relink

    if key_file is None:
        raise click.UsageError(
            "--relink needs --key-file: the key the pseudonyms were made with (without it"
            " nothing can be matched)"
        )
    if raw is None or out is None:
        raise click.UsageError("--relink needs --raw RAW_EXPORT and --out FILE")
    summary = relink(RelinkRequest(worklist, raw, key_file, out, table, mapping))
    for line in summary.lines():
        click.echo(line, err=line.startswith("warning"))

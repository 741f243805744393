"""`pumpqi report`: the monthly QI report as HTML, PDF and Excel."""

from __future__ import annotations

import click

from analytics.cli.common import config_option, db_option, friendly, suppress_option


@click.command("report")
@db_option
@click.option(
    "--month", required=True, metavar="YYYY-MM", help="The month reported (cut-off: its last day)."
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for pumpqi-YYYY-MM.html, .pdf and .xlsx (created if missing).",
)
@click.option(
    "--programme",
    default="Intrathecal pump programme",
    show_default=True,
    help="Programme name on the cover.",
)
@suppress_option
@config_option
@friendly
def report(
    db: str,
    month: str,
    out_dir: str,
    programme: str,
    suppress_below: int | None,
    config_file: str | None,
) -> None:
    """Write the monthly QI report: summary, key figures, refill safety, complications,
    process changes, data quality and definitions, as HTML, PDF and Excel.

    Example: pumpqi report --db pumps.duckdb --month 2026-10 --out reports/ --suppress-below 11
    """
    from analytics.report import ReportRequest, build_report

    files = build_report(
        ReportRequest(
            db=db,
            month=month,
            out_dir=out_dir,
            programme=programme,
            suppress_below=suppress_below,
            config_file=config_file,
        )
    )
    for path in (files.html, files.pdf, files.xlsx):
        if path is not None:
            click.echo(str(path))

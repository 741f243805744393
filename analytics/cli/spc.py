"""`pumpqi spc`, `pumpqi annotate` and `pumpqi annotations`: thin commands over analytics.spc."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from analytics.cli.common import db_option, friendly, output_options
from analytics.errors import PumpqiError
from analytics.spc.options import CHART_TYPES

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd


def read_table(path: Path) -> pd.DataFrame:
    """A tidy CSV read as text (the chart code checks and converts the values)."""
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise PumpqiError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise PumpqiError(f"{path}: cannot read it as CSV ({reason})") from None


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--chart", type=click.Choice(CHART_TYPES), default="run", show_default=True,
              help="run (median), i (individuals), p / pp (proportions, Laney P′), "
                   "u / up (rates, Laney U′), g (opportunities between rare events), "
                   "t (days between rare events).")  # fmt: skip
@click.option("--y", "y", required=True,
              help="Column of values (run, i), counts (p, u), or the opportunities (g) "
                   "or days (t) between two events.")  # fmt: skip
@click.option("--n", "n", default=None,
              help="Column of denominators (needed for p, pp, u, up; none for g, t).")  # fmt: skip
@click.option("--x", "x", default=None, help="Column of dates, numbers or labels (default 1..N).")
@click.option("--multiply", type=float, default=1.0, show_default=True,
              help="Scale y, centre and limits, e.g. 100 for percent, 1000 per 1,000 days.")  # fmt: skip
@click.option("--freeze", default=None,
              help="Baseline: the first K points, or the points up to a date (YYYY-MM-DD).")  # fmt: skip
@click.option("--part", "part", default=None,
              help="Column labelling parts; a new part starts where its value changes.")  # fmt: skip
@click.option("--no-screen-mr", is_flag=True,
              help="Keep large moving ranges when computing sigma (i, pp, up, t charts).")  # fmt: skip
@output_options
@friendly
def spc(
    file: Path,
    chart: str,
    y: str,
    n: str | None,
    x: str | None,
    multiply: float,
    freeze: str | None,
    part: str | None,
    no_screen_mr: bool,
    fmt: str,
    out: str | None,
) -> None:
    """Control-chart figures for any tidy CSV, like qicharts2's qic().

    Prints one row per point: x, y, n, cl, lcl, ucl, sigma_signal, runs_signal,
    longest_run, longest_run_max, n_crossings, n_crossings_min. For p, pp, u and up
    charts, rows whose denominator and count are both 0 (e.g. a month with no refills
    due) are skipped and counted on stderr; --freeze K counts the points charted.

    \b
    Examples:
      pumpqi spc metrics.csv --chart p --y on_time --n refills_due --x month \\
        --multiply 100 --freeze 2025-12
      pumpqi spc gaps.csv --chart g --y refills_between --x error_date
    """
    from analytics.output import print_table
    from analytics.spc.core import compute, parse_freeze
    from analytics.spc.inputs import series_from_frame, skip_zero_denominators
    from analytics.spc.options import ChartType, SpcOptions

    table = read_table(file)
    try:
        options = SpcOptions(
            cast(ChartType, chart), multiply, parse_freeze(freeze), not no_screen_mr
        )
        table, rows = skip_zero_denominators(table, chart, y, n, row_label=_line)
        series = series_from_frame(
            table, chart, y, n, x, part, row_label=lambda i: _line(int(rows.kept[i]))
        )
        result = compute(series, options)
    except PumpqiError as exc:
        raise PumpqiError(f"{file.name}: {exc}") from None
    if rows.skipped.size:
        click.echo(_skipped_note(file.name, n, rows.skipped), err=True)
    print_table(result.cli_table(), fmt, out)


def _line(i: int) -> str:
    """Row i (0-based, after the header) of a CSV file is its line i + 2."""
    return f"line {i + 2}"


def _skipped_note(name: str, n: str | None, skipped: npt.NDArray[np.int64]) -> str:
    count = int(skipped.size)
    lines = ", ".join(str(int(i) + 2) for i in skipped[:5]) + (", …" if count > 5 else "")
    points, where = ("point", "line") if count == 1 else ("points", "lines")
    return f"{name}: {count} {points} with '{n}' = 0 skipped (nothing to count; {where} {lines})"


@click.command()
@db_option
@click.option("--date", "date", required=True, help="When the process changed (YYYY-MM-DD).")
@click.option("--text", "text", required=True, help="What changed, in a few words.")
@click.option("--rebase", is_flag=True, help="Start a new chart part in that month.")
@friendly
def annotate(db: str, date: str, text: str, rebase: bool) -> None:
    """Record a process change; with --rebase charts start a new part in its month.

    \b
    Example:
      pumpqi annotate --db pumps.duckdb --date 2026-03-01 --text "reminder calls" --rebase
    """
    from analytics.spc.annotations import add_annotation

    note = add_annotation(db, date, text, rebase)
    kind = " (new part from that month)" if note.rebase else ""
    click.echo(
        f"annotation {note.annotation_id}: {note.change_date.isoformat()} {note.description}{kind}"
    )


@click.command(name="annotations")
@db_option
@output_options
@friendly
def annotations_command(db: str, fmt: str, out: str | None) -> None:
    """List the process changes recorded in the database, oldest first.

    Example: pumpqi annotations --db pumps.duckdb --format json
    """
    from analytics.output import print_table
    from analytics.spc.annotations import annotations_table, list_annotations
    from analytics.store import reader

    with reader(db) as con:
        items = list_annotations(con)
    print_table(annotations_table(items), fmt, out)

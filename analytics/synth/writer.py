"""Writing a SynthResult: visits and complications as CSV or Parquet, plus the manifest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from analytics.synth import SynthResult

FORMATS = ("csv", "parquet")


def to_arrow(df: pd.DataFrame) -> pa.Table:
    """Plain contract types: text (not dictionaries), ISO dates, numbers, booleans."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    cols = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type) or pa.types.is_large_string(col.type):
            col = col.cast(pa.string())
        elif pa.types.is_timestamp(col.type):
            col = col.cast(pa.date32())
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def _write_csv(table: pa.Table, path: Path) -> None:
    """CSV without quotes (no synthetic value holds a comma, quote or newline)."""
    with path.open("wb") as f:
        f.write((",".join(table.column_names) + "\n").encode())
        if table.num_rows:
            opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
            pacsv.write_csv(table, f, opts)


def line_numbers(rows: pd.Series, fmt: str) -> pd.Series:
    """File line of a table row as ingest counts it: CSV header = line 1; Parquet row + 1."""
    lines = rows + (2 if fmt == "csv" else 1)
    return lines.where(rows >= 0, 1)  # a file-level fault (the whole file) points at the header


def write(result: SynthResult, out_dir: str | Path, fmt: str = "csv") -> dict[str, int]:
    """Write visits, complications (and manifest.csv when faults were injected).

    Returns the rows written per file name.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for name, df in (("visits", result.visits), ("complications", result.complications)):
        table = to_arrow(df)
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            _write_csv(table, path)
        else:
            pq.write_table(table, path)
        written[path.name] = table.num_rows
    if result.manifest is not None:
        m = result.manifest
        manifest = pd.DataFrame(
            {
                "file": m["table"] + "." + fmt,
                "line": line_numbers(m["row"], fmt),
                "column": m["column"],
                "expected_reason": m["reason"],
                "fault": m["fault"],
            }
        ).sort_values(["file", "line"], kind="stable")
        manifest.to_csv(out / "manifest.csv", index=False, lineterminator="\n")
        written["manifest.csv"] = len(manifest)
    return written


__all__ = ["FORMATS", "line_numbers", "to_arrow", "write"]

"""Seconds to print a large table as CSV: the pandas writer against analytics.csvfast.

    uv run python benchmarks/csv_output.py                 # 680,000 rows x 20 columns
    uv run python benchmarks/csv_output.py --rows 100000 --repeat 5
    uv run python benchmarks/csv_output.py --pickle refills.pkl  # a real table, pickled

Builds a seeded frame shaped like `pumpqi refills --detail` (text ids, status words,
dates with gaps, nullable ints, floats with NaN, booleans), renders it with the old
path (booleans mapped to true/false, then neutralise_frame + pandas to_csv) and with
`render_table`, checks that the bytes are the same and prints the best of --repeat
runs of each. Target: the new path at least 3 times faster.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from analytics.export import pandas_csv_text
from analytics.output import render_table

STATUS = np.array(["on_time", "late", "dry", "early", "open"], dtype=object)
SOURCE = np.array(["recorded", "computed", "cap"], dtype=object)
SITES = np.array(["A", "B", "C", "D", "E"], dtype=object)
FILL_TYPES = np.array(["refill", "implant", "replacement"], dtype=object)
DRUGS = np.array(["morphine", "baclofen", "hydromorphone+clonidine", "ziconotide"], dtype=object)


def _ids(rng: np.random.Generator, rows: int, prefix: str, width: int) -> np.ndarray:
    """Hex identifiers like the pseudonymous ids the engine prints."""
    digits = rng.integers(0, 16**width, size=rows, dtype=np.int64)
    return np.array([f"{prefix}{d:0{width}x}" for d in digits], dtype=object)


def _dates(rng: np.random.Generator, rows: int, missing: float) -> pd.Series:
    """Days in 2016-2026 (datetime64[ms], as the engine returns them), some NaT."""
    days = rng.integers(0, 3650, size=rows)
    values = (np.datetime64("2016-01-01") + days).astype("datetime64[ms]")
    values[rng.random(rows) < missing] = np.datetime64("NaT")
    return pd.Series(values)


def _nullable_ints(rng: np.random.Generator, rows: int, high: int, missing: float) -> pd.Series:
    values = pd.array(rng.integers(-5, high, size=rows), dtype="Int64")
    values[rng.random(rows) < missing] = pd.NA
    return pd.Series(values)


def refills_like(rows: int, seed: int = 7) -> pd.DataFrame:
    """A frame shaped like the refills table: 20 columns of the engine's types."""
    rng = np.random.default_rng(seed)
    residual = np.round(rng.normal(0, 0.4, size=rows), 1)
    residual[rng.random(rows) < 0.04] = np.nan
    text = {
        "patient_id": _ids(rng, rows, "", 12),
        "fill_visit_id": _ids(rng, rows, "V", 10),
        "due_source": SOURCE[rng.integers(0, len(SOURCE), rows)],
        "status": STATUS[rng.integers(0, len(STATUS), rows)],
        "fill_type": FILL_TYPES[rng.integers(0, len(FILL_TYPES), rows)],
        "site": SITES[rng.integers(0, len(SITES), rows)],
        "drug": DRUGS[rng.integers(0, len(DRUGS), rows)],
    }
    df = pd.DataFrame({k: pd.Series(v, dtype="str") for k, v in text.items()})
    for col, missing in (("fill_date", 0), ("due_date", 0.01), ("empty_date", 0.02)):
        df[col] = _dates(rng, rows, missing)
    df["next_fill_date"] = _dates(rng, rows, 0.05)
    df["days_late"] = _nullable_ints(rng, rows, 60, 0.05)
    df["dry_days"] = _nullable_ints(rng, rows, 10, 0.05)
    df["cap_days"] = _nullable_ints(rng, rows, 180, 0.3)
    df["early"] = rng.random(rows) < 0.3
    df["residual_flag"] = rng.random(rows) < 0.05
    df["reservoir_ml"] = rng.choice([20.0, 40.0], size=rows)
    df["volume_added_ml"] = np.round(rng.uniform(5, 40, size=rows), 1)
    df["rate_at_fill"] = np.round(rng.uniform(0.01, 2, size=rows), 4)
    df["residual_diff_ml"] = residual
    return df


def old_render(df: pd.DataFrame) -> str:
    """render_table as it was: booleans mapped to true/false, then pandas writes."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map({True: "true", False: "false"})
    return pandas_csv_text(out, date_format="%Y-%m-%d", lineterminator="\n")


def best(fn: Callable[[pd.DataFrame], str], df: pd.DataFrame, repeat: int) -> tuple[float, str]:
    """The best wall time of `repeat` runs, and the text of the last."""
    times, text = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        text = fn(df)
        times.append(time.perf_counter() - t0)
    return min(times), text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=680_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pickle", help="time a pickled frame instead (e.g. a real table)")
    args = parser.parse_args()
    df = pd.read_pickle(args.pickle) if args.pickle else refills_like(args.rows)
    old_s, old_text = best(old_render, df, args.repeat)
    new_s, new_text = best(render_table, df, args.repeat)
    same = "identical" if new_text == old_text else "DIFFERENT"
    print(f"{len(df):,} rows x {df.shape[1]} columns, {len(old_text) / 1e6:.1f} MB of CSV ({same})")
    print(f"old (pandas to_csv): {old_s:.2f} s")
    print(f"new (csvfast):       {new_s:.2f} s   ({old_s / new_s:.1f}x faster)")
    if new_text != old_text:
        raise SystemExit("the fast writer's bytes differ from pandas'")


if __name__ == "__main__":
    main()

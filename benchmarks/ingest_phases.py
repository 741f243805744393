"""Where the ingest time goes: seconds and peak resident memory of each ingest phase.

    uv run python benchmarks/ingest_phases.py --scale 10m   # after benchmarks/run.py made the data

Runs one ingest of the cached synthetic files of the scale into a scratch database
(benchmarks/data/<scale>/phases.duckdb, removed afterwards), timing the functions of
analytics.ingest.load and analytics.engine that make its phases: reading, the identifier check, staging, loading,
the visit order, the engine tables and the stored metrics. Peak memory is sampled five
times a second, per phase. For the statements inside a phase, DuckDB's profiler
(`SET enable_profiling = 'json'`) tells which operator costs what.
"""

from __future__ import annotations

import argparse
import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from run import SCALES, data_dir  # benchmarks/run.py, beside this script

import analytics.engine.metrics as metrics
import analytics.engine.tables as tables
import analytics.ingest.load as ingest

PHASES: tuple[tuple[Any, str], ...] = (
    (ingest, "read_table_file"),
    (ingest, "check_identifier_values"),
    (ingest, "stage_table"),
    (ingest, "mark_present"),
    (ingest, "quarantine_frame"),
    (ingest, "_insert"),
    (tables, "build_visit_order"),
    (tables, "build_cache"),
    (metrics, "store_metrics"),
)


class Memory:
    """Peak resident memory of this process since the last `reset`, sampled."""

    def __init__(self) -> None:
        self.peak_kb = 0
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmRSS"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            time.sleep(0.2)

    def reset(self) -> None:
        self.peak_kb = 0


def timed(
    name: str, fn: Callable[..., Any], memory: Memory, out: list[tuple[str, float, int]]
) -> Callable[..., Any]:
    """`fn`, recording its seconds and peak memory in `out` at each call."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        memory.reset()
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            out.append((name, time.perf_counter() - start, memory.peak_kb))

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=list(SCALES), default="1m")
    args = parser.parse_args()
    d = data_dir(args.scale)
    if not (d / "visits.csv").exists():
        raise SystemExit(f"no data for {args.scale}: run benchmarks/run.py --scale {args.scale}")
    memory = Memory()
    figures: list[tuple[str, float, int]] = []
    for module, name in PHASES:
        setattr(module, name, timed(name, getattr(module, name), memory, figures))
    db = d / "phases.duckdb"
    db.unlink(missing_ok=True)
    start = time.perf_counter()
    try:
        ingest.ingest_files(db, d / "visits.csv", d / "complications.csv")
    finally:
        db.unlink(missing_ok=True)
    total = time.perf_counter() - start
    print(f"{'phase (each call)':28s} {'seconds':>8s} {'peak MB':>8s}")
    for name, seconds, peak_kb in figures:  # in call order: visits, then complications
        print(f"{name:28s} {seconds:8.1f} {peak_kb // 1024:8d}")
    print(f"{'total':28s} {total:8.1f}")


if __name__ == "__main__":
    main()

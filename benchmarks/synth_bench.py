"""Wall time and peak memory of the synthetic generator.

    uv run python benchmarks/synth_bench.py            # 1,000 patients x 3 years
    uv run python benchmarks/synth_bench.py --large    # also 100,000 patients x 10 years

Targets (2-core machine): 1,000 x 3 <= 2 s; 100,000 x 10 <= 90 s and <= 4 GB.
Each size runs in a fresh process so that the peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(patients: int, years: float, write: bool) -> dict[str, float]:
    """Generate (and write CSV) once in this process; report times and peak RSS."""
    from analytics.synth import generate
    from analytics.synth import write as write_files

    t0 = time.perf_counter()
    result = generate(patients=patients, years=years, seed=1)
    t1 = time.perf_counter()
    out: dict[str, float] = {
        "patients": patients,
        "years": years,
        "visits": len(result.visits),
        "complications": len(result.complications),
        "generate_s": round(t1 - t0, 2),
    }
    if write:
        with tempfile.TemporaryDirectory() as tmp:
            write_files(result, Path(tmp))
            out["write_csv_s"] = round(time.perf_counter() - t1, 2)
    out["total_s"] = round(time.perf_counter() - t0, 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also run 100,000 x 10 years")
    parser.add_argument("--child", nargs=2, type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(int(args.child[0]), args.child[1], write=True)))
        return
    sizes = [(1000, 3.0)] + ([(100_000, 10.0)] if args.large else [])
    for patients, years in sizes:
        cmd = [sys.executable, __file__, "--child", str(patients), str(years)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        print(done.stdout.strip())


if __name__ == "__main__":
    main()

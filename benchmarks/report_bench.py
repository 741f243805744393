"""Wall time and peak RSS of one monthly report (HTML + PDF + xlsx) on the synthetic data.

    uv run python benchmarks/report_bench.py [--patients 600] [--years 3] [--suppress-below 11]

Makes the synthetic files (seed 2026), ingests them into a temporary database, then
times `build_report` alone for the last complete month of the data.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=600)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--suppress-below", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        cmd = [sys.executable, "-m", "analytics.cli.commands"]
        subprocess.run([*cmd, "synth", "--patients", str(args.patients), "--years", str(args.years),
                        "--seed", "2026", "--out", str(d / "data")], check=True, capture_output=True)  # fmt: skip
        subprocess.run([*cmd, "ingest", "--db", str(d / "b.duckdb"), str(d / "data" / "visits.csv"),
                        "--complications", str(d / "data" / "complications.csv"), "--quiet"],
                       check=True, capture_output=True)  # fmt: skip
        from analytics.engine.tables import data_end
        from analytics.report import ReportRequest, build_report
        from analytics.store import reader

        with reader(d / "b.duckdb") as con:
            end = data_end(con)
        assert end is not None
        month = end.strftime("%Y-%m")
        start = time.perf_counter()
        files = build_report(
            ReportRequest(d / "b.duckdb", month, d / "out", suppress_below=args.suppress_below)
        )
        wall = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert files.pdf is not None
        from pypdf import PdfReader

        pages = len(PdfReader(str(files.pdf)).pages)
        print(f"report {month}: {args.patients} patients, {args.years:g} years, pdf pages {pages}")
        print(
            f"wall time {wall:.2f} s (imports and chart/PDF engines included), peak RSS {peak_mb:.0f} MB"
        )


if __name__ == "__main__":
    main()

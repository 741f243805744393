"""The benchmark runner in smoke mode (`--scale tiny`), so it cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run benchmarks/<name> with this Python; fail the test when it fails."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.mark.slow
def test_benchmark_runner_tiny_scale() -> None:
    proc = run_script("run.py", "--scale", "tiny", "--fresh")
    table = proc.stdout
    steps = (
        "ingest",
        "append",
        "refills+metrics",
        "past-cutoff",
        "complications",
        "spc",
        "page:overview",
        "report",
    )
    for step in (*steps, "page:complications", "worklist", "battery-plan", "dose-flags"):
        line = next((ln for ln in table.splitlines() if ln.startswith(step + " ")), "")
        assert " s / " in line, f"{step}: {line or 'missing'}\n{proc.stderr[-1500:]}"
    assert "error" not in table
    assert "(full)" not in table  # the monthly append was incremental


@pytest.mark.slow
def test_append_benchmark_tiny_scale() -> None:
    """The monthly append benchmark runs on the tiny data: the month is appended
    incrementally, the full load computes everything, and both are timed."""
    if not (ROOT / "benchmarks" / "data" / "tiny" / "visits.csv").exists():
        run_script("run.py", "--scale", "tiny", "--step", "synth")
    out = run_script("append.py", "--scale", "tiny").stdout
    lines = {ln.split()[0]: ln for ln in out.splitlines() if "visit rows" in ln}
    assert "stored tables: incremental" in lines["append"], out
    assert "stored tables: full" in lines["full"], out
    assert "incremental: visit order" in out and "append / full load:" in out, out


@pytest.mark.slow
def test_ingest_phases_tiny_scale() -> None:
    """The per-phase ingest profile runs on the tiny data (made by the runner above) and
    names every phase that does work."""
    if not (ROOT / "benchmarks" / "data" / "tiny" / "visits.csv").exists():
        run_script("run.py", "--scale", "tiny")  # makes the tiny data
    proc = run_script("ingest_phases.py", "--scale", "tiny")
    names = {ln.split()[0] for ln in proc.stdout.splitlines()[1:] if ln.strip()}
    assert {"stage_table", "build_visit_order", "build_cache", "total"} <= names, proc.stdout


@pytest.mark.slow
def test_crowd_benchmark_tiny_scale() -> None:
    """Concurrent sessions against a real loopback server: every page load finishes and
    the median and 90th percentile are printed (bounded by --loads)."""
    if not (ROOT / "benchmarks" / "data" / "tiny" / "bench.duckdb").exists():
        run_script("run.py", "--scale", "tiny")  # makes the tiny database
    proc = run_script("crowd.py", "--scale", "tiny", "--sessions", "2", "--loads", "6")
    out = proc.stdout
    assert "6 page loads" in out and "0 errors" in out, out
    assert "90th percentile" in out and "cores on average" in out, out


def test_csv_output_benchmark_small() -> None:
    """The CSV writer benchmark runs on a small refills-like frame (above the fast path's
    row threshold) and finds the two writers' bytes identical."""
    proc = run_script("csv_output.py", "--rows", "5000", "--repeat", "1")
    assert "(identical)" in proc.stdout and "x faster" in proc.stdout, proc.stdout

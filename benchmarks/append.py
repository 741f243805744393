"""The monthly append against a full load: seconds, peak memory and where the time goes.

    uv run python benchmarks/append.py --scale 1m   # after benchmarks/run.py made the data

Splits the cached synthetic files of the scale (benchmarks/data/<scale>/, made by
benchmarks/run.py) at their last calendar month: the rows before it (the base) and the
rows of that month (about 1 % of them). The base is loaded into a database once
(benchmarks/data/<scale>/month/base.duckdb, kept while the engine version is the same).
Then, each in a fresh process (its own peak memory): the append of the month to a copy
of that database (the copy is not timed, and is written to disk first: the file is
there before a real ingest), and a
full load of every row into an empty database. Each prints its seconds, its peak
resident memory, how the stored tables were brought up to date (incremental or full)
and the seconds of its parts (the writer's copy and commit, the ingest's reading and
loading, each incremental step).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from run import SCALES, data_dir  # benchmarks/run.py, beside this script

TABLES: dict[str, str] = {"visits": "visit_date", "complications": "report_date"}
"""The files split, with the date column that places a row in a month."""


def month_dir(scale: str) -> Path:
    return data_dir(scale) / "month"


def split(scale: str) -> None:
    """base_<table>.csv and month_<table>.csv from the scale's files (cached)."""
    import duckdb

    d, out = data_dir(scale), month_dir(scale)
    if all((out / f"month_{t}.csv").exists() for t in TABLES):
        return
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    source = "read_csv($path, all_varchar = true, header = true)"
    last = con.execute(
        f"SELECT max(visit_date) FROM {source}", {"path": str(d / "visits.csv")}
    ).fetchall()[0][0]
    cut = str(last)[:7] + "-01"  # dates are ISO text: they compare as dates
    for table, column in TABLES.items():
        for part, test in (("base", "<"), ("month", ">=")):
            target = str(out / f"{part}_{table}.csv")
            con.execute(
                f"COPY (SELECT * FROM {source} WHERE {column} {test} $cut) "
                f"TO '{target}' (HEADER, DELIMITER ',')",
                {"path": str(d / f"{table}.csv"), "cut": cut},
            )
    con.close()


def _timed(fn: Callable[..., Any], name: str, parts: dict[str, float]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            parts[name] = round(parts.get(name, 0.0) + time.perf_counter() - start, 2)

    return run


def _instrument(parts: dict[str, float], modes: list[str]) -> None:
    """Time the parts of an ingest (module attributes wrapped; calls go through them)."""
    from analytics import store
    from analytics.engine import incremental, stored_metrics
    from analytics.engine import incremental_steps as steps
    from analytics.ingest import load

    wrapped: list[tuple[Any, str, str]] = [
        (store, "_start", "writer: copy the file"),
        (store, "_finish", "writer: checkpoint, sync, rename"),
        (load, "_insert", "ingest: load rows"),
        (incremental, "rebuild_stored", "full: engine tables and metrics"),
        (incremental, "_visit_order", "incremental: visit order"),
        (incremental, "_episodes", "incremental: episodes"),
        (incremental, "_read_visits", "incremental: stored visits read"),
        (incremental, "_dirty_visits", "incremental: visits the steps read"),
        (steps, "refills", "incremental: fills"),
        (steps, "exposure", "incremental: pump-days"),
        (steps, "reports", "incremental: reports"),
        (steps, "procedures", "incremental: procedures"),
        (steps, "planning", "incremental: pumps, dose flags, open fills"),
        (stored_metrics, "update", "incremental: stored metrics"),
    ]
    for module, attr, name in wrapped:
        setattr(module, attr, _timed(getattr(module, attr), name, parts))
    refresh = incremental.refresh_stored

    def spy(con: Any, ingest_id: int) -> str:
        mode: str = refresh(con, ingest_id)
        modes.append(mode)
        return mode

    load.refresh_stored = spy  # type: ignore[attr-defined]


def prepare(kind: str, scale: str) -> tuple[Path, Path, Path]:
    """The database and the visits and complications files of an ingest of `kind` (base,
    append, full), the database made ready (not timed): none, or a copy of the base."""
    out = month_dir(scale)
    if kind == "base":
        db, files = out / "base.duckdb", ("base_visits.csv", "base_complications.csv")
        db.unlink(missing_ok=True)
    elif kind == "append":
        db, files = out / "append.duckdb", ("month_visits.csv", "month_complications.csv")
        shutil.copyfile(out / "base.duckdb", db)
    else:
        db, files = out / "full.duckdb", ("../visits.csv", "../complications.csv")
        db.unlink(missing_ok=True)
    # written to disk before the clock starts, as a real ingest finds its database file
    # (else the system writes the fresh copy out while the ingest runs)
    os.sync()
    return db, out / files[0], out / files[1]


def ingest(kind: str, scale: str, db: Path, visits: Path, complications: Path) -> dict[str, Any]:
    """Time the ingest of the files into `db` (the base database is kept, the others
    removed afterwards) and return its figures."""
    import analytics.ingest.load  # noqa: F401  (imported before the clock starts)

    parts: dict[str, float] = {}
    modes: list[str] = []
    _instrument(parts, modes)
    from analytics.ingest.load import ingest_files

    start = time.perf_counter()
    results = ingest_files(db, visits, complications)
    wall = time.perf_counter() - start
    if kind != "base":
        db.unlink()
    return {
        "kind": kind,
        "scale": scale,
        "rows": sum(r.rows_read for r in results if r.table == "visits"),
        "wall_s": round(wall, 2),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "stored_tables": "+".join(modes),
        "parts": parts,
    }


def child(kind: str, scale: str) -> dict[str, Any]:
    """Run one ingest of `kind` (base, append, full) and return its figures."""
    return ingest(kind, scale, *prepare(kind, scale))


def ready(scale: str) -> None:
    """The split files and a current base database of the scale (made when missing)."""
    split(scale)
    if not base_is_current(scale):
        print(json.dumps(run_child("base", scale)), file=sys.stderr)


def run_child(kind: str, scale: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", kind, "--scale", scale],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} at {scale} failed: {proc.stderr.strip()[-400:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def base_is_current(scale: str) -> bool:
    """The cached base database has stored tables of this engine version."""
    from analytics.engine.tables import ENGINE_VERSION, stored_key
    from analytics.store import reader

    db = month_dir(scale) / "base.duckdb"
    if not db.exists():
        return False
    with reader(db) as con:
        key = stored_key(con)
    return key is not None and key.endswith(f"|e{ENGINE_VERSION}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=list(SCALES), default="1m")
    parser.add_argument("--child", choices=("base", "append", "full"), help=argparse.SUPPRESS)
    parser.add_argument("--no-full", action="store_true", help="time the append only")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.scale)))
        return
    if not (data_dir(args.scale) / "visits.csv").exists():
        raise SystemExit(f"no data for {args.scale}: run benchmarks/run.py --scale {args.scale}")
    ready(args.scale)
    runs = [run_child("append", args.scale)]
    if not args.no_full:
        runs.append(run_child("full", args.scale))
    for r in runs:
        print(
            f"{r['kind']:7s} {r['scale']:5s} {r['rows']:>10,d} visit rows  {r['wall_s']:7.2f} s  "
            f"{r['rss_mb']:6d} MB  stored tables: {r['stored_tables']}"
        )
        for name, seconds in r["parts"].items():
            print(f"    {name:45s} {seconds:7.2f} s")
    if len(runs) == 2:
        share = runs[0]["wall_s"] / runs[1]["wall_s"]
        print(f"append / full load: {share:.1%} (target <= 10 %)")


if __name__ == "__main__":
    main()

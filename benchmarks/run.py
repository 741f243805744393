"""Registry-scale benchmark: the whole path at several scales, one table of figures.

    uv run python benchmarks/run.py                      # scales 100k and 1M visits
    uv run python benchmarks/run.py --scale 10m          # one scale
    uv run python benchmarks/run.py --scale tiny         # smoke mode (used in CI)

Each step runs in a fresh process so that its wall time and peak resident memory
(RSS) are its own. Synthetic data is cached under benchmarks/data/<scale>/ and
reused. Prints one table (rows = step, columns = scale: seconds / peak MB), writes it
as CSV under benchmarks/results/, and flags any step whose cost grows faster than
linearly between scales. Targets (2 cores, 24 GB) at 10M visits: ingest <= 60 s,
refills + metrics <= 8 s, dashboard page functions <= 2 s, report <= 30 s,
survival (pump periods and the curves) <= 2 s, surgical outcomes <= 2 s (and their
engine stage alone, as ingest computes it), the worklist, battery plan and dose flags
(from stored tables) <= 1 s each, peak memory <= 6 GB; ingest of 1M visits <= 10 s and
<= 2 GB; the monthly append (the data's last month, about 1 % of the rows, into a
database of the rows before it: benchmarks/append.py) <= 10 % of the ingest and <= 10 s.

    uv run python benchmarks/run.py --scale 1m --step surgical --step procedures-stage
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
# patients x 10 years; the generator makes about 40 visits per patient over 10 years
SCALES: dict[str, tuple[int, float]] = {
    "tiny": (300, 3.0),
    "100k": (2_500, 10.0),
    "1m": (25_000, 10.0),
    "10m": (250_000, 10.0),
}
STEPS: tuple[str, ...] = (
    "synth",
    "ingest",
    "append",
    "refills",
    "metrics",
    "refills+metrics",
    "past-cutoff",
    "complications",
    "surgical",
    "procedures-stage",
    "spc",
    "survival",
    "page:overview",
    "page:worklist",
    "page:refills",
    "page:complications",
    "page:planning",
    "worklist",
    "battery-plan",
    "dose-flags",
    "report",
)


def data_dir(scale: str) -> Path:
    return HERE / "data" / scale


def db_path(scale: str) -> Path:
    return data_dir(scale) / "bench.duckdb"


def ensure_data(scale: str) -> None:
    """Synthetic CSV files and a loaded database for the scale (cached)."""
    d = data_dir(scale)
    if not (d / "visits.csv").exists():
        run_child("synth", scale)
    if not db_path(scale).exists():
        run_child("ingest", scale)


# --- steps (run inside a child process) -------------------------------------------------


def step_synth(scale: str) -> dict[str, object]:
    from analytics.synth import generate, write

    patients, years = SCALES[scale]
    result = generate(patients=patients, years=years, seed=7, sites=5)
    d = data_dir(scale)
    d.mkdir(parents=True, exist_ok=True)
    write(result, d)
    return {"visits": len(result.visits), "complications": len(result.complications)}


def step_ingest(scale: str) -> dict[str, object]:
    from analytics.ingest.load import ingest_files

    d = data_dir(scale)
    db = d / "ingest-run.duckdb"
    db.unlink(missing_ok=True)
    res = ingest_files(db, d / "visits.csv", d / "complications.csv")
    shutil.move(db, db_path(scale))
    return {"rows": sum(r.rows_read for r in res)}


def step_append(scale: str) -> dict[str, object]:
    """The monthly append (benchmarks/append.py): the last month's rows (about 1 %) into
    a copy of a database of the rows before it, made beforehand (not timed)."""
    from append import ingest, month_dir

    out = month_dir(scale)
    files = (out / "month_visits.csv", out / "month_complications.csv")
    figures = ingest("append", scale, out / "append.duckdb", *files)
    return {"rows": figures["rows"], "stored_tables": figures["stored_tables"]}


def _with_reader(fn: Callable[..., object]) -> Callable[[str], dict[str, object]]:
    def run(scale: str) -> dict[str, object]:
        from analytics.store import reader

        with reader(db_path(scale)) as con:
            out = fn(con)
        return {"rows": out} if isinstance(out, int) else {}

    return run


def _refills(con: object) -> int:
    from analytics.engine.refills import refills

    return len(refills(con))  # type: ignore[arg-type]


def _metrics(con: object) -> int:
    from analytics.engine.metrics import monthly_metrics

    return len(monthly_metrics(con, by="site"))  # type: ignore[arg-type]


def _refills_metrics(con: object) -> int:
    return _refills(con) + _metrics(con)


def _past_cutoff(con: object) -> int:
    """refills + metrics (by site) as of the last day of the month before the data's end
    (the pack for last month): the engine works from the stored rows it can reuse."""
    from analytics.engine.metrics import monthly_metrics
    from analytics.engine.refills import refills
    from analytics.engine.tables import data_end

    end = data_end(con)  # type: ignore[arg-type]
    assert end is not None, "an empty benchmark database"
    as_of = end.replace(day=1) - dt.timedelta(days=1)
    return len(refills(con, as_of)) + len(monthly_metrics(con, as_of, by="site"))  # type: ignore[arg-type]


def _complications(con: object) -> int:
    from analytics.engine import complications as c

    n = len(c.rates_by_category(con, by="site", codes=True))  # type: ignore[arg-type]
    n += len(c.funnel(con)) + len(c.time_since_surgery(con)) + len(c.refill_quality(con, by="site"))  # type: ignore[arg-type]
    n += len(c.outside_episode_reports(con)) + len(c.severity_table(con))  # type: ignore[arg-type]
    return n


def _surgical(con: object) -> int:
    """Surgical outcomes from the stored procedures: by site and quarter, by clinician over
    all, and by month (the table, the funnel's input, the p-chart's input)."""
    from analytics.engine.surgical import surgical_outcomes

    n = len(surgical_outcomes(con, by="site", period="quarter"))  # type: ignore[arg-type]
    n += len(surgical_outcomes(con, by="clinician", period="all"))  # type: ignore[arg-type]
    return n + len(surgical_outcomes(con))  # type: ignore[arg-type]


def _procedures_stage(con: object) -> int:
    """The procedures stage (sql/09_procedures.sql) alone, as ingest (and any non-default
    configuration) computes it; an earlier cut-off narrows the stored rows instead."""
    from analytics.config import DEFAULT
    from analytics.engine import tables

    as_of = tables.prepare(con)  # type: ignore[arg-type]
    tables.register_config(con, DEFAULT)  # type: ignore[arg-type]
    sql = tables.stage_sql("09_procedures").replace("pq_procedures", "pq_procedures_bench")
    con.execute(sql, {"as_of": as_of})  # type: ignore[attr-defined]
    return int(con.execute("SELECT count(*) FROM pq_procedures_bench").fetchall()[0][0])  # type: ignore[attr-defined]


def _spc(con: object) -> int:
    from analytics.engine.metrics import monthly_metrics
    from analytics.spc import qic

    m = monthly_metrics(con)  # type: ignore[arg-type]
    m = m[m.refills_due > 0]
    p = qic(m, y="on_time", n="refills_due", x="month", chart="p")
    u = qic(
        m[m.pump_days > 0], y="complications", n="pump_days", x="month", chart="u", multiply=1000
    )
    return len(p.table) + len(u.table)


def _a_week_after_the_data(con: object) -> dt.date:
    """A fixed 'today' for the lists made as of today: the data's end + 7 days."""
    from analytics.engine.tables import resolve_as_of

    return resolve_as_of(con, None) + dt.timedelta(days=7)  # type: ignore[arg-type]


def _worklist(con: object) -> int:
    from analytics.engine.worklist import worklist, worklist_counts, workload

    today = _a_week_after_the_data(con)
    n = len(worklist(con, today))  # type: ignore[arg-type]
    return n + len(worklist_counts(con, today)) + len(workload(con, today))  # type: ignore[arg-type]


def _battery_plan(con: object) -> int:
    from analytics.engine.battery import battery_plan, battery_plan_counts, replaced_before_eol

    today = _a_week_after_the_data(con)
    n = len(battery_plan(con, today)) + len(battery_plan_counts(con, today))  # type: ignore[arg-type]
    return n + len(replaced_before_eol(con, by="site"))  # type: ignore[arg-type]


def _dose_flags(con: object) -> int:
    from analytics.engine.dose_flags import dose_flag_counts, dose_flags

    return len(dose_flags(con)) + len(dose_flag_counts(con, by="site"))  # type: ignore[arg-type]


def _survival(con: object) -> int:
    """Pump periods for one endpoint, the curves by site and the 1- and 5-year figures:
    what the survival page asks for."""
    from analytics.engine.survival import pump_periods, summary_at, survival_curve

    periods = pump_periods(con, endpoint="device", by="site", ordered=False)  # type: ignore[arg-type]
    return len(survival_curve(periods)) + len(summary_at(periods))


def _page(*names: str) -> Callable[[object], int]:
    """A dashboard page's figures over the last 24 months: functions of analytics.figures
    ('overview') or of one of its modules ('outcomes.outcomes_figures')."""

    def run(con: object) -> int:
        import importlib

        import analytics.figures as figures

        cut = figures.open_cutoff(con)  # type: ignore[arg-type]
        months = figures.filter_options(cut).months
        scope = figures.Scope.months(months[max(0, len(months) - 24)], months[-1])
        done = 0
        for name in names:
            module, _, function = name.rpartition(".")
            where = importlib.import_module(f"analytics.figures.{module}") if module else figures
            done += getattr(where, function)(cut, scope) is not None
        return done

    return run


def step_report(scale: str) -> dict[str, object]:
    import importlib
    import tempfile

    try:
        report = importlib.import_module("analytics.report")
    except ModuleNotFoundError:
        return {"skipped": "analytics.report not available"}
    from analytics.engine.tables import data_end
    from analytics.store import reader

    with reader(db_path(scale)) as con:
        end = data_end(con)
    assert end is not None
    month = (end.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    with tempfile.TemporaryDirectory() as out:
        report.build_report(report.ReportRequest(db=db_path(scale), month=month, out_dir=out))
    return {"month": month}


CHILD_STEPS: dict[str, Callable[[str], dict[str, object]]] = {
    "synth": step_synth,
    "ingest": step_ingest,
    "append": step_append,
    "refills": _with_reader(_refills),
    "metrics": _with_reader(_metrics),
    "refills+metrics": _with_reader(_refills_metrics),
    "past-cutoff": _with_reader(_past_cutoff),
    "complications": _with_reader(_complications),
    "surgical": _with_reader(_surgical),
    "procedures-stage": _with_reader(_procedures_stage),
    "spc": _with_reader(_spc),
    "survival": _with_reader(_survival),
    "page:overview": _with_reader(_page("overview")),
    "page:worklist": _with_reader(_page("worklist_figures")),
    "page:refills": _with_reader(_page("refills_figures")),
    "page:complications": _with_reader(_page("complications_figures", "outcomes.outcomes_figures")),
    "page:planning": _with_reader(_page("planning.planning_figures")),
    "worklist": _with_reader(_worklist),
    "battery-plan": _with_reader(_battery_plan),
    "dose-flags": _with_reader(_dose_flags),
    "report": step_report,
}


WARM_IMPORTS: tuple[str, ...] = (
    "analytics.ingest.load",
    "analytics.engine.refills",
    "analytics.engine.metrics",
    "analytics.engine.complications",
    "analytics.engine.survival",
    "analytics.engine.worklist",
    "analytics.engine.battery",
    "analytics.engine.dose_flags",
    "analytics.spc",
    "analytics.figures",
    "analytics.report",
    "analytics.synth",
)


def child(step: str, scale: str) -> None:
    """Import the package first (a long-running dashboard or a warm CLI has it loaded), then
    time the step alone; the import time is reported beside it."""
    import importlib

    t_imp = time.perf_counter()
    for name in WARM_IMPORTS:
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(name)
    import_s = time.perf_counter() - t_imp
    t0 = time.perf_counter()
    extra = CHILD_STEPS[step](scale)
    wall = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "step": step,
                "scale": scale,
                "wall_s": round(wall, 3),
                "rss_mb": round(rss_mb),
                "import_s": round(import_s, 2),
                **extra,
            }
        )
    )


def run_child(step: str, scale: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", step, "--scale", scale],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"step": step, "scale": scale, "error": last[:120]}
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# --- the table ---------------------------------------------------------------------------


def superlinear(results: dict[tuple[str, str], dict[str, object]], scales: list[str]) -> list[str]:
    """Steps whose wall time grows more than 1.5x faster than the data between two scales."""
    flags = []
    sizes = {s: SCALES[s][0] * SCALES[s][1] for s in scales}
    for step in STEPS:
        for a, b in zip(scales, scales[1:], strict=False):
            ra, rb = results.get((step, a), {}), results.get((step, b), {})
            wa, wb = ra.get("wall_s"), rb.get("wall_s")
            if not isinstance(wa, float | int) or not isinstance(wb, float | int) or wa < 0.2:
                continue
            growth = (wb / wa) / (sizes[b] / sizes[a])
            if growth > 1.5:
                flags.append(f"{step}: {a} -> {b} grew {growth:.1f}x faster than the data")
    return flags


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", action="append", choices=list(SCALES), help="repeatable; default 100k and 1m"
    )
    parser.add_argument("--child", choices=list(CHILD_STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--fresh", action="store_true", help="regenerate the cached data")
    parser.add_argument(
        "--step", action="append", choices=list(STEPS), help="repeatable; default every step"
    )
    args = parser.parse_args()
    scales = args.scale or ["100k", "1m"]
    if args.child:
        child(args.child, scales[0])
        return
    results: dict[tuple[str, str], dict[str, object]] = {}
    for scale in scales:
        if args.fresh:
            shutil.rmtree(data_dir(scale), ignore_errors=True)
        for step in args.step or STEPS:
            if step == "synth" and (data_dir(scale) / "visits.csv").exists():
                results[(step, scale)] = (
                    run_child(step, scale) if args.fresh else {"note": "cached"}
                )
                continue
            if step == "ingest" and not (data_dir(scale) / "visits.csv").exists():
                run_child("synth", scale)
            elif step not in ("synth", "ingest"):
                ensure_data(scale)
            if step == "append":
                import append  # benchmarks/append.py, beside this script

                append.ready(scale)
                append.prepare("append", scale)
            results[(step, scale)] = run_child(step, scale)
            print(f"  {scale:>5} {step:<16} {fmt(results[(step, scale)])}", file=sys.stderr)
    print_table(results, scales)
    for flag in superlinear(results, scales):
        print("SUPERLINEAR:", flag)


def fmt(r: dict[str, object]) -> str:
    if "error" in r:
        return f"error: {r['error']}"
    if "skipped" in r:
        return "n/a"
    if r.get("note") == "cached":
        return "cached"
    full = " (full)" if r.get("stored_tables") == "full" else ""  # an append not incremental
    return f"{r.get('wall_s')} s / {r.get('rss_mb')} MB{full}"


def print_table(results: dict[tuple[str, str], dict[str, object]], scales: list[str]) -> None:
    import csv

    steps = [step for step in STEPS if any((step, s) in results for s in scales)]

    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", *[f"{s}_wall_s" for s in scales], *[f"{s}_rss_mb" for s in scales]])
        for step in steps:
            w.writerow(
                [
                    step,
                    *[results.get((step, s), {}).get("wall_s", "") for s in scales],
                    *[results.get((step, s), {}).get("rss_mb", "") for s in scales],
                ]
            )
    width = max(len(s) for s in steps) + 2
    print(f"{'step':<{width}}" + "".join(f"{s:>22}" for s in scales))
    for step in steps:
        print(
            f"{step:<{width}}" + "".join(f"{fmt(results.get((step, s), {})):>22}" for s in scales)
        )
    print(f"written to {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()

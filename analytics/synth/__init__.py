"""Realistic synthetic intrathecal-pump follow-up logs that follow the data contract
(`pumpqi contract`).

    result = generate(patients=600, years=4, seed=2026)
    write(result, "out/")             # visits.csv, complications.csv (+ manifest.csv when messy)

Vectorised: patients are drawn at once and the refill loop runs one round per
fill for every active patient. Deterministic for a seed; output sorted by
patient, date and the same-day visit order of definitions.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.synth import build, events
from analytics.synth.messy import inject
from analytics.synth.patients import Patients, draw_patients
from analytics.synth.refills import FillLog, run_refills
from analytics.synth.writer import write

__all__ = ["DEMO", "SynthResult", "default_window", "generate", "write"]

DEMO: dict[str, int] = dict(patients=600, years=4, sites=3, seed=2026)
"""The seeded demo data set (`pumpqi demo`, README, dashboard tests, benchmarks)."""


@dataclass(frozen=True)
class SynthResult:
    """The generated tables; `manifest` lists injected faults (messy mode) by table row."""

    visits: pd.DataFrame
    complications: pd.DataFrame
    start: dt.date
    end: dt.date
    manifest: pd.DataFrame | None = None


def default_window(
    years: float, start: dt.date | None, end: dt.date | None, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The log's first and last day (inclusive).

    Default end: the last day of the previous month; start = end - years. With only a
    start, end = start + years, but never after that default end. Both given: used as is.
    """
    today = today or dt.date.today()
    latest = today.replace(day=1) - dt.timedelta(days=1)
    span = dt.timedelta(days=max(1, round(years * 365.25)))
    if end is None:
        end = min(start + span, latest) if start is not None else latest
    if start is None:
        start = end - span
    if end > today:
        raise ValueError(f"end {end} is after today ({today}): no visit may be dated in the future")
    if start >= end:
        raise ValueError(f"start {start} must be before end {end}")
    return start, end


def _site_codes(sites: int) -> tuple[str, ...]:
    if sites < 1:
        raise ValueError("sites must be at least 1")
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return tuple(letters[i] if sites <= 26 else f"S{i + 1:02d}" for i in range(sites))


def generate(
    patients: int,
    years: float,
    seed: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
    messy: bool = False,
    with_identifier_column: bool = False,
    sites: int = 3,
) -> SynthResult:
    """Generate `patients` patients' visit and complication logs over the window."""
    if patients < 1:
        raise ValueError("patients must be at least 1")
    first, last = default_window(years, start, end)
    win = events.Window(_days(first), _days(last))
    rng = np.random.default_rng(seed)
    pat = draw_patients(rng, patients, seed, win.start, win.end, sites)
    log = run_refills(rng, pat, win.end)
    rep = events.Reports()
    trials = events.trial_visits(rng, pat, rep, win)
    base_fill = len(trials["c"])
    events.complications(rng, pat, log, rep, win, base_fill)
    base_other = base_fill + len(log.fills["c"]) + len(log.reprograms["c"])
    others = events.other_visits(rng, pat, log, rep, win, base_other)
    visits, comps = _tables(rng, pat, log, trials, others, rep, win, _site_codes(sites), seed)
    result = SynthResult(build.to_frame(visits), build.to_frame(comps), first, last)
    if messy or with_identifier_column:
        return inject(rng, result, messy, with_identifier_column)
    return result


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _tables(
    rng: np.random.Generator,
    pat: Patients,
    log: FillLog,
    trials: dict[str, np.ndarray],
    others: dict[str, np.ndarray],
    rep: events.Reports,
    win: events.Window,
    sites: tuple[str, ...],
    seed: int,
) -> tuple[pa.Table, pa.Table]:
    v = build.visit_arrays(pat, log, trials, others)
    first = build.first_refill(pat, log.fills, win)
    rank = np.empty(len(pat.ids), dtype=np.int64)
    rank[np.argsort(pat.ids, kind="stable")] = np.arange(len(pat.ids))
    keep = build.keep_visits(pat, v, first, win)
    order = np.lexsort((v["vtype"], v["date"], rank[v["c"]]))
    order = order[keep[order]]
    newpos = np.full(len(keep), -1, dtype=np.int64)
    newpos[order] = np.arange(len(order))
    for k in list(v):  # one column at a time: the unsorted copy is freed at once
        v[k] = v[k][order]
    implant_dates = build.pump_implant_dates(pat, log.fills, v["c"], v["date"])
    visits = build.visits_table(rng, pat, v, rank, sites, seed, implant_dates)
    r = rep.arrays()
    graded = rep.graded
    keep_r = build.keep_reports(pat, r, first, win)
    r["link"] = np.where(r["link"] >= 0, newpos[np.maximum(r["link"], 0)], -1)
    order_r = np.lexsort((r["code"], r["date"], rank[r["c"]]))
    order_r = order_r[keep_r[order_r]]
    r = {k: a[order_r] for k, a in r.items()}
    graded = {k: a[order_r] for k, a in graded.items()}
    comps = build.reports_table(
        pat, r, graded, visits["visit_id"].combine_chunks(), rank, sites, salt=seed + 1
    )
    return visits, comps

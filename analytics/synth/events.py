"""Complication reports and the visits around them (trials, follow-ups, ends).

Visits are numbered in one global order: trials, fills, reprograms, then the
other visits made here; a complication's `link` is its visit's number (-1: none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analytics.ingest.contract import ACTIONS, SEVERITIES, VISIT_TYPES
from analytics.synth import params as P
from analytics.synth.patients import NEVER, YEAR, Patients, choice_rows
from analytics.synth.refills import REPLACEMENT, FillLog
from analytics.vocabulary import COMPLICATION_CATEGORIES

CODES: tuple[str, ...] = tuple(COMPLICATION_CATEGORIES)
PROFILE_NAMES: tuple[str, ...] = tuple(P.PROFILES)
_SEV = np.array([P.PROFILES[p].severity for p in PROFILE_NAMES])
_ACT = np.array([P.PROFILES[p].action for p in PROFILE_NAMES])
_SERIOUS_ACTIONS = np.array([a in ("revision", "explant", "hospitalisation") for a in ACTIONS])
VT = {name: i for i, name in enumerate(VISIT_TYPES)}


@dataclass
class Reports:
    """Complications being collected: patient, date, code, profile, linked visit."""

    parts: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    graded: dict[str, np.ndarray] = field(default_factory=dict)

    def add(
        self,
        c: np.ndarray,
        date: np.ndarray,
        code: str | np.ndarray,
        profile: str,
        link: np.ndarray | None = None,
    ) -> None:
        n = len(c)
        codes = np.full(n, CODES.index(code)) if isinstance(code, str) else code
        links = np.full(n, -1, dtype=np.int64) if link is None else link
        self.parts.append((c, date, codes, np.full(n, PROFILE_NAMES.index(profile)), links))

    def arrays(self) -> dict[str, np.ndarray]:
        cols = ("c", "date", "code", "profile", "link")
        if not self.parts:
            return {k: np.zeros(0, dtype=np.int64) for k in cols}
        return {k: np.concatenate([p[i] for p in self.parts]) for i, k in enumerate(cols)}


@dataclass
class Window:
    start: int
    end: int


def _events(
    rng: np.random.Generator,
    c: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    per_year: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events at a constant rate over [lo, hi) per entry: (entry, date)."""
    span = np.maximum(hi - lo, 0)
    k = rng.poisson(np.asarray(per_year) * span / YEAR)
    rep = np.repeat(np.arange(len(c)), k)
    dates = lo[rep] + np.floor(rng.random(len(rep)) * span[rep]).astype(np.int64)
    return c[rep], dates


def _episode(pat: Patients, win: Window) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chains with the part of their episode inside the window: (c, lo, hi exclusive)."""
    c = np.flatnonzero(pat.has_chain)
    lo = np.maximum(pat.first_fill[c], win.start)
    hi = np.minimum(pat.end[c], win.end + 1)
    return c, lo, hi


def _surgery(
    rng: np.random.Generator,
    rep: Reports,
    c: np.ndarray,
    day: np.ndarray,
    risk: float,
    deep: bool = True,
) -> None:
    """Post-operative reports in their windows after a procedure (`deep`: a deep infection
    too; an implant's deep infection is drawn with the patient, as it may end therapy)."""
    postop = P.POSTOP + (
        (("infection_deep", "deep", P.DEEP_INFECTION_P, *P.DEEP_INFECTION_DAYS),) if deep else ()
    )
    for code, profile, p, lo, hi in postop:
        hit = rng.random(len(c)) < p * risk
        rep.add(c[hit], day[hit] + rng.integers(lo, hi + 1, int(hit.sum())), code, profile)


def _steady(rng: np.random.Generator, rep: Reports, pat: Patients, win: Window) -> None:
    c, lo, hi = _episode(pat, win)
    opioid = np.array([d.opioid for d in P.DRUGS])[pat.drug[c]]
    zico = pat.drug[c] == P.DRUG_NAMES.index("ziconotide")
    for code, profile, rate in P.STEADY:
        rep.add(*_events(rng, c, lo, hi, rate), code=code, profile=profile)
    cc, cd = _events(rng, c, lo, hi, P.CATHETER_PER_YEAR)
    rep.add(cc, cd, _catheter_codes(rng, len(cc)), "catheter")
    gran = P.GRANULOMA_PER_YEAR * np.where(opioid, 1.0, 0.3)
    rep.add(*_events(rng, c, lo, hi, gran), code="granuloma", profile="granuloma")
    side = np.where(zico, P.ZICONOTIDE_SIDE_EFFECT_PER_YEAR, P.SIDE_EFFECT_PER_YEAR)
    rep.add(*_events(rng, c, lo, hi, side), code="side_effect", profile="side_effect")
    od = np.where(opioid, P.OVERDOSE_PER_YEAR, 0.0)
    rep.add(*_events(rng, c, lo, hi, od), code="overdose", profile="overdose")
    new = c[~pat.left[c]]
    k = rng.poisson(P.CATHETER_FIRST_YEAR, len(new))
    cc = np.repeat(new, k)
    when = pat.implant[cc] + np.minimum(rng.exponential(120.0, len(cc)), 364).astype(np.int64) + 1
    rep.add(cc, when, _catheter_codes(rng, len(cc)), "catheter")


def _catheter_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    pick = rng.choice(len(P.CATHETER_CODES), size=n, p=np.array(P.CATHETER_CODE_P))
    return np.array([CODES.index(x) for x in P.CATHETER_CODES])[pick]


def _patient_events(
    rng: np.random.Generator, rep: Reports, pat: Patients, fills: dict[str, np.ndarray]
) -> None:
    new = np.flatnonzero(pat.has_chain & ~pat.left)
    _surgery(rng, rep, new, pat.implant[new], 1.0, deep=False)
    is_repl = fills["ftype"] == REPLACEMENT
    rc, rd = fills["c"][is_repl], fills["date"][is_repl]
    _surgery(rng, rep, rc, rd, P.REPLACEMENT_SURGERY_RISK)
    deep = np.flatnonzero(pat.deep_infection < NEVER)
    rep.add(deep, pat.deep_infection[deep], "infection_deep", "deep")
    failed = np.flatnonzero(pat.has_chain & (pat.failure < NEVER))
    rep.add(failed, pat.failure[failed], "pump_failure", "device")
    # The battery alarm (ERI) of some battery replacements is logged as a report; a pump
    # replaced after its shut-off always is, on the day it stopped.
    fail = pat.failure[rc]
    battery = ~((fail < NEVER) & (rd > fail) & (rd <= fail + 10))
    late = pat.eri_lead[rc] > P.ERI_DAYS_BEFORE_END
    logged = battery & (late | (rng.random(len(rc)) < P.BATTERY_REPORT_P))
    back = np.where(late, pat.eri_lead[rc] - P.ERI_DAYS_BEFORE_END, pat.eri_lead[rc])
    rep.add(rc[logged], rd[logged] - back[logged], "battery_depletion", "battery")


def _fill_events(
    rng: np.random.Generator, rep: Reports, pat: Patients, fills: dict[str, np.ndarray], base: int
) -> None:
    n = len(fills["c"])
    idx = np.arange(n)
    for code, profile, p in P.FILL_ERRORS:
        hit = rng.random(n) < p
        if code == "pocket_fill":
            hit &= fills["ftype"] == 2
        rep.add(fills["c"][hit], fills["date"][hit], code, profile, base + idx[hit])
    baclofen = pat.drug[fills["c"]] == 0
    p_w = np.where(baclofen, P.WITHDRAWAL_AT_DRY_P[0], P.WITHDRAWAL_AT_DRY_P[1])
    hit = fills["dry_before"] & (rng.random(n) < p_w)
    rep.add(fills["c"][hit], fills["date"][hit], "withdrawal", "withdrawal", base + idx[hit])


def trial_visits(
    rng: np.random.Generator, pat: Patients, rep: Reports, win: Window
) -> dict[str, np.ndarray]:
    """Screening trials (some failing, a few with a complication) as visits 0..n-1."""
    c = np.flatnonzero((pat.trial < NEVER) & (pat.trial <= win.end))
    day = pat.trial[c]
    hit = rng.random(len(c)) < P.TRIAL_COMPLICATION_P
    hc = c[hit]
    offset = rng.integers(0, 4, len(hc))
    which = rng.choice(len(P.TRIAL_CODES), size=len(hc), p=np.array([t[2] for t in P.TRIAL_CODES]))
    link = np.where(offset == 0, np.flatnonzero(hit), -1)
    for i, (code, profile, _) in enumerate(P.TRIAL_CODES):
        m = which == i
        rep.add(hc[m], day[hit][m] + offset[m], code, profile, link[m])
    return {"c": c, "date": day, "vtype": np.full(len(c), VT["trial"])}


def other_visits(
    rng: np.random.Generator, pat: Patients, log: FillLog, rep: Reports, win: Window, base: int
) -> dict[str, np.ndarray]:
    """Post-op and periodic follow-ups, walk-ins, revisions, explants and discharges."""
    parts: list[tuple[np.ndarray, np.ndarray, int]] = []
    c, lo, hi = _episode(pat, win)
    parts.append((*_events(rng, c, lo, hi, P.FOLLOW_UP_PER_YEAR), VT["follow_up"]))
    parts.append((*_events(rng, c, lo, hi, P.UNSCHEDULED_PER_YEAR), VT["unscheduled"]))
    surg = np.isin(log.fills["ftype"], (1, 3))
    sc, sd = log.fills["c"][surg], log.fills["date"][surg]
    post = rng.random(len(sc)) < P.POSTOP_FOLLOW_UP_P
    parts.append((sc[post], sd[post] + rng.integers(7, 15, int(post.sum())), VT["follow_up"]))
    ended = np.flatnonzero(pat.has_chain & (pat.end <= win.end))
    kind = np.where(pat.end_explant[ended], VT["explant"], VT["discharge"])
    gone = np.flatnonzero(pat.trial_fail & (rng.random(len(pat.ids)) < 0.5))
    parts.append((gone, pat.trial[gone] + rng.integers(20, 91, len(gone)), VT["discharge"]))
    vc = np.concatenate([p[0] for p in parts])
    vd = np.concatenate([p[1] for p in parts])
    vt = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
    inside = (vd < np.where(pat.has_chain[vc], pat.end[vc], NEVER)) & (vd <= win.end)
    vc, vd, vt = vc[inside], vd[inside], vt[inside]
    vc, vd, vt = _repeats(rng, pat, rep, win, base, (vc, vd, vt))
    vc, vd, vt = _at_visit(rng, pat, rep, win, base, (vc, vd, vt))
    vc, vd, vt = _revisions(rng, pat, rep, win, (vc, vd, vt))
    return {
        "c": np.concatenate([vc, ended]),
        "date": np.concatenate([vd, pat.end[ended]]),
        "vtype": np.concatenate([vt, kind]),
    }


def _repeats(
    rng: np.random.Generator,
    pat: Patients,
    rep: Reports,
    win: Window,
    base: int,
    visits: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Some conditions are reported again at 1-2 follow-up visits a few weeks apart (each
    a report of its own, linked to its follow-up visit)."""
    vc, vd, vt = visits
    r = rep.arrays()
    codes = np.array([CODES.index(x) for x in P.REPEAT_CODES])
    src = np.flatnonzero(np.isin(r["code"], codes) & (rng.random(len(r["c"])) < P.REPEAT_P))
    src = src[r["date"][src] >= pat.first_fill[r["c"][src]]]
    lo, hi = P.REPEAT_GAP_DAYS
    d1 = r["date"][src] + rng.integers(lo, hi + 1, len(src))
    twice = rng.random(len(src)) < P.REPEAT_TWICE_P
    d2 = d1[twice] + rng.integers(lo, hi + 1, int(twice.sum()))
    idx = np.concatenate([src, src[twice]])
    c, d = r["c"][idx], np.concatenate([d1, d2])
    ok = (d < np.where(pat.has_chain[c], pat.end[c], NEVER)) & (d <= win.end)
    c, d, code = c[ok], d[ok], r["code"][idx][ok]
    rep.add(c, d, code, "repeat", base + len(vc) + np.arange(len(c)))
    return (
        np.concatenate([vc, c]),
        np.concatenate([vd, d]),
        np.concatenate([vt, np.full(len(c), VT["follow_up"])]),
    )


def _at_visit(
    rng: np.random.Generator,
    pat: Patients,
    rep: Reports,
    win: Window,
    base: int,
    visits: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Give unlinked in-episode reports an unscheduled visit (some) and revisions."""
    vc, vd, vt = visits
    r = rep.arrays()
    free = np.flatnonzero(r["link"] < 0)
    ep_end = np.where(pat.has_chain[r["c"][free]], pat.end[r["c"][free]], NEVER)
    in_ep = (r["date"][free] < ep_end) & (r["date"][free] >= pat.first_fill[r["c"][free]])
    pick = free[in_ep & (rng.random(len(free)) < P.AT_VISIT_P)]
    start = base + len(vc)
    r["link"][pick] = start + np.arange(len(pick))
    rep.parts = [tuple(r[k] for k in ("c", "date", "code", "profile", "link"))]
    vc = np.concatenate([vc, r["c"][pick]])
    vd = np.concatenate([vd, r["date"][pick]])
    vt = np.concatenate([vt, np.full(len(pick), VT["unscheduled"])])
    return vc, vd, vt


def grade(
    rng: np.random.Generator, pat: Patients, r: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Severity, action and the serious flag, from each report's profile.

    An explant only when the patient's therapy ends with one within 30 days;
    serious = surgery, explant, hospitalisation or life-threatening/fatal.
    """
    sev = choice_rows(rng, _SEV, r["profile"])
    act = choice_rows(rng, _ACT, r["profile"])
    c = r["c"]
    ends_explant = pat.end_explant[c] & (pat.end[c] >= r["date"]) & (pat.end[c] - r["date"] <= 30)
    explant, hosp = ACTIONS.index("explant"), ACTIONS.index("hospitalisation")
    act = np.where((act == explant) & ~ends_explant, hosp, act)
    deep = r["code"] == CODES.index("infection_deep")
    act = np.where(deep & ends_explant, explant, act)
    serious = _SERIOUS_ACTIONS[act] | (sev >= SEVERITIES.index("life_threatening"))
    return {"severity": sev, "action": act, "serious": serious}


def _revisions(
    rng: np.random.Generator,
    pat: Patients,
    rep: Reports,
    win: Window,
    visits: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grade the reports; a `revision` action brings a revision visit 2-21 days later,
    with its own post-operative reports."""
    r = rep.arrays()
    rep.graded = grade(rng, pat, r)
    rev = np.flatnonzero(rep.graded["action"] == ACTIONS.index("revision"))
    c = r["c"][rev]
    day = r["date"][rev] + rng.integers(2, 22, len(rev))
    ok = (
        pat.has_chain[c]
        & (day < pat.end[c])
        & (day <= win.end)
        & (r["date"][rev] >= pat.first_fill[c])
    )
    # post-operative reports of the revisions, graded like the others
    _surgery(rng, rep, c[ok], day[ok], P.REVISION_SURGERY_RISK)
    new = {k: a[len(r["c"]) :] for k, a in rep.arrays().items()}
    more = grade(rng, pat, new)
    rep.graded = {k: np.concatenate([a, more[k]]) for k, a in rep.graded.items()}
    vc, vd, vt = visits
    return (
        np.concatenate([vc, c[ok]]),
        np.concatenate([vd, day[ok]]),
        np.concatenate([vt, np.full(int(ok.sum()), VT["revision"])]),
    )


def complications(
    rng: np.random.Generator, pat: Patients, log: FillLog, rep: Reports, win: Window, base_fill: int
) -> None:
    """Surgery-related, steady, device and refill-linked reports (added to `rep`)."""
    _patient_events(rng, rep, pat, log.fills)
    _steady(rng, rep, pat, win)
    _fill_events(rng, rep, pat, log.fills, base_fill)

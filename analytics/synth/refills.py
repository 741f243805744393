"""The refill loop: one round per fill, every still-active patient at once.

Round k takes each patient's current fill, follows the reservoir through an
optional reprogram (piecewise rates, as definitions.md computes due and empty
dates), decides when the next fill happens (on time, late, or after the pump ran
dry; or a pump replacement; or nothing when therapy or the window ends) and
carries the next fill's residuals forward.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from analytics.synth import params as P
from analytics.synth.patients import NEVER, Patients, cap_days, dose_range

IMPLANT, REFILL, REPLACEMENT = 1, 2, 3
REP_MODE_P = (0.5, 0.35, 0.15)  # reprogram records dose and rate / dose only / rate only

_DEC = np.array([d.decimals for d in P.DRUGS])
_UP = np.array([d.up for d in P.DRUGS])
_DOWN = np.array([d.down for d in P.DRUGS])


@dataclass
class Chains:
    """The current fill of every active patient (`c` indexes Patients)."""

    c: np.ndarray
    d: np.ndarray
    conc: np.ndarray
    ftype: np.ndarray
    vol: np.ndarray
    dose: np.ndarray
    first: np.ndarray
    expected: np.ndarray
    actual: np.ndarray
    dry_before: np.ndarray

    def take(self, keep: np.ndarray) -> Chains:
        return Chains(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})


@dataclass
class FillLog:
    """Everything the loop emits, as flat arrays (fills, then reprograms)."""

    fills: dict[str, np.ndarray]
    reprograms: dict[str, np.ndarray]


def rate_of(dose: np.ndarray, conc: np.ndarray) -> np.ndarray:
    """The daily volume a programmer shows (mL/day, 4 decimals)."""
    return np.round(dose / conc, 4)


def titrate(
    rng: np.random.Generator, dose: np.ndarray, drug: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """A dose change: mostly up (+10-40 % baclofen, +10-30 % opioids), sometimes down,
    rarely a step up of more than 50 %; kept within the patient's dose range [lo, hi]."""
    n = len(dose)
    step = rng.uniform(_UP[drug, 0], _UP[drug, 1])
    big = rng.random(n) < P.BIG_STEP_P
    step = np.where(big, rng.uniform(*P.BIG_STEP_UP, n), step)
    up = dose * (1 + step)
    down = dose * (1 - rng.uniform(_DOWN[drug, 0], _DOWN[drug, 1]))
    scale = 10.0 ** _DEC[drug]
    up = np.clip(np.round(up * scale) / scale, lo, hi)
    down = np.clip(np.round(down * scale) / scale, lo, hi)
    go_up = (rng.random(n) < P.TITRATION_UP_P) & (up != dose)
    return np.where(go_up | (down == dose), up, down)


def _strengthen(
    conc: np.ndarray, dose: np.ndarray, res: np.ndarray, strongest: np.ndarray, cadence: np.ndarray
) -> np.ndarray:
    """A dose the reservoir would no longer hold for the patient's refill interval (or
    for ~30 days) moves to the strongest concentration."""
    days = (res - 4) * conc / dose
    short = days < np.maximum(P.SHORT_INTERVAL_DAYS, cadence)
    return np.where(short, np.maximum(conc, strongest), conc)


def _factor(pat: Patients, c: np.ndarray) -> np.ndarray:
    """How often a site's patients come later than booked (site adherence)."""
    return np.array(P.SITE_ADHERENCE_FACTOR)[pat.site[c] % len(P.SITE_ADHERENCE_FACTOR)]


def _book_lead(rng: np.random.Generator, n: int) -> np.ndarray:
    """Days before the due date the clinic books the refill."""
    share, lo, hi = (np.array(x) for x in zip(*P.BOOK_LEAD_DAYS, strict=True))
    which = np.minimum((rng.random(n)[:, None] > np.cumsum(share)).sum(axis=1), len(share) - 1)
    return rng.integers(lo[which], hi[which])


def _next_date(
    rng: np.random.Generator, s: Chains, due: np.ndarray, empty: np.ndarray, pat: Patients
) -> np.ndarray:
    """The next fill: booked at the patient's cadence or before the due (alarm or cap)
    date, whichever comes first; some come later than booked but an alarm brings them
    in by the empty date; rarely the pump runs dry first."""
    n = len(s.c)
    lead = np.minimum(_book_lead(rng, n), np.floor(0.35 * (due - s.d)).astype(np.int64))
    jitter = rng.integers(-P.CADENCE_JITTER_DAYS, P.CADENCE_JITTER_DAYS + 1, n)
    booked = np.minimum(s.d + pat.cadence[s.c] + jitter, due - lead)
    factor = _factor(pat, s.c)
    u = rng.random(n)
    p_dry = P.DRY_P * factor * np.where(pat.drug[s.c] == P.BACLOFEN, P.BACLOFEN_DRY_FACTOR, 1.0)
    dry = u < p_dry
    later = ~dry & (u < p_dry + P.RESCHEDULE_P * factor)
    came = booked + rng.integers(*P.RESCHEDULE_DAYS, n)
    came = np.where(later, np.minimum(came, np.maximum(empty, booked)), booked)
    # A pump far from empty (the stability cap set the due date) does not run dry: a
    # "dry" draw there is a long delay instead.
    far = empty - due > 45
    dry_day = np.where(far, due + rng.integers(22, 46, n), empty + rng.integers(*P.DRY_DAYS, n))
    return np.where(dry, np.maximum(dry_day, booked), came)


def _residuals(
    rng: np.random.Generator, vol: np.ndarray, delivered: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Expected (programmer) and actual (withdrawn) residual before the next fill."""
    n = len(vol)
    expected = np.clip(vol - delivered, 0, vol)
    over = rng.normal(P.OVERDELIVERY_MEAN, P.OVERDELIVERY_SD, n)
    actual = vol - delivered * (1 + over)
    tail = rng.random(n) < P.RESIDUAL_TAIL_P
    sign = np.where(rng.random(n) < 0.8, -1.0, 1.0)
    actual = actual + tail * sign * rng.uniform(2.2, 5.0, n)
    ran_dry = expected <= 0
    actual = np.where(ran_dry, rng.uniform(0, 1.0, n), np.clip(actual, 0, vol))
    return np.round(expected, 1), np.round(actual, 1)


def _reprogram(
    rng: np.random.Generator, s: Chains, pat: Patients, r: np.ndarray, horizon: np.ndarray
) -> dict[str, np.ndarray]:
    """An optional dose change between fills: its day, new dose, recorded and effective rate."""
    n = len(s.c)
    early = (s.d - pat.implant[s.c]) < P.EARLY_DAYS
    has = rng.random(n) < np.where(early, P.REPROGRAM_P[0], P.REPROGRAM_P[1])
    u = np.maximum(1, np.floor(rng.uniform(0.15, 0.5, n) * horizon)).astype(np.int64)
    dose = titrate(rng, s.dose, pat.drug[s.c], *dose_range_of(pat, s.c))
    conc = s.conc
    mode = rng.choice(3, size=n, p=np.array(REP_MODE_P))
    rate_rec = rate_of(dose, conc)
    eff = np.where(mode == 1, dose / conc, rate_rec)
    return {"has": has, "u": u, "dose": dose, "rate_rec": rate_rec, "eff": eff, "mode": mode}


def _round(
    rng: np.random.Generator, s: Chains, pat: Patients, replace: np.ndarray, window_end: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], Chains]:
    n = len(s.c)
    drug, alarm, conc = pat.drug[s.c], pat.alarm[s.c], s.conc
    r = rate_of(s.dose, conc)
    cap = cap_days(drug, conc, s.first)
    t_alarm0 = (s.vol - alarm) / r
    rep = _reprogram(rng, s, pat, r, np.minimum(t_alarm0, cap))
    has, u, r1 = rep["has"], rep["u"], rep["eff"]
    vol_u = s.vol - r * u
    t_alarm = np.where(has, u + (vol_u - alarm) / r1, t_alarm0)
    t_empty = np.where(has, u + vol_u / r1, s.vol / r)
    due = s.d + np.minimum(np.floor(t_alarm).astype(np.int64), cap)
    empty = s.d + np.floor(t_empty).astype(np.int64)
    nxt = _next_date(rng, s, due, empty, pat)
    nxt = np.maximum(
        nxt, s.d + np.where(has, np.maximum(u + 1, P.MIN_INTERVAL_DAYS), P.MIN_INTERVAL_DAYS)
    )
    ep_end, repl_day = pat.end[s.c], replace[s.c]
    repl = (repl_day <= nxt) & (repl_day < ep_end) & (repl_day <= window_end)
    nxt = np.where(repl, np.maximum(repl_day, s.d + 1), nxt)
    cont = (nxt < ep_end) & (nxt <= window_end)
    rep_day = s.d + u
    rep_kept = has & (rep_day < ep_end) & (rep_day <= window_end) & (~cont | (rep_day < nxt))
    record = rng.random(n) < P.RECORD_DUE_P
    fill_out = {
        "c": s.c, "date": s.d, "ftype": s.ftype, "conc": s.conc, "vol": s.vol, "dose": s.dose, "rate": r,
        "expected": s.expected, "actual": s.actual, "dry_before": s.dry_before,
        "due_rec": np.where(record, s.d + np.floor(t_alarm0).astype(np.int64), NEVER),
    }  # fmt: skip
    k = rep_kept
    rep_out = {
        "c": s.c[k], "date": rep_day[k],
        "dose": np.where(rep["mode"][k] == 2, np.nan, rep["dose"][k]),
        "rate": np.where(rep["mode"][k] == 1, np.nan, rep["rate_rec"][k]),
        "due_rec": np.where(record[k], s.d[k] + np.floor(t_alarm[k]).astype(np.int64), NEVER),
    }  # fmt: skip
    t = (nxt - s.d).astype(np.float64)
    delivered = np.where(has & (t > u), r * u + r1 * (t - u), r * t)
    replace[s.c[repl & cont]] += pat.life[s.c[repl & cont]]
    dose_now = np.where(rep_kept, rep["dose"], s.dose)
    nxt_state = _next_fill(rng, s, pat, nxt, repl, dose_now, delivered, nxt > empty)
    return fill_out, rep_out, nxt_state.take(cont)


def _next_fill(
    rng: np.random.Generator,
    s: Chains,
    pat: Patients,
    nxt: np.ndarray,
    repl: np.ndarray,
    dose_now: np.ndarray,
    delivered: np.ndarray,
    dry: np.ndarray,
) -> Chains:
    n = len(s.c)
    early = (nxt - pat.implant[s.c]) < P.EARLY_DAYS
    change = rng.random(n) < np.where(early, P.TITRATE_AT_FILL_P[0], P.TITRATE_AT_FILL_P[1])
    lo, hi = dose_range_of(pat, s.c)
    dose = np.where(change, titrate(rng, dose_now, pat.drug[s.c], lo, hi), dose_now)
    res = pat.reservoir[s.c]
    vol = np.where(rng.random(n) < P.FULL_FILL_P, res, res - rng.integers(1, 6, n))
    expected, actual = _residuals(rng, s.vol, delivered)
    return Chains(
        c=s.c,
        d=nxt,
        conc=_strengthen(s.conc, dose, pat.reservoir[s.c], pat.conc_max[s.c], pat.cadence[s.c]),
        ftype=np.where(repl, REPLACEMENT, REFILL),
        vol=vol.astype(np.float64),
        dose=dose,
        first=repl,
        expected=np.where(repl, np.nan, expected),
        actual=np.where(repl, np.nan, actual),
        dry_before=dry & ~repl,
    )


def dose_range_of(pat: Patients, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The dose range [lo, hi] of the patients `c`."""
    lo, _ = dose_range(pat.drug[c], np.zeros(len(c), dtype=bool))
    return lo, pat.dose_hi[c]


def run_refills(rng: np.random.Generator, pat: Patients, window_end: int) -> FillLog:
    """Run rounds until no patient has a further fill in the window."""
    c = np.flatnonzero(pat.has_chain)
    n = len(c)
    s = Chains(
        c=c,
        d=pat.first_fill[c],
        conc=pat.conc[c],
        ftype=np.where(pat.left[c], REFILL, IMPLANT),
        vol=pat.reservoir[c].astype(np.float64),
        dose=pat.dose[c],
        first=~pat.left[c],
        expected=np.full(n, np.nan),
        actual=np.full(n, np.nan),
        dry_before=np.zeros(n, dtype=bool),
    )
    replace = pat.replace.copy()
    fills: list[dict[str, np.ndarray]] = []
    reps: list[dict[str, np.ndarray]] = []
    while True:  # at least one round, so that an empty log still has its columns
        f, r, s = _round(rng, s, pat, replace, window_end)
        fills.append(f)
        reps.append(r)
        if not len(s.c):
            break
    return FillLog(_concat(fills), _concat(reps))


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

"""Patient-level draws: who they are, their pump and drug, when therapy starts and ends.

All dates are whole days since 1970-01-01 (int64); NEVER marks "does not happen".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from analytics.synth import params as P

NEVER = np.int64(1 << 40)
YEAR = 365.25

IntArray = np.ndarray
FloatArray = np.ndarray


@dataclass
class Patients:
    """One entry per patient; chain arrays (therapy) are valid where `has_chain`."""

    ids: np.ndarray  # str, 12 hex chars
    ind: IntArray  # code into params.INDICATIONS
    drug: IntArray  # code into params.DRUGS
    site: IntArray
    clinician: IntArray  # primary clinician code
    model: IntArray
    reservoir: FloatArray
    alarm: FloatArray
    conc: FloatArray
    dose: FloatArray
    left: np.ndarray  # bool: implanted before the window (log starts with a refill)
    trial: IntArray  # trial date or NEVER
    trial_fail: np.ndarray  # bool
    implant: IntArray  # implant date (before the window when left-truncated)
    first_fill: IntArray  # first fill the refill loop starts from (virtual when left)
    end: IntArray  # episode end (explant/discharge) or NEVER
    end_explant: np.ndarray  # bool: the end is an explant (else discharge)
    deep_infection: IntArray  # date or NEVER
    replace: IntArray  # next pump replacement date
    life: IntArray  # battery life in days
    failure: IntArray  # motor stall date (drives the first replacement) or NEVER
    cadence: IntArray  # the clinic's usual refill interval for this patient (days)

    @property
    def has_chain(self) -> np.ndarray:
        return self.first_fill < NEVER


def patient_ids(n: int, seed: int) -> np.ndarray:
    """Keyed hashes of a counter (12 hex chars, never all digits): pseudonyms, not numbers."""
    key = f"pumpqi-synth-{seed}".encode()
    out = [hashlib.blake2b(str(i).encode(), key=key, digest_size=6).hexdigest() for i in range(n)]
    # A leading letter keeps an all-digit hash from looking like a record number.
    return np.array([h if not h.isdigit() else "f" + h[1:] for h in out], dtype="U12")


def choice_rows(rng: np.random.Generator, probs: np.ndarray, rows: IntArray) -> IntArray:
    """Draw one category per entry from the probability row `probs[rows]` (vectorised)."""
    cum = np.cumsum(probs, axis=1)[rows]
    u = rng.random(len(rows))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _log_uniform(rng: np.random.Generator, lo: FloatArray, hi: FloatArray) -> FloatArray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi)))


def _doses(rng: np.random.Generator, drug: IntArray, left: np.ndarray) -> FloatArray:
    """Starting dose (low for new patients; any maintenance dose when already on therapy)."""
    lo = np.array([d.dose_lo for d in P.DRUGS])[drug]
    hi = np.array([d.dose_hi for d in P.DRUGS])[drug]
    start_hi = np.where(left, hi, lo + (hi - lo) * 0.4)
    dose = _log_uniform(rng, lo, np.maximum(start_hi, lo * 1.0001))
    dec = np.array([d.decimals for d in P.DRUGS])[drug]
    return np.clip(np.round(dose * 10.0**dec) / 10.0**dec, lo, hi)


def _concentration(
    drug: IntArray, dose: FloatArray, alarm: FloatArray, target: IntArray, reservoir: FloatArray
) -> FloatArray:
    """The concentration whose days to the alarm come closest to the target interval."""
    width = max(len(d.concentrations) for d in P.DRUGS)
    conc_tab = np.full((len(P.DRUGS), width), np.nan)
    for i, d in enumerate(P.DRUGS):
        conc_tab[i, : len(d.concentrations)] = d.concentrations
    cap = np.array([d.cap_days for d in P.DRUGS])[drug]
    conc = conc_tab[drug]  # patient x concentration
    days = np.minimum((reservoir - alarm)[:, None] * conc / dose[:, None], cap[:, None])
    miss = np.abs(days - target[:, None])
    best = np.argmin(np.where(np.isnan(miss), np.inf, miss), axis=1)
    return conc_tab[drug, best]


def _pump(rng: np.random.Generator, n: int) -> tuple[IntArray, FloatArray, FloatArray]:
    model = (rng.random(n) >= P.PUMP_MODEL_P[0]).astype(np.int8)
    alarm = np.array(P.DEFAULT_ALARM)[model]
    raised = (model == 0) & (rng.random(n) < P.RAISED_ALARM_P)
    reservoir = np.where(rng.random(n) < 0.5, P.RESERVOIRS[0], P.RESERVOIRS[1])
    return model, np.where(raised, 4.0, alarm), reservoir


def _dates(
    rng: np.random.Generator, ind: IntArray, left: np.ndarray, start: int, end: int
) -> dict[str, np.ndarray]:
    """Trial, implant, first fill and episode end per patient."""
    n = len(ind)
    entry = rng.integers(start, end + 1, n)
    has_trial = ~left & (rng.random(n) < P.TRIAL_RECORDED_P)
    trial_fail = has_trial & (rng.random(n) < P.TRIAL_FAIL_P)
    trial = np.where(has_trial, entry, NEVER)
    implant = np.where(has_trial, entry + rng.integers(14, 76, n), entry)
    implant = np.where(left, start - (rng.uniform(0.2, 8.0, n) * YEAR).astype(np.int64), implant)
    implant = np.where(trial_fail, NEVER, implant)
    first_fill = np.where(left, start - rng.integers(1, 61, n), implant)
    first_fill = np.where(first_fill > end, NEVER, first_fill)
    hazard = np.array(P.END_HAZARD_PER_YEAR)[ind]
    stay = (rng.exponential(1.0, n) / hazard * YEAR).astype(np.int64) + 1
    ep_end = np.where(left, start + 200 + stay, implant + stay)
    explant = rng.random(n) < np.array(P.END_EXPLANT_P)[ind]
    deep = ~left & (rng.random(n) < P.DEEP_INFECTION_P)
    deep_day = np.where(deep, implant + rng.integers(10, 61, n), NEVER)
    to_explant = deep & (rng.random(n) < P.DEEP_INFECTION_EXPLANT_P)
    deep_end = deep_day + rng.integers(2, 15, n)
    ends_early = to_explant & (deep_end < ep_end)
    ep_end = np.where(ends_early, deep_end, ep_end)
    explant = explant | ends_early
    ep_end = np.where(first_fill < NEVER, ep_end, NEVER)
    return {
        "trial": trial,
        "trial_fail": trial_fail,
        "implant": implant,
        "first_fill": first_fill,
        "end": ep_end,
        "end_explant": explant,
        "deep_infection": np.where(deep_day < ep_end, deep_day, NEVER),
    }


def _replacement(
    rng: np.random.Generator, implant: IntArray, first_fill: IntArray
) -> dict[str, np.ndarray]:
    """Battery replacement every 5-7 years; a motor stall brings the first one forward."""
    n = len(implant)
    life = (rng.uniform(*P.BATTERY_YEARS, n) * YEAR).astype(np.int64)
    base = np.minimum(implant, first_fill)
    replace = base + life
    behind = np.maximum(0, -(-(first_fill + 1 - replace) // life))
    replace = replace + behind * life
    stall = (
        first_fill + (rng.exponential(1.0, n) / P.PUMP_FAILURE_PER_YEAR * YEAR).astype(np.int64) + 1
    )
    delay = rng.integers(1, 11, n)
    failed = stall + delay < replace
    return {
        "replace": np.where(failed, stall + delay, replace),
        "life": life,
        "failure": np.where(failed, stall, NEVER),
    }


def draw_patients(
    rng: np.random.Generator, n: int, seed: int, start: int, end: int, sites: int
) -> Patients:
    """Draw `n` patients whose logs fall in the window [start, end] (days)."""
    ind = rng.choice(len(P.INDICATIONS), size=n, p=np.array(P.INDICATION_P))
    drug = choice_rows(rng, np.array(P.DRUG_BY_INDICATION), ind)
    weights = 1.0 / np.sqrt(np.arange(1, sites + 1))
    site = rng.choice(sites, size=n, p=weights / weights.sum())
    clinician = site * P.CLINICIANS_PER_SITE + rng.integers(0, P.CLINICIANS_PER_SITE, n)
    model, alarm, reservoir = _pump(rng, n)
    left = rng.random(n) < np.array(P.LEFT_TRUNCATED_P)[ind]
    dose = _doses(rng, drug, left)
    mean, sd = np.array(P.CADENCE_DAYS)[drug].T
    target = np.clip(rng.normal(mean, sd), *P.CADENCE_CLIP).astype(np.int64)
    conc = _concentration(drug, dose, alarm, target, reservoir)
    dates = _dates(rng, ind, left, start, end)
    repl = _replacement(rng, dates["implant"], dates["first_fill"])
    fixed = rng.random(n) < P.CADENCE_BOUND_P
    cadence = np.where(fixed, target + 14, NEVER)
    return Patients(
        ids=patient_ids(n, seed),
        ind=ind,
        drug=drug,
        site=site,
        clinician=clinician,
        model=model,
        reservoir=reservoir,
        alarm=alarm,
        conc=conc,
        dose=dose,
        left=left,
        **dates,
        **repl,
        cadence=cadence,
    )

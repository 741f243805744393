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
    conc_max: FloatArray  # the strongest concentration this patient may move to
    dose: FloatArray
    dose_hi: FloatArray  # the highest dose this patient is titrated to (mg/day)
    left: np.ndarray  # bool: implanted before the window (log starts with a refill)
    trial: IntArray  # trial date or NEVER
    trial_fail: np.ndarray  # bool
    implant: IntArray  # implant date (before the window when left-truncated)
    pump_implant: IntArray  # implant date of the pump in place at the first fill
    implant_recorded: np.ndarray  # bool: visits carry pump_implant_date (pre-data pump)
    implant_month_only: np.ndarray  # bool: ... written as YYYY-MM
    first_fill: IntArray  # first fill the refill loop starts from (virtual when left)
    end: IntArray  # episode end (explant/discharge) or NEVER
    end_explant: np.ndarray  # bool: the end is an explant (else discharge)
    deep_infection: IntArray  # date or NEVER
    replace: IntArray  # next pump replacement date
    life: IntArray  # pump age at its battery replacement (days)
    eri_lead: IntArray  # days from the battery alarm (ERI, or shut-off) to the replacement
    failure: IntArray  # motor stall date (drives the first replacement) or NEVER
    cadence: IntArray  # the clinic's usual refill interval for this patient (days)
    surgeon: IntArray  # clinician code who operates on this patient

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


def dose_range(drug: IntArray, high: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """Per patient: the lowest and highest dose of their drug (high-dose patients: more)."""
    lo = np.array([d.dose_lo for d in P.DRUGS])[drug]
    hi = np.array([d.dose_hi for d in P.DRUGS])[drug]
    return lo, np.where(high, hi * P.HIGH_DOSE_FACTOR, hi)


def _doses(
    rng: np.random.Generator, drug: IntArray, left: np.ndarray, lo: FloatArray, hi: FloatArray
) -> FloatArray:
    """Starting dose: low for new patients, any maintenance dose when already on therapy;
    a high-dose patient (opioid-tolerant, converted from systemic opioids) starts high."""
    usual_hi = np.array([d.dose_hi for d in P.DRUGS])[drug]
    high = hi > usual_hi
    start_lo = np.where(high, usual_hi, lo)
    start_hi = np.where(left | high, hi, lo + (usual_hi - lo) * 0.4)
    dose = _log_uniform(rng, start_lo, np.maximum(start_hi, start_lo * 1.0001))
    dec = np.array([d.decimals for d in P.DRUGS])[drug]
    return np.clip(np.round(dose * 10.0**dec) / 10.0**dec, lo, hi)


def _strengths(rng: np.random.Generator, drug: IntArray, high: np.ndarray) -> FloatArray:
    """Per patient, the concentrations the team may use (NaN-padded, weakest first).

    Ziconotide: the vial strengths (undiluted) or, for some programmes, diluted ones;
    high-dose opioid patients may also use the extra strong one (undiluted Infumorph).
    """
    width = 1 + max(len(d.concentrations) for d in P.DRUGS)
    table = np.full((len(P.DRUGS), width), np.nan)
    for i, d in enumerate(P.DRUGS):
        table[i, : len(d.concentrations)] = d.concentrations
    out = table[drug]
    for i, extra in P.HIGH_DOSE_CONCENTRATION.items():
        out[(drug == i) & high, len(P.DRUGS[i].concentrations)] = extra
    diluted = (drug == P.ZICONOTIDE) & (rng.random(len(drug)) < P.ZICONOTIDE_DILUTED_P)
    out[diluted, : len(P.ZICONOTIDE_DILUTED_MG_ML)] = P.ZICONOTIDE_DILUTED_MG_ML
    return out


def cap_days(drug: IntArray, conc: FloatArray, first: np.ndarray) -> IntArray:
    """The stability cap of a fill: by drug; ziconotide 14 on a new pump's first fill,
    then 84 days at a vial strength (undiluted), else 40 (diluted)."""
    cap = np.array([d.cap_days for d in P.DRUGS])[drug]
    undiluted = (drug == P.ZICONOTIDE) & np.isin(conc, P.ZICONOTIDE_VIAL_MG_ML)
    cap = np.where(undiluted, P.ZICONOTIDE_UNDILUTED_CAP, cap)
    return np.where(first, np.array([d.first_fill_cap for d in P.DRUGS])[drug], cap)


def _concentration(
    strengths: FloatArray,
    drug: IntArray,
    dose: FloatArray,
    alarm: FloatArray,
    target: IntArray,
    reservoir: FloatArray,
) -> FloatArray:
    """The weakest concentration whose days to the alarm cover the target interval with
    a margin (else the strongest): a weaker drug is the safer one."""
    drug2 = np.broadcast_to(drug[:, None], strengths.shape)
    cap = cap_days(drug2, strengths, np.zeros(strengths.shape, dtype=bool))
    days = np.minimum((reservoir - alarm)[:, None] * strengths / dose[:, None], cap)
    enough = days >= np.minimum(P.CONCENTRATION_MARGIN * target[:, None], cap)
    n = strengths.shape[1]
    first_ok = np.argmax(enough, axis=1)
    strongest = n - 1 - np.argmax(~np.isnan(strengths[:, ::-1]), axis=1)
    pick = np.where(enough.any(axis=1), first_ok, strongest)
    return strengths[np.arange(len(drug)), pick]


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
    lo, hi = P.DEEP_INFECTION_DAYS
    deep_day = np.where(deep, implant + rng.integers(lo, hi + 1, n), NEVER)
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
        "deep_infection": deep_day,
    }


def _battery(
    rng: np.random.Generator,
    model: IntArray,
    left: np.ndarray,
    implant: IntArray,
    first_fill: IntArray,
) -> dict[str, np.ndarray]:
    """Each pump's age at its battery replacement and, for a pump implanted before the
    data, its implant date (age at the first fill uniform over its life)."""
    n = len(model)
    mean, sd, lo, hi = np.array(P.ERI_YEARS)[model].T
    eri = (np.clip(rng.normal(mean, sd), lo, hi) * YEAR).astype(np.int64)
    lead = rng.integers(P.ERI_TO_REPLACEMENT_DAYS[0], P.ERI_TO_REPLACEMENT_DAYS[1] + 1, n)
    late = (model == 0) & (rng.random(n) < P.LATE_REPLACEMENT_P)
    end_of_life = round(P.BATTERY_MONTHS * YEAR / 12)
    past = rng.integers(P.LATE_REPLACEMENT_DAYS[0], P.LATE_REPLACEMENT_DAYS[1] + 1, n)
    life = np.where(late, end_of_life + past, eri + lead)
    eri = np.where(late, end_of_life - P.ERI_DAYS_BEFORE_END, eri)
    age = (rng.random(n) * (life - 1)).astype(np.int64)
    pump_implant = np.where(left, np.maximum(first_fill - age, implant), implant)
    recorded = left & (rng.random(n) < P.PUMP_IMPLANT_DATE_P)
    return {
        "pump_implant": pump_implant,
        "implant_recorded": recorded,
        "implant_month_only": recorded & (rng.random(n) < P.PUMP_IMPLANT_MONTH_ONLY_P),
        "life": life,
        "eri_lead": life - eri,
    }


def _replacement(
    rng: np.random.Generator, bat: dict[str, np.ndarray], first_fill: IntArray
) -> dict[str, np.ndarray]:
    """The first pump replacement: at battery end of life, or after a motor stall."""
    n = len(first_fill)
    replace = bat["pump_implant"] + bat["life"]
    stall = (
        first_fill + (rng.exponential(1.0, n) / P.PUMP_FAILURE_PER_YEAR * YEAR).astype(np.int64) + 1
    )
    delay = rng.integers(1, 11, n)
    failed = stall + delay < replace
    return {
        "replace": np.where(failed, stall + delay, replace),
        "failure": np.where(failed, stall, NEVER),
    }


def _end_of_life_explant(
    rng: np.random.Generator,
    ind: IntArray,
    dates: dict[str, np.ndarray],
    repl: dict[str, np.ndarray],
) -> None:
    """Some patients stop therapy when the battery ends: an explant instead of a replacement."""
    replace = repl["replace"]
    stop = rng.random(len(ind)) < np.array(P.EOL_EXPLANT_P)[ind]
    stop &= (repl["failure"] == NEVER) & (replace < dates["end"]) & (replace > dates["first_fill"])
    dates["end"] = np.where(stop, replace, dates["end"])
    dates["end_explant"] = dates["end_explant"] | stop
    deep = dates["deep_infection"]
    dates["deep_infection"] = np.where(deep < dates["end"], deep, NEVER)


def draw_patients(
    rng: np.random.Generator, n: int, seed: int, start: int, end: int, sites: int
) -> Patients:
    """Draw `n` patients whose logs fall in the window [start, end] (days)."""
    ind = rng.choice(len(P.INDICATIONS), size=n, p=np.array(P.INDICATION_P))
    drug = choice_rows(rng, np.array(P.DRUG_BY_INDICATION), ind)
    weights = 1.0 / np.sqrt(np.arange(1, sites + 1))
    site = rng.choice(sites, size=n, p=weights / weights.sum())
    clinician = site * P.CLINICIANS_PER_SITE + rng.integers(0, P.CLINICIANS_PER_SITE, n)
    surgeon = site * P.CLINICIANS_PER_SITE + rng.integers(0, P.SURGEONS_PER_SITE, n)
    model, alarm, reservoir = _pump(rng, n)
    left = rng.random(n) < np.array(P.LEFT_TRUNCATED_P)[ind]
    opioid = np.array([d.opioid for d in P.DRUGS])[drug]
    high = opioid & (rng.random(n) < np.array(P.HIGH_DOSE_P)[ind])
    lo, hi = dose_range(drug, high)
    dose = _doses(rng, drug, left, lo, hi)
    strengths = _strengths(rng, drug, high)
    mean, sd = np.array([d.cadence for d in P.DRUGS])[drug].T
    cap = cap_days(drug, strengths[:, 0], np.zeros(n, dtype=bool))
    cadence = np.clip(
        rng.normal(mean, sd), P.CADENCE_CLIP[0], np.minimum(P.CADENCE_CLIP[1], cap - 1)
    )
    cadence = cadence.astype(np.int64)
    conc = _concentration(strengths, drug, dose, alarm, cadence, reservoir)
    dates = _dates(rng, ind, left, start, end)
    bat = _battery(rng, model, left, dates["implant"], dates["first_fill"])
    repl = _replacement(rng, bat, dates["first_fill"])
    _end_of_life_explant(rng, ind, dates, repl)
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
        conc_max=np.nanmax(strengths, axis=1),
        dose=dose,
        dose_hi=hi,
        left=left,
        **dates,
        **bat,
        **repl,
        cadence=cadence,
        surgeon=surgeon,
    )

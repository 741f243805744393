"""The realism figures of the synthetic generator, declared once as data.

Every number comes from DOMAIN.md ("Figures a realistic synthetic data generator
should use", section 1 and 2) or METRICS.md; the few marked ASSUMPTION are not
in the sources and only shape the data.
"""

from __future__ import annotations

from dataclasses import dataclass

INDICATIONS: tuple[str, ...] = ("noncancer_pain", "spasticity", "cancer_pain", "other")
INDICATION_P: tuple[float, ...] = (0.58, 0.22, 0.19, 0.01)
PAIN_INDICATIONS: tuple[int, ...] = (0, 2)  # codes into INDICATIONS that record pain_nrs


@dataclass(frozen=True)
class Drug:
    """One drug (or mixture, named by its primary drug first) as the generator uses it."""

    name: str
    concentrations: tuple[float, ...]  # mg/mL of the primary drug
    dose_lo: float  # mg/day, start and clip range
    dose_hi: float
    decimals: int  # how the programmer shows the dose (mg)
    cap_days: int  # METRICS.md stability cap
    first_fill_cap: int  # cap for the first fill of a new pump
    up: tuple[float, float]  # titration factor ranges (relative change)
    down: tuple[float, float]
    opioid: bool


# fmt: off
DRUGS: tuple[Drug, ...] = (
    #    name                       mg/mL                dose mg/day    dec cap first  up          down        opioid
    Drug("baclofen",                (0.5, 2.0),          0.1, 0.8,       3, 180, 180, (0.1, 0.4), (0.1, 0.2), False),
    Drug("morphine",                (10.0, 25.0),        1.0, 10.0,      2, 90, 90,   (0.1, 0.3), (0.1, 0.2), True),
    Drug("hydromorphone",           (2.0, 5.0, 10.0),    0.2, 4.0,       3, 90, 90,   (0.1, 0.3), (0.1, 0.2), True),
    Drug("ziconotide",              (0.025, 0.1),        0.0024, 0.0192, 4, 40, 14,   (0.25, 0.5), (0.2, 0.3), False),
    Drug("morphine+bupivacaine",    (10.0, 25.0),        1.0, 10.0,      2, 90, 90,   (0.1, 0.3), (0.1, 0.2), True),
    Drug("hydromorphone+clonidine", (2.0, 5.0, 10.0),    0.2, 4.0,       3, 90, 90,   (0.1, 0.3), (0.1, 0.2), True),
)
# fmt: on
DRUG_NAMES: tuple[str, ...] = tuple(d.name for d in DRUGS)

# Drug mix per indication (rows follow INDICATIONS, columns DRUGS). ASSUMPTION: the
# sources give the indication mix only; opioids dominate pain, ziconotide is rarer.
DRUG_BY_INDICATION: tuple[tuple[float, ...], ...] = (
    (0.00, 0.40, 0.22, 0.10, 0.16, 0.12),  # noncancer_pain
    (1.00, 0.00, 0.00, 0.00, 0.00, 0.00),  # spasticity
    (0.00, 0.40, 0.20, 0.03, 0.25, 0.12),  # cancer_pain
    (0.50, 0.50, 0.00, 0.00, 0.00, 0.00),  # other (combined)
)

PUMP_MODELS: tuple[str, ...] = ("SynchroMed II", "Prometra II")
PUMP_MODEL_P: tuple[float, ...] = (0.75, 0.25)  # ASSUMPTION
RESERVOIRS: tuple[float, ...] = (20.0, 40.0)  # 50/50 split is an assumption (DOMAIN.md)
DEFAULT_ALARM: tuple[float, ...] = (2.0, 3.0)  # per model: SynchroMed 2 mL, Prometra 3 mL
RAISED_ALARM_P = 0.1  # SynchroMed clinics that raised the alarm to 4 mL [S10]

# Battery-driven replacement 5-7 years after implant; motor stall 0.04 / patient-year.
BATTERY_YEARS: tuple[float, float] = (5.0, 7.0)
PUMP_FAILURE_PER_YEAR = 0.04

# Refill timeliness: most before due, some late (before empty), a few ran dry.
LATE_P = 0.08
DRY_P = 0.02
BACLOFEN_DRY_FACTOR = 0.5  # clinics prioritise baclofen (withdrawal risk)
SITE_ADHERENCE_FACTOR: tuple[float, ...] = (1.0, 0.6, 1.6, 0.9, 1.2)  # cycled over sites
RECORD_DUE_P = 0.5  # share of fills with next_refill_due recorded
FULL_FILL_P = 0.9  # fills that fill the reservoir; others leave 1-5 mL of room
MIN_INTERVAL_DAYS = 5
# Target refill intervals (ITB 57 +- 15 days; opioid mixes 35 +- 13 days, DOMAIN.md).
CADENCE_DAYS: tuple[tuple[float, float], ...] = (
    (60, 15),  # baclofen
    (40, 13),  # morphine
    (38, 13),  # hydromorphone
    (34, 6),  # ziconotide
    (40, 13),  # morphine+bupivacaine
    (35, 13),  # hydromorphone+clonidine
)
CADENCE_CLIP: tuple[float, float] = (21, 120)
SHORT_INTERVAL_DAYS = 30  # below this the clinic moves to the strongest concentration
CADENCE_BOUND_P = 0.3  # patients reviewed on a fixed cadence even when the pump lasts longer
# The pump team picks the concentration and reservoir whose days to the alarm come
# closest to the patient's target interval (CADENCE_DAYS); ASSUMPTION.

# Residual discrepancy: the pump over-delivers ~2.5% of the delivered volume [S22].
OVERDELIVERY_MEAN = 0.025
OVERDELIVERY_SD = 0.012
RESIDUAL_TAIL_P = 0.018  # |actual - expected| > 2 mL (ASSUMPTION 1-3%)

# Titration: probability of a separate reprogram visit in an interval, of a dose
# change at a refill (higher in the first 6 months after implant).
REPROGRAM_P: tuple[float, float] = (0.35, 0.10)
TITRATE_AT_FILL_P: tuple[float, float] = (0.35, 0.15)
TITRATION_UP_P = 0.65
EARLY_DAYS = 180

# Who the patients are and how they leave (per year hazards by indication).
LEFT_TRUNCATED_P: tuple[float, ...] = (0.20, 0.22, 0.05, 0.20)
TRIAL_RECORDED_P = 0.8
TRIAL_FAIL_P = 0.15
END_HAZARD_PER_YEAR: tuple[float, ...] = (0.08, 0.04, 1.4, 0.08)
END_EXPLANT_P: tuple[float, ...] = (0.45, 0.40, 0.15, 0.45)  # else discharge

# Other visits per patient-year in an episode.
FOLLOW_UP_PER_YEAR = 0.8
UNSCHEDULED_PER_YEAR = 0.4
POSTOP_FOLLOW_UP_P = 0.85
PAIN_RECORDED_P = 0.75
CLINICIANS_PER_SITE = 5
PRIMARY_CLINICIAN_P = 0.75

# --- complications ------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How a kind of complication is graded: severity and action probabilities."""

    severity: tuple[float, ...]  # mild, moderate, severe, life_threatening, fatal
    action: tuple[float, ...]  # none, medical, dose_change, revision, explant, hospitalisation


PROFILES: dict[str, Profile] = {
    "minor": Profile((0.6, 0.35, 0.05, 0, 0), (0.5, 0.45, 0, 0.05, 0, 0)),
    "wound": Profile((0.4, 0.5, 0.1, 0, 0), (0.35, 0.5, 0, 0.15, 0, 0)),
    "infection": Profile((0.3, 0.6, 0.1, 0, 0), (0, 0.85, 0, 0.1, 0, 0.05)),
    "deep": Profile((0, 0.2, 0.7, 0.1, 0), (0, 0, 0, 0.1, 0.6, 0.3)),
    "meningitis": Profile((0, 0, 0.6, 0.4, 0), (0, 0, 0, 0, 0.2, 0.8)),
    "catheter": Profile((0.1, 0.6, 0.3, 0, 0), (0.1, 0.1, 0.1, 0.7, 0, 0)),
    "granuloma": Profile((0, 0.5, 0.4, 0.1, 0), (0, 0, 0.5, 0.5, 0, 0)),
    "device": Profile((0, 0.4, 0.5, 0.1, 0), (0.05, 0, 0, 0.95, 0, 0)),
    "refill_error": Profile((0.1, 0.4, 0.35, 0.15, 0), (0.1, 0.5, 0, 0, 0, 0.4)),
    "side_effect": Profile((0.6, 0.35, 0.05, 0, 0), (0.1, 0.3, 0.6, 0, 0, 0)),
    "overdose": Profile((0, 0.3, 0.5, 0.19, 0.01), (0, 0, 0.3, 0, 0, 0.7)),
    "withdrawal": Profile((0.1, 0.5, 0.35, 0.05, 0), (0, 0.5, 0, 0, 0, 0.5)),
    "neuro": Profile((0, 0.4, 0.5, 0.1, 0), (0, 0, 0, 0.5, 0, 0.5)),
    "other": Profile((0.5, 0.4, 0.1, 0, 0), (0.5, 0.5, 0, 0, 0, 0)),
}

# Codes a surgery (implant; replacement at half the risk) may bring: (code, profile,
# probability per surgery, first and last day after it). CSF leak 5-25%, infection
# 2-8% of implants, front-loaded within ~60 days (DOMAIN.md section 2).
POSTOP: tuple[tuple[str, str, float, int, int], ...] = (
    ("csf_leak", "wound", 0.08, 1, 21),
    ("post_dural_puncture_headache", "minor", 0.04, 1, 7),
    ("seroma", "wound", 0.05, 3, 30),
    ("hematoma", "wound", 0.02, 1, 14),
    ("wound_dehiscence", "wound", 0.01, 7, 45),
    ("infection_superficial", "infection", 0.03, 5, 60),
    ("meningitis", "meningitis", 0.004, 3, 30),
)
REPLACEMENT_SURGERY_RISK = 0.5
DEEP_INFECTION_P = 0.015  # per implant, 10-60 days after; most lead to explant
DEEP_INFECTION_EXPLANT_P = 0.6

# Steady rates per patient-year of therapy: (code, profile, rate).
STEADY: tuple[tuple[str, str, float], ...] = (
    ("pump_flip", "device", 0.004),
    ("infection_superficial", "infection", 0.004),
    ("neurological_deficit", "neuro", 0.002),
    ("other", "other", 0.015),
)
CATHETER_CODES: tuple[str, ...] = (
    "catheter_occlusion",
    "catheter_dislodgement",
    "catheter_kink",
    "catheter_fracture",
    "catheter_disconnection",
)
CATHETER_CODE_P: tuple[float, ...] = (0.25, 0.30, 0.15, 0.15, 0.15)
CATHETER_PER_YEAR = 0.045  # steady part; with the first-year bump ~6% / patient-year
CATHETER_FIRST_YEAR = 0.05  # extra per implant, exponential, mean 120 days
GRANULOMA_PER_YEAR = 0.009  # opioids; baclofen at 0.3 x
SIDE_EFFECT_PER_YEAR = 0.06  # ziconotide: 0.4
OVERDOSE_PER_YEAR = 0.003  # opioids only

TRIAL_COMPLICATION_P = 0.06
TRIAL_CODES: tuple[tuple[str, str, float], ...] = (
    ("post_dural_puncture_headache", "minor", 0.5),
    ("side_effect", "side_effect", 0.35),
    ("csf_leak", "wound", 0.15),
)
# Per fill: pocket fill ~1-4 per 1,000 refills; programming errors; overfill.
FILL_ERRORS: tuple[tuple[str, str, float], ...] = (
    ("pocket_fill", "refill_error", 0.002),
    ("programming_error", "refill_error", 0.001),
    ("refill_overfill", "refill_error", 0.0005),
)
WITHDRAWAL_AT_DRY_P: tuple[float, float] = (0.3, 0.1)  # baclofen, others
AT_VISIT_P = 0.55  # complications reported at an unscheduled visit (linked by visit_id)

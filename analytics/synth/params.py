"""The realism figures of the synthetic generator, declared once as data.

Each calibrated figure carries its source next to it: a tag of the project's research
brief ([S21] ...) and a short citation. ASSUMPTION marks a figure no source gives; it
only shapes the data. tests/test_synth_realism.py checks the demo data set against
the published bands through the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.config import DEFAULT

INDICATIONS: tuple[str, ...] = ("noncancer_pain", "spasticity", "cancer_pain", "other")
# [S58] Medtronic Product Performance Report 2016: non-malignant pain 58.1 %,
# spasticity 21.6 %, malignant pain 18.5 % (the rest: combined).
INDICATION_P: tuple[float, ...] = (0.58, 0.22, 0.19, 0.01)
PAIN_INDICATIONS: tuple[int, ...] = (0, 2)  # codes into INDICATIONS that record pain_nrs


@dataclass(frozen=True)
class Drug:
    """One drug (or mixture, named by its primary drug first) as the generator uses it."""

    name: str
    concentrations: tuple[float, ...]  # mg/mL of the primary drug, weakest first
    dose_lo: float  # mg/day, start and clip range
    dose_hi: float
    decimals: int  # how the programmer shows the dose (mg)
    cap_days: int  # stability cap after the first fill (ziconotide: diluted)
    first_fill_cap: int  # cap for the first fill of a new pump
    up: tuple[float, float]  # titration factor ranges (relative change)
    down: tuple[float, float]
    opioid: bool
    cadence: tuple[float, float]  # the clinic's refill interval: mean, SD (days)


# Doses and strengths: baclofen 100-800 ug/day at 500 or 2000 ug/mL, titration +10-40 %
# / -10-20 % ([S82] Lioresal label, [S84] Lioresal refill kit); morphine 1-10 mg/day
# ([S85] Infumorph label) at compounded 10 or 20 mg/mL (the PACC 2012 maximum is 20 mg/mL,
# [S65] Deer, Neuromodulation 2012;15:467); hydromorphone 0.2-4 mg/day at 2-10 mg/mL
# (ASSUMPTION); ziconotide 2.4-19.2 ug/day at the vial strengths 25 or 100 ug/mL
# ([S18] prialt.com, [S86] Prialt prescribing information). Caps: the product's stability
# caps (baclofen 180, [S19] 2023 in-vivo stability abstract; morphine, hydromorphone 90,
# [S13] UW nursing hub, [S16]; ziconotide 14 after a new pump's first fill, then 40 diluted
# / 84 undiluted [S18]). Opioid steps up stay within PACC's 30 % ([S69] PACC dose increases).
# Refill intervals: baclofen 57.3 +- 15.4 days ([S21] Surg Pract 2018;22:105);
# hydromorphone+clonidine 35 +- 13 days ([S9] Rudich, J Pain Symptom Manage 2004;28:599);
# single opioids a little longer, up to ~90 days ("every 3 months" for hydromorphone,
# [S16] Hildebrand, J Pain Symptom Manage 2001;22:1042; "every 6 weeks to 6 months",
# [S20] Medtronic): ASSUMPTION about 40 +- 15. Ziconotide: bound by its cap.
# `cadence` is the patients' mean and SD; the mean over refills comes out lower (a
# patient with shorter intervals has more refills; some refills come before the
# cadence when the reservoir runs low), and the SD over refills adds each booking's
# +- CADENCE_JITTER_DAYS: baclofen (60, 10) gives about 57 +- 15 over refills, the
# mixtures (37, 10) about 35 +- 13, single opioids (44, 13) about 40 +- 15.
# fmt: off
DRUGS: tuple[Drug, ...] = (
    #    name                       mg/mL              dose mg/day    dec cap first up          down        opioid cadence
    Drug("baclofen",                (0.5, 2.0),        0.1, 0.8,       3, 180, 180, (0.1, 0.4), (0.1, 0.2), False, (60, 10)),
    Drug("morphine",                (10.0, 20.0),      1.0, 10.0,      2, 90, 90,   (0.1, 0.3), (0.1, 0.2), True,  (44, 13)),
    Drug("hydromorphone",           (2.0, 5.0, 10.0),  0.2, 4.0,       3, 90, 90,   (0.1, 0.3), (0.1, 0.2), True,  (44, 13)),
    Drug("ziconotide",              (0.025, 0.1),      0.0024, 0.0192, 4, 40, 14,   (0.2, 0.45), (0.2, 0.3), False, (60, 15)),
    Drug("morphine+bupivacaine",    (10.0, 20.0),      1.0, 10.0,      2, 90, 90,   (0.1, 0.3), (0.1, 0.2), True,  (37, 10)),
    Drug("hydromorphone+clonidine", (2.0, 5.0, 10.0),  0.2, 4.0,       3, 90, 90,   (0.1, 0.3), (0.1, 0.2), True,  (37, 10)),
)
# fmt: on
DRUG_NAMES: tuple[str, ...] = tuple(d.name for d in DRUGS)
BACLOFEN, MORPHINE, ZICONOTIDE = (
    DRUG_NAMES.index(n) for n in ("baclofen", "morphine", "ziconotide")
)
CADENCE_CLIP: tuple[float, float] = (21, 90)  # a clinic recalls within 3 weeks to 3 months
CADENCE_JITTER_DAYS = 10  # the booked day moves +- this much from the patient's cadence

# Ziconotide at a vial strength is undiluted (cap 84 days), otherwise diluted (cap 40).
# The strengths and the 84-day cap are the product's own settings; ASSUMPTION: a third of
# programmes dilute, to 10 or 50 ug/mL.
ZICONOTIDE_VIAL_MG_ML: tuple[float, ...] = tuple(DEFAULT.ziconotide_vial_mg_ml)
ZICONOTIDE_DILUTED_MG_ML: tuple[float, ...] = (0.01, 0.05)
ZICONOTIDE_DILUTED_P = 0.35
ZICONOTIDE_UNDILUTED_CAP = DEFAULT.ziconotide_undiluted_cap_days

# Drug mix per indication (rows follow INDICATIONS, columns DRUGS). ASSUMPTION: the
# sources give the indication mix only; opioids dominate pain, ziconotide is rarer.
DRUG_BY_INDICATION: tuple[tuple[float, ...], ...] = (
    (0.00, 0.40, 0.22, 0.10, 0.16, 0.12),  # noncancer_pain
    (1.00, 0.00, 0.00, 0.00, 0.00, 0.00),  # spasticity
    (0.00, 0.40, 0.20, 0.03, 0.25, 0.12),  # cancer_pain
    (0.50, 0.50, 0.00, 0.00, 0.00, 0.00),  # other (combined)
)

# Dose safety flags (the product's dose_max_mg_day / concentration_max_mg_ml, from PACC
# 2012 [S65]) must be rare but present. A few opioid patients, mostly with cancer pain
# and opioid-tolerant, are titrated far above the usual range (up to 3x; "caution above
# 20 mg/day" of morphine, [S85]), some on undiluted Infumorph 25 mg/mL ([S85]), above
# PACC's 20 mg/mL. ASSUMPTION: shares by indication (rows of INDICATIONS).
HIGH_DOSE_P: tuple[float, ...] = (0.003, 0.0, 0.08, 0.0)
HIGH_DOSE_FACTOR = 3.0
HIGH_DOSE_CONCENTRATION: dict[int, float] = {MORPHINE: 25.0}  # extra strength they may use
# A rare large dose step (> 50 %, the product's dose_step_up_pct): re-titration after a
# gap or a programming slip (the flex-programming error of [S63] ISMP). ASSUMPTION: 1 in 150 steps up.
BIG_STEP_P = 1 / 150
BIG_STEP_UP: tuple[float, float] = (0.6, 1.0)

PUMP_MODELS: tuple[str, ...] = ("SynchroMed II", "Prometra II")
PUMP_MODEL_P: tuple[float, ...] = (0.75, 0.25)  # ASSUMPTION
RESERVOIRS: tuple[float, ...] = (
    20.0,
    40.0,
)  # SynchroMed II 8637-20/-40 [S1], Prometra [S3]; 50/50 ASSUMPTION
DEFAULT_ALARM: tuple[float, ...] = (
    2.0,
    3.0,
)  # per model: SynchroMed 2 mL, Prometra 3 mL [S12] Prometra manual
RAISED_ALARM_P = 0.1  # SynchroMed clinics that raised the alarm to 4 mL [S10] Neurosurgery 2004

# --- battery end of life -----------------------------------------------------------
# SynchroMed II: battery 5-7 years, shut-off at 7 years (84 months, [S32]), the
# elective-replacement indicator (ERI) 90 days before ([S31] Medtronic); real-world
# median life 5.9 years ([S33] Bolash, Neuromodulation 2015). ERI age ~ N(5.75, 0.6)
# years, at most 7 years - 90 days; the replacement follows the ERI by 1-8 weeks, so the
# median pump age at replacement is ~5.9 years. Prometra: UNCONFIRMED, ASSUMPTION ~8.5.
BATTERY_MONTHS = DEFAULT.battery_life_months["synchromed"]
ERI_DAYS_BEFORE_END = DEFAULT.eri_warning_days
ERI_YEARS: tuple[tuple[float, float, float, float], ...] = (  # per model: mean, SD, lo, hi
    (5.75, 0.6, 3.5, BATTERY_MONTHS / 12 - ERI_DAYS_BEFORE_END / 365.25),
    (8.5, 1.0, 6.0, 10.0),
)
ERI_TO_REPLACEMENT_DAYS: tuple[int, int] = (7, 60)
# A few SynchroMed pumps reach the 7-year shut-off before their replacement (ASSUMPTION),
# so that "replaced before end of life" is not trivially 100 %.
LATE_REPLACEMENT_P = 0.03
LATE_REPLACEMENT_DAYS: tuple[int, int] = (1, 30)
# At the end of battery life most pumps are replaced: 99.1 % on ITB ([S60] Schiess,
# Neuromodulation 2020); pain patients stop more often (ASSUMPTION 8 %): explant instead.
EOL_EXPLANT_P: tuple[float, ...] = (0.08, 0.01, 0.08, 0.05)
BATTERY_REPORT_P = 0.25  # ERI alarms the clinic also logs as `battery_depletion` (ASSUMPTION)
# Motor stall: 0.04 per patient-year in one centre ([S52] Galica, Reg Anesth Pain Med
# 2016;41:135); registry pump-event-free survival > 90 % ([S59] Konrad, Neuromodulation
# 2016), i.e. ~0.02 per year: the registry figure is used.
PUMP_FAILURE_PER_YEAR = 0.02
# Pumps implanted before the data whose visits carry `pump_implant_date` (ASSUMPTION),
# and the share of those written as a year-month only (older records).
PUMP_IMPLANT_DATE_P = 0.7
PUMP_IMPLANT_MONTH_ONLY_P = 0.3

# --- refill timing -------------------------------------------------------------------
# Clinics book the refill before the alarm date ([S13] UW nursing hub: do not rely on
# the alarm): the booked day is the patient's cadence, or 1-14 days before the due date
# when that comes first. Some patients come later than booked (rescheduled); an alarm
# brings them in before the pump is empty. A pump running dry is a rare never-event:
# baclofen withdrawal can be fatal ([S29] Lioresal label), so clinics prioritise it.
BOOK_LEAD_DAYS: tuple[tuple[float, int, int], ...] = ((0.75, 1, 8), (0.2, 8, 15), (0.05, 15, 31))
RESCHEDULE_P = 0.15  # patients who come 3-35 days after the booked day (ASSUMPTION)
RESCHEDULE_DAYS: tuple[int, int] = (3, 36)
DRY_P = 0.0015  # refills after the computed empty date (ASSUMPTION; target < 0.5 %)
DRY_DAYS: tuple[int, int] = (1, 11)
BACLOFEN_DRY_FACTOR = 0.5
SITE_ADHERENCE_FACTOR: tuple[float, ...] = (1.0, 0.6, 1.6, 0.9, 1.2)  # cycled over sites
RECORD_DUE_P = 0.5  # share of fills with next_refill_due recorded
FULL_FILL_P = 0.9  # fills that fill the reservoir; others leave 1-5 mL of room
MIN_INTERVAL_DAYS = 5
SHORT_INTERVAL_DAYS = 30  # below this the clinic moves to the strongest concentration
# The pump team picks the weakest concentration whose days to the alarm cover the
# patient's cadence with this margin (a weaker drug is safer: PACC [S65]); ASSUMPTION.
CONCENTRATION_MARGIN = 1.25

# Residual discrepancy: the pump over-delivers ~2.5 % of the delivered volume ([S22]
# Wesemann, Reg Anesth Pain Med 2014;39:341); a tail beyond 2 mL in 1-3 % (ASSUMPTION).
OVERDELIVERY_MEAN = 0.025
OVERDELIVERY_SD = 0.012
RESIDUAL_TAIL_P = 0.018

# Titration: probability of a separate reprogram visit in an interval, of a dose
# change at a refill (higher in the first 6 months after implant). ASSUMPTION.
REPROGRAM_P: tuple[float, float] = (0.35, 0.10)
TITRATE_AT_FILL_P: tuple[float, float] = (0.35, 0.15)
TITRATION_UP_P = 0.65
EARLY_DAYS = 180

# Who the patients are and how they leave (per year hazards by indication).
# Cancer pain: short survival; opioid-pump mortality 3.89 % at 1 year in non-cancer
# pain ([S56] Coffey, Anesthesiology 2009;111:881). ITB: 87 % still on therapy at 10
# years ([S60]). The exact hazards are an ASSUMPTION.
LEFT_TRUNCATED_P: tuple[float, ...] = (0.20, 0.22, 0.05, 0.20)
TRIAL_RECORDED_P = 0.8
TRIAL_FAIL_P = 0.15
END_HAZARD_PER_YEAR: tuple[float, ...] = (0.08, 0.04, 1.4, 0.08)
END_EXPLANT_P: tuple[float, ...] = (0.45, 0.40, 0.15, 0.45)  # else discharge

# Other visits per patient-year in an episode (ASSUMPTION).
FOLLOW_UP_PER_YEAR = 0.8
UNSCHEDULED_PER_YEAR = 0.4
POSTOP_FOLLOW_UP_P = 0.85
PAIN_RECORDED_P = 0.75
CLINICIANS_PER_SITE = 5
SURGEONS_PER_SITE = 2  # the first clinicians of a site operate (implant, replacement, ...)
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
    "battery": Profile((0.6, 0.4, 0, 0, 0), (0.9, 0.1, 0, 0, 0, 0)),
    "refill_error": Profile((0.1, 0.4, 0.35, 0.15, 0), (0.1, 0.5, 0, 0, 0, 0.4)),
    "side_effect": Profile((0.6, 0.35, 0.05, 0, 0), (0.1, 0.3, 0.6, 0, 0, 0)),
    "overdose": Profile((0, 0.3, 0.5, 0.19, 0.01), (0, 0, 0.3, 0, 0, 0.7)),
    "withdrawal": Profile((0.1, 0.5, 0.35, 0.05, 0), (0, 0.5, 0, 0, 0, 0.5)),
    "neuro": Profile((0, 0.4, 0.5, 0.1, 0), (0, 0, 0, 0.5, 0, 0.5)),
    "other": Profile((0.5, 0.4, 0.1, 0, 0), (0.5, 0.5, 0, 0, 0, 0)),
    # a further report of a condition already reported (followed up, action taken once)
    "repeat": Profile((0.5, 0.45, 0.05, 0, 0), (0.7, 0.3, 0, 0, 0, 0)),
}

# Codes a surgery may bring: (code, profile, probability per implant, first and last
# day after it). Every wound code and the superficial infection fall in their 30-day
# window, deep infection and meningitis in 90 days (NHSN-style, as the product counts
# them). CSF leak 5-25 % after surgery ([S40][S41] paediatric ITB series, [S45]).
# Infection 2-8 % of implants ([S47] Engle, Pain Physician 2013;16:251); superficial
# 2.3 %, deep 1.4 % in a meta-analysis ([S48] Anesthesiology 2011;114:424): here
# superficial 1.5 %, deep 0.8 %, meningitis 0.3 % of implants (deep: patients.py).
POSTOP: tuple[tuple[str, str, float, int, int], ...] = (
    ("csf_leak", "wound", 0.08, 1, 21),
    ("post_dural_puncture_headache", "minor", 0.04, 1, 7),
    ("seroma", "wound", 0.05, 3, 30),
    ("hematoma", "wound", 0.02, 1, 14),
    ("wound_dehiscence", "wound", 0.01, 7, 30),
    ("infection_superficial", "infection", 0.015, 5, 30),
    ("meningitis", "meningitis", 0.003, 3, 30),
)
DEEP_INFECTION_P = 0.008  # per procedure, 10-90 days after; after an implant most explant
DEEP_INFECTION_DAYS: tuple[int, int] = (10, 90)
DEEP_INFECTION_EXPLANT_P = 0.6
# A pump replacement opens only the pocket, a revision the pocket or the spine: lower
# risk than an implant (ASSUMPTION).
REPLACEMENT_SURGERY_RISK = 0.5
REVISION_SURGERY_RISK = 0.7

# Steady rates per patient-year of therapy: (code, profile, rate). Late superficial
# infections: infection 0.6 % per patient-year in a mature service ([S70] UCLH ITB audit,
# JNNP 2019;90:e4), most of it post-operative; here 0.2 % a year outside surgery.
STEADY: tuple[tuple[str, str, float], ...] = (
    ("pump_flip", "device", 0.004),
    ("infection_superficial", "infection", 0.002),
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
# Catheter complications ~6 % per patient-year ([S70]), front-loaded (47 % within a year
# of surgery, [S42] Brain Behav 2018;8:e00965); most device events are catheter events
# ([S59] Konrad, Neuromodulation 2016; 66 % of ITB complications, [S39] Stetkarova, Neurorehabil
# Neural Repair 2010).
CATHETER_PER_YEAR = 0.045  # steady part; with the first-year bump ~6 % / patient-year
CATHETER_FIRST_YEAR = 0.05  # extra per implant, exponential, mean 120 days
GRANULOMA_PER_YEAR = 0.009  # opioids ([S50] Duarte, 0.009 per patient-year); baclofen at 0.3 x
SIDE_EFFECT_PER_YEAR = (
    0.06  # ziconotide: 0.4 (hallucinations 12 %, confusion 33 %, [S57] prialt.com)
)
ZICONOTIDE_SIDE_EFFECT_PER_YEAR = 0.4
OVERDOSE_PER_YEAR = 0.003  # opioids only

TRIAL_COMPLICATION_P = 0.06
TRIAL_CODES: tuple[tuple[str, str, float], ...] = (
    ("post_dural_puncture_headache", "minor", 0.5),
    ("side_effect", "side_effect", 0.35),
    ("csf_leak", "wound", 0.15),
)
# Per percutaneous refill. Pocket fill: ~1 per 10,000 refills reported to the maker
# (under-reported; [S27] Medtronic letter, Jan 2011), 12-40 per 10,000 in single centres
# ([S28] one hospital: 1 in 834 and 3 in 752 refills): 8 per 10,000 here. Programming errors and
# overfills: ASSUMPTION, of the same order.
FILL_ERRORS: tuple[tuple[str, str, float], ...] = (
    ("pocket_fill", "refill_error", 0.0008),
    ("programming_error", "refill_error", 0.0005),
    ("refill_overfill", "refill_error", 0.0003),
)
WITHDRAWAL_AT_DRY_P: tuple[float, float] = (
    0.3,
    0.1,
)  # baclofen, others ([S30] severe withdrawal 3-5 %)
AT_VISIT_P = 0.55  # complications reported at an unscheduled visit (linked by visit_id)

# Repeat reports of one condition: a catheter occlusion or a wound problem is reported
# again at 1-2 follow-up visits a few weeks apart, each its own report; chained within
# the product's event_merge_days they make one event ("events vs reports"). ASSUMPTION.
REPEAT_CODES: tuple[str, ...] = (
    *CATHETER_CODES,
    "granuloma",
    "side_effect",
    "csf_leak",
    "seroma",
    "wound_dehiscence",
    "infection_superficial",
)
REPEAT_P = 0.3
REPEAT_TWICE_P = 0.35  # of those repeated, a third report
REPEAT_GAP_DAYS: tuple[int, int] = (5, min(26, DEFAULT.event_merge_days))

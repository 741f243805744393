"""The demo data set looks like a real programme: published bands, checked through the engine.

The demo set (the seed and size `pumpqi demo` uses) is ingested into a temporary
database and measured with the engine's own tables (refills, episodes, reports), so the
figures are the ones a user sees. Each band names the published anchor it comes from
(the sources are cited in analytics/synth/params.py). A few shape checks on the raw
tables close the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from analytics.config import DEFAULT
from analytics.engine.complications import rates_by_category
from analytics.engine.refills import episodes, refills
from analytics.engine.tables import prepare
from analytics.ingest.load import ingest_files
from analytics.store import reader
from analytics.synth import DEMO, SynthResult, generate, write

FILLS = ["implant", "refill", "replacement"]
DUE = ["on_time", "late", "missed", "overdue"]  # refills due (the on-time rate's denominator)
YEAR = 365.25

EVENTS_SQL = """
SELECT report_id, patient_id, complication, category, report_date, surgery_date, in_episode,
       coalesce(report_date - lag(report_date) OVER w > $merge, TRUE) AS starts_event
FROM pq_reports
WINDOW w AS (PARTITION BY patient_id, complication ORDER BY report_date, report_id)
"""
"""Every report of the engine, flagged when it starts an event (not chained to an earlier
report of the same patient and code within event_merge_days)."""

PROCEDURES_SQL = """
SELECT patient_id, visit_date, visit_type, clinician FROM visits
WHERE visit_type IN ('implant', 'replacement', 'revision')
"""

PUMP_AGE_SQL = """
WITH repl AS (SELECT patient_id, visit_date FROM visits WHERE visit_type = 'replacement'),
outgoing AS (
    -- the outgoing pump's implant date: its implant or replacement visit, or the latest
    -- pump_implant_date recorded before the replacement
    SELECT r.patient_id, r.visit_date,
           max(v.visit_date) FILTER (WHERE v.visit_type IN ('implant', 'replacement')) AS operated,
           arg_max(v.pump_implant_date, v.visit_date)
               FILTER (WHERE v.pump_implant_date IS NOT NULL) AS recorded,
           arg_max(v.pump_model, v.visit_date) FILTER (WHERE v.pump_model IS NOT NULL) AS pump_model
    FROM repl r JOIN visits v ON v.patient_id = r.patient_id AND v.visit_date < r.visit_date
    GROUP BY ALL
)
SELECT o.pump_model, o.visit_date - greatest(o.operated, o.recorded) AS age_days,
       EXISTS (SELECT 1 FROM complications c
               WHERE c.patient_id = o.patient_id AND c.complication = 'pump_failure'
                 AND c.report_date BETWEEN o.visit_date - 30 AND o.visit_date) AS after_failure
FROM outgoing o
WHERE greatest(o.operated, o.recorded) IS NOT NULL
"""


@dataclass(frozen=True)
class Measured:
    """The engine's tables for the demo data set."""

    fills: pd.DataFrame  # engine refills (detail)
    episodes: pd.DataFrame
    reports: pd.DataFrame  # EVENTS_SQL
    categories: pd.DataFrame  # rates_by_category over the whole data
    procedures: pd.DataFrame
    pump_ages: pd.DataFrame
    visits: pd.DataFrame  # the stored visits table


@pytest.fixture(scope="module")
def demo() -> SynthResult:
    return generate(**DEMO)


@pytest.fixture(scope="module")
def measured(demo: SynthResult, tmp_path_factory: pytest.TempPathFactory) -> Measured:
    base = tmp_path_factory.mktemp("demo")
    write(demo, base / "src")
    db = base / "demo.duckdb"
    results = ingest_files(db, base / "src/visits.csv", base / "src/complications.csv")
    assert [r.rows_quarantined for r in results] == [0, 0]
    with reader(db) as con:
        prepare(con)
        merge = {"merge": DEFAULT.event_merge_days}
        return Measured(
            fills=refills(con, detail=True),
            episodes=episodes(con),
            reports=con.execute(EVENTS_SQL, merge).df(),
            categories=rates_by_category(con),
            procedures=con.execute(PROCEDURES_SQL).df(),
            pump_ages=con.execute(PUMP_AGE_SQL).df(),
            visits=con.execute("SELECT * FROM visits").df(),
        )


def _pump_years(m: Measured) -> float:
    return float(m.episodes["pump_days"].sum()) / YEAR


def _events(m: Measured) -> pd.DataFrame:
    r = m.reports
    return r[r["in_episode"] & r["starts_event"]]


# --- refills --------------------------------------------------------------------------


def test_refills_per_patient_year(measured: Measured) -> None:
    """6-10 percutaneous refills per patient-year (intervals of 5-9 weeks, [S21][S9])."""
    refill_count = (measured.fills["fill_type"] == "refill").sum()
    assert 6 <= refill_count / _pump_years(measured) <= 10


def test_baclofen_refill_interval(measured: Measured) -> None:
    """Baclofen: 57.3 +- 15.4 days between refills ([S21] Surg Pract 2018;22:105)."""
    f = measured.fills
    bac = f[(f["drug"] == "baclofen") & f["next_fill_date"].notna()]
    gap = (bac["next_fill_date"] - bac["fill_date"]).dt.days
    assert 52 <= gap.mean() <= 62
    assert 10 <= gap.std() <= 20


def test_opioid_mixture_refill_interval(measured: Measured) -> None:
    """Hydromorphone+clonidine: 35 +- 13 days ([S9] J Pain Symptom Manage 2004;28:599)."""
    f = measured.fills
    mix = f[(f["drug"] == "hydromorphone+clonidine") & f["next_fill_date"].notna()]
    gap = (mix["next_fill_date"] - mix["fill_date"]).dt.days
    assert 30 <= gap.mean() <= 42
    assert 8 <= gap.std() <= 20


def test_pumps_rarely_run_dry(measured: Measured) -> None:
    """Ran dry (computed) is a rare never-event: above 0, well under 0.5 % of refills due."""
    due = measured.fills[measured.fills["status"].isin(DUE)]
    missed = (due["status"] == "missed").mean()
    assert 0 < missed < 0.004


def test_some_refills_late_most_on_time(measured: Measured) -> None:
    f = measured.fills
    due = f[f["status"].isin(DUE) & (f["drug"] != "ziconotide")]
    share = due["status"].value_counts(normalize=True)
    assert share["on_time"] > 0.85
    assert 0.01 <= share["late"] <= 0.15


def test_ziconotide_undiluted_and_diluted(measured: Measured) -> None:
    """Ziconotide at a vial strength (undiluted) in most programmes, diluted in some."""
    v = measured.visits
    z = v[v["visit_type"].isin(FILLS) & (v["drug"] == "ziconotide")]
    per_patient = z.groupby("patient_id")["concentration_mg_ml"].first()
    undiluted = per_patient.isin(DEFAULT.ziconotide_vial_mg_ml).mean()
    assert 0.3 <= undiluted <= 0.95


# --- complications -------------------------------------------------------------------


def test_infections_per_implant_mostly_after_surgery(measured: Measured) -> None:
    """Infections 2-5 % of implants ([S47] 2-8 %), most within 90 days of a procedure."""
    ev = _events(measured)
    infections = ev[ev["category"] == "infection"]
    implants = (measured.procedures["visit_type"] == "implant").sum()
    assert 0.02 <= len(infections) / implants <= 0.05
    days = (infections["report_date"] - infections["surgery_date"]).dt.days
    assert (days <= 90).mean() >= 0.6


def test_catheter_is_the_most_frequent_device_complication(measured: Measured) -> None:
    """Most device events are catheter events ([S59] registry; [S39] 66 % catheter)."""
    reports = measured.categories.groupby("category")["reports"].sum()
    assert reports["catheter"] > reports["device"]
    assert reports["catheter"] > reports["inflammatory mass"]
    events = _events(measured)["category"].value_counts()
    assert events["catheter"] > events["device"]


def test_catheter_rate_per_patient_year(measured: Measured) -> None:
    """Catheter complications about 6 % per patient-year ([S70])."""
    events = (_events(measured)["category"] == "catheter").sum()
    assert 0.03 <= events / _pump_years(measured) <= 0.12


def test_pocket_fills_per_10000_refills(measured: Measured) -> None:
    """At most ~20 per 10,000 refills (maker ~1 [S27], single centres 12-40 [S28]), above 0."""
    pocket = (measured.reports["complication"] == "pocket_fill").sum()
    percutaneous = (measured.fills["fill_type"] == "refill").sum()
    assert 0 < pocket / percutaneous * 10_000 <= 20


def test_repeat_reports_cluster_into_events(measured: Measured) -> None:
    """A condition reported at several visits a few weeks apart: reports > events."""
    r = measured.reports
    chained = ~r["starts_event"]
    assert 0.02 <= chained.mean() <= 0.35
    assert r.loc[chained, "complication"].str.startswith("catheter_").any()


def test_surgical_outcomes_per_procedure(measured: Measured) -> None:
    """Every procedure type with its surgeon; wound reports fall in their 30-day window."""
    p = measured.procedures
    assert {"implant", "replacement", "revision"} <= set(p["visit_type"])
    assert p["clinician"].notna().all()
    ev = _events(measured)
    wound = ev[ev["category"] == "wound"]
    days = (wound["report_date"] - wound["surgery_date"]).dt.days
    assert (days <= 30).mean() >= 0.8


# --- pumps: battery, implant dates, dose safety --------------------------------------


def test_battery_life_median(measured: Measured) -> None:
    """SynchroMed age at a battery replacement (not after a pump failure): median about
    6 years ([S33] 5.9), never much past the 7-year shut-off ([S32])."""
    ages = measured.pump_ages
    synchromed = ages["pump_model"].str.contains("SynchroMed") & ~ages["after_failure"]
    battery = ages.loc[synchromed, "age_days"] / YEAR
    assert len(battery) >= 15
    assert 5.0 <= battery.median() <= 6.75
    end_of_life = DEFAULT.battery_life_months["synchromed"] / 12
    assert (battery < end_of_life).mean() >= 0.85  # mostly replaced before end of life
    assert battery.max() <= 7 + 50 / YEAR  # a YYYY-MM implant date reads as its 15th


def test_pumps_implanted_before_the_data_carry_their_implant_date(measured: Measured) -> None:
    v = measured.visits
    with_date = set(v.loc[v["pump_implant_date"].notna(), "patient_id"])
    left = set(measured.episodes.loc[measured.episodes["left_truncated"], "patient_id"])
    assert len(with_date) >= 10
    assert with_date <= left
    assert (
        v["pump_implant_date"].dropna() <= v.loc[v["pump_implant_date"].notna(), "visit_date"]
    ).all()


def test_dose_safety_flags_present_but_rare(measured: Measured) -> None:
    """Above the configured maxima (PACC 2012 [S65], ziconotide label) or a step up of
    more than 50 %: a few fills, not many."""
    v = measured.visits
    fills = v[v["visit_type"].isin(FILLS)]
    primary = fills["drug"].str.split("+").str[0]
    over = (fills["daily_dose_mg"] > primary.map(DEFAULT.dose_max_mg_day)) | (
        fills["concentration_mg_ml"] > primary.map(DEFAULT.concentration_max_mg_ml)
    )
    assert 0 < over.mean() < 0.03
    doses = v.dropna(subset=["daily_dose_mg"]).sort_values(["patient_id", "visit_date"])
    before = doses.groupby("patient_id")["daily_dose_mg"].shift(1)
    step = doses["daily_dose_mg"] > before * (1 + DEFAULT.dose_step_up_pct / 100)
    assert 0 < step.sum() < 0.01 * len(doses)


# --- shape of the raw tables -----------------------------------------------------------


def test_share_of_fills_with_next_refill_due(demo: SynthResult) -> None:
    fills = demo.visits[demo.visits["visit_type"].isin(FILLS)]
    assert 0.35 <= fills["next_refill_due"].notna().mean() <= 0.65


def test_recorded_due_follows_the_reservoir_arithmetic(demo: SynthResult) -> None:
    f = demo.visits[demo.visits["visit_type"].isin(FILLS)].dropna(subset=["next_refill_due"])
    days = np.floor((f["volume_added_ml"] - f["alarm_ml"]) / f["daily_rate_ml"])
    assert ((f["next_refill_due"] - f["visit_date"]).dt.days == days).all()


def test_residual_discrepancy(demo: SynthResult) -> None:
    r = demo.visits[demo.visits["visit_type"] == "refill"].dropna(subset=["expected_residual_ml"])
    diff = r["expected_residual_ml"] - r["actual_residual_ml"]
    assert diff.mean() > 0  # the pump over-delivers: less left than expected
    assert 0.005 <= (diff.abs() > 2).mean() <= 0.04


def test_complication_reports_per_1000_pump_days(measured: Measured) -> None:
    c = measured.categories
    rate = c["reports"].sum() / c.groupby("group")["pump_days"].first().sum() * 1000
    assert 0.2 <= rate <= 3


def test_left_truncated_share(demo: SynthResult) -> None:
    first = demo.visits.groupby("patient_id", observed=True)["visit_type"].first()
    assert 0.05 <= (first == "refill").mean() <= 0.30
    assert set(first.astype(str)) <= {"trial", "implant", "refill"}


def test_indication_mix(demo: SynthResult) -> None:
    """[S58]: non-malignant pain 58 %, spasticity 22 %, malignant pain 19 %."""
    ind = (
        demo.visits.dropna(subset=["indication"])
        .groupby("patient_id", observed=True)["indication"]
        .first()
    )
    share = ind.astype(str).value_counts(normalize=True)
    assert 0.50 <= share["noncancer_pain"] <= 0.66
    assert 0.16 <= share["spasticity"] <= 0.28
    assert 0.13 <= share["cancer_pain"] <= 0.25


def test_drugs_by_indication_and_doses(demo: SynthResult) -> None:
    v = demo.visits.dropna(subset=["daily_dose_mg"])
    drug = v["drug"].astype(str)
    assert (v.loc[v["indication"] == "spasticity", "drug"].astype(str) == "baclofen").all()
    bac = v[drug == "baclofen"]
    assert bac["daily_dose_mg"].between(0.1, 0.8).all()
    assert set(bac["concentration_mg_ml"]) <= {0.5, 2.0}
    mor = v[drug.isin(["morphine", "morphine+bupivacaine"])]
    assert mor["daily_dose_mg"].between(1, 30).all()
    assert mor["daily_dose_mg"].between(1, 10).mean() > 0.9
    assert set(mor["concentration_mg_ml"]) <= {10.0, 20.0, 25.0}
    zic = v[drug == "ziconotide"]
    assert zic["daily_dose_mg"].between(0.0024, 0.0192).all()


def test_median_refill_interval_per_drug(measured: Measured) -> None:
    f = measured.fills.dropna(subset=["next_fill_date"])
    gap = (f["next_fill_date"] - f["fill_date"]).dt.days
    med = gap.groupby(f["drug"]).median()
    for drug in ("morphine", "hydromorphone", "morphine+bupivacaine", "hydromorphone+clonidine"):
        assert 21 <= med[drug] <= 60, drug
    assert med["ziconotide"] <= 84


def test_visit_mix_and_events(demo: SynthResult) -> None:
    types = set(demo.visits["visit_type"].astype(str))
    assert types == {"trial", "implant", "refill", "reprogram", "follow_up", "unscheduled",
                     "revision", "replacement", "explant", "discharge"}  # fmt: skip
    rep = demo.visits[demo.visits["visit_type"] == "reprogram"]
    assert (rep["daily_dose_mg"].notna() | rep["daily_rate_ml"].notna()).all()
    pain = demo.visits[demo.visits["indication"] == "spasticity"]
    assert pain["pain_nrs"].isna().all()
    codes = set(demo.complications["complication"].astype(str))
    assert {
        "pocket_fill",
        "csf_leak",
        "infection_deep",
        "pump_failure",
        "battery_depletion",
    } <= codes


def test_complications_during_a_trial(demo: SynthResult) -> None:
    v, c = demo.visits, demo.complications
    first_fill = (
        v[v["visit_type"].isin(FILLS)].groupby("patient_id", observed=True)["visit_date"].min()
    )
    trialists = v.loc[v["visit_type"] == "trial", "patient_id"].unique()
    tc = c[c["patient_id"].isin(trialists)]
    fill_day = tc["patient_id"].map(first_fill)
    before = fill_day.isna() | (tc["report_date"] < fill_day)
    assert before.sum() >= 1


def test_serious_matches_action_and_severity(demo: SynthResult) -> None:
    c = demo.complications
    surgical = c["action"].isin(["revision", "explant", "hospitalisation"])
    assert (c.loc[surgical, "serious"]).all()
    assert not c.loc[~surgical & c["severity"].isin(["mild", "moderate"]), "serious"].any()

"""The generator's pump model: stability caps, concentrations, titration steps, pump
implant dates, surgeons and repeat reports (hand-worked cases and invariants)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.config import DEFAULT
from analytics.synth import SynthResult, generate
from analytics.synth import params as P
from analytics.synth.patients import _concentration, cap_days
from analytics.synth.refills import titrate

BAC, MOR, ZIC = P.BACLOFEN, P.MORPHINE, P.ZICONOTIDE


@pytest.fixture(scope="module")
def result() -> SynthResult:
    return generate(patients=400, years=5, seed=31)


def test_stability_caps_by_drug_dilution_and_first_fill() -> None:
    drug = np.array([BAC, MOR, ZIC, ZIC, ZIC, ZIC])
    conc = np.array([2.0, 10.0, 0.1, 0.025, 0.05, 0.1])
    first = np.array([False, False, False, False, False, True])
    assert cap_days(drug, conc, first).tolist() == [180, 90, 84, 84, 40, 14]
    assert tuple(P.ZICONOTIDE_VIAL_MG_ML) == DEFAULT.ziconotide_vial_mg_ml


def test_concentration_is_the_weakest_that_lasts_the_interval() -> None:
    # baclofen 0.4 mg/day, 40 mL pump, 2 mL alarm: 0.5 mg/mL lasts 47 days, 2 mg/mL 180
    # (the cap). A 30-day interval (x 1.25 = 37.5 days) takes 0.5; a 60-day one 2.
    strengths = np.array([[0.5, 2.0, np.nan], [0.5, 2.0, np.nan], [0.5, 2.0, np.nan]])
    drug = np.array([BAC, BAC, BAC])
    dose = np.array([0.4, 0.4, 4.0])  # 4 mg/day: nothing lasts, the strongest
    got = _concentration(
        strengths, drug, dose, np.full(3, 2.0), np.array([30, 60, 60]), np.full(3, 40.0)
    )
    assert got.tolist() == [0.5, 2.0, 2.0]


@settings(max_examples=60, deadline=None)
@given(
    drug=st.sampled_from(range(len(P.DRUGS))),
    frac=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31),
)
def test_a_usual_titration_step_stays_within_the_dose_step_flag(
    drug: int, frac: float, seed: int
) -> None:
    """Without the deliberate rare big step, no step up exceeds dose_step_up_pct, even
    after the programmer's rounding, and the dose stays in its range."""
    d = P.DRUGS[drug]
    dose = np.round(d.dose_lo + frac * (d.dose_hi - d.dose_lo), d.decimals)
    rng = np.random.default_rng(seed)
    n = 200
    lo, hi = np.full(n, d.dose_lo), np.full(n, d.dose_hi)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(P, "BIG_STEP_P", 0.0)
        new = titrate(rng, np.full(n, dose), np.full(n, drug), lo, hi)
    assert (new <= dose * (1 + DEFAULT.dose_step_up_pct / 100) + 1e-12).all()
    assert ((new >= lo) & (new <= hi)).all()


def test_big_steps_exist_but_are_rare() -> None:
    rng = np.random.default_rng(5)
    n = 60_000
    dose = np.full(n, 2.0)
    new = titrate(rng, dose, np.full(n, MOR), np.full(n, 1.0), np.full(n, 30.0))
    share = (new > dose * 1.5).mean()
    assert 0.5 * P.BIG_STEP_P * P.TITRATION_UP_P < share < 2 * P.BIG_STEP_P


def _pump_dates(v: pd.DataFrame) -> pd.DataFrame:
    d = v.dropna(subset=["pump_implant_date"]).copy()
    text = d["pump_implant_date"].astype(str)
    d["implant"] = pd.to_datetime(text.where(text.str.len() == 10, text + "-15"), format="%Y-%m-%d")
    return d


def test_pump_implant_date_formats_and_order(result: SynthResult) -> None:
    d = _pump_dates(result.visits)
    text = d["pump_implant_date"].astype(str)
    assert text.str.fullmatch(r"\d{4}-\d{2}(-\d{2})?").all()
    assert (text.str.len() == 7).any() and (text.str.len() == 10).any()
    assert (d["implant"] <= d["visit_date"]).all()
    assert (d["implant"] < pd.Timestamp(result.start)).any()


def test_pump_implant_date_only_for_pumps_from_before_the_data(result: SynthResult) -> None:
    v = result.visits
    first = v.groupby("patient_id", observed=True)["visit_type"].first()
    carrying = v.loc[v["pump_implant_date"].notna(), "patient_id"].unique()
    assert (first.loc[carrying].astype(str) == "refill").all()
    # every visit of such a patient carries it (the field is in every record)
    rows = v[v["patient_id"].isin(carrying)]
    assert rows["pump_implant_date"].notna().all()


def test_pump_implant_date_follows_a_replacement(result: SynthResult) -> None:
    d = _pump_dates(result.visits)
    repl = d[d["visit_type"] == "replacement"]
    assert len(repl)
    assert (repl["implant"] == repl["visit_date"]).all()
    # within a patient the date only moves forward, and only at a replacement
    changed = d.groupby("patient_id", observed=True)["implant"].diff().dt.days.fillna(0) != 0
    assert (d.loc[changed, "visit_type"] == "replacement").all()


def test_operations_by_the_site_surgeons(result: SynthResult) -> None:
    v = result.visits
    ops = v[v["visit_type"].isin(["implant", "replacement", "revision", "explant"])]
    number = ops["clinician"].astype(str).str[2:].astype(int) - 1
    site = ops["site"].astype(str).map({"A": 0, "B": 1, "C": 2})
    assert (number // P.CLINICIANS_PER_SITE == site).all()
    assert (number % P.CLINICIANS_PER_SITE < P.SURGEONS_PER_SITE).all()


def test_repeat_reports_each_at_a_follow_up_visit(result: SynthResult) -> None:
    c = result.complications.sort_values(["patient_id", "complication", "report_date"])
    gap = c.groupby(["patient_id", "complication"], observed=True)["report_date"].diff().dt.days
    repeats = c[gap.between(P.REPEAT_GAP_DAYS[0], P.REPEAT_GAP_DAYS[1])]
    assert len(repeats) >= 10
    visits = result.visits.set_index("visit_id")["visit_type"]
    linked = repeats["visit_id"].dropna()
    assert (visits.loc[linked].astype(str) == "follow_up").mean() > 0.8


def test_postoperative_reports_after_revisions(result: SynthResult) -> None:
    """Wound codes follow implants, replacements and revisions within 30 days."""
    v, c = result.visits, result.complications
    ops = v[v["visit_type"].isin(["implant", "replacement", "revision"])][
        ["patient_id", "visit_date", "visit_type"]
    ]
    wound = c[c["complication"].isin(["csf_leak", "seroma", "hematoma", "wound_dehiscence"])]
    pairs = wound.merge(ops, on="patient_id")
    days = (pairs["report_date"] - pairs["visit_date"]).dt.days
    near = pairs[(days >= 0) & (days <= 30)]
    assert "revision" in set(near["visit_type"].astype(str))

"""Realism bands of the demo data set, by simple independent pandas arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.synth import DEMO, SynthResult, generate

FILLS = ["implant", "refill", "replacement"]
CAP = {"baclofen": 180, "ziconotide": 40}


@pytest.fixture(scope="module")
def demo() -> SynthResult:
    return generate(**DEMO)


@pytest.fixture(scope="module")
def fills(demo: SynthResult) -> pd.DataFrame:
    """Fills with the next fill date and the recorded due (last recorded before the next fill)."""
    v = demo.visits.copy()
    v["pid"] = v["patient_id"].astype(str)
    v["is_fill"] = v["visit_type"].isin(FILLS)
    v["fill_no"] = v.groupby("pid")["is_fill"].cumsum()
    v = v[v["fill_no"] > 0]
    due = v.groupby(["pid", "fill_no"])["next_refill_due"].last()
    f = v[v["is_fill"]].set_index(["pid", "fill_no"])
    f["recorded_due"] = due
    f["next"] = f.groupby(level="pid")["visit_date"].shift(-1)
    f["gap"] = (f["next"] - f["visit_date"]).dt.days
    return f.reset_index()


def test_median_refill_interval_per_drug(fills: pd.DataFrame) -> None:
    med = fills.groupby(fills["drug"].astype(str))["gap"].median()
    assert 40 <= med["baclofen"] <= 120
    for drug in ("morphine", "hydromorphone", "morphine+bupivacaine", "hydromorphone+clonidine"):
        assert 21 <= med[drug] <= 90, drug
    assert med["ziconotide"] <= 40


def test_share_refilled_after_the_due_date(fills: pd.DataFrame) -> None:
    f = fills.dropna(subset=["recorded_due", "next"])
    cap = f["drug"].astype(str).map(CAP).fillna(90).astype(int)
    due = np.minimum(f["recorded_due"], f["visit_date"] + pd.to_timedelta(cap, unit="D"))
    late = (f["next"] > due).mean()
    assert 0.05 <= late <= 0.25


def test_some_pumps_ran_dry(fills: pd.DataFrame) -> None:
    f = fills.dropna(subset=["next"])
    f = f[f["next_refill_due"].notna()]  # no dose change before the recorded date
    empty = f["visit_date"] + pd.to_timedelta(
        np.floor(f["volume_added_ml"] / f["daily_rate_ml"]), unit="D"
    )
    assert 0.003 <= (f["next"] > empty).mean() <= 0.05


def test_share_of_fills_with_next_refill_due(fills: pd.DataFrame) -> None:
    assert 0.35 <= fills["next_refill_due"].notna().mean() <= 0.65


def test_recorded_due_follows_the_reservoir_arithmetic(fills: pd.DataFrame) -> None:
    f = fills.dropna(subset=["next_refill_due"])
    days = np.floor((f["volume_added_ml"] - f["alarm_ml"]) / f["daily_rate_ml"])
    assert ((f["next_refill_due"] - f["visit_date"]).dt.days == days).all()


def test_residual_discrepancy(demo: SynthResult) -> None:
    r = demo.visits[demo.visits["visit_type"] == "refill"].dropna(subset=["expected_residual_ml"])
    diff = r["expected_residual_ml"] - r["actual_residual_ml"]
    assert diff.mean() > 0  # the pump over-delivers: less left than expected
    assert 0.005 <= (diff.abs() > 2).mean() <= 0.04


def _pump_days(demo: SynthResult) -> float:
    v = demo.visits
    start = (
        v[v["visit_type"].isin(["implant", "refill"])]
        .groupby("patient_id", observed=True)["visit_date"]
        .min()
    )
    ended = (
        v[v["visit_type"].isin(["explant", "discharge"])]
        .groupby("patient_id", observed=True)["visit_date"]
        .max()
    )
    end = ended.reindex(start.index).fillna(pd.Timestamp(demo.end) + pd.Timedelta(days=1))
    return float((end - start).dt.days.clip(lower=0).sum())


def test_complication_reports_per_1000_pump_days(demo: SynthResult) -> None:
    rate = len(demo.complications) / _pump_days(demo) * 1000
    assert 0.2 <= rate <= 3


def test_left_truncated_share(demo: SynthResult) -> None:
    first = demo.visits.groupby("patient_id", observed=True)["visit_type"].first()
    assert 0.05 <= (first == "refill").mean() <= 0.30
    assert set(first.astype(str)) <= {"trial", "implant", "refill"}


def test_indication_mix(demo: SynthResult) -> None:
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
    assert mor["daily_dose_mg"].between(1, 10).all()
    assert set(mor["concentration_mg_ml"]) <= {10.0, 25.0}
    zic = v[drug == "ziconotide"]
    assert zic["daily_dose_mg"].between(0.0024, 0.0192).all()


def test_visit_mix_and_events(demo: SynthResult) -> None:
    types = set(demo.visits["visit_type"].astype(str))
    assert types == {"trial", "implant", "refill", "reprogram", "follow_up", "unscheduled",
                     "revision", "replacement", "explant", "discharge"}  # fmt: skip
    rep = demo.visits[demo.visits["visit_type"] == "reprogram"]
    assert (rep["daily_dose_mg"].notna() | rep["daily_rate_ml"].notna()).all()
    pain = demo.visits[demo.visits["indication"] == "spasticity"]
    assert pain["pain_nrs"].isna().all()
    codes = set(demo.complications["complication"].astype(str))
    assert {"pocket_fill", "csf_leak", "infection_deep", "pump_failure"} <= codes


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

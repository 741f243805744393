"""Complication-report rates: exact intervals, episodes, funnel limits, taxonomy sums."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.engine import complications as comp
from analytics.engine.intervals import garwood
from analytics.engine.metrics import monthly_metrics
from tests.engine_helpers import BASE, D, engine_db, implant, visit


@pytest.mark.parametrize(
    ("k", "low", "high"),
    # Garwood (1936) exact 95 % limits for a Poisson count, as tabulated (e.g. Ulm 1990).
    [(0, 0.0, 3.689), (1, 0.0253, 5.572), (5, 1.6235, 11.668), (20, 12.217, 30.888)],
)
def test_garwood_interval_matches_published_table(k: int, low: float, high: float) -> None:
    """Over 1,000 pump-days the rate per 1,000 equals k and its limits equal the table's."""
    rate, lo, hi = garwood([k], [1000.0])
    assert rate[0] == pytest.approx(k)
    assert lo[0] == pytest.approx(low, abs=6e-4)
    assert hi[0] == pytest.approx(high, abs=6e-4)


def test_garwood_scales_with_exposure_and_level() -> None:
    """5 reports over 2,500 pump-days: 2.0 per 1,000, limits (1.6235, 11.668) / 2.5."""
    rate, lo, hi = garwood([5], [2500.0])
    assert (rate[0], lo[0], hi[0]) == pytest.approx((2.0, 0.6494, 4.6672), abs=2e-4)
    _, lo90, hi90 = garwood([5], [2500.0], level=0.90)
    assert lo90[0] > lo[0] and hi90[0] < hi[0]
    assert np.isnan(garwood([1], [0])[0][0])


@settings(max_examples=200, deadline=None)
@given(k=st.integers(0, 5000), t=st.floats(1, 1e7), level=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_interval_contains_the_rate(k: int, t: float, level: float) -> None:
    rate, lo, hi = garwood([k], [t], level=level)
    assert lo[0] <= rate[0] <= hi[0]


def test_hand_worked_month_with_explant_day_trial_and_month_boundary() -> None:
    """Patient a: implant 2024-01-20, explant 2024-02-10. Pump-days: January 12 (20th-31st),
    February 9 (1st-9th). Reports: a csf_leak on 01-31 (January), an infection_deep on the
    explant day 02-10 (counted, in February), a seroma on 02-11 (after explant: outside).
    Patient t: a trial on 01-05 with a post_dural_puncture_headache the same day (outside).
    January: 1 report / 12 pump-days = 83.33 per 1,000; February: 1 / 9 = 111.1."""
    vis = [
        implant("a", "2024-01-20", **BASE),
        visit("a", "2024-02-10", "explant"),
        visit("t", "2024-01-05", "trial"),
    ]
    reports = [
        {"patient_id": "a", "report_date": "2024-01-31", "complication": "csf_leak"},
        {
            "patient_id": "a",
            "report_date": "2024-02-10",
            "complication": "infection_deep",
            "serious": "yes",
        },
        {"patient_id": "a", "report_date": "2024-02-11", "complication": "seroma"},
        {
            "patient_id": "t",
            "report_date": "2024-01-05",
            "complication": "post_dural_puncture_headache",
        },
    ]
    with engine_db(vis, reports) as con:
        m = monthly_metrics(con, D("2024-02-29")).set_index("month")
        outside = comp.outside_episode_reports(con, D("2024-02-29"))
        cats = comp.rates_by_category(con, D("2024-02-29"))
        times = comp.time_since_surgery(con, D("2024-02-29"))
        serious = comp.serious_events(con, D("2024-02-29"))
    assert m.pump_days.tolist() == [12, 9]
    assert m.complications.tolist() == [1, 1]
    assert m.complication_rate_per_1000.tolist() == pytest.approx([1000 / 12, 1000 / 9])
    assert sorted(outside.context) == ["after explant or discharge", "trial or before implant"]
    by_cat = cats.set_index("category")
    assert (by_cat.loc["wound"].reports, by_cat.loc["infection"].reports) == (1, 1)
    assert by_cat.loc["wound"].pump_days == 21
    assert cats.reports.sum() == 2, "outside reports are never in a rate"
    within = times[times.time_since_surgery == "within 30 days"].set_index("category").reports
    assert (within["wound"], within["infection"]) == (1, 1)  # 11 and 21 days after the implant
    assert serious.complication.tolist() == ["infection_deep"]


def test_funnel_limits_by_hand() -> None:
    """Sites A and B. Pooled rate: all reports / all pump-days. For a site with exposure T,
    the 95 % limits are qpois(0.025, pooled x T) / T and qpois(0.975, pooled x T) / T.
    Worked by hand for pooled 0.001/day and T = 2,000: mu = 2; P(X <= 4) = 0.947,
    P(X <= 5) = 0.983 -> upper 5 / 2000 = 2.5 per 1,000; P(X = 0) = 0.135 -> lower 0;
    99.8 %: P(X <= 7) = 0.99890 < 0.999, P(X <= 8) = 0.99976 -> 8 / 2000 = 4.0 per 1,000."""
    lo, hi = comp.funnel_limits(0.001, np.array([2000.0]), 0.025, 0.975)
    assert (lo[0], hi[0]) == (0.0, 2.5)
    assert comp.funnel_limits(0.001, np.array([2000.0]), 0.001, 0.999)[1][0] == 4.0
    vis = [
        implant("a", "2024-01-01", site="A", **BASE),
        implant("b", "2024-01-01", site="B", **BASE),
    ]
    reports = [
        {"patient_id": "a", "report_date": f"2024-0{m}-02", "complication": "catheter_kink"}
        for m in range(1, 5)
    ]
    with engine_db(vis, reports) as con:
        f = comp.funnel(con, D("2024-04-30"), by="site", per="report").set_index("group")
        events = comp.funnel(con, D("2024-04-30"), by="site").set_index("group")
    assert f.pump_days.tolist() == [121, 121]
    assert f.pooled_rate_per_1000.iloc[0] == pytest.approx(4 / 242 * 1000)
    assert f.loc["A"].rate_per_1000 == pytest.approx(4 / 121 * 1000)
    # per event (the default): 01-02 | 02-02 + 03-02 (29 days apart: one event) | 04-02
    assert events.loc["A"].complications == 3 and events.loc["A"].reports == 4
    assert events.pooled_rate_per_1000.iloc[0] == pytest.approx(3 / 242 * 1000)


def test_refill_quality_and_patients_with_a_complication() -> None:
    """Two fills and one refill with residuals (flagged: |2 - 5| > 2); one pocket fill.
    Error rate: 1 / 3 fills x 100; residual flags: 1 / 1 x 100; patients with a report:
    1 of 2 active."""
    vis = [
        implant("a", "2024-01-01", **BASE),
        visit(
            "a",
            "2024-03-01",
            "refill",
            volume_added_ml=20,
            expected_residual_ml=5,
            actual_residual_ml=2,
        ),
        implant("b", "2024-01-01", **BASE),
    ]
    with engine_db(
        vis, [{"patient_id": "a", "report_date": "2024-03-01", "complication": "pocket_fill"}]
    ) as con:
        q = comp.refill_quality(con, D("2024-03-31")).iloc[0]
    assert (q.fills, q.refill_errors, q.residual_flags, q.refills_with_residuals) == (3, 1, 1, 1)
    assert q.refill_error_rate_per_100 == pytest.approx(100 / 3)
    assert (
        q.active_patients,
        q.patients_with_complication,
        q.share_patients_with_complication,
    ) == (2, 1, 0.5)


@settings(max_examples=15, deadline=None)
@given(
    codes=st.lists(
        st.sampled_from(["csf_leak", "granuloma", "pocket_fill", "catheter_kink", "other"]),
        max_size=12,
    ),
    days=st.lists(st.integers(0, 200), min_size=12, max_size=12),
)
def test_category_and_code_counts_sum_to_the_total(codes, days) -> None:
    vis = [
        implant("a", "2024-01-01", site="A", **BASE),
        implant("b", "2024-02-01", site="B", **BASE),
    ]
    reports = [
        {
            "report_id": f"r{i}",
            "patient_id": "ab"[i % 2],
            "report_date": str(pd.Timestamp("2024-01-01") + pd.Timedelta(days=d))[:10],
            "complication": c,
        }
        for i, (c, d) in enumerate(zip(codes, days, strict=False))
    ]
    with engine_db(vis, reports) as con:
        total = int(monthly_metrics(con, D("2024-07-31"), per="report").complications.sum())
        events = int(monthly_metrics(con, D("2024-07-31")).complications.sum())
        cats = comp.rates_by_category(con, D("2024-07-31"))
        per_code = comp.rates_by_category(con, D("2024-07-31"), by="site", codes=True)
    assert int(cats.reports.sum()) == total == int(per_code.reports.sum())
    assert int(cats.events.sum()) == events == int(per_code.events.sum()) <= total
    assert ((cats.ci_low <= cats.rate_per_1000) & (cats.rate_per_1000 <= cats.ci_high)).all()


def test_cli_complications(tmp_path) -> None:
    from analytics.cli.commands import main
    from analytics.ingest.contract import COMPLICATIONS, VISITS
    from analytics.ingest.load import ingest_files
    from tests.engine_helpers import _write

    v = _write(tmp_path / "v.csv", VISITS.names, [implant("a", "2024-01-01", visit_id="x", **BASE)])
    c = _write(
        tmp_path / "c.csv",
        COMPLICATIONS.names,
        [{"patient_id": "a", "report_date": "2024-01-02", "complication": "granuloma"}],
    )
    ingest_files(tmp_path / "d.duckdb", v, c)
    r = CliRunner().invoke(main, ["complications", "--db", str(tmp_path / "d.duckdb"), "--codes"])
    assert r.exit_code == 0, r.output
    assert (
        r.stdout.splitlines()[0]
        == "group,complication,category,events,reports,serious,pump_days,count_unit,"
        "rate_per_1000,ci_low,ci_high"
    )
    assert "0 report(s) outside" in r.stderr

"""Funnel limits allowing for overdispersion (Spiegelhalter 2005), worked by hand: the
winsorised z-scores, φ, τ², the widened exact limits of a Poisson rate and of a
binomial proportion, and the choice carried to the table and the chart."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.engine import complications as comp
from analytics.engine.funnels import (
    Dispersion,
    binomial_funnel,
    binomial_se,
    dispersion_of,
    estimate,
    poisson_se,
    winsorise,
)
from analytics.errors import PumpqiError
from tests.engine_helpers import BASE, D, engine_db, implant, visit

# Ten units of 1,000 pump-days, 100 reports in all: pooled 0.01 per pump-day (10 per
# 1,000). Counts 2, 4, …, 18 deviate from 10 by -8, -6, -4, -2, 0, 0, 2, 4, 6, 8, and
# s = sqrt(0.01 / 1000), so z = deviation / sqrt(10).
COUNTS = np.array([2, 4, 6, 8, 10, 10, 12, 14, 16, 18], dtype=float)
DAYS = np.full(10, 1000.0)
POOLED = 0.01
# Winsorised at 10 %: the 10th percentile is -8 + 0.9 · 2 = -6.2 (R's type 7), the 90th
# 6 + 0.1 · 2 = 6.2; φ = (6.2² + 6² + 4² + 2² + 0 + 0 + 2² + 4² + 6² + 6.2²) / 10 / 10
PHI = (2 * 6.2**2 + 2 * 36 + 2 * 16 + 2 * 4) / 10 / 10  # 1.8888
# τ² = (I·φ − (I − 1)) / (Σw − Σw²/Σw), w = 1/s² = 100,000 each: (18.888 − 9) / 900,000
TAU2 = (10 * PHI - 9) / (1_000_000 - 100_000)


def test_winsorise_uses_type_7_percentiles() -> None:
    z = (COUNTS - 10) / math.sqrt(10)
    w = winsorise(z) * math.sqrt(10)
    assert w.tolist() == pytest.approx([-6.2, -6, -4, -2, 0, 0, 2, 4, 6, 6.2])


def test_phi_and_tau2_by_hand() -> None:
    d = estimate(COUNTS / DAYS, POOLED, poisson_se(POOLED, DAYS), "multiplicative")
    assert d.phi == pytest.approx(1.8888, rel=1e-12)
    assert d.tau2 == pytest.approx(1.0986666666e-5, rel=1e-9)
    assert (d.phi, d.tau2, d.units) == pytest.approx((PHI, TAU2, 10))
    assert d.factor([0.1])[0] == pytest.approx(math.sqrt(1.8888))
    # additive: the factor depends on the unit's size: sqrt(1 + τ²/s²) = sqrt(2.0987) at 1,000
    add = estimate(COUNTS / DAYS, POOLED, poisson_se(POOLED, DAYS), "additive")
    assert add.factor(poisson_se(POOLED, [1000.0]))[0] == pytest.approx(math.sqrt(2.0986666667))
    assert add.factor(poisson_se(POOLED, [4000.0]))[0] == pytest.approx(
        math.sqrt(1 + 4 * 1.0986666667)
    )


def test_poisson_limits_widened() -> None:
    """Exact limits at 1,000 pump-days (μ = 10): qpois(0.025) = 4, qpois(0.975) = 17,
    qpois(0.001) = 2, qpois(0.999) = 21 reports, i.e. per 1,000 pump-days the same numbers."""
    lo, hi = comp.funnel_limits(POOLED, DAYS[:1], 0.025, 0.975)
    assert (lo[0], hi[0]) == (4.0, 17.0)
    multi = Dispersion("multiplicative", PHI, TAU2, 10)
    lo, hi = comp.funnel_limits(POOLED, DAYS[:1], 0.025, 0.975, multi)
    f = math.sqrt(1.8888)  # 1.374336
    assert (lo[0], hi[0]) == pytest.approx((10 - 6 * f, 10 + 7 * f))  # 1.754, 19.620
    lo, hi = comp.funnel_limits(POOLED, DAYS[:1], 0.001, 0.999, multi)
    assert (lo[0], hi[0]) == pytest.approx((0.0, 10 + 11 * f))  # 10 − 8f < 0: clipped at 0
    additive = Dispersion("additive", PHI, TAU2, 10)
    lo, hi = comp.funnel_limits(POOLED, DAYS[:1], 0.025, 0.975, additive)
    g = math.sqrt(1 + TAU2 / (POOLED / 1000))  # 1.448678
    assert (lo[0], hi[0]) == pytest.approx((10 - 6 * g, 10 + 7 * g))


def test_no_widening_without_overdispersion() -> None:
    # deviations -2, -1, -1, 0, 0, 0, 0, 1, 1, 2 (winsorised ±1.1): φ = 0.442, below 1
    counts = np.array([8, 9, 9, 10, 10, 10, 10, 11, 11, 12], dtype=float)
    d = estimate(counts / DAYS, POOLED, poisson_se(POOLED, DAYS), "multiplicative")
    assert d.phi == pytest.approx((2 * 1.1**2 + 4) / 10 / 10)
    assert d.phi < 1 and d.factor([1.0])[0] == 1.0
    assert "no overdispersion found" in d.label
    a = estimate(counts / DAYS, POOLED, poisson_se(POOLED, DAYS), "additive")
    assert a.tau2 == 0.0 and a.factor([1.0])[0] == 1.0
    lo, hi = comp.funnel_limits(POOLED, DAYS[:1], 0.025, 0.975, a)
    assert (lo[0], hi[0]) == (4.0, 17.0)
    assert np.isnan(estimate([0.1], 0.1, [0.01], "additive").phi)  # one unit: no estimate
    with pytest.raises(PumpqiError, match="overdispersion 'both' is not one of"):
        estimate(counts, 0.5, counts, "both")


def binomial_table() -> pd.DataFrame:
    """Ten sites of 100 procedures, 200 with an outcome: pooled 0.2, s = sqrt(0.16/100) =
    0.04, z = (p − 0.2) / 0.04 = -2.5, -1.5, -1, -0.5, 0, 0, 0.5, 1, 1.5, 2.5."""
    return pd.DataFrame(
        {
            "group": list("ABCDEFGHIJ"),
            "with_outcome": [10, 14, 16, 18, 20, 20, 22, 24, 26, 30],
            "procedures": [100] * 10,
        }
    )


def test_binomial_funnel_by_hand() -> None:
    """Winsorised z: the 10th percentile -2.5 + 0.9 · 1 = -1.6, the 90th 1.5 + 0.1 · 1 = 1.6;
    φ = (1.6² + 1.5² + 1 + 0.25 + 0 + 0 + 0.25 + 1 + 1.5² + 1.6²) / 10 = 1.212.
    τ² = (12.12 − 9) / (6250 − 625) = 3.12 / 5625. Exact limits at n = 100, p = 0.2:
    qbinom(0.025) = 12, qbinom(0.975) = 28, qbinom(0.001) = 9, qbinom(0.999) = 33."""
    plain = binomial_funnel(binomial_table()).set_index("group")
    assert plain["pooled_rate_per_100"].iloc[0] == pytest.approx(20.0)
    limits = plain[["lower_95", "upper_95", "lower_998", "upper_998"]].iloc[0].tolist()
    assert limits == pytest.approx([12.0, 28.0, 9.0, 33.0], rel=1e-12)
    assert plain.loc["A", "signal"] == "below 95 % limit"  # 10 < 12
    assert plain.loc["J", "signal"] == "above 95 % limit"  # 30 > 28
    assert (plain["overdispersion"] == "none").all()
    assert plain["phi"].iloc[0] == pytest.approx(1.212)  # estimated, not applied
    multi = binomial_funnel(binomial_table(), overdispersion="multiplicative").set_index("group")
    f = math.sqrt(1.212)  # 1.100909
    assert multi["lower_95"].iloc[0] == pytest.approx(20 - 8 * f)  # 11.193
    assert multi["upper_95"].iloc[0] == pytest.approx(20 + 8 * f)  # 28.807
    assert multi["upper_998"].iloc[0] == pytest.approx(20 + 13 * f)
    assert multi.loc["A", "signal"] == "below 95 % limit"  # 10 < 11.19
    assert multi.loc["J", "signal"] == "above 95 % limit"  # 30 > 28.81
    additive = binomial_funnel(binomial_table(), overdispersion="additive").set_index("group")
    assert additive["tau2"].iloc[0] == pytest.approx(3.12 / 5625)
    g = math.sqrt(1 + (3.12 / 5625) / 0.0016)  # 1.160460
    assert additive["lower_95"].iloc[0] == pytest.approx(20 - 8 * g)  # 10.716
    assert additive["upper_95"].iloc[0] == pytest.approx(20 + 8 * g)  # 29.284
    assert additive.loc["A", "signal"] == "below 95 % limit" and additive.loc["J", "signal"] == (
        "above 95 % limit"
    )
    assert dispersion_of(additive.reset_index()).tau2 == pytest.approx(3.12 / 5625)
    assert "additive, τ² = 0.000555" in dispersion_of(additive.reset_index()).label


def test_binomial_limits_stay_within_0_and_1_and_skip_empty_groups() -> None:
    table = pd.DataFrame({"site": ["A", "B", "C", "D"], "events": [0, 5, 1, 0], "n": [3, 5, 40, 0]})
    out = binomial_funnel(table, events="events", trials="n", group="site",
                          overdispersion="multiplicative")  # fmt: skip
    assert out["group"].tolist() == ["A", "B", "C"]  # D has no procedures
    assert (out["lower_998"] >= 0).all() and (out["upper_998"] <= 100).all()
    assert out["rate_per_100"].tolist() == pytest.approx([0.0, 100.0, 2.5])
    assert binomial_se(0.2, [100])[0] == pytest.approx(0.04)


def test_funnel_table_carries_the_choice() -> None:
    """Site A: 2 reports in 100 pump-days; site B: 0 in 100 (implant 01-01, explant
    04-10: 100 pump-days each); pooled 1 per 100 pump-days."""
    vis = [
        implant("a", "2024-01-01", site="A", **BASE),
        visit("a", "2024-04-10", "explant", site="A"),
        implant("b", "2024-01-01", site="B", **BASE),
        visit("b", "2024-04-10", "explant", site="B"),
    ]
    reports = [
        {"patient_id": "a", "report_date": "2024-02-01", "complication": "seroma"},
        {"patient_id": "a", "report_date": "2024-03-01", "complication": "seroma"},
    ]
    with engine_db(vis, reports) as con:
        plain = comp.funnel(con, D("2024-04-30"), by="site", per="report")
        multi = comp.funnel(
            con, D("2024-04-30"), by="site", overdispersion="multiplicative", per="report"
        )
        with pytest.raises(PumpqiError, match="overdispersion"):
            comp.funnel(con, D("2024-04-30"), by="site", overdispersion="huge")
    assert plain["pump_days"].tolist() == [100, 100]
    # z = (0.02 − 0.01) / sqrt(0.01/100) = ±1; winsorised: ±(1 − 0.2) = ±0.8; φ = 0.64
    assert plain["phi"].tolist() == pytest.approx([0.64, 0.64])
    assert (multi["overdispersion"] == "multiplicative").all()
    pd.testing.assert_series_equal(plain["upper_95"], multi["upper_95"])  # φ < 1: as exact
    d = dispersion_of(multi)
    lo, hi = comp.funnel_limits(0.01, np.array([100.0]), 0.025, 0.975, d)
    assert hi[0] == multi["upper_95"].iloc[0]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(1, 400)), min_size=2, max_size=25),
    st.sampled_from(["multiplicative", "additive"]),
)
def test_allowance_only_widens_the_exact_limits(units: list[tuple[int, int]], method: str) -> None:
    table = pd.DataFrame(
        {
            "group": [f"s{i}" for i in range(len(units))],
            "with_outcome": [min(k, n) for k, n in units],
            "procedures": [n for _, n in units],
        }
    )
    exact = binomial_funnel(table)
    wide = binomial_funnel(table, overdispersion=method)
    assert (wide["phi"].dropna() >= 0).all() and (wide["tau2"].dropna() >= 0).all()
    for band in ("95", "998"):
        assert (wide[f"lower_{band}"] <= exact[f"lower_{band}"] + 1e-9).all()
        assert (wide[f"upper_{band}"] >= exact[f"upper_{band}"] - 1e-9).all()
        assert (wide[f"lower_{band}"] >= 0).all() and (wide[f"upper_{band}"] <= 100).all()
    flagged = wide["signal"] != ""
    assert (flagged <= (exact["signal"] != "")).all()  # widening never adds a signal

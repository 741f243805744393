"""The Kaplan–Meier estimator with delayed entry against hand-worked cases (ties,
censoring, late entry, exit <= entry) and a brute-force count, its log-log interval
against the formula worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.engine.kaplan_meier import at_risk, kaplan_meier, log_log_interval, survival_at

Z = 1.959963984540054  # qnorm(0.975)


def loglog_by_hand(s: float, greenwood: float) -> tuple[float, float]:
    """R's conf.type = "log-log": S^exp(-z·se/log S), S^exp(z·se/log S), se = sqrt(Greenwood)."""
    se = math.sqrt(greenwood)
    return s ** math.exp(-Z * se / math.log(s)), s ** math.exp(Z * se / math.log(s))


def test_ties_and_censoring_without_late_entry() -> None:
    """Six pumps, exits (days) 2, 3, 3, 5, 5, 8 with events 1, 1, 0, 1, 1, 0.
    t=2: 6 at risk, 1 event: S = 5/6, Greenwood 1/(6·5) = 1/30
    t=3: 5 at risk (the one censored at 3 still counts: events first), 1 event, 1 censored:
         S = 5/6 · 4/5 = 2/3, Greenwood 1/30 + 1/(5·4) = 1/12
    t=5: 3 at risk, 2 events: S = 2/3 · 1/3 = 2/9, Greenwood 1/12 + 2/(3·1) = 3/4
    t=8: 1 at risk, 1 censored: S stays 2/9."""
    curve = kaplan_meier([0] * 6, [2, 3, 3, 5, 5, 8], [1, 1, 0, 1, 1, 0])
    assert curve["time_days"].tolist() == [2, 3, 5, 8]
    assert curve["n_risk"].tolist() == [6, 5, 3, 1]
    assert curve["n_event"].tolist() == [1, 1, 2, 0]
    assert curve["n_censor"].tolist() == [0, 1, 0, 1]
    assert curve["survival"].tolist() == pytest.approx([5 / 6, 2 / 3, 2 / 9, 2 / 9], rel=1e-12)
    expected = [loglog_by_hand(5 / 6, 1 / 30), loglog_by_hand(2 / 3, 1 / 12)]
    expected += [loglog_by_hand(2 / 9, 3 / 4)] * 2
    assert curve["ci_low"].tolist() == pytest.approx([e[0] for e in expected], rel=1e-12)
    assert curve["ci_high"].tolist() == pytest.approx([e[1] for e in expected], rel=1e-12)
    # the same numbers written out (5/6: 0.27312 to 0.97471; 2/9: 0.00957 to 0.61472)
    assert curve["ci_low"].iloc[0] == pytest.approx(0.2731228499, rel=1e-9)
    assert curve["ci_high"].iloc[0] == pytest.approx(0.9747124267, rel=1e-9)
    assert curve["ci_low"].iloc[2] == pytest.approx(0.00956913654, rel=1e-9)
    assert curve["ci_high"].iloc[2] == pytest.approx(0.6147205233, rel=1e-9)


def test_one_event_in_ten_matches_the_textbook_interval() -> None:
    """S = 0.9 with Greenwood 1/90: R's survfit(..., conf.type = "log-log") gives 0.473, 0.985."""
    curve = kaplan_meier([0] * 10, [1] + [4] * 9, [1] + [0] * 9)
    assert curve["survival"].iloc[0] == pytest.approx(0.9)
    assert (curve["ci_low"].iloc[0], curve["ci_high"].iloc[0]) == pytest.approx(
        (0.4730092714, 0.9852813934), rel=1e-9
    )


def test_delayed_entry_uses_entry_lt_t_le_exit() -> None:
    """(entry, exit, event): A (0, 5, 1), B (0, 8, 0), C (3, 6, 1), D (6, 10, 1), E (5, 7, 0).
    t=5: A, B, C at risk (E entered at 5: not yet), 1 event: S = 2/3, Greenwood 1/6
    t=6: B, C, E at risk (D entered at 6: not yet; lifelines' entry= would count it), 1
         event: S = 4/9, Greenwood 1/6 + 1/6 = 1/3
    t=7: B, D, E at risk, E censored; t=8: B, D at risk, B censored
    t=10: D alone, its event: S = 0, the interval empty."""
    curve = kaplan_meier([0, 0, 3, 6, 5], [5, 8, 6, 10, 7], [1, 0, 1, 1, 0])
    assert curve["time_days"].tolist() == [5, 6, 7, 8, 10]
    assert curve["n_risk"].tolist() == [3, 3, 3, 2, 1]
    assert curve["n_event"].tolist() == [1, 1, 0, 0, 1]
    assert curve["n_censor"].tolist() == [0, 0, 1, 1, 0]
    assert curve["survival"].tolist() == pytest.approx([2 / 3, 4 / 9, 4 / 9, 4 / 9, 0.0])
    low, high = zip(
        *[loglog_by_hand(2 / 3, 1 / 6), *[loglog_by_hand(4 / 9, 1 / 3)] * 3], strict=True
    )
    assert curve["ci_low"].iloc[:4].tolist() == pytest.approx(list(low), rel=1e-12)
    assert curve["ci_high"].iloc[:4].tolist() == pytest.approx(list(high), rel=1e-12)
    assert curve["ci_low"].iloc[1] == pytest.approx(0.0378756353, rel=1e-9)
    assert np.isnan(curve["ci_low"].iloc[4]) and np.isnan(curve["ci_high"].iloc[4])


def test_exit_at_or_before_entry_is_left_out_and_survival_one_has_no_interval() -> None:
    base = kaplan_meier([0, 0, 0], [4, 9, 9], [0, 1, 0])
    more = kaplan_meier([0, 0, 0, 0, 7, 3], [4, 9, 9, 0, 7, 2], [0, 1, 0, 1, 1, 0])
    pd.testing.assert_frame_equal(base, more)
    assert base["survival"].iloc[0] == 1.0  # only a censoring at 4
    assert np.isnan(base["ci_low"].iloc[0]) and np.isnan(base["ci_high"].iloc[0])
    assert base["n_risk"].tolist() == [3, 2]
    assert kaplan_meier([3], [3], [1]).empty
    assert list(kaplan_meier([], [], []).columns) == [
        "time_days", "n_risk", "n_event", "n_censor", "survival", "ci_low", "ci_high",
    ]  # fmt: skip


def test_survival_at_a_time_and_at_risk() -> None:
    curve = kaplan_meier([0, 0, 3, 6, 5], [5, 8, 6, 10, 7], [1, 0, 1, 1, 0])
    assert survival_at(curve, 4)[0] == 1.0 and np.isnan(survival_at(curve, 4)[1])
    assert survival_at(curve, 5)[0] == pytest.approx(2 / 3)
    assert survival_at(curve, 9)[0] == pytest.approx(4 / 9)  # the last time <= 9 is 8
    assert survival_at(curve, 9)[1] == pytest.approx(loglog_by_hand(4 / 9, 1 / 3)[0])
    assert all(np.isnan(survival_at(curve, 11)))  # beyond the last time: no follow-up
    assert at_risk([0, 0, 3, 6, 5], [5, 8, 6, 10, 7], 6) == 3
    assert at_risk([0, 0, 3, 6, 5], [5, 8, 6, 10, 7], 6.5) == 3  # B, D (entered at 6), E


def test_interval_is_empty_at_one_and_zero() -> None:
    low, high = log_log_interval(np.array([1.0, 0.0, 0.5]), np.array([0.1, 0.1, 0.2]))
    assert np.isnan(low[:2]).all() and np.isnan(high[:2]).all()
    assert low[2] < 0.5 < high[2]


def brute_force(entry: list[int], exit_: list[int], event: list[int]) -> pd.DataFrame:
    """The definition, one time at a time (no vectorisation)."""
    rows, surv, gw = [], 1.0, 0.0
    kept = [(a, b, e) for a, b, e in zip(entry, exit_, event, strict=True) if b > a]
    for t in sorted({b for _, b, _ in kept}):
        n = sum(1 for a, b, _ in kept if a < t <= b)
        d = sum(1 for _, b, e in kept if b == t and e)
        c = sum(1 for _, b, e in kept if b == t and not e)
        surv *= 1 - d / n
        gw += d / (n * (n - d)) if d and n > d else (math.inf if d else 0.0)
        rows.append((t, n, d, c, surv))
    return pd.DataFrame(rows, columns=["time_days", "n_risk", "n_event", "n_censor", "survival"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 60), st.booleans()), min_size=1, max_size=40
    )
)
def test_matches_the_definition_counted_one_time_at_a_time(
    subjects: list[tuple[int, int, bool]],
) -> None:
    entry = [s[0] for s in subjects]
    exit_ = [s[0] + s[1] for s in subjects]
    event = [int(s[2]) for s in subjects]
    curve = kaplan_meier(entry, exit_, event)
    expected = brute_force(entry, exit_, event)
    assert curve["time_days"].tolist() == expected["time_days"].tolist()
    for c in ("n_risk", "n_event", "n_censor"):
        assert curve[c].tolist() == expected[c].tolist(), c
    assert curve["survival"].to_numpy() == pytest.approx(expected["survival"].to_numpy())
    surv = curve["survival"].to_numpy()
    assert (np.diff(surv) <= 1e-15).all() and ((surv >= 0) & (surv <= 1)).all()
    inside = curve["ci_low"].notna()
    assert (curve.loc[inside, "ci_low"] <= curve.loc[inside, "survival"] + 1e-12).all()
    assert (curve.loc[inside, "survival"] <= curve.loc[inside, "ci_high"] + 1e-12).all()
    assert curve.loc[(surv == 1) | (surv == 0), "ci_low"].isna().all()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_matches_lifelines_without_late_entry(seed: int) -> None:
    """Without delayed entry our curve equals lifelines' KaplanMeierFitter (whose default
    interval is the same log(-log) "exponential Greenwood" one); with delayed entry the
    two differ by design (lifelines' entry= counts a late entrant one day earlier)."""
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(seed)
    size = 60
    exit_ = rng.integers(1, 40, size)  # many ties
    event = rng.random(size) < 0.6
    ours = kaplan_meier(np.zeros(size), exit_, event)
    kmf = KaplanMeierFitter().fit(exit_, event_observed=event)
    table = kmf.event_table.loc[ours["time_days"]]
    assert ours["n_risk"].tolist() == table["at_risk"].astype(int).tolist()
    assert ours["n_event"].tolist() == table["observed"].astype(int).tolist()
    assert ours["n_censor"].tolist() == table["censored"].astype(int).tolist()
    surv = kmf.survival_function_.loc[ours["time_days"]].iloc[:, 0].to_numpy()
    np.testing.assert_allclose(ours["survival"], surv, rtol=1e-12)
    ci = kmf.confidence_interval_survival_function_.loc[ours["time_days"]].to_numpy()
    inside = ours["ci_low"].notna().to_numpy()
    assert inside.sum() > 10
    np.testing.assert_allclose(ours["ci_low"].to_numpy()[inside], ci[inside, 0], rtol=1e-9)
    np.testing.assert_allclose(ours["ci_high"].to_numpy()[inside], ci[inside, 1], rtol=1e-9)

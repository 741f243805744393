"""Hand-worked g and t charts: freeze, parts, clipping, words (the qicharts2 goldens of
cases 18 and 23 are in test_spc_golden.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.errors import PumpqiError
from analytics.spc import how_to_read, qic, signal_sentences

P = 3.6


def test_g_chart_freeze_centre_is_the_median_limits_from_the_mean() -> None:
    # baseline 1, 2, 9: mean 4, median 2; sigma = sqrt(4 · 5) = sqrt(20)
    t = qic(y=[1, 2, 9, 30, 3], chart="g", freeze=3).table
    sigma = math.sqrt(20)
    assert t["cl"].tolist() == [2.0] * 5
    assert t["ucl"].tolist() == pytest.approx([4 + 3 * sigma] * 5, rel=1e-12)  # 17.416
    assert t["ucl_95"].tolist() == pytest.approx([4 + 2 * sigma] * 5, rel=1e-12)
    assert t["lcl"].tolist() == [0.0] * 5 and t["lcl_95"].tolist() == [0.0] * 5  # 4 − 13.4 < 0
    assert t["sigma_signal"].tolist() == [False, False, False, True, False]
    assert t["baseline"].tolist() == [True, True, True, False, False]
    # run rules on every point against the median 2: 1 below; 9, 30, 3 above; 2 on the line
    assert t["n_useful"].iloc[0] == 4 and t["longest_run"].iloc[0] == 3
    assert t["n_crossings"].iloc[0] == 1


def test_g_chart_parts_have_their_own_lines() -> None:
    t = qic(y=[1, 2, 9, 10, 20, 30], chart="g", part=["a"] * 3 + ["b"] * 3).table
    assert t["part"].tolist() == [1, 1, 1, 2, 2, 2]
    assert t["cl"].tolist() == [2.0] * 3 + [20.0] * 3
    assert t["ucl"].iloc[0] == pytest.approx(4 + 3 * math.sqrt(20), rel=1e-12)
    assert t["ucl"].iloc[-1] == pytest.approx(20 + 3 * math.sqrt(420), rel=1e-12)  # 81.48
    assert t["lcl"].tolist() == [0.0] * 6


def test_g_chart_lower_limit_above_zero_and_multiply() -> None:
    # mean 100: sigma = sqrt(100 · 101) = 100.4988; 100 − 2 · 100.4988 < 0 but the 3-sigma
    # lower limit is clipped too; with a constant series the median is the mean
    t = qic(y=[100, 100, 100, 100], chart="g", multiply=2).table
    assert t["cl"].tolist() == [200.0] * 4
    assert t["ucl"].iloc[0] == pytest.approx(2 * (100 + 3 * math.sqrt(10100)), rel=1e-12)
    assert (t["lcl"] == 0).all()
    assert t["n_useful"].iloc[0] == 0 and not t["runs_signal"].any()


def test_g_chart_accepts_zero_opportunities() -> None:
    t = qic(y=[0, 0, 5, 1], chart="g").table  # two errors on consecutive refills: 0
    assert t["cl"].iloc[0] == pytest.approx(0.5)
    assert t["ucl"].iloc[0] == pytest.approx(1.5 + 3 * math.sqrt(1.5 * 2.5), rel=1e-12)


def _t_values(roots: list[float]) -> list[float]:
    """Days whose 3.6th roots are `roots` (so the transformed chart is easy by hand)."""
    return [r**P for r in roots]


def test_t_chart_freeze_by_hand() -> None:
    # baseline roots 1, 3, 2, 4: mean 2.5, moving ranges 2, 1, 2 (average 5/3, none
    # >= 3.267 × it), sigma = (5/3) / 1.128 on the transformed scale
    y = _t_values([1, 3, 2, 4, 8, 1])
    t = qic(y=y, chart="t", freeze=4).table
    s = (5 / 3) / 1.128
    assert t["cl"].tolist() == pytest.approx([2.5**P] * 6, rel=1e-12)  # 27.0 days
    assert t["ucl"].tolist() == pytest.approx([(2.5 + 3 * s) ** P] * 6, rel=1e-12)
    assert t["ucl_95"].tolist() == pytest.approx([(2.5 + 2 * s) ** P] * 6, rel=1e-12)
    # 2.5 − 3s and 2.5 − 2s are below 0 on the transformed scale: both lower lines are 0
    assert t["lcl"].tolist() == [0.0] * 6 and t["lcl_95"].tolist() == [0.0] * 6
    assert t["y"].tolist() == pytest.approx(y, rel=1e-12)  # the days themselves
    assert t["sigma_signal"].tolist() == [False] * 4 + [True, False]  # root 8 > 6.93
    # run rules on every point: below, above, below, above, above, below
    assert t["n_useful"].iloc[0] == 6 and t["n_crossings"].iloc[0] == 4
    assert t["longest_run"].iloc[0] == 2


def test_t_chart_lower_limit_above_zero() -> None:
    # roots 4, 5, 4, 5: mean 4.5, moving ranges 1, 1, 1: sigma 1/1.128
    t = qic(y=_t_values([4, 5, 4, 5]), chart="t").table
    assert t["lcl"].iloc[0] == pytest.approx((4.5 - 3 / 1.128) ** P, rel=1e-12)
    assert t["lcl_95"].iloc[0] == pytest.approx((4.5 - 2 / 1.128) ** P, rel=1e-12)


def test_t_chart_screening_and_parts() -> None:
    # part 1 roots 1, 2, 1, 2, 9, 2: moving ranges 1, 1, 1, 7, 7, mean 3.4; 7 < 3.267 · 3.4
    # so nothing is screened; part 2 roots 3, 3, 4, 3: moving ranges 0, 1, 1
    roots = [1, 2, 1, 2, 9, 2, 3, 3, 4, 3]
    t = qic(y=_t_values(roots), chart="t", part=[1] * 6 + [2] * 4).table
    s1, s2 = 3.4 / 1.128, (2 / 3) / 1.128
    assert t["cl"].iloc[0] == pytest.approx((17 / 6) ** P, rel=1e-12)
    assert t["ucl"].iloc[0] == pytest.approx((17 / 6 + 3 * s1) ** P, rel=1e-12)
    assert t["cl"].iloc[-1] == pytest.approx(3.25**P, rel=1e-12)
    assert t["ucl"].iloc[-1] == pytest.approx((3.25 + 3 * s2) ** P, rel=1e-12)
    assert t["lcl"].iloc[-1] == pytest.approx((3.25 - 3 * s2) ** P, rel=1e-12)
    # no moving range reaches 3.267 × their average here, so screening changes nothing
    screened = qic(y=_t_values([1, 1, 1, 1, 20, 1]), chart="t").table
    raw = qic(y=_t_values([1, 1, 1, 1, 20, 1]), chart="t", screen_mr=False).table
    mean = 25 / 6  # moving ranges 0, 0, 0, 19, 19: average 7.6, both kept (19 < 24.8)
    assert screened["ucl"].iloc[0] == pytest.approx((mean + 3 * 7.6 / 1.128) ** P, rel=1e-12)
    assert np.allclose(screened["ucl"], raw["ucl"])


def test_t_chart_screening_drops_a_huge_moving_range() -> None:
    roots = [2, 2, 3, 2, 2, 3, 2, 2, 3, 2, 40]  # moving ranges: 0,1,1,0,1,1,0,1,1,38
    mr = np.abs(np.diff(roots))
    kept = mr[mr < 3.267 * mr.mean()]
    assert kept.size == mr.size - 1  # 38 is screened out
    mean = float(np.mean(roots))
    t = qic(y=_t_values(roots), chart="t").table
    assert t["ucl"].iloc[0] == pytest.approx((mean + 3 * kept.mean() / 1.128) ** P, rel=1e-12)
    assert bool(t["sigma_signal"].iloc[-1])


@pytest.mark.parametrize(
    ("chart", "y", "n", "message"),
    [
        ("t", [3, 0, 2], None, "row 2: days between events must be greater than 0"),
        ("g", [3, -2, 2], None, "row 2: a count of opportunities between events cannot be"),
        ("g", [3, 1, 2], [1, 1, 1], "chart 'g' takes no n"),
    ],
)
def test_rare_event_charts_refuse_bad_gaps(
    chart: str, y: list[float], n: list[float] | None, message: str
) -> None:
    with pytest.raises(PumpqiError, match=message):
        qic(y=y, n=n, chart=chart)  # type: ignore[arg-type]


def test_words_say_what_a_long_gap_means() -> None:
    days = [10.0, 30, 5, 20, 8, 25, 12, 40, 6, 900, 15, 22]
    result = qic(y=days, x=[f"2025-{m:02d}-15" for m in range(1, 13)], chart="t")
    assert signal_sentences(result)[0] == (
        "15 Oct 2025: above the upper limit (an unusually long spell without events)"
    )
    text = how_to_read(result)
    assert text.startswith("Each dot is one event: the days since the event before it")
    g = how_to_read(qic(y=[1, 2, 9, 30, 3], chart="g"))
    assert "the opportunities (e.g. refills) since the event before it" in g
    assert "the solid line is the median" in g


def test_events_of_the_same_day_are_points_of_their_own() -> None:
    """Two refill errors reported the same day: two points (0 refills between them), in
    order, not a refusal for a repeated x (found at 1M visits)."""
    import pandas as pd

    from analytics.figures.charts import gap_chart

    dates = pd.Series(pd.to_datetime(["2026-01-05", "2026-02-10", "2026-02-10", "2026-03-01"]))
    gaps = pd.Series([40.0, 12.0, 0.0, 25.0])
    fig = gap_chart("Refills between refill errors", "g", dates, gaps, "refills between")
    assert fig.result is not None
    t = fig.result.table
    assert t["y"].tolist() == [40.0, 12.0, 0.0, 25.0]
    assert t["x"].is_unique and t["x"].is_monotonic_increasing
    assert [x.date().isoformat() for x in t["x"]] == [
        "2026-01-05",
        "2026-02-10",
        "2026-02-10",
        "2026-03-01",
    ]
    assert t["cl"].iloc[0] == pytest.approx(18.5)  # the median of 40, 12, 0, 25

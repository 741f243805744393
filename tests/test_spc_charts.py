"""Hand-worked charts: points on the centre line, odd n, clipping, zero counts,
moving-range screening, parts, freeze by date, and bad input."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from analytics.errors import PumpqiError
from analytics.spc import SpcOptions, qic, runs_analysis
from analytics.spc.charts import average_moving_range


def months(count: int, start: str = "2025-01") -> list[str]:
    return [str(p) for p in pd.period_range(start, periods=count, freq="M")]


# --- run rules -------------------------------------------------------------------------


def test_points_on_the_centre_line_neither_break_nor_extend_a_run() -> None:
    r = runs_analysis([1, 1, 0, 1, -1, 0, -1], 0)
    assert r.n_useful == 5
    assert r.longest_run == 3  # + + (0) +  : the point on the line does not break it
    assert r.n_crossings == 1
    assert [(run.start, run.end, run.length, run.side) for run in r.runs] == [
        (0, 3, 3, 1),
        (4, 6, 2, -1),
    ]


def test_run_chart_odd_n_median_and_points_on_it() -> None:
    t = qic(y=[1, 2, 3, 3, 3, 4, 5], chart="run").table
    assert (t["cl"] == 3).all()
    assert t["lcl"].isna().all() and t["ucl"].isna().all()
    first = t.iloc[0]
    assert first["n_useful"] == 4  # the three 3s are set aside
    assert first["longest_run"] == 2
    assert first["n_crossings"] == 1
    assert first["longest_run_max"] == round(math.log2(4)) + 3 == 5
    assert first["n_crossings_min"] == 0
    assert not t["runs_signal"].any()
    assert not t["sigma_signal"].any()


def test_all_points_on_the_centre_line_give_no_runs_figures() -> None:
    t = qic(y=[2, 2, 2, 2], chart="run").table
    assert t["n_useful"].iloc[0] == 0
    assert t["longest_run"].isna().all() and t["n_crossings_min"].isna().all()
    assert not t["runs_signal"].any()


def test_long_run_and_few_crossings() -> None:
    y = [1] * 5 + [9] * 10  # n_useful 15 (median 9: the 10 nines are set aside)
    t = qic(y=[*y, 1, 1], chart="run").table
    assert t["cl"].iloc[0] == 9
    assert t["n_useful"].iloc[0] == 7
    assert t["longest_run"].iloc[0] == 7 and t["longest_run_max"].iloc[0] == 6
    assert t["runs_signal"].all()


# --- p and u charts ---------------------------------------------------------------------


def test_p_limits_clipped_to_0_and_1() -> None:
    t = qic(y=[0, 1, 0, 1], n=[2, 2, 2, 2], chart="p").table
    cl, sd = 0.25, math.sqrt(0.25 * 0.75 / 2)
    assert t["cl"].tolist() == [cl] * 4
    assert (t["lcl"] == 0).all() and (t["ucl"] == 1).all()
    assert (t["lcl_95"] == 0).all()
    assert t["ucl_95"].iloc[0] == pytest.approx(cl + 2 * sd, rel=1e-12)
    assert not t["sigma_signal"].any()


def test_p_point_at_1_is_not_a_signal_when_ucl_is_clipped_to_1() -> None:
    t = qic(y=[1, 0, 1, 0, 2], n=[2, 2, 2, 2, 2], chart="p").table
    assert t.loc[4, "y"] == 1 and t.loc[4, "ucl"] == 1
    assert not t.loc[4, "sigma_signal"]  # only strictly outside is a signal


def test_u_lower_limit_clipped_at_0_and_per_1000() -> None:
    t = qic(y=[0, 2, 0, 1], n=[100, 100, 100, 100], chart="u", multiply=1000).table
    cl = 3 / 400
    assert t["cl"].iloc[0] == pytest.approx(cl * 1000, rel=1e-12)
    assert (t["lcl"] == 0).all()
    assert t["ucl"].iloc[0] == pytest.approx((cl + 3 * math.sqrt(cl / 100)) * 1000, rel=1e-12)
    assert t["y"].tolist() == pytest.approx([0, 20, 0, 10])


@pytest.mark.parametrize("chart", ["u", "up", "p", "pp"])
def test_zero_counts_everywhere(chart: str) -> None:
    t = qic(y=[0, 0, 0, 0], n=[50, 60, 70, 80], chart=chart).table  # type: ignore[arg-type]
    assert (t["cl"] == 0).all() and (t["lcl"] == 0).all() and (t["ucl"] == 0).all()
    assert not t["sigma_signal"].any()
    assert t["n_useful"].iloc[0] == 0


def test_laney_pp_sigma_z_by_hand() -> None:
    y, n = np.array([50, 80, 60, 90, 40]), np.array([1000, 1100, 900, 1200, 1000])
    t = qic(y=y, n=n, chart="pp", screen_mr=False).table
    cl = y.sum() / n.sum()
    sd = np.sqrt(cl * (1 - cl) / n)
    z = (y / n - cl) / sd
    sigma_z = np.abs(np.diff(z)).mean() / 1.128
    np.testing.assert_allclose(t["ucl"], cl + 3 * sd * sigma_z, rtol=1e-12)
    np.testing.assert_allclose(t["lcl"], cl - 3 * sd * sigma_z, rtol=1e-12)


# --- i chart: moving-range screening ----------------------------------------------------


Y_SCREEN = [0, 1, 0, 1, 0, 1, 0, 1, 0, 10, 110, 10]  # mr: 1 ×8, 10, 100, 100


def test_moving_ranges_screened_once() -> None:
    # amr = 218/11; 3.267 × amr ≈ 64.7 drops the two 100s, leaving amr = 18/9 = 2.
    # A second screening would drop the 10 too (2 × 3.267 < 10); it must not happen.
    assert average_moving_range(np.array(Y_SCREEN, dtype=float), screen=True) == 2.0
    t = qic(y=Y_SCREEN, chart="i").table
    cl = sum(Y_SCREEN) / 12
    assert t["cl"].iloc[0] == pytest.approx(cl, rel=1e-12)
    assert t["ucl"].iloc[0] == pytest.approx(cl + 3 * 2 / 1.128, rel=1e-12)
    assert t["lcl_95"].iloc[0] == pytest.approx(cl - 2 * 2 / 1.128, rel=1e-12)


def test_unscreened_moving_ranges() -> None:
    t = qic(y=Y_SCREEN, chart="i", screen_mr=False).table
    cl = sum(Y_SCREEN) / 12
    assert t["ucl"].iloc[0] == pytest.approx(cl + 3 * (218 / 11) / 1.128, rel=1e-12)
    assert t["lcl"].iloc[0] == pytest.approx(cl - 3 * (218 / 11) / 1.128, rel=1e-12)


def test_constant_i_chart_has_no_signals() -> None:
    t = qic(y=[5.0] * 6, chart="i").table
    assert (t["ucl"] == 5).all() and not t["sigma_signal"].any()


# --- parts and freeze -----------------------------------------------------------------


def test_parts_have_their_own_centre_limits_and_runs() -> None:
    y = [10, 12, 11, 13, 12, 30, 31, 29, 32, 30, 31]
    part = ["before"] * 5 + ["after"] * 6
    t = qic(y=y, x=months(11), part=part, chart="i").table
    first, second = t[t["part"] == 1], t[t["part"] == 2]
    assert len(first) == 5 and len(second) == 6
    assert first["cl"].iloc[0] == pytest.approx(np.mean(y[:5]))
    assert second["cl"].iloc[0] == pytest.approx(np.mean(y[5:]))
    sigma2 = np.abs(np.diff(y[5:])).mean() / 1.128
    assert second["ucl"].iloc[0] == pytest.approx(np.mean(y[5:]) + 3 * sigma2)
    assert first["n_useful"].iloc[0] == 5 and second["n_useful"].iloc[0] == 6
    assert not t["sigma_signal"].any()  # with one part, the shift would be outside the limits
    assert qic(y=y, x=months(11), chart="i").table["sigma_signal"].any()


def test_freeze_by_date_fixes_centre_and_limits_but_runs_use_every_point() -> None:
    y = [20, 22, 21, 23, 19, 22, 30, 31, 29, 32, 30, 31]
    t = qic(y=y, x=months(12), chart="i", freeze=dt.date(2025, 6, 1)).table
    assert t["baseline"].tolist() == [True] * 6 + [False] * 6
    base = np.array(y[:6], dtype=float)
    sigma = np.abs(np.diff(base)).mean() / 1.128
    assert (t["cl"] == base.mean()).all()
    assert t["ucl"].iloc[-1] == pytest.approx(base.mean() + 3 * sigma)
    assert t["sigma_signal"].tolist()[6:] == [True] * 6
    # runs against cl = 21.17 over all 12 points: b a b a b, then 22 and the six after above
    assert t["n_useful"].iloc[0] == 12 and t["longest_run"].iloc[0] == 7
    assert t["n_crossings"].iloc[0] == 5


def test_freeze_by_month_text_equals_freeze_by_count() -> None:
    y = [20, 22, 21, 23, 19, 21, 30, 31, 29, 32, 30, 31]
    by_date = qic(y=y, x=months(12), chart="i", freeze="2025-06").table
    by_count = qic(y=y, x=months(12), chart="i", freeze=6).table
    pd.testing.assert_frame_equal(by_date, by_count)


def test_freeze_and_part_together() -> None:
    y = [20, 22, 21, 23, 19, 21, 24, 22, 40, 41, 39, 42]
    part = [1] * 8 + [2] * 4
    t = qic(y=y, x=months(12), chart="i", freeze=4, part=part).table
    assert t["baseline"].tolist() == [True] * 4 + [False] * 4 + [True] * 4
    assert (t.loc[:7, "cl"] == np.mean(y[:4])).all()
    assert (t.loc[8:, "cl"] == np.mean(y[8:])).all()


def test_rows_are_ordered_by_x() -> None:
    x = months(6)
    shuffled = [x[i] for i in (3, 0, 5, 1, 4, 2)]
    y = [4, 1, 6, 2, 5, 3]
    t = qic(pd.DataFrame({"m": shuffled, "v": y}), y="v", x="m", chart="run").table
    assert t["y"].tolist() == [1, 2, 3, 4, 5, 6]
    assert t["x"].iloc[0] == pd.Timestamp("2025-01-01")


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y": ["1", "x", "3"], "chart": "run"}, "'x' is not a number"),
        ({"y": [1, 2, 3], "n": [1, 0, 2], "chart": "p"}, "denominator must be greater than 0"),
        ({"y": [1, 2, 3], "n": [1, -4, 2], "chart": "u"}, "denominator must be greater than 0"),
        ({"y": [1, 5, 1], "n": [2, 2, 2], "chart": "p"}, "cannot exceed 1"),
        ({"y": [1, 5, 1], "n": [2, 2, 2], "chart": "pp"}, "cannot exceed 1"),
        ({"y": [-1, 5, 1], "n": [9, 9, 9], "chart": "u"}, "cannot be negative"),
        ({"y": [1], "chart": "run"}, "at least 2 points"),
        ({"y": [1, 2, 3], "chart": "p"}, "needs n"),
        ({"y": [1, None, 3], "chart": "i"}, "row 2: the value is empty"),
        ({"y": [1, 2, 3], "x": ["2025-01", "2025-02", "2025-01"], "chart": "i"}, "appears twice"),
        ({"y": [1, 2, 3], "chart": "i", "freeze": 1}, "between 2 and 3"),
        ({"y": [1, 2, 3], "chart": "i", "freeze": "2025-02-01"}, "needs x to be dates"),
        ({"y": [1, 2, 3], "chart": "i", "freeze": "soon"}, "neither a number"),
        ({"y": [1, 2, 3], "part": [1, 2, 2], "chart": "i"}, "has only 1 point"),
        ({"y": [1, 2, 3], "chart": "xbar"}, "not known"),
        ({"y": [1, 2, 3], "chart": "i", "multiply": 0}, "greater than 0"),
    ],
)
def test_bad_input_is_one_clear_line(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(PumpqiError, match=message) as err:
        qic(**kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(err.value)


def test_missing_column_lists_the_columns() -> None:
    with pytest.raises(PumpqiError, match=r"no column 'rate' for y \(columns: a, b\)"):
        qic(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), y="rate")


def test_options_are_frozen() -> None:
    opts = SpcOptions("p", 100)
    with pytest.raises(AttributeError):
        opts.chart = "u"  # type: ignore[misc]

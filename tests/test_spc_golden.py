"""Our charts against qicharts2 0.8.1 (tests/golden/spc): limits to 1e-9 relative,
integers and booleans exactly, every column both tables have."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.spc import longest_run_max, n_crossings_min, qic

GOLDEN = Path(__file__).parent / "golden" / "spc"
CASES = pd.read_csv(GOLDEN / "cases_summary.csv")
FLOAT_COLUMNS = ("y", "cl", "lcl", "ucl", "lcl_95", "ucl_95")
EXACT_COLUMNS = (
    "n", "sigma_signal", "baseline", "part", "n_useful", "longest_run", "longest_run_max",
    "n_crossings", "n_crossings_min", "runs_signal",
)  # fmt: skip
RTOL = 1e-9


def _case_result(case: pd.Series) -> pd.DataFrame:
    data = pd.read_csv(GOLDEN / f"{case['case']}_input.csv")
    chart = case["chart"]
    freeze = None if pd.isna(case["freeze"]) else int(case["freeze"])
    result = qic(
        data,
        chart=chart,
        y="y",
        n=None if chart in ("run", "i", "g", "t") else "n",
        x="x",
        multiply=float(case["multiply"]),
        freeze=freeze,
    )
    return result.table


@pytest.mark.parametrize("case", [r for _, r in CASES.iterrows()], ids=list(CASES["case"]))
def test_case_matches_qicharts2(case: pd.Series) -> None:
    ours = _case_result(case)
    ref = pd.read_csv(GOLDEN / f"{case['case']}.csv")
    assert len(ours) == len(ref)
    assert ours["x"].tolist() == ref["x"].tolist()
    compared = 0
    for col in FLOAT_COLUMNS:
        if col in ours.columns:
            np.testing.assert_allclose(
                ours[col].to_numpy(float), ref[col].to_numpy(float), rtol=RTOL, atol=0,
                equal_nan=True, err_msg=f"{case['case']}: {col}",
            )  # fmt: skip
            compared += 1
    for col in EXACT_COLUMNS:
        if col in ours.columns:
            mine = [None if pd.isna(v) else v for v in ours[col].tolist()]
            theirs = [None if pd.isna(v) else v for v in ref[col].tolist()]
            assert mine == theirs, f"{case['case']}: {col}"
            compared += 1
    assert compared == len(FLOAT_COLUMNS) + len(EXACT_COLUMNS)


@pytest.mark.parametrize("case", [r for _, r in CASES.iterrows()], ids=list(CASES["case"]))
def test_case_summary(case: pd.Series) -> None:
    ours = _case_result(case)
    first = ours.iloc[0]
    for col in ("n_useful", "longest_run", "longest_run_max", "n_crossings", "n_crossings_min"):
        assert int(first[col]) == int(case[col]), col
    assert bool(first["runs_signal"]) == bool(case["runs_signal"])
    assert int(ours["sigma_signal"].sum()) == int(case["n_sigma_signals"])
    signal_x = ours.loc[ours["sigma_signal"], "x"].astype(int).astype(str).tolist()
    expected = [] if pd.isna(case["sigma_signal_x"]) else str(case["sigma_signal_x"]).split()
    assert signal_x == expected
    assert ours["cl"].iloc[0] == pytest.approx(case["cl_first"], rel=RTOL)
    assert ours["cl"].iloc[-1] == pytest.approx(case["cl_last"], rel=RTOL)


def test_anhoej_thresholds_1_to_200() -> None:
    table = pd.read_csv(GOLDEN / "anhoej_thresholds.csv")
    assert table["n_useful"].tolist() == list(range(1, 201))
    for row in table.itertuples():
        assert longest_run_max(row.n_useful) == row.longest_run_max, row.n_useful
        assert n_crossings_min(row.n_useful) == row.n_crossings_min, row.n_useful


def test_screening_changes_the_reference_cases() -> None:
    """The screened cases really depend on screening (so the golden test is a real check)."""
    for case, chart, n in (
        ("14_i_chart_screened_mr", "i", None),
        ("11_pp_laney_large_n", "pp", "n"),
        ("23_t_days_between_events", "t", None),
    ):
        data = pd.read_csv(GOLDEN / f"{case}_input.csv")
        ref = pd.read_csv(GOLDEN / f"{case}.csv")
        raw = qic(data, chart=chart, y="y", n=n, x="x", screen_mr=False).table
        assert not np.allclose(raw["ucl"], ref["ucl"], rtol=1e-6)


def test_public_names_resolve() -> None:
    import analytics.spc as spc

    assert sorted(spc.__all__) == sorted(spc._EXPORTS)
    for name in spc.__all__:
        assert getattr(spc, name) is not None

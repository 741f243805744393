"""Invariants: `multiply` scales values, centre and limits and changes no signal;
the order of input rows does not matter."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.spc import qic

SCALED = ("y", "cl", "lcl", "ucl", "lcl_95", "ucl_95")
UNCHANGED = (
    "x", "n", "sigma_signal", "runs_signal", "longest_run", "longest_run_max", "n_crossings",
    "n_crossings_min", "part", "baseline", "n_useful",
)  # fmt: skip


@st.composite
def charts(draw: st.DrawFn) -> dict[str, object]:
    chart = draw(st.sampled_from(["run", "i", "p", "pp", "u", "up"]))
    size = draw(st.integers(min_value=4, max_value=30))
    if chart in ("run", "i"):
        y = draw(st.lists(st.integers(-500, 500), min_size=size, max_size=size))
        kwargs: dict[str, object] = {"y": [v / 4 for v in y]}
    else:
        n = draw(st.lists(st.integers(1, 5000), min_size=size, max_size=size))
        y = [draw(st.integers(0, v if chart in ("p", "pp") else 3 * v)) for v in n]
        kwargs = {"y": y, "n": n}
    split = draw(st.integers(0, size - 2))
    if split >= 2:
        kwargs["part"] = [1] * split + [2] * (size - split)
    freeze = draw(st.integers(0, size))
    if freeze >= 2 and (split < 2 or freeze < split - 1 or freeze >= split + 2):
        kwargs["freeze"] = freeze
    screen_mr = draw(st.booleans())
    return {"chart": chart, "screen_mr": screen_mr, **kwargs}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=charts(), k=st.floats(min_value=1e-3, max_value=1e6, allow_nan=False))
def test_multiply_scales_values_and_limits_and_changes_no_signal(
    spec: dict[str, object], k: float
) -> None:
    base = qic(**spec).table  # type: ignore[arg-type]
    scaled = qic(**spec, multiply=k).table  # type: ignore[arg-type]
    for col in SCALED:
        np.testing.assert_allclose(scaled[col], base[col] * k, rtol=1e-12, atol=0, equal_nan=True)
    for col in UNCHANGED:
        pd.testing.assert_series_equal(scaled[col], base[col], check_names=True)


@settings(max_examples=50, deadline=None)
@given(spec=charts(), seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_matter(spec: dict[str, object], seed: int) -> None:
    spec = {k: v for k, v in spec.items() if k != "part"}
    size = len(spec["y"])  # type: ignore[arg-type]
    x = [str(p) for p in pd.period_range("2024-01", periods=size, freq="M")]
    order = np.random.default_rng(seed).permutation(size)

    def shuffled(values: object) -> list[object]:
        return [list(values)[i] for i in order]  # type: ignore[call-overload]

    plain = qic(**spec, x=x).table  # type: ignore[arg-type]
    moved = {k: shuffled(v) if k in ("y", "n") else v for k, v in spec.items()}
    again = qic(**moved, x=shuffled(x)).table  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(plain, again)

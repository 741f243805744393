"""The Garwood interval without scipy.stats (analytics.engine.intervals.chi2_half_ppf):
bit for bit the formula with scipy.stats.chi2.ppf it replaces, for any counts,
exposures and levels (hypothesis), so that no rate interval moves."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from analytics.engine.intervals import garwood

COUNTS = st.lists(
    st.one_of(st.integers(0, 10**7).map(float), st.floats(0.0, 1e7), st.just(float("nan"))),
    min_size=1,
    max_size=40,
)


def _with_scipy_stats(
    k: np.ndarray, t: np.ndarray, multiplier: float, level: float
) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        tt = np.where(np.isfinite(t) & (t > 0) & np.isfinite(k), t, np.nan)
        lo_k = np.where(k > 0, chi2.ppf(alpha / 2, 2 * np.maximum(k, 1e-300)) / 2, 0.0)
        hi_k = chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
        return lo_k / tt * multiplier, hi_k / tt * multiplier


@settings(max_examples=200, deadline=None)
@given(
    counts=COUNTS,
    exposure=st.just(0.0) | st.floats(1e-3, 1e9),
    level=st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.999]) | st.floats(0.5, 0.9999),
)
def test_garwood_equals_the_scipy_stats_formula(
    counts: list[float], exposure: float, level: float
) -> None:
    k = np.asarray(counts, dtype=float)
    t = np.full(len(k), exposure)
    _, lower, upper = garwood(k, t, 1000.0, level)
    want_lower, want_upper = _with_scipy_stats(k, t, 1000.0, level)
    np.testing.assert_array_equal(lower, want_lower)
    np.testing.assert_array_equal(upper, want_upper)


def test_metrics_import_leaves_scipy_stats_out() -> None:
    """`pumpqi metrics` does not pay for importing scipy.stats (a fresh interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys, analytics.cli.commands, analytics.engine.metrics; "
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""Exact confidence intervals."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.stats import chi2

FloatArray = npt.NDArray[np.float64]


def garwood(
    events: npt.ArrayLike, exposure: npt.ArrayLike, multiplier: float = 1000.0, level: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Rate and exact Poisson (Garwood) interval: events / exposure x multiplier.

    lower = chi2(alpha/2; 2k) / 2, upper = chi2(1 - alpha/2; 2k + 2) / 2, each divided by
    the exposure and multiplied; lower = 0 when k = 0. NaN where exposure is 0 or missing.
    """
    k = np.asarray(events, dtype=float)
    t = np.asarray(exposure, dtype=float)
    alpha = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        valid = np.isfinite(t) & (t > 0) & np.isfinite(k)
        tt = np.where(valid, t, np.nan)
        rate = k / tt * multiplier
        lo_k = np.where(k > 0, chi2.ppf(alpha / 2, 2 * np.maximum(k, 1e-300)) / 2, 0.0)
        hi_k = chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
        lower = lo_k / tt * multiplier
        upper = hi_k / tt * multiplier
    return rate, lower, upper

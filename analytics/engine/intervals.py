"""Exact confidence intervals."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import gammaincinv

FloatArray = npt.NDArray[np.float64]


def chi2_half_ppf(q: float, dof: npt.NDArray[np.float64]) -> FloatArray:
    """Half the q-quantile of the chi-square distribution with 2 x `dof` degrees of freedom
    (dof > 0): the inverse regularised lower incomplete gamma function at q, the
    formula scipy.stats.chi2.ppf applies (a test holds them equal), without importing
    scipy.stats (a second of start-up for every `pumpqi metrics`)."""
    return np.asarray(gammaincinv(dof, q), dtype=float)


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
        lo_k = np.where(k > 0, chi2_half_ppf(alpha / 2, np.maximum(k, 1e-300)), 0.0)
        hi_k = chi2_half_ppf(1 - alpha / 2, k + 1)
        lower = lo_k / tt * multiplier
        upper = hi_k / tt * multiplier
    return rate, lower, upper


def clopper_pearson(
    successes: npt.ArrayLike, trials: npt.ArrayLike, multiplier: float = 100.0, level: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Proportion and exact binomial (Clopper-Pearson) interval: x / n x multiplier.

    lower = Beta(alpha/2; x, n - x + 1), upper = Beta(1 - alpha/2; x + 1, n - x), each
    multiplied; lower = 0 when x = 0 and upper = 1 (x multiplier) when x = n. NaN where n
    is 0 or missing.
    """
    from scipy.stats import beta  # here: see chi2_half_ppf

    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    alpha = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        valid = np.isfinite(n) & (n > 0) & np.isfinite(x)
        nn = np.where(valid, n, np.nan)
        p = x / nn
        a_lo, b_lo = np.maximum(x, 1e-300), np.maximum(nn - x + 1, 1e-300)
        lower = np.where(x > 0, beta.ppf(alpha / 2, a_lo, b_lo), 0.0)
        a_hi, b_hi = x + 1, np.maximum(nn - x, 1e-300)
        upper = np.where(x < nn, beta.ppf(1 - alpha / 2, a_hi, b_hi), 1.0)
        lower = np.where(valid, lower, np.nan)
        upper = np.where(valid, upper, np.nan)
    return p * multiplier, lower * multiplier, upper * multiplier

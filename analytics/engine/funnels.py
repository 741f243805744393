"""Funnel plots: exact limits around a pooled value, and their widening for
overdispersion (Spiegelhalter 2005, "Funnel plots for comparing institutional
performance", Stat Med 24:1185).

Exact limits for a unit of size n around the pooled value θ0:

* Poisson (a rate per pump-day, n = pump-days): qpois(q, θ0·n) / n;
* binomial (a proportion, n = procedures): qbinom(q, n, θ0) / n.

When units differ more than chance allows (events cluster within patients, case mix),
exact limits flag too many units. Each unit's z-score z_i = (y_i − θ0) / s_i, with s_i
its standard error under θ0 (Poisson sqrt(θ0 / n_i); binomial sqrt(θ0(1 − θ0) / n_i)),
is winsorised at 10 % (z-scores beyond the 10th and 90th percentiles are set to them),
and φ = mean of the winsorised z². Then:

* ``none``: the exact limits;
* ``multiplicative``: when φ > 1, every limit's distance from θ0 is multiplied by √φ;
* ``additive`` (random effects, DerSimonian–Laird style): τ² = (I·φ − (I − 1)) /
  (Σw − Σw² / Σw), w_i = 1 / s_i², 0 when negative; a limit's distance from θ0 at size
  n is multiplied by √(1 + τ² / s(n)²) (for large n: θ0 ± z·√(s² + τ²)).

Lower limits are never below 0, upper limits of a proportion never above 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import binom, poisson

from analytics.errors import PumpqiError

Overdispersion = Literal["none", "multiplicative", "additive"]
OVERDISPERSION: tuple[str, ...] = get_args(Overdispersion)
WINSOR_FRACTION = 0.1
FloatArray = npt.NDArray[np.float64]
#: (name, lower quantile, upper quantile) of the two pairs of funnel limits.
BANDS: tuple[tuple[str, float, float], ...] = (("95", 0.025, 0.975), ("998", 0.001, 0.999))
DISPERSION_COLUMNS: tuple[str, ...] = ("overdispersion", "phi", "tau2")


@dataclass(frozen=True)
class Dispersion:
    """How the funnel's limits allow for overdispersion.

    method: none | multiplicative | additive; phi: the winsorised mean square of the
    z-scores (1 when units vary as chance alone); tau2: the between-unit variance of the
    additive model (0 when none); units: how many units the estimate used. phi and tau2
    are always estimated (NaN with fewer than 2 usable units); only `method` decides
    whether they widen the limits.
    """

    method: Overdispersion = "none"
    phi: float = float("nan")
    tau2: float = float("nan")
    units: int = 0

    def factor(self, se: npt.ArrayLike) -> FloatArray:
        """The factor on each limit's distance from the pooled value, for units whose
        standard error under the pooled value is `se`."""
        s = np.asarray(se, dtype=np.float64)
        ones = np.ones_like(s)
        if self.method == "multiplicative" and np.isfinite(self.phi) and self.phi > 1:
            return ones * np.sqrt(self.phi)
        if self.method == "additive" and np.isfinite(self.tau2) and self.tau2 > 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.sqrt(1.0 + self.tau2 / s**2)
            return np.where(s > 0, f, ones)
        return ones

    @property
    def label(self) -> str:
        """What the chart says about its limits."""
        if self.method == "multiplicative":
            if np.isfinite(self.phi) and self.phi > 1:
                return f"limits widened for overdispersion (multiplicative, φ = {self.phi:.2f})"
            return f"exact limits: no overdispersion found (φ = {self.phi:.2f})"
        if self.method == "additive":
            if np.isfinite(self.tau2) and self.tau2 > 0:
                return f"limits widened for overdispersion (additive, τ² = {self.tau2:.3g})"
            return "exact limits: no overdispersion found (τ² = 0)"
        return "exact limits (no allowance for overdispersion)"


def check_method(method: str) -> Overdispersion:
    if method not in OVERDISPERSION:
        raise PumpqiError(f"overdispersion '{method}' is not one of {', '.join(OVERDISPERSION)}")
    return method  # type: ignore[return-value]


def winsorise(z: npt.ArrayLike, fraction: float = WINSOR_FRACTION) -> FloatArray:
    """z with values below its `fraction` quantile and above its 1 − `fraction` quantile
    set to those quantiles (linear interpolation between order statistics, R's type 7)."""
    arr = np.asarray(z, dtype=np.float64)
    if arr.size == 0:
        return arr
    low, high = np.quantile(arr, [fraction, 1 - fraction])
    return np.clip(arr, low, high)


def estimate(
    values: npt.ArrayLike, pooled: float, se: npt.ArrayLike, method: str = "none"
) -> Dispersion:
    """φ and τ² from the units' values (rates or proportions) and their standard errors
    under the pooled value (units with se 0 or missing are left out)."""
    chosen = check_method(method)
    y = np.asarray(values, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    usable = np.isfinite(y) & np.isfinite(s) & (s > 0)
    units = int(usable.sum())
    if units < 2:
        return Dispersion(chosen, float("nan"), float("nan"), units)
    z = winsorise((y[usable] - pooled) / s[usable])
    phi = float(np.mean(z**2))
    w = 1.0 / s[usable] ** 2
    spread = float(w.sum() - (w**2).sum() / w.sum())
    excess = units * phi - (units - 1)
    tau2 = max(0.0, excess / spread) if spread > 0 else 0.0
    return Dispersion(chosen, phi, tau2, units)


def widen(
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
    pooled: float,
    se: npt.ArrayLike,
    dispersion: Dispersion | None,
    ceiling: float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Exact limits with their distance from the pooled value multiplied by the
    dispersion's factor, never narrower than the exact ones; the lower never below 0,
    the upper never above `ceiling`."""
    lo = np.asarray(lower, dtype=np.float64)
    hi = np.asarray(upper, dtype=np.float64)
    if dispersion is None:
        return lo, hi
    f = dispersion.factor(se)
    # never narrower than the exact limits (for a tiny unit an exact limit can lie on the
    # other side of the pooled value: it then stays as it is)
    lo = np.maximum(np.minimum(lo, pooled - (pooled - lo) * f), 0.0)
    hi = np.maximum(hi, pooled + (hi - pooled) * f)
    return lo, (hi if ceiling is None else np.minimum(hi, ceiling))


def poisson_se(pooled: float, exposure: npt.ArrayLike) -> FloatArray:
    """sqrt(θ0 / T): the standard error of a rate over exposure T under the pooled rate."""
    t = np.asarray(exposure, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.sqrt(pooled / t), dtype=np.float64)


def binomial_se(pooled: float, trials: npt.ArrayLike) -> FloatArray:
    """sqrt(θ0(1 − θ0) / n): the standard error of a proportion of n under the pooled one."""
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.sqrt(pooled * (1 - pooled) / n), dtype=np.float64)


def poisson_limits(
    pooled: float,
    exposure: npt.ArrayLike,
    lower_q: float,
    upper_q: float,
    dispersion: Dispersion | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Funnel limits of a rate per unit of exposure (per pump-day): qpois(q, θ0·T) / T,
    widened for overdispersion when asked."""
    t = np.asarray(exposure, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = poisson.ppf(lower_q, pooled * t) / t
        hi = poisson.ppf(upper_q, pooled * t) / t
    return widen(lo, hi, pooled, poisson_se(pooled, t), dispersion)


def binomial_limits(
    pooled: float,
    trials: npt.ArrayLike,
    lower_q: float,
    upper_q: float,
    dispersion: Dispersion | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Funnel limits of a proportion of n trials: qbinom(q, n, θ0) / n, widened for
    overdispersion when asked (kept within 0–1)."""
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = binom.ppf(lower_q, n, pooled) / n
        hi = binom.ppf(upper_q, n, pooled) / n
    return widen(lo, hi, pooled, binomial_se(pooled, n), dispersion, ceiling=1.0)


def signals(
    value: pd.Series, limits: dict[str, tuple[FloatArray, FloatArray]]
) -> npt.NDArray[np.object_]:
    """'above 99.8 % limit', 'below 95 % limit', … or '' per unit (the widest band first)."""
    v = value.to_numpy(dtype=np.float64)
    lo95, hi95 = limits["95"]
    lo998, hi998 = limits["998"]
    return np.select(
        [v > hi998, v < lo998, v > hi95, v < lo95],
        ["above 99.8 % limit", "below 99.8 % limit", "above 95 % limit", "below 95 % limit"],
        default="",
    ).astype(object)


def binomial_funnel(
    table: pd.DataFrame,
    events: str = "with_outcome",
    trials: str = "procedures",
    group: str = "group",
    overdispersion: str = "none",
) -> pd.DataFrame:
    """Funnel table of proportions per 100 (e.g. procedures with a surgical outcome):
    each group's rate_per_100 = events / trials × 100 against the pooled rate (Σ events
    / Σ trials), with exact binomial 95 % and 99.8 % limits for its trials, widened for
    overdispersion when asked (module docstring). Groups without trials are left out.
    Columns: group, events, trials (their own names), rate_per_100,
    pooled_rate_per_100, lower_95, upper_95, lower_998, upper_998, signal,
    overdispersion, phi, tau2."""
    df = table.loc[table[trials] > 0, [group, events, trials]].reset_index(drop=True)
    if group != "group":
        df = df.rename(columns={group: "group"})
    n = df[trials].to_numpy(dtype=np.float64)
    total = float(n.sum())
    pooled = float(df[events].sum()) / total if total > 0 else float("nan")
    share = df[events].to_numpy(dtype=np.float64) / np.where(n > 0, n, np.nan)
    dispersion = estimate(share, pooled, binomial_se(pooled, n), overdispersion)
    df["rate_per_100"] = share * 100
    df["pooled_rate_per_100"] = pooled * 100
    limits = {b: binomial_limits(pooled, n, lo_q, hi_q, dispersion) for b, lo_q, hi_q in BANDS}
    for band, (lo, hi) in limits.items():
        df[f"lower_{band}"], df[f"upper_{band}"] = lo * 100, hi * 100
    df["signal"] = signals(pd.Series(share), limits)
    return with_dispersion(df, dispersion)


def with_dispersion(df: pd.DataFrame, dispersion: Dispersion) -> pd.DataFrame:
    """The table with the method, φ and τ² repeated on every row (DISPERSION_COLUMNS)."""
    return df.assign(overdispersion=dispersion.method, phi=dispersion.phi, tau2=dispersion.tau2)


def dispersion_of(table: pd.DataFrame) -> Dispersion:
    """The Dispersion a funnel table was computed with (to draw its curves)."""
    if table.empty or "overdispersion" not in table:
        return Dispersion()
    row = table.iloc[0]
    method = check_method(str(row["overdispersion"]))
    return Dispersion(method, float(row["phi"]), float(row["tau2"]), len(table))

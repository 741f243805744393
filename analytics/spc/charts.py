"""Centre line and limits for each chart type, for one part of a chart.

Every function takes the plotted values before `multiply` (for p and u charts the
ratio count / n), the counts and denominators, and `base`: which points form the
baseline the centre and limits are computed from. It returns the lines for every
point of the part. The formulas follow qicharts2 0.8.1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: d2 for moving ranges of two: sigma = average moving range / 1.128.
D2 = 1.128
#: D4 for moving ranges of two: moving ranges >= 3.267 × their average are screened out.
D4 = 3.267
#: The t chart works on y^(1/3.6), which makes exponential times between events
#: close to normal (Nelson 1994), and raises its lines back to the power 3.6.
T_POWER = 3.6


@dataclass(frozen=True, eq=False)
class PartData:
    """The points of one part: values (count / n for ratio charts), counts, n, baseline."""

    values: FloatArray
    counts: FloatArray
    n: FloatArray
    base: BoolArray
    screen_mr: bool = True


@dataclass(frozen=True, eq=False)
class Lines:
    """Centre line, 3-sigma limits and 2-sigma (95 %) lines, one value per point."""

    cl: FloatArray
    lcl: FloatArray
    ucl: FloatArray
    lcl_95: FloatArray
    ucl_95: FloatArray


def average_moving_range(values: FloatArray, screen: bool) -> float:
    """Mean of |x_i − x_{i−1}|; with screening, moving ranges >= 3.267 × that mean
    are dropped once and the mean taken again (Nelson 1982, qicharts2's default).
    """
    mr = np.abs(np.diff(values))
    mr = mr[np.isfinite(mr)]
    if mr.size == 0:
        return float("nan")
    amr = float(mr.mean())
    if screen and amr > 0:
        amr = float(mr[mr < D4 * amr].mean())
    return amr


def _lines(cl: float, sigma: FloatArray | float, size: int) -> Lines:
    cl_arr = np.full(size, cl, dtype=float)
    s = np.broadcast_to(np.asarray(sigma, dtype=float), (size,))
    return Lines(cl_arr, cl_arr - 3 * s, cl_arr + 3 * s, cl_arr - 2 * s, cl_arr + 2 * s)


def _clip(lines: Lines, low: float | None, high: float | None) -> Lines:
    def c(a: FloatArray) -> FloatArray:
        return np.clip(a, low, high)

    return Lines(lines.cl, c(lines.lcl), c(lines.ucl), c(lines.lcl_95), c(lines.ucl_95))


def run_lines(d: PartData) -> Lines:
    """Run chart: cl = median of the baseline values; no limits."""
    size = d.values.size
    nan = np.full(size, np.nan)
    cl = np.full(size, float(np.median(d.values[d.base])))
    return Lines(cl, nan, nan.copy(), nan.copy(), nan.copy())


def i_lines(d: PartData) -> Lines:
    """I chart: cl = mean of the baseline values; sigma = AMR / 1.128, where AMR is
    the average moving range of consecutive baseline values (screened when asked);
    limits cl ± 3·sigma (95 % lines ± 2·sigma)."""
    base = d.values[d.base]
    cl = float(base.mean())
    sigma = average_moving_range(base - cl, d.screen_mr) / D2
    return _lines(cl, sigma, d.values.size)


def _ratio_cl(d: PartData) -> float:
    return float(d.counts[d.base].sum() / d.n[d.base].sum())


def _laney_sigma_z(d: PartData, cl: float, stdev: FloatArray) -> float:
    """Laney's sigma_z: AMR of the baseline z-scores z_i = (y_i − cl) / stdev_i, / 1.128.

    When every stdev is 0 (cl is 0 or 1) the limits collapse to cl and sigma_z is 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (d.values[d.base] - cl) / stdev[d.base]
    sigma_z = average_moving_range(z, d.screen_mr) / D2
    return sigma_z if np.isfinite(sigma_z) else 0.0


def p_lines(d: PartData) -> Lines:
    """P chart: cl = Σcount / Σn over the baseline; sigma_i = sqrt(cl(1 − cl) / n_i);
    limits cl ± 3·sigma_i clipped to [0, 1]."""
    cl = _ratio_cl(d)
    stdev = np.sqrt(cl * (1 - cl) / d.n)
    return _clip(_lines(cl, stdev, d.values.size), 0.0, 1.0)


def pp_lines(d: PartData) -> Lines:
    """Laney P′ chart: as the P chart, with sigma_i = sqrt(cl(1 − cl) / n_i) · sigma_z,
    sigma_z = AMR of the baseline z-scores / 1.128 (screened when asked); clipped to [0, 1]."""
    cl = _ratio_cl(d)
    stdev = np.sqrt(cl * (1 - cl) / d.n)
    stdev = stdev * _laney_sigma_z(d, cl, stdev)
    return _clip(_lines(cl, stdev, d.values.size), 0.0, 1.0)


def u_lines(d: PartData) -> Lines:
    """U chart: cl = Σcount / Σexposure over the baseline; sigma_i = sqrt(cl / n_i);
    limits cl ± 3·sigma_i, the lower ones clipped at 0."""
    cl = _ratio_cl(d)
    stdev = np.sqrt(cl / d.n)
    return _clip(_lines(cl, stdev, d.values.size), 0.0, None)


def up_lines(d: PartData) -> Lines:
    """Laney U′ chart: as the U chart, with sigma_i = sqrt(cl / n_i) · sigma_z,
    sigma_z = AMR of the baseline z-scores / 1.128 (screened when asked); lower lines clipped at 0."""
    cl = _ratio_cl(d)
    stdev = np.sqrt(cl / d.n)
    stdev = stdev * _laney_sigma_z(d, cl, stdev)
    return _clip(_lines(cl, stdev, d.values.size), 0.0, None)


def g_lines(d: PartData) -> Lines:
    """G chart (opportunities between rare events, geometric distribution): with
    m = mean of the baseline values, sigma = sqrt(m(m + 1)) and limits m ± 3·sigma
    (95 % lines ± 2·sigma), lower ones clipped at 0; the centre line is the baseline
    values' median (the limits still come from the mean), as qicharts2 draws it."""
    base = d.values[d.base]
    mean = float(base.mean())
    sigma = float(np.sqrt(mean * (mean + 1)))
    lines = _clip(_lines(mean, sigma, d.values.size), 0.0, None)
    cl = np.full(d.values.size, float(np.median(base)))
    return Lines(cl, lines.lcl, lines.ucl, lines.lcl_95, lines.ucl_95)


def t_lines(d: PartData) -> Lines:
    """T chart (time between rare events, all > 0): an I chart of y^(1/3.6) (its
    moving-range screening as asked), whose centre line and limits are raised back to
    the power 3.6; a lower line below 0 on the transformed scale is 0."""
    transformed = replace(d, values=d.values ** (1 / T_POWER))
    lines = i_lines(transformed)

    def back(a: FloatArray) -> FloatArray:
        return np.asarray(np.clip(a, 0.0, None) ** T_POWER, dtype=np.float64)

    return Lines(back(lines.cl), back(lines.lcl), back(lines.ucl),
                 back(lines.lcl_95), back(lines.ucl_95))  # fmt: skip


CHART_LINES: dict[str, Callable[[PartData], Lines]] = {
    "run": run_lines,
    "i": i_lines,
    "p": p_lines,
    "pp": pp_lines,
    "u": u_lines,
    "up": up_lines,
    "g": g_lines,
    "t": t_lines,
}

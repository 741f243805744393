"""Anhøj run rules: unusually long runs and too few crossings of the centre line.

Points exactly on the centre line are set aside first: they neither break nor
extend a run and are not counted in n_useful. Then

* longest_run_max = round(log2(n_useful)) + 3            (Schilling 2012)
* n_crossings_min = qbinom(0.05, n_useful − 1, 0.5)      (Chen 2010)
* runs signal when longest_run > longest_run_max or n_crossings < n_crossings_min.

R's round() rounds halves to even, like Python's; log2 of an integer is never
exactly a half, so the two agree for every n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import binom


@dataclass(frozen=True)
class Run:
    """A run of useful points on one side of the centre line.

    start, end: positions (0-based, inclusive) of its first and last point in the
    series given to `runs_analysis`; length: useful points in it; side: +1 above
    the centre line, −1 below.
    """

    start: int
    end: int
    length: int
    side: int


@dataclass(frozen=True)
class RunsResult:
    """The runs analysis of one chart (or part). Counts are None when n_useful is 0."""

    n_useful: int
    longest_run: int | None
    longest_run_max: int | None
    n_crossings: int | None
    n_crossings_min: int | None
    runs: tuple[Run, ...]

    @property
    def long_run_signal(self) -> bool:
        """An unusually long run: longest_run > longest_run_max."""
        return (
            self.longest_run is not None
            and self.longest_run_max is not None
            and self.longest_run > self.longest_run_max
        )

    @property
    def crossings_signal(self) -> bool:
        """Too few crossings: n_crossings < n_crossings_min."""
        return (
            self.n_crossings is not None
            and self.n_crossings_min is not None
            and self.n_crossings < self.n_crossings_min
        )

    @property
    def runs_signal(self) -> bool:
        """Either Anhøj rule fired."""
        return self.long_run_signal or self.crossings_signal

    @property
    def long_runs(self) -> tuple[Run, ...]:
        """Every run longer than longest_run_max (empty when there is no such run)."""
        if self.longest_run_max is None:
            return ()
        return tuple(r for r in self.runs if r.length > self.longest_run_max)


def longest_run_max(n_useful: int) -> int:
    """round(log2(n_useful)) + 3: the longest run expected by chance."""
    if n_useful < 1:
        raise ValueError("n_useful must be at least 1")
    return round(math.log2(n_useful)) + 3


def n_crossings_min(n_useful: int) -> int:
    """qbinom(0.05, n_useful − 1, 0.5): fewer crossings than this are unlikely by chance."""
    if n_useful < 1:
        raise ValueError("n_useful must be at least 1")
    if n_useful == 1:
        return 0
    return int(binom.ppf(0.05, n_useful - 1, 0.5))


def find_runs(y: npt.ArrayLike, cl: npt.ArrayLike) -> tuple[Run, ...]:
    """The runs of points on one side of the centre line, points on the line set aside.

    Missing values (NaN in y or cl) are set aside like points on the line.
    """
    diff = np.asarray(y, dtype=float) - np.asarray(cl, dtype=float)
    runs: list[Run] = []
    for pos, d in enumerate(diff):
        if not np.isfinite(d) or d == 0:
            continue
        side = 1 if d > 0 else -1
        if runs and runs[-1].side == side:
            last = runs[-1]
            runs[-1] = Run(last.start, pos, last.length + 1, side)
        else:
            runs.append(Run(pos, pos, 1, side))
    return tuple(runs)


def runs_analysis(y: npt.ArrayLike, cl: npt.ArrayLike) -> RunsResult:
    """Apply the Anhøj rules to values y against their centre line cl (scalar or per point)."""
    y_arr = np.asarray(y, dtype=float)
    cl_arr = np.broadcast_to(np.asarray(cl, dtype=float), y_arr.shape)
    runs = find_runs(y_arr, cl_arr)
    n_useful = sum(r.length for r in runs)
    if n_useful == 0:
        return RunsResult(0, None, None, None, None, runs)
    return RunsResult(
        n_useful=n_useful,
        longest_run=max(r.length for r in runs),
        longest_run_max=longest_run_max(n_useful),
        n_crossings=len(runs) - 1,
        n_crossings_min=n_crossings_min(n_useful),
        runs=runs,
    )

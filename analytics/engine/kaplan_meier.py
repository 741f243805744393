"""The Kaplan–Meier estimator with delayed entry, like R's
`survfit(Surv(entry, exit, event) ~ 1, conf.type = "log-log")`.

Each subject i is observed on (entry_i, exit_i] (days) and has event_i = 1 when it
ended with the event, 0 when censored. Subjects with exit_i <= entry_i are left out
(R refuses them). At each distinct exit time t (with an event or a censoring):

* n_risk(t)   = #{i : entry_i < t <= exit_i} (a late entrant is at risk only after
  its entry; a subject censored at t is still at risk at t: events come first);
* n_event(t), n_censor(t) = subjects exiting at t with event 1, 0;
* survival S(t) = prod over u <= t of (1 - n_event(u) / n_risk(u));
* Greenwood: se(t)^2 = sum over u <= t of n_event(u) / (n_risk(u) (n_risk(u) - n_event(u))),
  the variance of log S(t) (R's `std.err`);
* log-log interval (level 95 %: z = 1.959964): lower = S^exp(-z se / log S),
  upper = S^exp(z se / log S); empty where S is 1 or 0.

Vectorised: one sort of the entries and exits, counts by `searchsorted`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

KM_COLUMNS: tuple[str, ...] = (
    "time_days", "n_risk", "n_event", "n_censor", "survival", "ci_low", "ci_high",
)  # fmt: skip

ArrayLike = Sequence[float] | npt.NDArray[np.generic] | pd.Series


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="int64") for c in KM_COLUMNS[:4]})
    for c in KM_COLUMNS[4:]:
        frame[c] = pd.Series(dtype="float64")
    return frame


def log_log_interval(
    surv: npt.NDArray[np.float64], se: npt.NDArray[np.float64], level: float = 0.95
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The log-log confidence interval of survival `surv` whose log has standard error
    `se`: S^exp(-z se / log S) to S^exp(z se / log S); NaN where S is 1 or 0 (or se is
    not finite)."""
    from scipy.stats import norm  # here: scipy.stats takes a second to import, and every
    # `pumpqi` command imports this module (the survival command's options)

    z = float(norm.ppf(1 - (1 - level) / 2))
    inside = (surv > 0) & (surv < 1) & np.isfinite(se)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.where(inside, np.log(np.where(inside, surv, 0.5)), np.nan)
        low = np.where(inside, surv ** np.exp(-z * se / log_s), np.nan)
        high = np.where(inside, surv ** np.exp(z * se / log_s), np.nan)
    return low, high


def kaplan_meier(
    entry: ArrayLike, exit_: ArrayLike, event: ArrayLike, level: float = 0.95
) -> pd.DataFrame:
    """The Kaplan–Meier curve with delayed entry (see the module docstring): one row per
    distinct exit time with columns time_days, n_risk, n_event, n_censor, survival,
    ci_low, ci_high. Subjects with exit <= entry are left out."""
    start = np.asarray(entry, dtype=np.float64)
    stop = np.asarray(exit_, dtype=np.float64)
    died = np.asarray(event, dtype=np.float64) != 0
    if not start.shape == stop.shape == died.shape:
        raise ValueError("entry, exit and event must have the same length")
    keep = stop > start
    start, stop, died = start[keep], stop[keep], died[keep]
    if stop.size == 0:
        return _empty()
    times, at = np.unique(stop, return_inverse=True)
    n_event = np.bincount(at, weights=died, minlength=times.size).astype(np.int64)
    n_exit = np.bincount(at, minlength=times.size).astype(np.int64)
    exits_from = stop.size - np.searchsorted(np.sort(stop), times, side="left")
    entries_from = start.size - np.searchsorted(np.sort(start), times, side="left")
    n_risk = (exits_from - entries_from).astype(np.int64)  # exit >= t and not entry >= t
    surv = np.cumprod(1.0 - n_event / n_risk).astype(np.float64)
    with np.errstate(divide="ignore"):
        terms = np.where(
            n_event > 0, n_event / (n_risk * (n_risk - n_event).astype(np.float64)), 0.0
        )
    se = np.sqrt(np.cumsum(terms))
    low, high = log_log_interval(surv, se, level)
    whole = bool(np.all(times == np.round(times)))
    return pd.DataFrame(
        {
            "time_days": times.astype(np.int64) if whole else times,
            "n_risk": n_risk,
            "n_event": n_event,
            "n_censor": n_exit - n_event,
            "survival": surv,
            "ci_low": low,
            "ci_high": high,
        }
    )


def at_risk(entry: ArrayLike, exit_: ArrayLike, t: float) -> int:
    """Subjects at risk at time t: entry < t <= exit (R's rule)."""
    start = np.asarray(entry, dtype=np.float64)
    stop = np.asarray(exit_, dtype=np.float64)
    return int(np.count_nonzero((start < t) & (t <= stop)))


def survival_at(curve: pd.DataFrame, t: float) -> tuple[float, float, float]:
    """(survival, ci_low, ci_high) at time t from a curve of `kaplan_meier`: the values
    of the last time <= t (1 with an empty interval before the first); NaN when t lies
    beyond the curve's last time (no follow-up that long)."""
    nan = float("nan")
    if curve.empty or t > float(curve["time_days"].iloc[-1]):
        return nan, nan, nan
    pos = int(np.searchsorted(curve["time_days"].to_numpy(dtype=np.float64), t, side="right"))
    if pos == 0:
        return 1.0, nan, nan
    row = curve.iloc[pos - 1]
    return float(row["survival"]), float(row["ci_low"]), float(row["ci_high"])

"""Small-cell suppression for outputs shared outside the QI committee.

Every count from 1 to threshold − 1 is hidden and shown as `<threshold` (zero may be
shown); every figure derived from a hidden count is blanked. The cells a shared output
shows are tied by relations (a total = the sum of its parts: a row's refills due = on time
+ late + missed + overdue; all sites = the sum of the sites; a quarter = the sum of its
months). Where a hidden cell could be worked out from a relation (it is the only hidden
cell of the relation), a further cell is hidden: the smallest other non-zero part, else
the total (complementary suppression). Such a cell is marked `—`, never `<threshold`,
since it may be large. Finally an audit solves, for every group of hidden cells tied
together, the linear programme an adversary would (the relations, a small count from 1
to threshold − 1, any other hidden cell from 0) and hides more where a hidden count is
still pinned to one value; where nothing around it is left to hide, the pinned cell is
marked `—` instead of `<threshold` (the mark then says less).

`protect` works on any cells and relations (the figures of a shared view, jointly);
`suppress_table` on one table with `Rules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.linalg import null_space
from scipy.optimize import linprog

from analytics.engine.metrics import COUNT_COLUMNS
from analytics.figures.model import COMPLEMENT, small_mark
from analytics.vocabulary import DUE_STATUS_IDS

Relation = tuple[int, Sequence[int]]
"""(total cell, part cells): the value of the total is the sum of the parts'."""


@dataclass(frozen=True)
class Protection:
    """Which cells are hidden: `primary` (a small count) or `complement` (hidden to
    protect one)."""

    primary: np.ndarray
    complement: np.ndarray

    @property
    def hidden(self) -> np.ndarray:
        return self.primary | self.complement


class _Relations:
    """Relations as flat arrays: member cells, their relation, +1 part / -1 total."""

    def __init__(self, relations: Sequence[Relation]) -> None:
        cells: list[int] = []
        owner: list[int] = []
        sign: list[float] = []
        for r, (total, parts) in enumerate(relations):
            cells.append(total)
            owner.append(r)
            sign.append(-1.0)
            cells.extend(parts)
            owner.extend([r] * len(parts))
            sign.extend([1.0] * len(parts))
        self.n = len(relations)
        self.cell = np.asarray(cells, dtype=np.int64)
        self.owner = np.asarray(owner, dtype=np.int64)  # ascending: members in relation order
        self.sign = np.asarray(sign)
        self.start = np.searchsorted(self.owner, np.arange(self.n + 1))
        self._by_cell = np.argsort(self.cell, kind="stable")
        self._cells_sorted = self.cell[self._by_cell]

    def members(self, r: int) -> slice:
        return slice(int(self.start[r]), int(self.start[r + 1]))

    def of_cells(self, cells: np.ndarray) -> np.ndarray:
        """The relations any of `cells` belongs to."""
        lo = np.searchsorted(self._cells_sorted, cells, side="left")
        hi = np.searchsorted(self._cells_sorted, cells, side="right")
        pieces = [self._by_cell[a:b] for a, b in zip(lo, hi, strict=True)]
        if not pieces:
            return np.zeros(0, dtype=np.int64)
        return np.unique(self.owner[np.concatenate(pieces)])


def _pick_complements(
    rel: _Relations, cost: np.ndarray, hidden: np.ndarray, exposed: np.ndarray
) -> np.ndarray:
    """For each exposed relation, the cell to hide: its visible non-zero member of least
    cost (a part before the total at equal cost; lowest cell index on a tie)."""
    member = exposed[rel.owner] & ~hidden[rel.cell] & (cost[rel.cell] > 0)
    chosen: dict[int, tuple[float, int, int]] = {}
    for o, c, s in zip(rel.owner[member], rel.cell[member], rel.sign[member], strict=True):
        key = (float(cost[c]), 0 if s > 0 else 1, int(c))
        if int(o) not in chosen or key < chosen[int(o)]:
            chosen[int(o)] = key
    return np.asarray(sorted({c for _, _, c in chosen.values()}), dtype=np.int64)


def _one_hidden_pass(rel: _Relations, cost: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Cells to hide so that no relation has exactly one hidden cell."""
    if rel.n == 0:
        return np.zeros(0, dtype=np.int64)
    per_relation = np.bincount(rel.owner, weights=hidden[rel.cell], minlength=rel.n)
    exposed = per_relation == 1
    if not exposed.any():
        return np.zeros(0, dtype=np.int64)
    picks = _pick_complements(rel, cost, hidden, exposed)
    return picks[~hidden[picks]]


def _components(rel: _Relations, hidden: np.ndarray) -> list[np.ndarray]:
    """Groups of hidden cells tied together by relations (union-find)."""
    parent: dict[int, int] = {int(c): int(c) for c in np.flatnonzero(hidden)}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    member_hidden = hidden[rel.cell]
    first: dict[int, int] = {}
    for o, c in zip(rel.owner[member_hidden], rel.cell[member_hidden], strict=True):
        o, c = int(o), int(c)
        if o in first:
            a, b = find(first[o]), find(c)
            if a != b:
                parent[a] = b
        else:
            first[o] = c
    groups: dict[int, list[int]] = {}
    for c in parent:
        groups.setdefault(find(c), []).append(c)
    return [np.asarray(sorted(g), dtype=np.int64) for g in groups.values()]


def _system(
    rel: _Relations, values: np.ndarray, hidden: np.ndarray, cells: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The relations touching `cells` as A x = b over the hidden cells (visible cells
    moved to the right-hand side)."""
    index = {int(c): i for i, c in enumerate(cells)}
    rows, rhs = [], []
    for r in rel.of_cells(cells):
        m = rel.members(int(r))
        row = np.zeros(len(cells))
        known = 0.0
        for c, s in zip(rel.cell[m], rel.sign[m], strict=True):
            if hidden[c]:
                row[index[int(c)]] += s
            else:
                known -= s * values[c]
        rows.append(row)
        rhs.append(known)
    return np.asarray(rows).reshape(len(rows), len(cells)), np.asarray(rhs)


def _pinned(
    rel: _Relations, values: np.ndarray, prot: Protection, cells: np.ndarray, threshold: int
) -> int | None:
    """A hidden cell of `cells` whose value the relations and bounds pin down, or None.

    One linear programme finds a point as far inside the bounds as the relations allow;
    when it is strictly inside, a cell is pinned only by the relations themselves (its
    coordinate is zero in every direction the relations leave free). Otherwise each cell's
    lowest and highest possible values are computed."""
    a_eq, b_eq = _system(rel, values, prot.hidden, cells)
    if not len(b_eq):
        return None
    n = len(cells)
    small = prot.primary[cells]
    lower = np.where(small, 1.0, 0.0)
    upper = np.where(small, float(threshold - 1), np.inf)
    # variables x (n) and the margin t: maximise t with lower + t <= x <= upper - t, t <= 1
    a_ub = np.vstack([
        np.hstack([-np.eye(n), np.ones((n, 1))]),
        np.hstack([np.eye(n), np.ones((n, 1))])[np.isfinite(upper)],
    ])  # fmt: skip
    b_ub = np.concatenate([-lower, upper[np.isfinite(upper)]])
    inner = linprog(
        np.concatenate([np.zeros(n), [-1.0]]),
        A_ub=a_ub, b_ub=b_ub, A_eq=np.hstack([a_eq, np.zeros((len(b_eq), 1))]), b_eq=b_eq,
        bounds=[(None, None)] * n + [(0.0, 1.0)], method="highs",
    )  # fmt: skip
    if inner.status == 0 and -inner.fun > 1e-7:
        free = null_space(a_eq) if a_eq.size else np.eye(n)
        fixed = np.flatnonzero(np.abs(free).max(axis=1, initial=0.0) < 1e-9)
        return int(cells[fixed[0]]) if len(fixed) else None
    bounds = [(lo, None if np.isinf(u) else u) for lo, u in zip(lower, upper, strict=True)]
    for i in range(n):
        objective = np.zeros(n)
        objective[i] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if low.status == 0 and high.status == 0 and (-high.fun) - low.fun < 1 - 1e-9:
            return int(cells[i])
    return None


def _widen(rel: _Relations, cost: np.ndarray, hidden: np.ndarray, cells: np.ndarray) -> int | None:
    """A further cell to hide in a relation of `cells`: the visible non-zero member of
    least cost (parts first), in the relation with the fewest hidden cells."""
    best: tuple[tuple[int, float, int, int], int] | None = None
    for r in rel.of_cells(cells):
        m = rel.members(int(r))
        n_hidden = int(hidden[rel.cell[m]].sum())
        for c, s in zip(rel.cell[m], rel.sign[m], strict=True):
            if not hidden[c] and cost[c] > 0:
                key = (n_hidden, float(cost[c]), 0 if s > 0 else 1, int(c))
                if best is None or key < best[0]:
                    best = (key, int(c))
    return None if best is None else best[1]


def protect(
    values: Sequence[float] | np.ndarray,
    relations: Sequence[Relation],
    threshold: int,
    weights: Sequence[float] | np.ndarray | None = None,
    audit: bool = True,
) -> Protection:
    """Hide every count in 1..threshold−1 and enough other cells that none of them can
    be worked out from the relations (see the module's docstring). A further cell is
    chosen by least cost = weight × value (weights: how much a cell matters to the
    reader, default 1), so that a headline total is not hidden to protect a detail."""
    v = np.asarray(values, dtype=float)
    w = np.ones(len(v)) if weights is None else np.asarray(weights, dtype=float)
    cost = np.where(v > 0, w * v, 0.0)
    primary = (v >= 1) & (v < threshold)
    complement = np.zeros(len(v), dtype=bool)
    if threshold <= 1:
        return Protection(np.zeros(len(v), dtype=bool), complement)
    rel = _Relations(relations)
    changed_cells = np.ones(len(v), dtype=bool)  # audit only what changed since last time
    while True:
        before = complement.copy()
        while True:
            picks = _one_hidden_pass(rel, cost, primary | complement)
            if not len(picks):
                break
            complement[picks] = True
        changed_cells |= complement != before
        if not audit:
            break
        prot = Protection(primary.copy(), complement.copy())
        changed = False
        # one sweep over every group of hidden cells, fixing one leak in each; the groups
        # that changed are audited again in the next sweep
        for cells in _components(rel, prot.hidden):
            if not changed_cells[cells].any():
                continue
            leak = _pinned(rel, v, prot, cells, threshold)
            if leak is None:
                continue
            # hide a cell beside the pinned one, else anywhere around its group of hidden
            # cells; when every cell around it is hidden already, the small marks
            # themselves pin it (a total '<5' over four non-zero parts): mark it `—`, which
            # says less (any value), instead
            extra = _widen(rel, cost, prot.hidden, np.asarray([leak]))
            if extra is None:
                extra = _widen(rel, cost, prot.hidden, cells)
            if extra is not None:
                complement[extra] = True
            else:
                primary[leak], complement[leak] = False, True
            changed = True
        if not changed:
            if changed_cells.all():
                break  # a full audit found nothing left to fix
            changed_cells = np.ones(len(v), dtype=bool)  # confirm with a full audit
            continue
        changed_cells = (primary != prot.primary) | (complement != prot.complement)
    return Protection(primary, complement & ~primary)


# --- one table with Rules -----------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """What to suppress in one table.

    counts: columns holding counts of people or events.
    derived: column -> the count columns it was computed from (blanked with them).
    row_totals: total column -> its component columns in the same row.
    column_total: (key column, total value, partition columns): rows whose key equals the
        total value are the totals of the other rows of the same partition.
    """

    counts: Sequence[str]
    derived: Mapping[str, Sequence[str]] = field(default_factory=dict)
    row_totals: Mapping[str, Sequence[str]] = field(default_factory=dict)
    column_total: tuple[str, str, Sequence[str]] | None = None


def table_relations(df: pd.DataFrame, rules: Rules) -> tuple[list[str], list[Relation]]:
    """The count columns of `df` and the relations among its cells (cell = row * k + j)."""
    counts = [c for c in rules.counts if c in df.columns]
    k = len(counts)
    col = {c: j for j, c in enumerate(counts)}
    relations: list[Relation] = []
    for total, parts in rules.row_totals.items():
        ps = [p for p in parts if p in col]
        if total in col and ps:
            for i in range(len(df)):
                relations.append((i * k + col[total], [i * k + col[p] for p in ps]))
    if rules.column_total is not None:
        key, total_value, partition = rules.column_total
        is_total = (df[key].astype(str) == total_value).to_numpy()
        groups = (
            df.groupby(list(partition), sort=False).indices
            if partition
            else {(): np.arange(len(df))}
        )
        for idx in groups.values():
            idx = np.asarray(idx)
            tot, members = idx[is_total[idx]], idx[~is_total[idx]]
            if len(tot) != 1 or not len(members):
                continue
            for c in counts:
                relations.append((int(tot[0]) * k + col[c], [int(i) * k + col[c] for i in members]))
    return counts, relations


def suppression_mask(df: pd.DataFrame, rules: Rules, threshold: int) -> pd.DataFrame:
    """Per count column: 0 shown, 1 small (hidden), 2 hidden to protect a small one."""
    counts, relations = table_relations(df, rules)
    values = (
        df[counts].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(dtype=float).ravel()
    )
    prot = protect(values, relations, threshold)
    shape = (len(df), len(counts))
    codes = prot.primary.reshape(shape).astype(int) + 2 * prot.complement.reshape(shape)
    return pd.DataFrame(codes, index=df.index, columns=counts)


def show(
    df: pd.DataFrame, mask: pd.DataFrame, derived: Mapping[str, Sequence[str]], threshold: int
) -> pd.DataFrame:
    """`df` with hidden counts replaced by their marks and derived figures blanked."""
    out = df.copy()
    for col in mask.columns:
        m = mask[col].to_numpy()
        if (m > 0).any():
            out[col] = out[col].astype(object)
            out.loc[m == 1, col] = small_mark(threshold)
            out.loc[m == 2, col] = COMPLEMENT
    for col, sources in derived.items():
        if col not in out.columns:
            continue
        blank = np.zeros(len(out), dtype=bool)
        for s in sources:
            if s in mask.columns:
                blank |= mask[s].to_numpy() > 0
        if blank.any():
            out[col] = out[col].astype(object)
            out.loc[blank, col] = None
    return out


def suppress_table(df: pd.DataFrame, rules: Rules, threshold: int) -> pd.DataFrame:
    """A copy of `df` with small counts shown as `<threshold`, cells hidden to protect
    them as `—`, and the figures derived from either blanked."""
    if threshold <= 1 or df.empty:
        return df.copy()
    return show(df, suppression_mask(df, rules, threshold), rules.derived, threshold)


SURGICAL_RULES = Rules(
    counts=("procedures", "with_outcome", "window_open"),
    derived=dict.fromkeys(("rate_per_100", "ci_low", "ci_high"), ("procedures", "with_outcome")),
)
"""Rules for the `pumpqi complications --surgical` table (one row per period, group and
outcome window)."""


def suppress_groups(
    groups: pd.DataFrame,
    rules: Rules,
    threshold: int,
    totals: pd.DataFrame | None = None,
    key: str = "group",
    partition: Sequence[str] = (),
) -> pd.DataFrame:
    """Suppress a by-group table whose all-groups totals are shown elsewhere (the same
    command without --by): a group hidden alone under a visible total could be worked out
    by subtraction, so another group is hidden too.

    `totals` holds one row per partition (e.g. month) with the same count columns; by
    default the sum of the groups (right for counts where each item is in one group).
    Returns the group rows only.
    """
    if threshold <= 1 or groups.empty:
        return groups.copy()
    if totals is None:
        counts = [c for c in rules.counts if c in groups.columns]
        if partition:
            totals = groups.groupby(list(partition), as_index=False)[counts].sum()
        else:
            totals = groups[counts].sum().to_frame().T
    marker = "\x00all"
    combined = pd.concat(
        [groups.assign(**{key: groups[key].astype(str)}), totals.assign(**{key: marker})],
        ignore_index=True,
    )
    column_total = (key, marker, tuple(partition))
    out = suppress_table(combined, replace(rules, column_total=column_total), threshold)
    return out[out[key] != marker].reset_index(drop=True)


METRICS_RULES = Rules(
    # every count but pump-days (days of therapy, not people or events)
    counts=tuple(c for c in COUNT_COLUMNS if c != "pump_days"),
    derived={
        "on_time_rate": ("on_time", "refills_due"),
        "complication_rate_per_1000": ("complications",),
        "rate_ci_low": ("complications",),
        "rate_ci_high": ("complications",),
        "refill_error_rate_per_10000": ("refill_errors", "percutaneous_refills"),
        "refill_error_rate_per_100": ("refill_errors", "fills"),
    },
    row_totals={"refills_due": DUE_STATUS_IDS},
)
"""Rules for the `pumpqi metrics` table (one row per month and group)."""

COMPLICATION_RULES = Rules(
    counts=("events", "reports", "serious"),
    # the rate counts events or reports (count_unit): blanked when either is hidden
    derived=dict.fromkeys(("rate_per_1000", "ci_low", "ci_high"), ("events", "reports")),
)
"""Rules for the `pumpqi complications` table (one row per group and category or code)."""

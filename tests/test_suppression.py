"""Small-cell suppression: no small count shown, none recoverable from a total."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.figures.disclosure import METRICS_RULES, Rules, protect, suppress_table
from analytics.figures.model import COMPLEMENT


def _is_hidden(v: object) -> bool:
    return isinstance(v, str) and (v.startswith("<") or v == COMPLEMENT)


def test_hand_worked_row_total() -> None:
    """refills_due 40 = on_time 30 + late 3 + missed 7 + overdue 0, threshold 11: late (3) and
    missed (7) are small -> '<11'. Two hidden cells: their sum (10) is known but not each.
    Row 2: 50 = 38 + 12 + 0 + 0 with nothing small; row 3: 25 = 20 + 5 + 0 + 0: late is
    small and alone, the smallest other non-zero cell (on_time 20) is hidden too — marked
    as a complement, not as '<11', since it is large — and the on-time rate derived from
    it is blanked."""
    df = pd.DataFrame(
        {
            "refills_due": [40, 50, 25],
            "on_time": [30, 38, 20],
            "late": [3, 12, 5],
            "missed": [7, 0, 0],
            "overdue": [0, 0, 0],
            "on_time_rate": [0.75, 0.76, 0.8],
        }
    )
    out = suppress_table(df, METRICS_RULES, 11)
    assert (
        out.loc[0, "late"] == "<11"
        and out.loc[0, "missed"] == "<11"
        and out.loc[0, "on_time"] == 30
    )
    assert out.loc[1].tolist() == [50, 38, 12, 0, 0, 0.76]
    assert out.loc[2, "late"] == "<11" and out.loc[2, "on_time"] == COMPLEMENT
    assert out.loc[2, "refills_due"] == 25 and pd.isna(out.loc[2, "on_time_rate"])


def test_total_hidden_when_no_other_cell_can_be() -> None:
    """Row 1: 25 = 0 + 5 + 0 + 20: late is small and alone; the only other non-zero cell,
    overdue 20, is hidden too. Row 2: 6 = 0 + 6 + 0 + 0: the total is itself small."""
    df = pd.DataFrame(
        {
            "refills_due": [25, 6],
            "on_time": [0, 0],
            "late": [5, 6],
            "missed": [0, 0],
            "overdue": [20, 0],
        }
    )
    out = suppress_table(df, METRICS_RULES, 11)
    assert out.loc[0, "overdue"] == COMPLEMENT and out.loc[1, "refills_due"] == "<11"


def test_column_total_partition() -> None:
    """Month M: all = 30, A = 25, B = 5. B is small and alone under a visible total: A is hidden too."""
    df = pd.DataFrame(
        {"month": ["M"] * 3, "group": ["all", "A", "B"], "complications": [30, 25, 5]}
    )
    out = suppress_table(
        df, Rules(counts=("complications",), column_total=("group", "all", ("month",))), 11
    )
    assert out.complications.tolist() == [30, COMPLEMENT, "<11"]


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(*[st.integers(0, 40)] * 4), min_size=1, max_size=15),
    n=st.integers(2, 15),
)
def test_no_small_count_shown_and_none_recoverable(rows, n) -> None:
    df = pd.DataFrame(rows, columns=["on_time", "late", "missed", "overdue"])
    df["refills_due"] = df.sum(axis=1)
    df["on_time_rate"] = np.where(
        df.refills_due > 0, df.on_time / df.refills_due.where(df.refills_due > 0, 1), np.nan
    )
    out = suppress_table(df, METRICS_RULES, n)
    for col in ("on_time", "late", "missed", "overdue", "refills_due"):
        shown = pd.to_numeric(out[col].where(~out[col].map(_is_hidden)), errors="coerce").dropna()
        assert not ((shown >= 1) & (shown < n)).any()
    parts = ["on_time", "late", "missed", "overdue"]
    for i in range(len(out)):
        if _is_hidden(out.loc[i, "refills_due"]):
            continue
        hidden = [p for p in parts if _is_hidden(out.loc[i, p])]
        assert len(hidden) != 1, "one hidden part under a visible total could be worked out"
        for p in parts:
            if out.loc[i, p] == f"<{n}":
                assert 1 <= df.loc[i, p] < n, "only a small count is marked as small"
        if _is_hidden(out.loc[i, "on_time"]) or _is_hidden(out.loc[i, "refills_due"]):
            assert pd.isna(out.loc[i, "on_time_rate"])


def test_groups_protected_against_the_published_total() -> None:
    """Month M: all sites 27 complications (published by the table without --by); sites
    A 11, B 5, C 11. B alone hidden would be 27 - 11 - 11 = 5: the smallest other
    non-zero site (A, 11 — the first of the two) is hidden too. Month N: 30 = 15 + 0 + 15,
    nothing small, nothing hidden."""
    from analytics.figures.disclosure import suppress_groups

    groups = pd.DataFrame(
        {
            "month": ["M", "M", "M", "N", "N", "N"],
            "group": ["A", "B", "C"] * 2,
            "complications": [11, 5, 11, 15, 0, 15],
        }
    )
    totals = pd.DataFrame({"month": ["M", "N"], "complications": [27, 30]})
    rules = Rules(counts=("complications",))
    out = suppress_groups(groups, rules, 11, totals, partition=("month",))
    assert out.complications.tolist() == [COMPLEMENT, "<11", 11, 15, 0, 15]
    assert out.group.tolist() == ["A", "B", "C"] * 2


def test_two_small_parts_that_fill_their_total_are_not_left_pinned() -> None:
    """20 = 10 + 10 with both parts small: each could only be 10 (the bounds pin them), so
    the total is hidden too. 25 = 12 + 9 + 4: 9 and 4 are small, their sum 13 is known,
    and 9 could be 3..9: nothing more is hidden."""
    prot = protect([20, 10, 10], [(0, [1, 2])], 11)
    assert prot.primary.tolist() == [False, True, True] and prot.complement.tolist()[0]
    prot = protect([25, 12, 9, 4], [(0, [1, 2, 3])], 11)
    assert prot.hidden.tolist() == [False, False, True, True]


def test_a_headline_total_is_not_hidden_to_protect_a_detail() -> None:
    """reports (30) + outside (3) = all reports (33): the small outside count alone would be
    found from the two totals; with weights the less useful total (all reports) is hidden,
    not the headline count."""
    prot = protect([33, 30, 3], [(0, [1, 2])], 11, weights=[0.25, 4.0, 1.0])
    assert prot.hidden.tolist() == [True, False, True]

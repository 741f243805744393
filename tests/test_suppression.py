"""Small-cell suppression: no small count shown, none recoverable from a total."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.figures.disclosure import METRICS_RULES, Rules, suppress_table


def _is_hidden(v: object) -> bool:
    return isinstance(v, str) and v.startswith("<")


def test_hand_worked_row_total() -> None:
    """refills_due 40 = on_time 30 + late 3 + missed 7 + overdue 0, threshold 11: late (3) and
    missed (7) are small -> '<11'. Two hidden cells: their sum (10) is known but not each.
    Row 2: 50 = 38 + 12 + 0 + 0 with nothing small; row 3: 25 = 20 + 5 + 0 + 0: late is
    small and alone, the smallest other non-zero cell (on_time 20) is hidden too, and the
    on-time rate derived from it is blanked."""
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
    assert out.loc[2, "late"] == "<11" and out.loc[2, "on_time"] == "<11"
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
    assert out.loc[0, "overdue"] == "<11" and out.loc[1, "refills_due"] == "<11"


def test_column_total_partition() -> None:
    """Month M: all = 30, A = 25, B = 5. B is small and alone under a visible total: A is hidden too."""
    df = pd.DataFrame(
        {"month": ["M"] * 3, "group": ["all", "A", "B"], "complications": [30, 25, 5]}
    )
    out = suppress_table(
        df, Rules(counts=("complications",), column_total=("group", "all", ("month",))), 11
    )
    assert out.complications.tolist() == [30, "<11", "<11"]


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
    assert out.complications.tolist() == ["<11", "<11", 11, 15, 0, 15]
    assert out.group.tolist() == ["A", "B", "C"] * 2

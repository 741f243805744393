"""A fill's next fill is found by a hash join on the fill counter (sql/03_fills.sql), not
by a window over the fills: it must be exactly the next fill of the episode in visit
order, at any cut-off (computed afresh, or completed from the stored figures)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.engine.tables import prepare
from tests.engine_helpers import engine_db
from tests.test_engine_properties import START, visit_logs


def _next_fill_by_order(fills: pd.DataFrame) -> pd.Series:
    """The next fill's date within each episode, fills taken in visit order (fkey)."""
    ordered = fills.sort_values("fkey")
    nxt = ordered.groupby("episode_id")["fill_date"].shift(-1)
    return nxt.reindex(fills.index)


def _check(con, as_of: dt.date) -> int:  # type: ignore[no-untyped-def]
    prepare(con, as_of)
    fills = con.execute("SELECT fkey, episode_id, fill_date, next_fill_date FROM pq_refills").df()
    expected = _next_fill_by_order(fills)
    got = fills["next_fill_date"]
    same = (got.isna() & expected.isna()) | (got == expected)
    assert same.all(), fills[~same]
    return len(fills)


@settings(max_examples=25, deadline=None)
@given(log=visit_logs(), as_of_offset=st.integers(0, 900))
def test_next_fill_is_the_next_fill_of_the_episode(log, as_of_offset) -> None:
    as_of = START + dt.timedelta(days=as_of_offset)
    with engine_db(log) as con:
        _check(con, as_of)  # an earlier cut-off: completed from the stored figures
        _check(con, START + dt.timedelta(days=5000))  # after the data's end: computed


def test_next_fill_worked_example() -> None:
    """Implant fill, a follow-up, a refill, an explant, then a new episode's implant: the
    implant's next fill is the refill; the refill has none (the episode closed); the
    second implant has none (nothing after it)."""
    log = [
        {"patient_id": "p0", "visit_date": "2024-01-01", "visit_type": "implant",
         "volume_added_ml": 20},
        {"patient_id": "p0", "visit_date": "2024-01-20", "visit_type": "follow_up"},
        {"patient_id": "p0", "visit_date": "2024-02-10", "visit_type": "refill",
         "volume_added_ml": 20},
        {"patient_id": "p0", "visit_date": "2024-03-01", "visit_type": "explant"},
        {"patient_id": "p0", "visit_date": "2024-05-01", "visit_type": "implant",
         "volume_added_ml": 20},
    ]  # fmt: skip
    with engine_db(log) as con:
        prepare(con, dt.date(2024, 6, 1))
        rows = con.execute(
            "SELECT fill_date, next_fill_date FROM pq_refills ORDER BY fill_date"
        ).fetchall()
    assert rows == [
        (dt.date(2024, 1, 1), dt.date(2024, 2, 10)),
        (dt.date(2024, 2, 10), None),
        (dt.date(2024, 5, 1), None),
    ]

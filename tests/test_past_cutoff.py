"""An earlier cut-off completed from the stored tables (`_compute(..., reuse=True)`: only
the fills the cut-off can change and the pump-days of its month are computed) gives,
table by table and row for row, what a computation from scratch at that cut-off gives,
on generated registry data (analytics.synth) at any cut-off (hypothesis)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.config import DEFAULT
from analytics.engine import tables
from analytics.ingest.load import ingest_files
from analytics.store import reader
from analytics.synth import generate, write

COMPARED: tuple[str, ...] = (
    "pq_visits",
    "pq_episodes",
    "pq_refills",
    "pq_exposure",
    "pq_reports",
    "pq_procedures",
)
"""The engine tables `prepare` builds for every cut-off (the on-demand ones derive from them)."""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dt.date, dt.date]]:
    base = tmp_path_factory.mktemp("pastcut")
    res = generate(patients=70, years=3, seed=29, sites=2)
    write(res, base, "csv")
    db = base / "reg.duckdb"
    ingest_files(db, base / "visits.csv", base / "complications.csv")
    with reader(db) as con:
        first, last = con.execute("SELECT min(visit_date), max(visit_date) FROM visits").fetchone()  # type: ignore[misc]
    yield db, first, last


def _snapshot(con: duckdb.DuckDBPyConnection, prefix: str) -> None:
    for name in COMPARED:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {prefix}{name} AS SELECT * FROM {name}")


def _differences(con: duckdb.DuckDBPyConnection, name: str) -> tuple[int, int, int, int]:
    """Rows of the reused table, of the computed one, and rows only in either (as multisets)."""
    cols = ", ".join(
        f'"{c}"'
        for (c,) in con.execute(f"SELECT column_name FROM (DESCRIBE full_{name})").fetchall()
    )
    reused, full = f"SELECT {cols} FROM reused_{name}", f"SELECT {cols} FROM full_{name}"
    row = con.execute(
        f"SELECT (SELECT count(*) FROM reused_{name}), (SELECT count(*) FROM full_{name}), "
        f"(SELECT count(*) FROM ({reused} EXCEPT ALL {full})), "
        f"(SELECT count(*) FROM ({full} EXCEPT ALL {reused}))"
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


def _compare_at(db: Path, as_of: dt.date) -> None:
    with reader(db) as con:
        assert tables._can_reuse(con, as_of, DEFAULT), "a past cut-off takes the reuse path"
        tables._compute(con, as_of, DEFAULT, reuse=True)
        _snapshot(con, "reused_")
        tables._compute(con, as_of, DEFAULT, reuse=False)
        _snapshot(con, "full_")
        for name in COMPARED:
            n_reused, n_full, only_reused, only_full = _differences(con, name)
            assert (n_reused, only_reused, only_full) == (n_full, 0, 0), (name, as_of)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(share=st.floats(0.0, 0.999), month_end=st.booleans())
def test_reused_tables_equal_a_full_computation(
    registry: tuple[Path, dt.date, dt.date], share: float, month_end: bool
) -> None:
    """Any cut-off in the data's span (a month's last day, as for a monthly report, or
    any day): every engine table equals a full computation at that cut-off."""
    db, first, last = registry
    as_of = first + dt.timedelta(days=int(share * ((last - first).days - 1)))
    if month_end:
        as_of = as_of.replace(day=1) - dt.timedelta(days=1)
    if as_of < first:
        as_of = first
    _compare_at(db, as_of)


def test_reuse_recomputes_a_few_fills_and_keeps_closed_episodes(
    registry: tuple[Path, dt.date, dt.date],
) -> None:
    """At the last month's end the reuse path computes again only the fills the cut-off
    can change (a small share), none of them the last fill of an episode ended by then,
    and the result equals a full computation."""
    db, _, last = registry
    as_of = last.replace(day=1) - dt.timedelta(days=1)
    _compare_at(db, as_of)
    with reader(db) as con:
        tables._compute(con, as_of, DEFAULT, reuse=True)
        kept, total, closed = con.execute(
            "SELECT (SELECT count(*) FROM pq_refills_open), (SELECT count(*) FROM pq_refills), "
            "(SELECT count(*) FROM pq_refills_open WHERE episode_end <= $a)",
            {"a": as_of},
        ).fetchone()  # type: ignore[misc]
        ended = con.execute(
            "SELECT count(*) FROM pq_refills WHERE next_fill_date IS NULL AND episode_end <= $a",
            {"a": as_of},
        ).fetchone()  # type: ignore[misc]
    assert 0 < kept < total / 5
    assert closed == 0
    assert ended[0] > 0, "the data have episodes ended by the cut-off (the case is exercised)"


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(share=st.floats(0.0, 0.999), month_end=st.booleans())
def test_metrics_at_an_earlier_cut_off_equal_a_full_computation(
    registry: tuple[Path, dt.date, dt.date], share: float, month_end: bool
) -> None:
    """The metrics table at an earlier cut-off reads the stored active patients and
    pump-days of the months before the cut-off's own: for every --by value and count
    unit it equals the table computed from scratch (a configuration that changes
    nothing the figures use forces the full computation)."""
    from dataclasses import replace

    from analytics.engine.metrics import GROUP_COLUMNS, monthly_metrics

    db, first, last = registry
    as_of = first + dt.timedelta(days=int(share * ((last - first).days - 1)))
    if month_end:
        as_of = max(first, as_of.replace(day=1) - dt.timedelta(days=1))
    other = replace(DEFAULT, worklist_days=DEFAULT.worklist_days + 1)
    runs = [(by, per) for by in (None, *GROUP_COLUMNS) for per in ("event", "report")]
    with reader(db) as con:
        reused = [monthly_metrics(con, as_of, by, per=per) for by, per in runs]
        assert tables.reused_from(con) == as_of.replace(day=1)
    with reader(db) as con:
        computed = [monthly_metrics(con, as_of, by, config=other, per=per) for by, per in runs]
        assert tables.reused_from(con) is None
    for a, b in zip(reused, computed, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_a_filter_leaves_the_stored_counts_unread(registry: tuple[Path, dt.date, dt.date]) -> None:
    """Narrowed engine tables (a dashboard filter) are no longer the stored rows: the
    metrics are then computed from them alone."""
    db, _, last = registry
    as_of = last.replace(day=1) - dt.timedelta(days=1)
    with reader(db) as con:
        tables.prepare(con, as_of)
        assert tables.reused_from(con) == as_of.replace(day=1)
        site = con.execute("SELECT min(site) FROM pq_exposure").fetchall()[0][0]
        tables.narrow(con, "site", site, "unknown")
        assert tables.reused_from(con) is None

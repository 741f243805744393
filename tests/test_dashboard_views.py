"""The dashboard's page data (analytics.figures) against the analytics API it calls."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from test_dashboard_fixtures import APP, demo_database

from analytics.cli.dashboard import auth_configured, check_host, dashboards_dir
from analytics.engine.metrics import monthly_metrics
from analytics.engine.refills import worklist
from analytics.errors import PumpqiError
from analytics.figures import (
    DIMENSIONS,
    Filters,
    apply_filters,
    complications_page,
    data_quality,
    filter_options,
    overview,
    patient_ids,
    patient_timeline,
    refills_page,
    worklist_page,
)
from analytics.store import reader

COUNTS = ["active_patients", "pump_days", "fills", "refills_due", "on_time", "late", "missed",
          "overdue", "complications", "refill_errors"]  # fmt: skip


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_database(tmp_path_factory.getbasetemp())


@pytest.mark.parametrize("dim", DIMENSIONS)
def test_a_filter_gives_the_figures_of_its_by_group(demo_db: Path, dim: str) -> None:
    with reader(demo_db) as con:
        by = monthly_metrics(con, None, dim)
        values = filter_options(con).values[dim]
    for value in values:
        with reader(demo_db) as con:
            as_of = apply_filters(con, Filters(**{dim: value}))
            filtered = monthly_metrics(con, as_of)
        group = by[by["group"] == value].set_index("month")[COUNTS]
        got = filtered.set_index("month")[COUNTS]
        got = got.reindex(group.index, fill_value=0)
        pd.testing.assert_frame_equal(got, group, check_dtype=False, obj=f"{dim}={value}")


def test_two_filters_and_bound_values(demo_db: Path) -> None:
    with reader(demo_db) as con:
        data = overview(con, Filters(site="A", drug="baclofen"))
        assert data.base.message is None
        tricky = overview(con, Filters(site="A' OR 1=1 --"))
        assert tricky.base.message and "No data" in tricky.base.message
        assert con.execute("SELECT count(*) FROM visits").fetchall()[0][0] > 0


def test_overview_tiles_are_the_metrics_of_the_month(demo_db: Path) -> None:
    with reader(demo_db) as con:
        data = overview(con, Filters())
        m = monthly_metrics(con, None, per="report").set_index("month")  # the page's unit
    row = m.loc[data.month]
    tiles = {k.key: k for k in data.kpis}
    assert tiles["on_time_rate"].raw == pytest.approx(row["on_time_rate"])
    assert tiles["missed"].raw == row["missed"]
    assert tiles["complication_rate_per_1000"].raw == pytest.approx(
        row["complication_rate_per_1000"]
    )
    assert tiles["active_patients"].value == f"{row['active_patients']:,}"
    assert data.on_time is not None and data.on_time.result is not None
    assert len(data.on_time.result.table) == int((m["refills_due"] > 0).sum())


def test_worklist_page_is_the_engine_worklist(demo_db: Path) -> None:
    with reader(demo_db) as con:
        page = worklist_page(con, Filters(site="B"), 30)
    with reader(demo_db) as con:
        engine = worklist(con, None, 30)
    engine = engine[engine["site"] == "B"]
    assert list(page.table["fill_visit_id"]) == list(engine["fill_visit_id"])


def test_sharing_mode_blanks_small_counts(demo_db: Path) -> None:
    f = Filters(site="C", drug="baclofen", sharing=True)
    with reader(demo_db) as con:
        data = overview(con, f)
    shown = data.base.metrics
    for col in ("on_time", "missed", "complications", "active_patients"):
        numeric = pd.to_numeric(shown[col], errors="coerce")
        assert not ((numeric >= 1) & (numeric <= 10)).any(), col
    with reader(demo_db) as con:
        wl = worklist_page(con, f)
        q = data_quality(con, sharing=True)
    assert wl.table.empty and all(flag.rows.empty for flag in q.flags)


def test_every_page_function_runs_quickly(demo_db: Path) -> None:
    f = Filters(month_from="2025-01")
    timings = {}
    for name, call in {
        "overview": lambda con: overview(con, f),
        "refills": lambda con: refills_page(con, f),
        "complications": lambda con: complications_page(con, f),
        "worklist": lambda con: worklist_page(con, f),
        "quality": lambda con: data_quality(con),
        "timeline": lambda con: patient_timeline(con, patient_ids(con, f)[0]),
    }.items():
        start = time.perf_counter()
        with reader(demo_db) as con:
            call(con)
        timings[name] = time.perf_counter() - start
    assert max(timings.values()) < 10, timings


def test_timeline_never_shows_notes(demo_db: Path) -> None:
    with reader(demo_db) as con:
        pid = patient_ids(con, Filters())[0]
        data = patient_timeline(con, pid)
    for frame in (data.visits, data.fills, data.doses, data.complications, data.episodes):
        assert "notes" not in frame.columns


def test_non_local_host_needs_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    app_dir = dashboards_dir()
    assert app_dir == APP.parent
    assert check_host("127.0.0.1", app_dir) is False
    with pytest.raises(PumpqiError, match="sign-in"):
        check_host("0.0.0.0", app_dir)
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text("[server]\nx = 1\n", encoding="utf-8")
    assert not auth_configured(app_dir)
    secrets.write_text(
        '[auth]\nredirect_uri = "http://x/oauth2callback"\ncookie_secret = "s"\n', encoding="utf-8"
    )
    assert check_host("0.0.0.0", app_dir) is True

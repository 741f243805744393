"""The figures layer (analytics.figures) against the engine and the CLI: a selection is a
--by group, tiles are the metrics of the month, the worklist is the engine's, and the
dashboard, the pack and the CLI give one set of numbers for one cut-off."""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from test_dashboard_fixtures import APP, demo_database

from analytics.cli.commands import main
from analytics.cli.dashboard import auth_configured, check_host, dashboards_dir
from analytics.engine.metrics import monthly_metrics
from analytics.errors import PumpqiError
from analytics.figures import (
    Scope,
    complications_figures,
    data_quality,
    filter_options,
    open_cutoff,
    overview,
    patient_ids,
    patient_timeline,
    refills_figures,
    worklist_figures,
)
from analytics.figures.planning import planning_figures
from analytics.report.content import gather
from analytics.report.period import ReportMonth
from analytics.store import reader
from analytics.vocabulary import BY_IDS, DUE_STATUS_IDS

COUNTS = ["active_patients", "pump_days", "fills", "refills_due", *DUE_STATUS_IDS,
          "complications", "refill_errors"]  # fmt: skip


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_database(tmp_path_factory.getbasetemp())


@pytest.mark.parametrize("dim", BY_IDS)
def test_a_selection_gives_the_figures_of_its_by_group(demo_db: Path, dim: str) -> None:
    with reader(demo_db) as con:
        by = monthly_metrics(con, None, dim)
        values = filter_options(open_cutoff(con)).values[dim]
        for value in values:
            selected = monthly_metrics(con, None, selection=((dim, value),))
            group = by[by["group"] == value].set_index("month")[COUNTS]
            got = selected.set_index("month")[COUNTS].reindex(group.index, fill_value=0)
            pd.testing.assert_frame_equal(got, group, check_dtype=False, obj=f"{dim}={value}")


def test_two_filters_and_bound_values(demo_db: Path) -> None:
    with reader(demo_db) as con:
        cut = open_cutoff(con)
        data = overview(
            cut, Scope.months("2025-01", "2026-06", (("site", "A"), ("drug", "baclofen")))
        )
        assert data.message is None and data.tiles
        tricky = overview(cut, Scope.months("2025-01", "2026-06", (("site", "A' OR 1=1 --"),)))
        assert tricky.message and "No data" in tricky.message
        assert con.execute("SELECT count(*) FROM visits").fetchall()[0][0] > 0


def test_overview_tiles_are_the_metrics_of_the_month(demo_db: Path) -> None:
    with reader(demo_db) as con:
        cut = open_cutoff(con)
        m = monthly_metrics(con, None).set_index("month")
        last = m.index[-1]
        data = overview(cut, Scope.months(m.index[-24], last))
    row = m.loc[data.period]
    tiles = {k.key: k for k in data.tiles}
    assert tiles["on_time_rate"].raw == pytest.approx(row["on_time_rate"])
    assert tiles["missed"].raw == row["missed"]
    assert tiles["complication_rate_per_1000"].raw == pytest.approx(
        row["complication_rate_per_1000"]
    )
    assert tiles["active_patients"].value == f"{row['active_patients']:,}"
    assert data.on_time is not None and data.on_time.result is not None
    window = m.iloc[-24:]
    assert len(data.on_time.result.table) == int((window["refills_due"] > 0).sum())


def test_headline_counts_the_pumps_now_whatever_their_due_month(demo_db: Path) -> None:
    """The headline counts every open pump that has run dry or passed its alarm date on
    today, whatever month it was due in; a month's scope does not narrow it."""
    from analytics.engine.worklist import worklist as worklist_today

    with reader(demo_db) as con:
        end = open_cutoff(con).data_end
        today = end + dt.timedelta(days=10)
        cut = open_cutoff(con, today=today)
        wl = worklist_today(con, today, 365)
        data = overview(cut, Scope.months("2026-01", "2026-01"))
    assert data.headline is not None
    assert data.headline.ran_dry == int((wl["status_code"] == "missed").sum())
    assert data.headline.alarm_passed == int((wl["status_code"] == "overdue").sum())
    assert data.headline.check == int((wl["status_code"] == "check").sum()) > 0
    assert "10 days old" in data.headline.sentence
    if data.headline.ran_dry:
        assert "No pump" not in data.headline.sentence


def test_worklist_figures_are_the_engine_worklist(demo_db: Path) -> None:
    """A site filter gives that site's rows of the engine's list, in the list's order."""
    from analytics.engine.worklist import worklist as worklist_today

    with reader(demo_db) as con:
        cut = open_cutoff(con)
        page = worklist_figures(cut, Scope.months("2026-01", "2026-01", (("site", "B"),)), 30)
        engine = worklist_today(con, cut.today, 30)
    engine = engine[engine["site"] == "B"]
    assert page.items is not None
    assert list(page.items.frame["fill_visit_id"]) == list(engine["fill_visit_id"])


def test_sharing_mode_shows_no_small_count_and_no_list(demo_db: Path) -> None:
    with reader(demo_db) as con:
        cut = open_cutoff(con)
        quarter = filter_options(cut).quarters[-1]
        shared = Scope.quarter(quarter, 11)
        figures = [refills_figures(cut, shared), complications_figures(cut, shared)]
        wl = worklist_figures(cut, shared)
        plan = planning_figures(cut, shared)
        q = data_quality(con, sharing=True)
        head = overview(cut, shared).headline
    # the patients now change from one day to the next: no figure of them is shared
    assert wl.counts is None and head is None
    assert plan.workload is None and plan.battery_counts is None and plan.battery_list is None
    tables = [plan.replaced, plan.dose_counts, *figures[0].by_group.values(), figures[0].excluded, figures[1].categories,
              figures[1].severity, figures[1].codes]  # fmt: skip
    for t in tables:
        for c in t.columns:
            if c.kind == "count":
                numeric = pd.to_numeric(t.frame[c.key], errors="coerce")
                assert not ((numeric >= 1) & (numeric <= 10)).any(), (t.key, c.key)
    assert (
        wl.items is None
        and plan.dose_list is None
        and figures[0].missed is None
        and figures[1].serious is None
    )
    assert all(flag.rows.empty for flag in q.flags)


def test_a_shared_view_is_one_whole_quarter_of_the_whole_programme() -> None:
    with pytest.raises(PumpqiError, match="whole calendar quarter"):
        Scope("2026-01", "2026-02", (), 11)
    with pytest.raises(PumpqiError, match="whole programme"):
        Scope("2026-01", "2026-03", (("site", "A"),), 11)
    assert Scope.quarter("2026Q2", 11).label() == "Q2 2026 (Apr–Jun)"


def test_dashboard_pack_and_cli_agree_for_a_month(demo_db: Path) -> None:
    """For one cut-off (the end of a month): the dashboard's by-site refills table and
    tiles, the pack's by-site table and key figures, and `pumpqi metrics` give the same
    numbers."""
    month = ReportMonth.parse("2026-06")
    with reader(demo_db) as con:
        cut = open_cutoff(con, month.as_of)
        dash = refills_figures(cut, Scope.months("2026-06", "2026-06")).by_group["site"].frame
        tiles = overview(cut, Scope.months("2025-07", "2026-06"))
        pack = gather(con, month, cut.config, "P", dt.datetime(2026, 7, 1))
    args = ["metrics", "--db", str(demo_db), "--as-of", "2026-06-30", "--by", "site",
            "--from", "2026-06", "--to", "2026-06"]  # fmt: skip
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    cli = pd.read_csv(io.StringIO(res.stdout)).set_index("group")
    cols = ["refills_due", *DUE_STATUS_IDS, "fills"]
    d = dash.set_index("group")[cols].astype(int)
    p = pack.by_site.frame.set_index("group")[cols].astype(int)
    pd.testing.assert_frame_equal(d, p)
    pd.testing.assert_frame_equal(d, cli.loc[d.index, cols].astype(int), check_names=False)
    assert pack.overview.rows is not None and tiles.rows is not None
    for col in ("refills_due", "on_time", "missed", "complications", "pump_days"):
        assert pack.overview.rows.loc["2026-06", col] == tiles.rows.loc["2026-06", col]
        assert int(tiles.rows.loc["2026-06", col]) == int(cli[col].sum())


def test_every_page_function_runs_quickly(demo_db: Path) -> None:
    scope = Scope.months("2025-01", "2026-06")
    timings = {}
    for name, call in {
        "overview": lambda cut: overview(cut, scope),
        "refills": lambda cut: refills_figures(cut, scope),
        "complications": lambda cut: complications_figures(cut, scope),
        "worklist": lambda cut: worklist_figures(cut, scope),
        "quality": lambda cut: data_quality(cut.con),
        "timeline": lambda cut: patient_timeline(cut.con, patient_ids(cut, scope)[0]),
    }.items():
        start = time.perf_counter()
        with reader(demo_db) as con:
            call(open_cutoff(con))
        timings[name] = time.perf_counter() - start
    assert max(timings.values()) < 20, timings


def test_timeline_never_shows_notes(demo_db: Path) -> None:
    with reader(demo_db) as con:
        pid = patient_ids(open_cutoff(con), Scope.months("2020-01", "2026-06"))[0]
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

"""The Streamlit dashboard driven headless with AppTest on the seeded demo data."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_dashboard_fixtures import APP, NOTE_TEXT, demo_database, empty_database

from analytics.figures.overview import TILE_MEASURES
from analytics.figures.text import md
from analytics.ingest.contract_doc import contract_markdown
from analytics.store import reader
from analytics.vocabulary import MEASURE

PAGES = (
    "app_pages/overview.py",
    "app_pages/refills.py",
    "app_pages/complications.py",
    "app_pages/worklist.py",
    "app_pages/timeline.py",
    "app_pages/quality.py",
    "app_pages/definitions.py",
)
COUNT_LIKE = re.compile(r"^\d[\d,]*$")
NOT_COUNTS = {"pump_days", "ingest_id", "days_late", "days_left", "dry_days", "rows"}


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_database(tmp_path_factory.getbasetemp())


@pytest.fixture
def app(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("PUMPQI_DB", str(demo_db))
    monkeypatch.delenv("PUMPQI_SHARING_ONLY", raising=False)
    yield AppTest.from_file(str(APP), default_timeout=60)


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def chart_specs(at: AppTest) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]  # type: ignore[attr-defined]


def test_every_page_renders(app: AppTest) -> None:
    at = app.run()
    ok(at)
    assert at.title[0].value == "Overview"
    labels = [m.label for m in at.metric]
    assert labels[:5] == [MEASURE[m].short_label for m in TILE_MEASURES]
    assert all(m.value for m in at.metric)
    assert len(at.get("plotly_chart")) == 2
    assert any(NOTE_TEXT in s for s in chart_specs(at)), "process-change note not drawn"
    assert any("How to read this" in c.value for c in at.caption)
    for page in PAGES[1:]:
        at.switch_page(page).run()
        ok(at)
        assert at.markdown or at.title, page
    at.switch_page("app_pages/definitions.py").run()
    assert "pump-days" in " ".join(m.value for m in at.markdown).lower()
    ok(at)
    shown = [m.value.strip() for m in at.markdown]
    assert contract_markdown(level=3).strip() in shown, "the data contract"


def test_filter_changes_figures_and_url(app: AppTest) -> None:
    at = app.run()
    before = chart_specs(at)
    kpis_before = [m.value for m in at.metric]
    at.sidebar.selectbox(key="pq_site").select("C").run()
    ok(at)
    after = chart_specs(at)
    assert before[0] != after[0] and before[1] != after[1]
    assert [m.value for m in at.metric] != kpis_before
    assert at.query_params["site"] == "C"
    at.switch_page("app_pages/refills.py").run()
    ok(at)
    assert at.sidebar.selectbox(key="pq_site").value == "C", "filters follow across pages"


def test_a_link_reproduces_the_view(app: AppTest, demo_db: Path) -> None:
    app.query_params["site"] = "B"
    app.query_params["drug"] = "baclofen"
    at = app.run()
    ok(at)
    assert at.sidebar.selectbox(key="pq_site").value == "B"
    assert at.sidebar.selectbox(key="pq_drug").value == "baclofen"
    assert md("site B, drug baclofen") in at.caption[0].value  # data values escaped


def test_worklist_lists_exactly_the_engine_worklist(app: AppTest, demo_db: Path) -> None:
    """The page's list is the engine's worklist as of today, in its order; its counts
    table adds up to it."""
    from analytics.engine.worklist import worklist as worklist_today

    today = dt.date.today()
    at = app.run()
    at.switch_page("app_pages/worklist.py").run()
    ok(at)
    counts, shown = at.dataframe[0].value, at.dataframe[1].value
    with reader(demo_db) as con:
        expected = worklist_today(con, today, 14)
    assert list(shown["fill_visit_id"]) == list(expected["fill_visit_id"])
    assert list(shown["patient_id"]) == [f"timeline?patient={p}" for p in expected["patient_id"]]
    total = counts[counts["site"] == "all sites"].iloc[0]
    assert int(total["total"]) == len(expected)
    assert int(total["missed"]) == int((expected["status_code"] == "missed").sum())
    at.number_input(key="pq_days").set_value(60).run()
    ok(at)
    with reader(demo_db) as con:
        wider = worklist_today(con, today, 60)
    assert len(at.dataframe[1].value) == len(wider) >= len(expected)
    assert at.query_params["days"] == "60"


def _small_counts(at: AppTest) -> list[str]:
    found = [
        f"metric {m.label}={m.value}"
        for m in at.metric
        if COUNT_LIKE.match(m.value or "") and 1 <= int(m.value.replace(",", "")) <= 10
    ]
    for d in at.dataframe:
        df: pd.DataFrame = d.value
        for col in df.columns:
            if str(col) in NOT_COUNTS:
                continue
            for v in df[col].dropna():
                if isinstance(v, bool):
                    continue
                text = str(v)
                if COUNT_LIKE.match(text) and 1 <= int(text.replace(",", "")) <= 10:
                    found.append(f"table column {col}={text}")
    return found


@pytest.mark.parametrize("site", [None, "C"])
def test_sharing_mode_shows_no_small_count(app: AppTest, site: str | None) -> None:
    at = app.run()
    if site:
        at.sidebar.selectbox(key="pq_site").select(site).run()
    at.sidebar.toggle(key="pq_sharing").set_value(True).run()
    assert at.query_params["sharing"] == "1"
    for page in PAGES[:-1]:
        at.switch_page(page).run()
        ok(at)
        assert not _small_counts(at), (page, _small_counts(at))
    for page in ("app_pages/worklist.py", "app_pages/overview.py", "app_pages/planning.py"):
        at.switch_page(page).run()
        ok(at)
        assert any("The patients now" in i.value for i in at.info), (
            f"{page}: the patients now change from day to day: not in sharing mode"
        )
    at.switch_page("app_pages/worklist.py").run()
    assert not at.dataframe, "the worklist names patients and counts the patients now"


def test_sharing_only_setting(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUMPQI_SHARING_ONLY", "1")
    app.query_params["sharing"] = "0"
    at = app.run()
    ok(at)
    toggle = at.sidebar.toggle(key="pq_sharing")
    assert toggle.value is True and toggle.disabled
    assert not _small_counts(at)


@pytest.mark.parametrize("which", ["empty", "missing", "unset"])
def test_no_data_gives_a_friendly_message(
    which: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if which == "unset":
        monkeypatch.delenv("PUMPQI_DB", raising=False)
    else:
        db = empty_database(tmp_path) if which == "empty" else tmp_path / "nope.duckdb"
        monkeypatch.setenv("PUMPQI_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    for page in PAGES:
        at.switch_page(page).run()
        ok(at)
        if page.endswith(("definitions.py", "quality.py")) and which == "empty":
            continue
        if page.endswith("definitions.py"):
            continue
        text = " ".join(i.value for i in at.info)
        assert ("no visits yet" in text) or ("not found" in text) or ("No database" in text), (
            page,
            text,
        )


def test_filters_that_match_nothing(app: AppTest) -> None:
    at = app.run()
    at.sidebar.selectbox(key="pq_indication").select("spasticity").run()
    at.sidebar.selectbox(key="pq_drug").select("ziconotide").run()
    for page in PAGES[:-1]:
        at.switch_page(page).run()
        ok(at)
    at.switch_page("app_pages/overview.py").run()
    assert any("No data for" in i.value for i in at.info)


def test_sql_looking_url_values_change_nothing(app: AppTest, demo_db: Path) -> None:
    size = demo_db.stat().st_size
    app.query_params.update(
        {
            "site": "A' OR 1=1 --",
            "drug": "baclofen'); DROP TABLE visits; --",
            "from": "2024-01' UNION SELECT 1 --",
            "sharing": "'; DELETE FROM visits",
            "patient": "x' OR '1'='1",
            "days": "14; DROP TABLE refills",
        }
    )
    at = app.run()
    ok(at)
    assert at.sidebar.selectbox(key="pq_site").value is None
    assert any("ignored" in w.value for w in at.sidebar.warning)
    for page in PAGES:
        at.switch_page(page).run()
        ok(at)
    assert demo_db.stat().st_size == size
    with reader(demo_db) as con:
        assert con.execute("SELECT count(*) FROM visits").fetchall()[0][0] > 0


def test_timeline_follows_the_url(app: AppTest, demo_db: Path) -> None:
    with reader(demo_db) as con:
        pid = con.execute("SELECT min(patient_id) FROM visits").fetchall()[0][0]
    at = app.run()
    at.switch_page("app_pages/timeline.py").run()
    ok(at)
    first = at.selectbox(key="pq_patient").value
    other = at.selectbox(key="pq_patient").options[5]
    at.selectbox(key="pq_patient").select(other).run()
    ok(at)
    assert at.query_params["patient"] == other and other != first
    spec = json.loads(chart_specs(at)[0])
    assert other in json.dumps(spec["layout"]["title"])
    assert pid


def test_plain_tables_show_dates_as_dates(app: AppTest) -> None:
    """The timeline's fills (dates of the data) show as dates, not '2024-01-31 00:00:00';
    a time of day (the ingest log's) is kept."""
    at = app.run()
    at.switch_page("app_pages/timeline.py").run()
    ok(at)
    fills = at.dataframe[0].value
    dates = fills["fill_date"].dropna()
    assert len(dates) and all(type(d) is dt.date for d in dates), fills.dtypes
    at.switch_page("app_pages/quality.py").run()
    ok(at)
    log = next(d.value for d in at.dataframe if "ingested_at" in d.value.columns)
    assert pd.api.types.is_datetime64_any_dtype(log["ingested_at"]), log.dtypes

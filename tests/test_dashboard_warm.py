"""The server's warm-up (dashboards/_warm.py) computes exactly the views the pages ask for
with their default settings, so that the first person to open a page after the server
started or after an ingest finds its figures ready."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from test_dashboard_fixtures import APP, demo_database

from analytics.figures import Scope

sys.path.insert(0, str(APP.parent))  # dashboards/, as Streamlit runs it
import _data  # noqa: E402
import _state  # noqa: E402
import _warm  # noqa: E402

DATA_PAGES = (
    "app_pages/overview.py",
    "app_pages/refills.py",
    "app_pages/complications.py",
    "app_pages/worklist.py",
    "app_pages/planning.py",
    "app_pages/survival.py",
    "app_pages/quality.py",
)

Key = tuple[Any, ...]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_database(tmp_path_factory.mktemp("warm"))


@pytest.fixture
def asked(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Key]]:
    """Every view asked of the shared cache (its whole key), by pages or the warm-up."""
    monkeypatch.setenv("PUMPQI_DB", str(demo_db))
    monkeypatch.delenv("PUMPQI_SHARING_ONLY", raising=False)
    monkeypatch.delenv("PUMPQI_WARM", raising=False)  # no thread here: warm() is called
    keys: list[Key] = []
    real = _data._cached

    def recording(*args: Any) -> Any:
        keys.append(args)
        return real(*args)

    monkeypatch.setattr(_data, "_cached", recording)
    yield keys


def _page_keys(keys: list[Key], sharing: bool) -> set[Key]:
    at = AppTest.from_file(str(APP), default_timeout=60)
    if sharing:
        at.query_params["sharing"] = "1"
    at.run()
    for page in DATA_PAGES:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    return {k for k in keys if k[0] != "options"}


@pytest.mark.parametrize("sharing", [False, True])
def test_warm_up_computes_every_view_a_page_asks_for(asked: list[Key], sharing: bool) -> None:
    pages = _page_keys(asked, sharing)
    assert {k[0] for k in pages} >= {"overview", "refills", "complications", "planning"}
    asked.clear()
    count = _warm.warm(_state.source(), dt.date.today(), sharing_only=False)
    warmed = set(asked)
    assert count == len(warmed), "one computation per view"
    missing = pages - warmed
    assert not missing, f"pages asked for views the warm-up did not compute: {missing}"


def test_default_views_hand_worked() -> None:
    months = (
        tuple(f"2024-{m:02d}" for m in range(1, 13))
        + tuple(f"2025-{m:02d}" for m in range(1, 13))
        + ("2026-01", "2026-02")
    )
    quarters = ("2024Q1", "2025Q4")
    views = _warm.default_views(months, quarters, 11, sharing_only=False)
    committee = Scope.months("2024-03", "2026-02", ())  # the last 24 months
    shared = Scope.quarter("2025Q4", 11)
    assert [(k, s) for k, s, _ in views if s == committee] == [
        (k, committee) for k, _ in _warm.COMMITTEE_VIEWS
    ]
    assert [(k, s) for k, s, _ in views if s == shared] == [
        (k, shared) for k, _ in _warm.SHARED_VIEWS
    ]
    assert len(views) == len(_warm.COMMITTEE_VIEWS) + len(_warm.SHARED_VIEWS)
    assert ("worklist", committee, (_state.DEFAULT_WORKLIST_DAYS,)) in views
    assert not any(k == "worklist" and s == shared for k, s, _ in views), "hidden when shared"
    only_shared = _warm.default_views(months, quarters, 11, sharing_only=True)
    assert {s for _, s, _ in only_shared} == {shared}
    no_quarter = _warm.default_views(months, (), 11, sharing_only=False)
    assert {s for _, s, _ in no_quarter} == {committee}


def test_started_only_when_the_server_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUMPQI_WARM", raising=False)
    assert not _warm.enabled()
    assert _warm.start(sharing_only=False) is False
    monkeypatch.setenv("PUMPQI_WARM", "1")
    assert _warm.enabled()

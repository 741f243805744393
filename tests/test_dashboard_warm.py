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

NO_DATA_PAGES = {"definitions.py"}  # the text and the configuration only
DATA_PAGES = tuple(
    f"app_pages/{p.name}"
    for p in sorted((APP.parent / "app_pages").glob("*.py"))
    if p.name not in NO_DATA_PAGES
)
EXPECTED = {
    False: {"overview", "refills", "complications", "outcomes", "planning", "survival",
            "quality", "worklist", "patients", "timeline"},
    True: {"overview", "refills", "complications", "outcomes", "planning", "survival",
           "quality"},
}  # fmt: skip
"""The views the pages ask for with their default settings (by sharing mode)."""

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
    assert not at.exception, [e.value for e in at.exception]
    for page in DATA_PAGES:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    return {k for k in keys if k[0] != "options"}


@pytest.mark.parametrize("server", ["committee", "sharing", "sharing only"])
def test_warm_up_computes_every_view_a_page_asks_for(
    asked: list[Key], server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sharing_only = server == "sharing only"
    if sharing_only:
        monkeypatch.setenv("PUMPQI_SHARING_ONLY", "1")
    sharing = server != "committee"
    pages = _page_keys(asked, sharing)
    assert {k[0] for k in pages} == EXPECTED[sharing]
    asked.clear()
    count = _warm.warm(_state.source(), dt.date.today(), sharing_only)
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
    for value, on in (("", False), ("0", False), ("1", True), ("yes", True)):
        monkeypatch.setenv("PUMPQI_WARM", value)
        assert _warm.enabled() is on, value
    monkeypatch.setenv("PUMPQI_WARM", "0")
    assert _warm.start(sharing_only=False) is False, "no thread unless the server asks"


def test_when_a_warm_up_is_due() -> None:
    day = dt.date(2026, 12, 7)
    src = _state.Source("pumps.duckdb", (1, 100), None, None)
    ingested = _state.Source("pumps.duckdb", (2, 120), None, None)
    reconfigured = _state.Source("pumps.duckdb", (1, 100), "site.toml", (5, 9))
    ttl = _data.CACHE_TTL_SECONDS
    assert _warm.due((src, day), None, 0)  # the first look
    assert not _warm.due((src, day), (src, day), 60)  # nothing changed
    assert _warm.due((ingested, day), (src, day), 60)  # an ingest replaced the file
    assert _warm.due((reconfigured, day), (src, day), 60)  # another configuration
    assert _warm.due((src, day + dt.timedelta(days=1)), (src, day), 60)  # a new day
    assert _warm.due((src, day), (src, day), ttl + 1)  # the cached figures expired
    assert not _warm.due((src, day), (src, day), ttl - 1)
    assert not _warm.due((_state.Source("gone.duckdb", None, None, None), day), None, 0)
    assert not _warm.due((_state.Source(None, None, None, None), day), None, 0)


def test_a_failed_warm_up_never_stops_the_server(
    monkeypatch: pytest.MonkeyPatch, demo_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a warm-up is logged by its kind only (its message could quote a value),
    and the next look at the files goes on as usual."""
    monkeypatch.setenv("PUMPQI_DB", str(demo_db))

    def broken(*args: Any) -> int:
        raise ValueError("a message quoting patient P-000123")

    monkeypatch.setattr(_warm, "warm", broken)
    state: dict[str, Any] = {}
    with caplog.at_level("INFO", logger="pumpqi.dashboard.warm"):
        _warm._once(False, state)
    assert state["done"][0] == _state.source(), "not tried again until something changes"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "ValueError" in logged and "P-000123" not in logged, logged

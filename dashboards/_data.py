"""Cached page data. Each call opens one short-lived read-only connection, asks
analytics.figures for the page's figures at the data's cut-off and closes it; results
are cached by the database file (path, mtime, size), the configuration file and the
scope, and shared by every session of the server."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import streamlit as st
from _state import Source, current_scope, source  # dashboards/ is on sys.path

from analytics.config import Config, load_config
from analytics.errors import PumpqiError
from analytics.figures import (
    Cutoff,
    Scope,
    complications_figures,
    data_quality,
    definitions_figures,
    filter_options,
    open_cutoff,
    overview,
    patient_ids,
    patient_timeline,
    refills_figures,
    worklist_figures,
)
from analytics.figures.outcomes import outcomes_figures
from analytics.figures.planning import planning_figures
from analytics.figures.survival import survival_figures
from analytics.store import reader

log = logging.getLogger("pumpqi.dashboard")

_VIEWS: dict[str, Callable[..., Any]] = {
    "options": lambda cut, scope: filter_options(cut),
    "overview": overview,
    "refills": refills_figures,
    "complications": complications_figures,
    "worklist": lambda cut, scope, days: worklist_figures(cut, scope, days),
    "patients": patient_ids,
    "timeline": lambda cut, scope, patient: patient_timeline(
        cut.ready(), patient, cut.as_of, cut.config
    ),
    "quality": lambda cut, scope: data_quality(cut.ready(), cut.config, scope.shared),
    "planning": planning_figures,
    "outcomes": outcomes_figures,
    "survival": lambda cut, scope, by: survival_figures(cut, scope, by),
}


class NoData(Exception):
    """The page cannot be drawn; the message says why in the user's words."""


CACHE_TTL_SECONDS = 6 * 3600
"""How long computed figures are kept (the server's warm-up computes the default views
again when they expire, dashboards/_warm.py)."""


@st.cache_data(show_spinner="Computing the figures…", max_entries=256, ttl=CACHE_TTL_SECONDS)
def _cached(
    kind: str,
    db: str,
    stamp: tuple[int, int] | None,
    config_path: str | None,
    config_stamp: tuple[int, int] | None,
    scope: Scope,
    extra: tuple[Any, ...],
    today: dt.date,
) -> Any:
    config: Config = load_config(config_path)
    with reader(db) as con:
        cut: Cutoff = open_cutoff(con, None, config, today)
        return _VIEWS[kind](cut, scope, *extra)


WHOLE = Scope("1900-01", "1900-01")
"""The scope of figures that do not depend on it (the sidebar's options)."""


def cached_view(
    kind: str, src: Source, scope: Scope, extra: tuple[Any, ...], today: dt.date
) -> Any:
    """The figures of a view (kind, scope, extra arguments) of `src` as of `today`, from
    the cache shared by every session (computed on the first call)."""
    return _cached(kind, src.db, src.stamp, src.config, src.config_stamp, scope, extra, today)


def load(kind: str, *extra: Any, scope: Scope | None = None, src: Source | None = None) -> Any:
    """Page data for the sidebar's scope; raises NoData with a friendly message."""
    src = src or source()
    if not src.db:
        raise NoData(
            "No database was given. Start the dashboard with `pumpqi dashboard --db FILE`, "
            "or try it on synthetic data with `pumpqi demo`."
        )
    s = scope or current_scope()
    if s is None:
        raise NoData("Choose a period in the sidebar.")
    try:
        # the worklist is made as of today: part of the key
        return cached_view(kind, src, s, tuple(extra), dt.date.today())
    except PumpqiError as exc:
        raise NoData(_friendly(str(exc))) from None


def definitions() -> Any:
    """The Definitions page needs no database: the text and the configuration in effect."""
    try:
        return definitions_figures(load_config(source().config))
    except PumpqiError as exc:
        raise NoData(_friendly(str(exc))) from None


def require_data() -> None:
    """Stop a page that needs visits when the database has none (message from app.py)."""
    message = st.session_state.get("pq_nodata")
    if message:
        raise NoData(str(message))


def _friendly(text: str) -> str:
    if "no visits yet" in text:
        return (
            "The database holds no visits yet. Load a visits file with "
            "`pumpqi ingest --db FILE visits.csv`, then reload this page."
        )
    return f"The data could not be read: {text}."


def run_page(body: Callable[[], None]) -> None:
    """Run a page body: NoData becomes a friendly message, a bug one line (no traceback)."""
    try:
        body()
    except NoData as exc:
        st.info(str(exc))
    except Exception as exc:  # a bug: say so without data values; details go to the log
        log.exception("dashboard page failed")
        st.error(
            f"Something went wrong while drawing this page ({type(exc).__name__}). "
            "The details are in the server log; please report it."
        )

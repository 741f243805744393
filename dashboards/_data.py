"""Cached page data. Each call opens one short-lived read-only connection, asks
analytics.figures for the page's figures and closes it; results are cached by the
database file (path, mtime, size), the configuration file and the filters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import streamlit as st
from _state import Source, current_filters, source  # dashboards/ is on sys.path

from analytics.config import Config, load_config
from analytics.errors import PumpqiError
from analytics.figures import (
    Filters,
    complications_page,
    data_quality,
    definitions_page,
    filter_options,
    overview,
    patient_ids,
    patient_timeline,
    refills_page,
    worklist_page,
)
from analytics.store import reader

log = logging.getLogger("pumpqi.dashboard")

_VIEWS: dict[str, Callable[..., Any]] = {
    "options": lambda con, f, c: filter_options(con, c),
    "overview": lambda con, f, c: overview(con, f, c),
    "refills": lambda con, f, c: refills_page(con, f, c),
    "complications": lambda con, f, c: complications_page(con, f, c),
    "worklist": lambda con, f, c, days: worklist_page(con, f, days, c),
    "patients": lambda con, f, c: patient_ids(con, f, c),
    "timeline": lambda con, f, c, patient: patient_timeline(con, patient, None, c),
    "quality": lambda con, f, c: data_quality(con, c, f.sharing),
}


class NoData(Exception):
    """The page cannot be drawn; the message says why in the user's words."""


@st.cache_data(show_spinner="Computing the figures…", max_entries=256, ttl=6 * 3600)
def _cached(
    kind: str,
    db: str,
    stamp: tuple[int, int] | None,
    config_path: str | None,
    config_stamp: tuple[int, int] | None,
    filters: Filters,
    extra: tuple[Any, ...],
) -> Any:
    config: Config = load_config(config_path)
    with reader(db) as con:
        return _VIEWS[kind](con, filters, config, *extra)


def load(kind: str, *extra: Any, filters: Filters | None = None, src: Source | None = None) -> Any:
    """Page data for the current filters; raises NoData with a friendly message."""
    src = src or source()
    if not src.db:
        raise NoData(
            "No database was given. Start the dashboard with `pumpqi dashboard --db FILE`, "
            "or try it on synthetic data with `pumpqi demo`."
        )
    f = current_filters() if filters is None else filters
    try:
        return _cached(kind, src.db, src.stamp, src.config, src.config_stamp, f, tuple(extra))
    except PumpqiError as exc:
        raise NoData(_friendly(str(exc))) from None


def definitions() -> Any:
    """The Definitions page needs no database: the text and the configuration in effect."""
    try:
        return definitions_page(load_config(source().config))
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

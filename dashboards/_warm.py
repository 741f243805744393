"""The shared figures computed before anyone asks for them (the server's warm-up).

Computing a page's figures takes 2-3 s at 1M visits; every session after the first gets
them from the shared cache (_data.py). Without a warm-up, the first people to open each
page after the server starts or after an ingest replaced the database (a committee
opening a shared link together) wait for that computation.

With PUMPQI_WARM=1 in the server's environment (`pumpqi dashboard` sets it unless it is
set already), the first page load that can read the data starts one background thread.
It computes every data page's default view: the default period with no filter (the
patient timeline: its first patient) and, when the data has a finished calendar
quarter, sharing mode's latest quarter. Then every POLL_SECONDS it looks at the database
and configuration files, and computes the default views again as soon as one changed (an
ingest replaces the database file), on a new day (the worklist is as of today) and when
the cached figures have expired (CACHE_TTL_SECONDS after they were computed). A view
chosen in the sidebar is still computed when first asked for.

It computes through the same cached function as the pages, with the same arguments, so
a page asking while the warm-up computes the same view waits for that one computation.
Its failures (a database being replaced, no visits yet) are logged by kind only (no
message, which could quote a value); the pages report them in their own words.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from typing import Any

from _data import CACHE_TTL_SECONDS, WHOLE, cached_view  # dashboards/ is on sys.path
from _state import DEFAULT_SURVIVAL_BY, DEFAULT_WORKLIST_DAYS, Source, default_from, source

from analytics.cli.dashboard import WARM_ENV, WARM_FAILED, WARM_READY
from analytics.config import load_config
from analytics.errors import PumpqiError
from analytics.figures import Scope

POLL_SECONDS = 30.0
THREAD_NAME = "pumpqi-warm"

log = logging.getLogger("pumpqi.dashboard.warm")

_started = threading.Lock()
_thread: threading.Thread | None = None

View = tuple[str, Scope, tuple[Any, ...]]
"""A view as the pages ask the cache for it: kind, scope, extra arguments."""
Asked = tuple[tuple[str, tuple[Any, ...]], ...]

SHARED_VIEWS: Asked = (
    ("overview", ()),
    ("refills", ()),
    ("complications", ()),
    ("outcomes", ()),
    ("planning", ()),
    ("survival", (DEFAULT_SURVIVAL_BY,)),
    ("quality", ()),
)
"""(kind, extra arguments) of what the pages ask for with their default settings in
sharing mode (the worklist and the patient timeline are not shown there)."""
COMMITTEE_VIEWS: Asked = (
    *SHARED_VIEWS,
    ("worklist", (DEFAULT_WORKLIST_DAYS,)),
    ("patients", ()),
)
"""The same with the committee's default period, and the worklist and the timeline's list
of patients (then the timeline of its first patient, see `warm`)."""


def enabled() -> bool:
    return os.environ.get(WARM_ENV, "").strip().lower() in ("1", "true", "yes")


def default_views(
    months: tuple[str, ...], quarters: tuple[str, ...], suppress_below: int, sharing_only: bool
) -> list[View]:
    """Every default view, as the pages ask for them: the sidebar's default period
    (unless the server shows sharing mode only) and sharing mode's latest quarter (when
    the data has one)."""
    views: list[View] = []
    if months and not sharing_only:
        scope = Scope.months(default_from(list(months)), months[-1], ())
        views += [(kind, scope, extra) for kind, extra in COMMITTEE_VIEWS]
    if quarters:
        shared = Scope.quarter(str(quarters[-1]), suppress_below)
        views += [(kind, shared, extra) for kind, extra in SHARED_VIEWS]
    return views


def warm(src: Source, today: dt.date, sharing_only: bool) -> int:
    """Compute the default views of `src` as of `today` into the shared cache (the
    sidebar's options first); return how many were computed or found there. Raises
    PumpqiError when the data cannot be read (no visits yet, a damaged file)."""
    options = cached_view("options", src, WHOLE, (), today)
    suppress_below = load_config(src.config).suppress_below
    views = default_views(options.months, options.quarters, suppress_below, sharing_only)
    count = 1
    for kind, scope, extra in views:
        result = cached_view(kind, src, scope, extra, today)
        count += 1
        if kind == "patients" and result:  # the timeline page shows the first at first
            cached_view("timeline", src, scope, (result[0],), today)
            count += 1
    return count


def due(now: tuple[Source, dt.date], done: tuple[Source, dt.date] | None, since: float) -> bool:
    """Whether to warm up now: a database to read, and a file changed (its stamp), a new
    day, or `since` (seconds since the last warm-up) past the cached figures' lifetime."""
    src = now[0]
    if not src.db or src.stamp is None:
        return False
    return now != done or since > CACHE_TTL_SECONDS


def _once(sharing_only: bool, state: dict[str, Any]) -> None:
    """One look at the files; a warm-up when it is due. Never raises."""
    now = (source(), dt.date.today())
    if not due(now, state.get("done"), time.monotonic() - state.get("at", 0.0)):
        return
    started = time.monotonic()  # the cached figures expire CACHE_TTL_SECONDS after this
    try:
        count = warm(now[0], now[1], sharing_only)
    except PumpqiError:
        log.info("pumpqi warm-up: %s (the data cannot be read yet)", WARM_FAILED)
    except Exception as exc:  # never stop the server; the pages report their own errors
        log.error("pumpqi warm-up: %s (%s)", WARM_FAILED, type(exc).__name__)
    else:
        took = time.monotonic() - started
        log.info("pumpqi warm-up: %d %s in %.1f s", count, WARM_READY, took)
    state.update(done=now, at=started)


def _loop(sharing_only: bool) -> None:
    state: dict[str, Any] = {}
    while True:
        _once(sharing_only, state)
        time.sleep(POLL_SECONDS)


class _QuietBareMode(logging.Filter):
    """Streamlit warns once per call that a thread has no script run context: expected
    for this thread, which runs outside any session."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD_NAME


def start(sharing_only: bool) -> bool:
    """Start the warm-up thread once per server process when PUMPQI_WARM=1; True when
    this call started it."""
    global _thread
    if not enabled():
        return False
    with _started:
        if _thread is not None:
            return False
        logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
            _QuietBareMode()
        )
        if not log.handlers:  # its lines in the server's console (no data values in them)
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
            log.addHandler(handler)
            log.setLevel(logging.INFO)
            log.propagate = False
        _thread = threading.Thread(
            target=_loop, args=(sharing_only,), name=THREAD_NAME, daemon=True
        )
        _thread.start()
        return True

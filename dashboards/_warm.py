"""The shared figures computed before anyone asks for them (the server's warm-up).

Computing a page's figures takes 2-3 s at 1M visits; every session after the first gets
them from the shared cache (_data.py). Without a warm-up, the first people to open each
page after the server starts or after an ingest replaced the database (a committee
opening a shared link together) wait for that computation. With PUMPQI_WARM=1 in the
server's environment (`pumpqi dashboard` sets it), the first page load starts one
background thread that computes every page's default view: the default period with no
filter and, when the data has a finished calendar quarter, sharing mode's latest
quarter. It then looks at the database and configuration files every POLL_SECONDS and
computes the default views again as soon as they change (an ingest replaces the file),
on a new day (the worklist is as of today), and every REFRESH_SECONDS (cached figures
expire). A view chosen in the sidebar is still computed when first asked for.

It computes through the same cached function as the pages, with the same arguments, so
a page asking while the warm-up computes the same view waits for that one computation.
Its failures (a database being replaced, no visits yet) are logged without data values;
the pages then report them in their own words.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from typing import Any

from _data import WHOLE, figures  # dashboards/ is on sys.path
from _state import DEFAULT_SURVIVAL_BY, DEFAULT_WORKLIST_DAYS, Source, default_from, source

from analytics.cli.dashboard import WARM_ENV, WARM_READY
from analytics.config import load_config
from analytics.errors import PumpqiError
from analytics.figures import Scope

POLL_SECONDS = 30.0
REFRESH_SECONDS = 3600.0
THREAD_NAME = "pumpqi-warm"

log = logging.getLogger("pumpqi.dashboard.warm")

_started = threading.Lock()
_thread: threading.Thread | None = None

SHARED_VIEWS: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("overview", ()),
    ("refills", ()),
    ("complications", ()),
    ("outcomes", ()),
    ("planning", ()),
    ("survival", (DEFAULT_SURVIVAL_BY,)),
    ("quality", ()),
)
"""(kind, extra arguments) of what the pages ask for with their default settings, in
sharing mode; the committee's pages ask for these and the worklist."""
COMMITTEE_VIEWS = (*SHARED_VIEWS, ("worklist", (DEFAULT_WORKLIST_DAYS,)))


def enabled() -> bool:
    return os.environ.get(WARM_ENV, "").strip().lower() in ("1", "true", "yes")


def default_views(
    months: tuple[str, ...], quarters: tuple[str, ...], suppress_below: int, sharing_only: bool
) -> list[tuple[str, Scope, tuple[Any, ...]]]:
    """(kind, scope, extra) of every default view, as the pages ask for them: the
    sidebar's default period (unless the server shows sharing mode only) and sharing
    mode's latest quarter (when the data has one)."""
    views: list[tuple[str, Scope, tuple[Any, ...]]] = []
    if months and not sharing_only:
        scope = Scope.months(default_from(list(months)), months[-1], ())
        views += [(kind, scope, extra) for kind, extra in COMMITTEE_VIEWS]
    if quarters:
        shared = Scope.quarter(str(quarters[-1]), suppress_below)
        views += [(kind, shared, extra) for kind, extra in SHARED_VIEWS]
    return views


def warm(src: Source, today: dt.date, sharing_only: bool) -> int:
    """Compute the default views of `src` as of `today` into the shared cache; return
    how many were computed or found there. Raises PumpqiError when the data cannot be
    read (no visits yet, a damaged file)."""
    options = figures("options", src, WHOLE, (), today)
    suppress_below = load_config(src.config).suppress_below
    views = default_views(options.months, options.quarters, suppress_below, sharing_only)
    for kind, scope, extra in views:
        figures(kind, src, scope, extra, today)
    return len(views) + 1


class _QuietBareMode(logging.Filter):
    """Streamlit warns once per call that a thread has no script run context: expected
    for this thread, which runs outside any session."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD_NAME


def _loop(sharing_only: bool) -> None:
    done: tuple[Source, dt.date] | None = None
    last = 0.0
    while True:
        src, today = source(), dt.date.today()
        if (
            src.db
            and src.stamp
            and ((src, today) != done or time.monotonic() - last > REFRESH_SECONDS)
        ):
            started = time.monotonic()
            try:
                count = warm(src, today, sharing_only)
            except PumpqiError as exc:
                log.info("warm-up skipped: %s", exc)
            except Exception:  # never stop the server; the pages report their own errors
                log.exception("warm-up failed")
            else:
                took = time.monotonic() - started
                log.info("pumpqi warm-up: %d %s in %.1f s", count, WARM_READY, took)
            done, last = (src, today), time.monotonic()
        time.sleep(POLL_SECONDS)


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
        _thread = threading.Thread(
            target=_loop, args=(sharing_only,), name=THREAD_NAME, daemon=True
        )
        _thread.start()
        return True

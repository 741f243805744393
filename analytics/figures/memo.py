"""Figures computed once and served to every caller: a small process-wide cache keyed by
the database file, its data version (the last ingest), the cut-off, the configuration
and what was asked. The dashboard's sessions and the pack share it; a new ingest makes
a new version, so nothing stale is served."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from analytics.figures.scope import Cutoff

T = TypeVar("T")
MAX_ENTRIES = 32
_LOCK = threading.Lock()
_CACHE: OrderedDict[tuple[Hashable, ...], object] = OrderedDict()


def data_version(cut: Cutoff) -> tuple[str, str, int]:
    """(database file, its ingests — last id, time, rows —, number of process-change
    notes) of the cut-off's connection: changes whenever what the figures are computed
    from changes, also when a file is replaced by another at the same path."""
    con = cut.con
    path = con.execute(
        "SELECT coalesce(path, database_name) FROM duckdb_databases() "
        "WHERE database_name = current_database()"
    ).fetchall()[0][0]
    ingest = con.execute(
        "SELECT concat_ws('|', max(ingest_id), max(ingested_at), sum(rows_loaded), "
        "max(content_hash)) FROM ingest_log"
    ).fetchall()[0][0]
    notes = con.execute("SELECT count(*) FROM annotations").fetchall()[0][0]
    return str(path), str(ingest), int(notes)


def memo(cut: Cutoff, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """`compute()` once per (data version, cut-off, configuration, key)."""
    full = (*data_version(cut), cut.as_of, cut.config.digest(), *key)
    with _LOCK:
        if full in _CACHE:
            _CACHE.move_to_end(full)
            return _CACHE[full]  # type: ignore[return-value]
    value = compute()
    with _LOCK:
        _CACHE[full] = value
        while len(_CACHE) > MAX_ENTRIES:
            _CACHE.popitem(last=False)
    return value

"""The pack's own sources: the input files behind the database, and the data-quality
counts (rows set aside at ingest; the engine's warnings for the reported period)."""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.engine.refills import episodes, refills
from analytics.figures.disclosure import Rules, suppress_table
from analytics.figures.model import Column, FigureTable
from analytics.figures.scope import Cutoff, Scope
from analytics.figures.tables import count_of

QUALITY_RULES = Rules(counts=("count",))


def ingest_manifest(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The input files behind the database: name, table, content hash, when loaded."""
    return con.execute(
        """
        SELECT ingest_id, table_name, file_name, content_hash, rows_loaded,
               strftime(ingested_at, '%Y-%m-%d %H:%M:%S') AS ingested_at, package_version
        FROM ingest_log ORDER BY ingest_id, table_name, file_name
        """
    ).df()


def _quarantine(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """
        SELECT 'quarantined rows' AS "check",
               table_name || ': ' || coalesce(column_name || ' – ', '') || reason AS detail,
               count(*) AS "count"
        FROM quarantine GROUP BY ALL ORDER BY detail
        """
    ).df()


def data_quality(con: duckdb.DuckDBPyConnection, cut: Cutoff, scope: Scope) -> FigureTable:
    """Rows set aside at ingest (by table, column and reason) and the engine's warnings:
    unknown due dates (in the period, and all to the cut-off), overfilled reservoirs,
    reports outside an episode, left-truncated episodes."""
    start, end = scope.period.bounds(cut.as_of)
    fills = refills(cut.ready(), cut.as_of, cut.config, True)
    in_period = fills["fill_date"].between(pd.Timestamp(start), pd.Timestamp(end))
    unknown = fills["status"] == "unknown"
    eps = episodes(cut.ready(), cut.as_of, cut.config)
    outside = count_of(cut, scope, "reports_all")
    reports = count_of(cut, scope, "complications")
    n_outside = (
        int(outside) - int(reports)  # type: ignore[call-overload]
        if not isinstance(outside, str) and not isinstance(reports, str)
        else None
    )
    checks = [
        ("unknown due date", "fills dated in the period", int((unknown & in_period).sum())),
        ("unknown due date", "all fills to the cut-off", int(unknown.sum())),
        ("overfilled", "fills in the period above the reservoir size", int((fills["overfilled"] & in_period).sum())),
        ("outside episode", "reports in the period outside any therapy episode", n_outside),
        ("started before the data", "episodes whose implant is before the first visit in the data", int(eps["left_truncated"].sum())),
    ]  # fmt: skip
    engine = pd.DataFrame(checks, columns=["check", "detail", "count"])
    frame = pd.concat([_quarantine(con), engine], ignore_index=True)
    if scope.sharing is not None:
        frame = suppress_table(frame, QUALITY_RULES, scope.sharing)
    cols = (Column("check", "Check"), Column("detail", "Detail"), Column("count", "Rows", "count"))
    note = "Quarantined rows: every ingest so far; they are in no figure of this pack."
    return FigureTable("data_quality", "Data quality", frame, cols, note)

"""Build a small database from visit dicts, through the real ingest path."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pandas as pd

from analytics.engine.refills import refills
from analytics.ingest.contract import COMPLICATIONS, VISITS
from analytics.ingest.load import ingest_files
from analytics.store import reader


def _write(path: Path, columns: Sequence[str], rows: Sequence[dict[str, object]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(columns))
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return path


@contextlib.contextmanager
def engine_db(
    visits: Sequence[dict[str, object]], complications: Sequence[dict[str, object]] = ()
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a fresh database holding exactly these rows."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for i, v in enumerate(visits):
            v.setdefault("visit_id", f"v{i:03d}")
        vpath = _write(tmp / "visits.csv", VISITS.names, visits)
        cpath = (
            _write(tmp / "complications.csv", COMPLICATIONS.names, complications)
            if complications
            else None
        )
        results = ingest_files(tmp / "t.duckdb", vpath, cpath)
        for r in results:
            assert r.rows_quarantined == 0, f"test data must be clean: {r.line()}"
        with reader(tmp / "t.duckdb") as con:
            yield con


def fills_of(visits: Sequence[dict[str, object]], as_of: str, **kw: object) -> pd.DataFrame:
    with engine_db(visits) as con:
        return refills(con, dt.date.fromisoformat(as_of), detail=True, **kw)  # type: ignore[arg-type]


def D(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def implant(pid: str, date: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {"patient_id": pid, "visit_date": date, "visit_type": "implant"}
    row.update(kw)
    return row


def visit(pid: str, date: str, vtype: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {"patient_id": pid, "visit_date": date, "visit_type": vtype}
    row.update(kw)
    return row


BASE: dict[str, object] = dict(
    pump_model="SynchroMed II",
    reservoir_ml=20,
    drug="baclofen",
    concentration_mg_ml=2,
    daily_dose_mg=0.4,
    volume_added_ml=20,
)
"""The base pump of the hand-worked tests: 0.2 mL/day, alarm at 2 mL, 20 mL reservoir."""

"""The seeded demo database shared by the dashboard tests (built once per session).

Not a test module of its own: the dashboard test files import `demo_database` and
`empty_database` from here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from analytics.ingest.load import ingest_files
from analytics.spc import add_annotation
from analytics.store import writer
from analytics.synth import DEMO, generate, write

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "dashboards" / "app.py"
NOTE_TEXT = "Refill reminder calls started"


def demo_database(base: Path) -> Path:
    """DEMO preset (600 patients, 4 years, 3 sites) ingested, plus one process-change note."""
    db = base / "demo.duckdb"
    if db.exists():
        return db
    result = generate(
        patients=DEMO["patients"], years=DEMO["years"], seed=DEMO["seed"], sites=DEMO["sites"]
    )  # fmt: skip
    files = base / "demo-source"
    write(result, files, "csv")
    ingest_files(db, files / "visits.csv", files / "complications.csv")
    note = result.end - dt.timedelta(days=300)
    add_annotation(db, note.replace(day=1), NOTE_TEXT)
    return db


def empty_database(base: Path) -> Path:
    """A pumpqi database with the schema and nothing loaded."""
    db = base / "empty.duckdb"
    if not db.exists():
        with writer(db):
            pass
    return db

"""The seeded demo database shared by the dashboard tests (built once per session).

Not a test module of its own: the dashboard test files import `demo_database` and
`empty_database` from here.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from analytics.cli.dashboard import WARM_ENV, stop_server, streamlit_command, wait_until_healthy
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_dashboard(
    db: Path, extra_args: Sequence[str] = (), unset: Sequence[str] = (), wait_s: float = 60
) -> Iterator[int]:
    """A real Streamlit server of the app over `db` on 127.0.0.1 (its port), started
    as `pumpqi dashboard` starts it, healthy before it is yielded, stopped afterwards;
    PUMPQI_SHARING_ONLY and the names in `unset` are removed from its environment."""
    port = free_port()
    env = dict(os.environ, PUMPQI_DB=str(db), **{WARM_ENV: "1"})
    for name in ("PUMPQI_SHARING_ONLY", *unset):
        env.pop(name, None)
    cmd = [*streamlit_command(APP, "127.0.0.1", port), *extra_args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        if not wait_until_healthy(f"http://127.0.0.1:{port}", proc, wait_s):
            proc.terminate()  # a server still starting: its output ends, and is read whole
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"the dashboard did not start:\n{out[-2000:]}")
        yield port
    finally:
        stop_server(proc)

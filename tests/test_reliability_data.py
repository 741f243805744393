"""Helpers for the reliability tests (issue #11): big contract-valid extracts, fingerprints.

The synthetic generator (analytics/synth) makes realistic data; these tests only need
many valid rows fast, so they write their own: each patient has an implant then a
refill every ~60 days, at one of three sites.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.ingest.load import validate_files
from analytics.store import reader

ROOT = Path(__file__).resolve().parents[1]
FINGERPRINT_TABLES = ("visits", "complications", "quarantine", "ingest_log")


def write_visits(path: Path, n: int, *, seed: int = 0, prefix: str = "p") -> Path:
    """Write `n` contract-valid visit rows (ids `<prefix>v<i>`, patients `<prefix><k>`)."""
    rng = np.random.default_rng(seed)
    per = 20
    n_patients = max(1, -(-n // per))
    pid = np.repeat(np.arange(n_patients), per)[:n]
    k = np.tile(np.arange(per), n_patients)[:n]
    start = np.datetime64("2015-01-01") + rng.integers(0, 3 * 365, n_patients)
    dates = start[pid] + k * 60 + rng.integers(0, 5, n)
    frame = pd.DataFrame(
        {
            "patient_id": np.char.add(prefix, pid.astype(str)),
            "visit_date": pd.Series(dates).dt.strftime("%Y-%m-%d"),
            "visit_type": np.where(k == 0, "implant", "refill"),
            "visit_id": np.char.add(prefix + "v", np.arange(n).astype(str)),
            "site": np.array(["A", "B", "C"])[pid % 3],
            "pump_model": "SynchroMed II",
            "reservoir_ml": 40,
            "drug": "morphine",
            "concentration_mg_ml": 10,
            "daily_dose_mg": 2.5,
            "volume_added_ml": 38,
            "notes": "",
        }
    )
    frame.to_csv(path, index=False)
    return path


def fingerprint(db: Path) -> str:
    """sha256 over the sorted rows of the data tables (ingest_log without its timestamp)."""
    parts = []
    with reader(db) as con:
        for t in FINGERPRINT_TABLES:
            df = con.execute(f"SELECT * FROM {t}").df()
            if t == "ingest_log":
                df = df.drop(columns=["ingested_at"])
            parts.append(df.sort_values(list(df.columns)).to_csv(index=False))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def counts(db: Path) -> tuple[int, int, int]:
    """(visits, ingest_log rows, quarantine rows) read in one connection."""
    with reader(db) as con:
        row = con.execute(
            "SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM ingest_log),"
            " (SELECT count(*) FROM quarantine)"
        ).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2])


def pumpqi_cmd(*args: str) -> list[str]:
    """The real console command, run as its own process (same interpreter as the tests)."""
    return [sys.executable, "-m", "analytics.cli.commands", *args]


def subprocess_env() -> dict[str, str]:
    """The environment for child processes, with a bytecode cache outside the repo.

    With PYTHONDONTWRITEBYTECODE set (as here) and uv's uncompiled installs, every child
    recompiles pandas & co. (~5 s); a private cache makes a child start in under 1 s.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"pumpqi-pycache-{os.getuid()}")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_pumpqi(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        pumpqi_cmd(*args),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=subprocess_env(),
    )


def test_generated_visits_are_contract_valid(tmp_path: Path) -> None:
    path = write_visits(tmp_path / "visits.csv", 2_000, seed=3)
    (res,), faults = validate_files(path)
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (2_000, 2_000, 0)
    assert faults.empty

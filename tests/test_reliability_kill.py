"""Kill-safety (issue #11): an ingest SIGKILLed at any point changes nothing.

store.writer writes a private copy and renames it over the database only after
commit, checkpoint and fsync, so a killed ingest leaves the database as it was
(or, if the kill came after the rename, wholly new) plus a stale temporary file
that the next writer removes.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from analytics.ingest.load import ingest_files
from analytics.store import TMP_MARK
from tests.test_reliability_data import (
    ROOT,
    counts,
    fingerprint,
    pumpqi_cmd,
    run_pumpqi,
    subprocess_env,
    write_visits,
)
from tests.test_store_file import dead_pid

STAGES = ("reading", "validating", "loading")


def _temporaries(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.glob(f".{db.name}{TMP_MARK}*"))


def _start_ingest(db: Path, csv: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        pumpqi_cmd("ingest", "--db", str(db), str(csv)),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )


def _stage_times(db: Path, csv: Path) -> dict[str, float]:
    """Run one ingest to the end; seconds from each progress line to the exit."""
    proc = _start_ingest(db, csv)
    assert proc.stderr is not None
    seen: dict[str, float] = {}
    for line in proc.stderr:
        for stage in STAGES:
            if stage in line:
                seen[stage] = time.monotonic()
    assert proc.wait(timeout=60) == 0
    end = time.monotonic()
    return {stage: end - t for stage, t in seen.items()}


def _ingest_and_kill(db: Path, csv: Path, stage: str, delay: float) -> tuple[bool, str]:
    """Start an ingest, wait for its progress line `stage`, sleep `delay`, SIGKILL it.

    Returns (killed while running, last progress line seen).
    """
    proc = _start_ingest(db, csv)
    assert proc.stderr is not None
    last = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        last = line.strip()
        if stage in line:
            break
    time.sleep(delay)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert not killed or proc.returncode == -signal.SIGKILL
    return killed, last


@pytest.mark.slow
def test_sigkill_at_random_points_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "pumps.duckdb"
    old_csv = write_visits(tmp_path / "jan.csv", 1_000, seed=1, prefix="o")
    ingest_files(db, old_csv)
    # A stale temporary from an earlier crash must not bother anyone either.
    (tmp_path / f".{db.name}{TMP_MARK}{dead_pid()}").write_bytes(b"half a database")
    before = fingerprint(db)
    pristine = tmp_path / "pristine.duckdb"
    shutil.copyfile(db, pristine)

    n_new = 80_000
    big = write_visits(tmp_path / "feb.csv", n_new, seed=2, prefix="n")
    with big.open("a") as f:
        f.write(old_csv.read_text().split("\n", 1)[1])

    # One uninterrupted run (on a copy) times the stages, so that the seeded kill
    # points spread over the whole ingest, up to and past the final rename.
    shutil.copyfile(pristine, tmp_path / "timing.duckdb")
    left = _stage_times(tmp_path / "timing.duckdb", big)
    rng = random.Random(20240611)
    plan = [
        ("reading", rng.uniform(0.0, 1.0)),
        ("validating", rng.uniform(0.0, left["validating"] - left["loading"])),
        *[("loading", rng.uniform(0.0, 1.1 * left["loading"])) for _ in range(3)],
        *[(stage, rng.uniform(0.0, left[stage])) for stage in rng.choices(STAGES, k=2)],
    ]
    outcomes: list[str] = []
    completed_prints: list[str] = []
    for stage, delay in plan:
        stale_before = set(_temporaries(db))
        killed, last = _ingest_and_kill(db, big, stage, delay)
        # The database opens, and holds exactly the old content or exactly the new one.
        got = fingerprint(db)
        if got == before:
            outcome = "unchanged"
        else:
            assert counts(db) == (1_000 + n_new, 2, 0), "a kill left a partial ingest"
            completed_prints.append(got)
            outcome = "completed before the kill"
            shutil.copyfile(pristine, tmp_path / "restore.tmp")
            os.replace(tmp_path / "restore.tmp", db)
        leftovers = set(_temporaries(db))
        # Stale temporaries of earlier runs are gone once a writer ran; only this
        # run's own (if it was killed inside the writer) may remain.
        if "validating" in last or "loading" in last:  # a writer ran: it cleaned up
            assert not stale_before & leftovers, (stale_before, leftovers)
            assert len(leftovers) <= 2  # at most its own copy and that copy's .wal
        outcomes.append(
            f"{stage}+{delay:.2f}s (killed={killed}, last={last!r}): {outcome},"
            f" temporaries left {len(leftovers)}"
        )

    # The next normal ingest succeeds, cleans every stale temporary, and loads.
    res = run_pumpqi("ingest", "--db", str(db), str(big), "--quiet")
    assert res.returncode == 0, res.stderr
    assert f"{n_new} loaded + 1000 already present + 0 quarantined" in res.stdout
    assert _temporaries(db) == []
    assert counts(db) == (1_000 + n_new, 2, 0)
    after = fingerprint(db)
    assert all(p == after for p in completed_prints)
    kills = sum("killed=True" in o for o in outcomes)
    print(
        f"\nstage seconds to exit {left}; {kills} kills of {len(plan)} attempts:\n  "
        + "\n  ".join(outcomes)
    )
    assert kills >= 4, outcomes
    assert sum("killed=True" in o and ("validating" in o or "loading" in o) for o in outcomes) >= 2


def test_stale_temporaries_are_removed_by_the_next_writer(tmp_path: Path) -> None:
    db = tmp_path / "pumps.duckdb"
    ingest_files(db, write_visits(tmp_path / "jan.csv", 10, prefix="o"))
    pid = dead_pid()  # only a dead writer's temporaries are removed
    for name in (f".{db.name}{TMP_MARK}{pid}", f".{db.name}{TMP_MARK}{pid}.wal"):
        (tmp_path / name).write_bytes(os.urandom(4096))
    assert len(_temporaries(db)) == 2
    (r,) = ingest_files(db, write_visits(tmp_path / "feb.csv", 10, prefix="n"))
    assert r.rows_loaded == 10
    assert _temporaries(db) == []

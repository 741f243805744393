"""Readers during an ingest (issue #11): never a failed read, never a mix of old and new.

The writer (store.writer) works on a private copy and `os.replace`s it over the
database, so a reader opened at any moment sees either the whole old file or the
whole new one. These tests open readers as fast as they can while that happens.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from analytics.engine.metrics import monthly_metrics
from analytics.engine.refills import refills, worklist
from analytics.ingest.load import ingest_files
from analytics.store import reader
from tests.test_reliability_data import (
    ROOT,
    counts,
    pumpqi_cmd,
    run_pumpqi,
    subprocess_env,
    write_visits,
)

AS_OF = "2018-06-30"


@dataclass
class ReadLog:
    """What a read loop saw: counts per snapshot kind, and every failure verbatim."""

    old: int = 0
    new: int = 0
    engine_checks: int = 0
    failures: list[str] = field(default_factory=list)


def _snapshot_text(db: Path) -> tuple[tuple[int, int, int], str | None]:
    """Counts, and (for the old snapshot only: it is small) the engine outputs, from ONE
    connection, so both describe the same file."""
    import datetime as dt

    with reader(db) as con:
        row = con.execute(
            "SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM ingest_log),"
            " (SELECT count(*) FROM quarantine)"
        ).fetchall()[0]
        got = (int(row[0]), int(row[1]), int(row[2]))
        if got[0] > 5_000:
            return got, None
        day = dt.date.fromisoformat(AS_OF)
        text = (
            monthly_metrics(con, day).to_csv(index=False)
            + refills(con, day).to_csv(index=False)
            + worklist(con, day).to_csv(index=False)
        )
    return got, text


def _read_loop(
    db: Path,
    old: tuple[int, int, int],
    new: tuple[int, int, int],
    old_text: str,
    stop: threading.Event,
    log: ReadLog,
) -> None:
    i = 0
    while not stop.is_set():
        i += 1
        try:
            # Most reads: counts only (fast, so many opens land near the swap);
            # every 20th read on the old file also runs the engine and compares.
            if i % 20 == 0:
                got, text = _snapshot_text(db)
                if text is not None:
                    log.engine_checks += 1
                    if text != old_text:
                        log.failures.append("engine output on the old snapshot differs")
            else:
                got = counts(db)
        except Exception as exc:  # noqa: BLE001 -- every failure is the finding
            log.failures.append(f"{type(exc).__name__}: {exc}")
            continue
        if got == old:
            log.old += 1
        elif got == new:
            log.new += 1
        else:
            log.failures.append(f"mixed snapshot {got} (old {old}, new {new})")


@pytest.mark.slow
def test_readers_during_a_large_ingest_see_old_or_new(tmp_path: Path) -> None:
    db = tmp_path / "pumps.duckdb"
    old_csv = write_visits(tmp_path / "jan.csv", 1_000, seed=1, prefix="o")
    ingest_files(db, old_csv)
    old = counts(db)
    assert old == (1_000, 1, 0)
    _, old_text = _snapshot_text(db)
    assert old_text is not None
    old_cli = run_pumpqi("metrics", "--db", str(db), "--as-of", AS_OF)
    assert old_cli.returncode == 0, old_cli.stderr

    # The newer extract: the old rows again (already present) plus 120k new ones.
    n_new = 120_000
    big = write_visits(tmp_path / "feb.csv", n_new, seed=2, prefix="n")
    with big.open("a") as f:
        f.write(old_csv.read_text().split("\n", 1)[1])
    new = (1_000 + n_new, 2, 0)

    log = ReadLog()
    stop = threading.Event()
    loop = threading.Thread(
        target=_read_loop, args=(db, old, new, old_text, stop, log), daemon=True
    )
    loop.start()
    cli_runs, cli_old, cli_failures = 0, 0, []
    t0 = time.monotonic()
    try:
        ingest = subprocess.Popen(
            pumpqi_cmd("ingest", "--db", str(db), str(big), "--quiet"),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )
        # Meanwhile, the real CLI reads in a loop in other processes (a run that starts
        # just after the swap computes over the new 121k rows: allow it time).
        while ingest.poll() is None and time.monotonic() - t0 < 45:
            res = run_pumpqi("metrics", "--db", str(db), "--as-of", AS_OF, timeout=120)
            cli_runs += 1
            if res.returncode != 0 or "Traceback" in res.stderr:
                cli_failures.append(res.stderr.strip())
            elif res.stdout == old_cli.stdout:
                cli_old += 1
        out, err = ingest.communicate(timeout=60)
        ingest_seconds = time.monotonic() - t0
        time.sleep(0.5)  # a few reads of the new file
    finally:
        stop.set()
        loop.join(timeout=60)

    assert ingest.returncode == 0, err
    assert f"{n_new + 1_000} read = {n_new} loaded + 1000 already present + 0 quarantined" in out
    assert counts(db) == new
    assert not log.failures, log.failures[:5]
    assert not cli_failures, cli_failures[:3]
    assert log.old > 0 and log.new > 0, log
    assert cli_runs > 0
    print(
        f"ingest {ingest_seconds:.1f}s; python reads: {log.old} old + {log.new} new"
        f" ({log.engine_checks} with engine); CLI metrics runs: {cli_runs} ({cli_old} old)"
    )


_WRITER_LOOP = textwrap.dedent(
    """
    import sys
    from analytics import store
    db, n = sys.argv[1], int(sys.argv[2])
    for i in range(n):
        with store.writer(db) as con:
            # One visit and one ingest_log row per transaction: a reader that ever
            # sees a different difference between the two counts saw half a write.
            con.execute(
                "INSERT INTO visits (visit_id, patient_id, visit_date, visit_type, site,"
                " id_derived, source_file, source_line, ingest_id)"
                " VALUES (?, 'px', DATE '2020-01-01', 'refill', 'main', false, 'loop', 2, ?)",
                [f"loop{i}", 1000 + i],
            )
            con.execute(
                "INSERT INTO ingest_log VALUES (?, 'visits', 'loop', ?, 1, 1, 0, 0,"
                " now()::TIMESTAMP, 'test')",
                [1000 + i, f"h{i}"],
            )
    """
)


@pytest.mark.slow
def test_reader_opens_never_fail_across_many_replaces(tmp_path: Path) -> None:
    """Many small atomic writes in another process: every read in between succeeds and
    sees a whole transaction (visits - ingest_log rows stays constant)."""
    db = tmp_path / "pumps.duckdb"
    ingest_files(db, write_visits(tmp_path / "v.csv", 200, prefix="o"))
    base = counts(db)
    n_writes = 60
    writer_proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER_LOOP, str(db), str(n_writes)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    reads, failures, seen_logs = 0, [], set()
    deadline = time.monotonic() + 50
    while writer_proc.poll() is None and time.monotonic() < deadline:
        try:
            v, logs, _ = counts(db)
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{type(exc).__name__}: {exc}")
            continue
        reads += 1
        seen_logs.add(logs)
        if v - logs != base[0] - base[1]:
            failures.append(f"half a write: visits {v}, ingest_log {logs}")
    _, err = writer_proc.communicate(timeout=60)
    assert writer_proc.returncode == 0, err
    assert counts(db)[1] == base[1] + n_writes
    assert not failures, failures[:5]
    assert len(seen_logs) > 5, "the reads should have seen many versions of the file"
    print(f"{reads} reads across {n_writes} replaces; {len(seen_logs)} versions seen")


_HOLDER = textwrap.dedent(
    """
    import sys
    from analytics import store
    with store.reader(sys.argv[1]) as con:
        q = "SELECT count(*) FROM visits"
        print(con.execute(q).fetchall()[0][0], flush=True)
        sys.stdin.readline()   # hold the connection open until told
        print(con.execute(q).fetchall()[0][0], flush=True)
    with store.reader(sys.argv[1]) as con:
        print(con.execute(q).fetchall()[0][0], flush=True)
    """
)


def test_ingest_succeeds_while_a_dashboard_process_holds_a_reader(tmp_path: Path) -> None:
    db = tmp_path / "pumps.duckdb"
    ingest_files(db, write_visits(tmp_path / "jan.csv", 100, prefix="o"))
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "100"
    res = run_pumpqi(
        "ingest", "--db", str(db), str(write_visits(tmp_path / "feb.csv", 50, prefix="n"))
    )
    holder.stdin.write("go\n")
    holder.stdin.flush()
    out, err = holder.communicate(timeout=30)
    assert res.returncode == 0, res.stderr
    assert "50 read = 50 loaded" in res.stdout
    # The held connection keeps its snapshot; a reader opened after it closed sees the new file.
    assert out.split() == ["100", "150"], err


def test_ingest_succeeds_while_this_process_holds_a_reader(tmp_path: Path) -> None:
    db = tmp_path / "pumps.duckdb"
    ingest_files(db, write_visits(tmp_path / "jan.csv", 100, prefix="o"))
    with reader(db) as held:
        res = run_pumpqi(
            "ingest", "--db", str(db), str(write_visits(tmp_path / "feb.csv", 50, prefix="n"))
        )
        assert res.returncode == 0, res.stderr
        # in-process ingest too (a dashboard page that ingests an upload)
        (r,) = ingest_files(db, write_visits(tmp_path / "mar.csv", 30, prefix="m"))
        assert r.rows_loaded == 30
        assert held.execute("SELECT count(*) FROM visits").fetchall() == [(100,)]
    assert counts(db)[0] == 180

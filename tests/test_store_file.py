"""The database file (issue 19): real path, one lock, mode and owner, a crashed DuckDB's
WAL, leftover temporaries, files that are not databases, damaged files, and stored
figures that no longer match their rows. Every test works on real files."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from analytics import store
from analytics.errors import PumpqiError
from analytics.ingest.load import ingest_files
from analytics.store import TMP_MARK, reader, writer
from tests.test_reliability_data import (
    counts,
    fingerprint,
    pumpqi_cmd,
    run_pumpqi,
    subprocess_env,
    write_visits,
)

CRASHED_SESSION = """
import duckdb, os, signal, sys
con = duckdb.connect(sys.argv[1], config={"checkpoint_threshold": "1TB"})
con.execute(sys.argv[2])
os.kill(os.getpid(), signal.SIGKILL)  # a crash: the change is committed, only in the WAL
"""
NOTE = (
    "INSERT INTO annotations VALUES (77, DATE '2020-06-01', 'typed in a DuckDB session',"
    " false, TIMESTAMP '2020-06-02 10:00:00')"
)


def crash_after(db: Path, sql: str) -> None:
    """A DuckDB session that commits `sql` into `db` and is killed before a checkpoint."""
    proc = subprocess.run([sys.executable, "-c", CRASHED_SESSION, str(db), sql], check=False)
    assert proc.returncode == -signal.SIGKILL
    assert db.with_name(db.name + ".wal").stat().st_size > 0


def dead_pid() -> int:
    """The id of a process that has just ended (not reused within the test)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def notes(db: Path) -> list[str]:
    with reader(db) as con:
        return [r[0] for r in con.execute("SELECT description FROM annotations").fetchall()]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "pumps.duckdb"
    ingest_files(path, write_visits(tmp_path / "jan.csv", 60, prefix="o"))
    return path


# --- the real path -----------------------------------------------------------------------


def test_an_ingest_through_a_symlink_changes_the_file_it_points_to(db: Path) -> None:
    link = db.with_name("link.duckdb")
    link.symlink_to(db.name)
    (r,) = ingest_files(link, write_visits(db.parent / "feb.csv", 40, prefix="n"))
    assert r.rows_loaded == 40
    assert link.is_symlink() and os.readlink(link) == db.name, "the link stays a link"
    assert counts(db)[0] == 100 and counts(link)[0] == 100
    assert not db.with_name("link.duckdb.lock").exists(), "one lock, beside the real file"


def test_the_link_and_the_real_path_share_one_lock(db: Path) -> None:
    link = db.with_name("link.duckdb")
    link.symlink_to(db)
    with writer(link):
        with pytest.raises(PumpqiError, match="another ingest is writing"), writer(db):
            pass
        res = run_pumpqi("ingest", "--db", str(db), str(write_visits(db.parent / "f.csv", 5)))
        assert res.returncode == 2 and "another ingest is writing" in res.stderr
    assert counts(db)[0] == 60


def test_a_dangling_link_creates_its_target(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    link = tmp_path / "pumps.duckdb"
    link.symlink_to(tmp_path / "data" / "real.duckdb")
    ingest_files(link, write_visits(tmp_path / "v.csv", 10))
    assert link.is_symlink() and (tmp_path / "data" / "real.duckdb").is_file()


def test_a_hard_linked_file_is_refused(db: Path) -> None:
    os.link(db, db.with_name("other-name.duckdb"))
    with pytest.raises(PumpqiError, match="hard links"):
        ingest_files(db, write_visits(db.parent / "feb.csv", 5, prefix="n"))
    assert counts(db)[0] == 60


# --- mode and owner ----------------------------------------------------------------------


def test_mode_600_stays_600(db: Path) -> None:
    db.chmod(0o600)
    ingest_files(db, write_visits(db.parent / "feb.csv", 10, prefix="n"))
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    db.chmod(0o640)
    store_upgrade(db)
    assert stat.S_IMODE(db.stat().st_mode) == 0o640


def store_upgrade(db: Path) -> None:
    res = run_pumpqi("upgrade", "--db", str(db))
    assert res.returncode == 0, res.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_owner_and_group_are_kept(db: Path) -> None:
    os.chown(db, 65534, 65534)
    ingest_files(db, write_visits(db.parent / "feb.csv", 10, prefix="n"))
    st = db.stat()
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    assert counts(db)[0] == 70


# --- a WAL left beside the file ----------------------------------------------------------


def test_a_crashed_sessions_wal_is_taken_in_and_nothing_is_lost(db: Path) -> None:
    crash_after(db, NOTE)
    assert notes(db) == ["typed in a DuckDB session"], "readers see the WAL's changes"
    res = run_pumpqi(
        "ingest", "--db", str(db), str(write_visits(db.parent / "f.csv", 20, prefix="n"))
    )
    assert res.returncode == 0, res.stderr
    assert not db.with_name(db.name + ".wal").exists()
    assert notes(db) == ["typed in a DuckDB session"], "the committed change is kept"
    assert counts(db)[0] == 80
    res = run_pumpqi("metrics", "--db", str(db))
    assert res.returncode == 0, res.stderr


def test_a_wal_left_by_a_writer_stopped_after_its_rename_is_cleared(db: Path) -> None:
    crash_after(db, NOTE)
    wal = db.with_name(db.name + ".wal")
    kept = wal.read_bytes()
    ingest_files(db, write_visits(db.parent / "f.csv", 20, prefix="n"))
    wal.write_bytes(kept)  # as if the writer died between the rename and the WAL's removal
    res = run_pumpqi("metrics", "--db", str(db))
    assert res.returncode == 2 and "does not match it" in res.stderr, res.stderr
    assert "pumpqi upgrade --db pumps.duckdb" in res.stderr and "internal error" not in res.stderr
    store_upgrade(db)  # the new file took this WAL in (its hash is recorded): cleared
    assert not wal.exists()
    assert notes(db) == ["typed in a DuckDB session"] and counts(db)[0] == 80


def test_a_wal_of_another_file_is_refused_and_left_alone(db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    ingest_files(other, write_visits(tmp_path / "x.csv", 5, prefix="x"))
    crash_after(other, NOTE)
    wal = db.with_name(db.name + ".wal")
    shutil.copyfile(other.with_name(other.name + ".wal"), wal)
    before = db.read_bytes()
    res = run_pumpqi(
        "ingest", "--db", str(db), str(write_visits(tmp_path / "f.csv", 5, prefix="n"))
    )
    assert res.returncode == 2 and "does not match it" in res.stderr, res.stderr
    res = run_pumpqi("upgrade", "--db", str(db))
    assert res.returncode == 2, res.stderr
    assert (
        "do not belong to this database file" in res.stderr and "Nothing was changed" in res.stderr
    )
    assert db.read_bytes() == before and wal.exists()


def test_a_wal_without_its_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "pumps.duckdb"
    db.with_name(db.name + ".wal").write_bytes(b"\x01" * 200)
    with pytest.raises(PumpqiError, match="do not belong to this database file"):
        ingest_files(db, write_visits(tmp_path / "v.csv", 5))
    assert not db.exists()


# --- leftovers of killed writers ---------------------------------------------------------


def test_temporaries_of_dead_writers_are_removed_live_ones_kept(db: Path) -> None:
    dead, alive = dead_pid(), os.getppid()
    for pid in (dead, alive):
        base = db.with_name(f".{db.name}{TMP_MARK}{pid}")
        base.write_bytes(b"half a database")
        base.with_name(base.name + ".wal").write_bytes(b"half a wal")
        spill = base.with_name(base.name + ".tmp")
        spill.mkdir()
        (spill / "duckdb_temp_block-4096.block").write_bytes(os.urandom(4096))
    ingest_files(db, write_visits(db.parent / "feb.csv", 10, prefix="n"))
    left = sorted(p.name for p in db.parent.iterdir() if TMP_MARK in p.name)
    assert left == sorted(f".{db.name}{TMP_MARK}{alive}{s}" for s in ("", ".tmp", ".wal"))


def test_a_killed_ingest_leaves_nothing_the_next_one_does_not_remove(tmp_path: Path) -> None:
    db = tmp_path / "pumps.duckdb"
    ingest_files(db, write_visits(tmp_path / "jan.csv", 50, prefix="o"))
    big = write_visits(tmp_path / "big.csv", 60_000, prefix="n")
    env = subprocess_env() | {"PUMPQI_MEMORY_LIMIT": "40MB"}  # small: DuckDB may spill
    proc = subprocess.Popen(
        pumpqi_cmd("ingest", "--db", str(db), str(big)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:
        if "loading" in line:
            break
    time.sleep(0.3)
    proc.kill()
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert [p.name for p in tmp_path.iterdir() if TMP_MARK in p.name], "killed inside the writer"
    (r,) = ingest_files(db, write_visits(tmp_path / "feb.csv", 10, prefix="m"))
    assert r.rows_loaded == 10
    assert not [p.name for p in tmp_path.iterdir() if TMP_MARK in p.name]


# --- files that are not pumpqi databases, damaged files ----------------------------------


def test_a_sqlite_file_fails_at_once_with_a_clear_message(tmp_path: Path) -> None:
    lite = tmp_path / "pumps.db"
    con = sqlite3.connect(lite)
    con.execute("CREATE TABLE visits (x)")
    con.commit()
    con.close()
    started = time.monotonic()
    res = run_pumpqi("metrics", "--db", str(lite))
    assert res.returncode == 2
    assert "a SQLite database, not a pumpqi (DuckDB) database" in res.stderr
    with pytest.raises(PumpqiError, match="SQLite"):
        ingest_files(lite, write_visits(tmp_path / "v.csv", 5))
    assert time.monotonic() - started < 30  # no download attempt (which waits on the network)


def test_no_connection_may_fetch_or_load_an_extension(db: Path) -> None:
    query = (
        "SELECT current_setting('autoinstall_known_extensions'),"
        " current_setting('autoload_known_extensions')"
    )
    with reader(db) as con:
        assert con.execute(query).fetchall() == [(False, False)]
    with writer(db) as con:
        assert con.execute(query).fetchall() == [(False, False)]
    mem = store.memory_connection()
    assert mem.execute(query).fetchall() == [(False, False)]
    with pytest.raises(duckdb.Error, match="(?i)extension"):
        mem.execute("SELECT * FROM sqlite_scan('x.db', 't')")  # not fetched: refused at once
    mem.close()


@pytest.mark.parametrize("content", [b"", b"visit_id,patient_id\n1,2\n", os.urandom(20_000)])
def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "pumps.duckdb"
    path.write_bytes(content)
    res = run_pumpqi("refills", "--db", str(path))
    assert res.returncode == 2 and "internal error" not in res.stderr
    assert "not a pumpqi database" in res.stderr
    with pytest.raises(PumpqiError, match="not a pumpqi database"):
        ingest_files(path, write_visits(tmp_path / "v.csv", 5))
    assert path.read_bytes() == content


def test_a_truncated_database_is_refused_and_left_as_it_is(db: Path) -> None:
    size = db.stat().st_size
    os.truncate(db, size // 2)
    for command in ("metrics", "refills", "annotations"):
        res = run_pumpqi(command, "--db", str(db))
        assert res.returncode == 2 and "damaged (truncated" in res.stderr, res.stderr
    res = run_pumpqi("ingest", "--db", str(db), str(write_visits(db.parent / "f.csv", 5)))
    assert res.returncode == 2 and "damaged (truncated" in res.stderr
    assert db.stat().st_size == size // 2


def test_whole_blocks_cut_off_the_end_are_reported_as_damage(db: Path) -> None:
    os.truncate(db, 3 * 4096 + 2 * 262144)  # the headers and the first two blocks only
    for command in ("metrics", "refills"):
        res = run_pumpqi(command, "--db", str(db))
        assert res.returncode == 2, res.stderr
        assert "damaged" in res.stderr and "internal error" not in res.stderr, res.stderr


def test_a_corrupt_block_is_reported_as_damage(db: Path) -> None:
    size = db.stat().st_size
    with open(db, "r+b") as f:  # scribble over every data block, keep the headers
        for offset in range(3 * 4096 + 100, size, 8192):
            f.seek(offset)
            f.write(b"\xa5" * 64)
    res = run_pumpqi("refills", "--db", str(db))
    assert res.returncode == 2, res.stderr
    assert "damaged" in res.stderr and "internal error" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


# --- stored figures and the rows they came from -----------------------------------------


def test_rows_changed_outside_pumpqi_are_detected_not_served(db: Path) -> None:
    before = run_pumpqi("metrics", "--db", str(db))
    assert before.returncode == 0, before.stderr
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM visits WHERE visit_id IN ('ov1', 'ov2')")
    con.close()
    res = run_pumpqi("metrics", "--db", str(db))
    assert res.returncode == 2
    assert "stored figures were computed from other rows" in res.stderr
    assert "visits=60" in res.stderr and "visits=58" in res.stderr
    store_upgrade(db)  # the change was meant: recompute
    after = run_pumpqi("metrics", "--db", str(db))
    assert after.returncode == 0, after.stderr
    assert after.stdout != before.stdout


def test_the_record_travels_with_the_stored_figures(db: Path) -> None:
    with reader(db) as con:
        value = con.execute(
            "SELECT value FROM pumpqi_meta WHERE key = ?", [store.SOURCES_KEY]
        ).fetchall()
    assert value == [("visits=60 complications=0 ingest=1",)]
    assert fingerprint(db)


def test_out_files_are_written_whole_and_devices_directly(db: Path) -> None:
    out = db.with_name("metrics.csv")
    res = run_pumpqi("metrics", "--db", str(db), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert out.read_text().startswith("month,group,")
    assert not [p.name for p in db.parent.iterdir() if TMP_MARK in p.name]
    res = run_pumpqi("metrics", "--db", str(db), "--out", "/dev/stdout")
    assert res.returncode == 0 and res.stdout.startswith("month,group,"), res.stderr

"""The DuckDB file: schema, version check, read-only readers and atomic writers.

Design (so that readers are never blocked by an ingest, and a killed ingest
changes nothing):

* Every path is first resolved to the real file (symbolic links followed): the lock,
  the copy and the rename all act on that file, whatever name it was given by.
* Readers open short-lived **read-only** connections (`reader()`), after a look at
  the file's header (not a DuckDB file, or shorter than its header says: refused).
* A writer (`writer()`) takes an exclusive `flock` on `DB.lock` (released by the
  kernel even on SIGKILL), copies `DB` to a temporary file beside it (with the
  file's owner, group and mode), writes there inside one transaction, checkpoints
  and closes it, fsyncs it and `os.replace`s it over `DB` -- an atomic rename.
  Readers that had the old file open keep reading the old inode; new readers see
  the new file. A writer that dies leaves only its temporaries (file, .wal, spill
  folder), which the next writer removes once their process is gone.
* A `DB.wal` left by a crashed DuckDB process (changes committed but not yet in the
  file) is copied with the file, so the copy replays it: nothing committed is lost.
  The new file records the WAL's hash, and the WAL is removed after the rename.
* Extension auto-install and auto-load are off on every connection.
* The figures stored by ingest record the rows they came from (`record_sources`);
  they are served only while the tables still hold those rows (`check_sources`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from analytics import dbfile
from analytics.atomic import TMP_MARK as TMP_MARK  # the writer's temporaries' mark
from analytics.atomic import fsync_dir, remove_stale, temp_path
from analytics.errors import PumpqiError, SchemaVersionError
from analytics.faults import DEFAULT_MEMORY_LIMIT as DEFAULT_MEMORY_LIMIT
from analytics.faults import MEMORY_LIMIT_ENV as MEMORY_LIMIT_ENV
from analytics.faults import fault, is_stale_wal, memory_limit

SCHEMA_VERSION = 3
MIGRATIONS: dict[int, str] = {
    # 2: a row's content hash is no longer stored; ingest compares rows column by column
    1: "ALTER TABLE visits DROP COLUMN content_hash;"
    " ALTER TABLE complications DROP COLUMN content_hash;",
    # 3: the optional contract column pump_implant_date (battery life, device survival)
    2: "ALTER TABLE visits ADD COLUMN pump_implant_date DATE;",
}
"""The SQL that takes a database of schema k to k + 1: run by the writer, in the
transaction of the next change (an ingest, an annotation, `pumpqi upgrade`). A database
of an older schema is not read until then (the engine reads the newer columns); the
message says how to bring it up to date."""
OLDEST_WRITABLE = min(MIGRATIONS, default=SCHEMA_VERSION)
# DuckDB's working memory is PUMPQI_MEMORY_LIMIT (default 4GB); beyond it large sorts and
# joins spill to a temporary folder beside the database instead of growing the process
# (DuckDB's own default is 80 % of RAM).
ABSORBED_WAL_KEY = "absorbed_wal_sha256"
SOURCES_KEY = "stored_figures_from"
SAFE_CONFIG: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}
"""On every connection: DuckDB never downloads nor loads an extension by itself (a
SQLite file given as a database would otherwise fetch one from the internet)."""


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pumpqi")
    except PackageNotFoundError:
        return "0+unknown"


def schema_sql() -> str:
    return resources.files("analytics").joinpath("sql/schema.sql").read_text(encoding="utf-8")


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(schema_sql())
    con.execute(
        "INSERT INTO pumpqi_meta VALUES ('schema_version', ?), ('created_by', ?)",
        [str(SCHEMA_VERSION), package_version()],
    )


def check_version(con: duckdb.DuckDBPyConnection, label: str, writing: bool = False) -> int:
    """The database's schema version, when this pumpqi reads it (else a clear error).
    A writer also takes an older schema it can migrate (`writing`)."""
    try:
        row = con.execute("SELECT value FROM pumpqi_meta WHERE key = 'schema_version'").fetchall()
    except duckdb.CatalogException:
        raise SchemaVersionError(f"{label}: not a pumpqi database (no pumpqi_meta table)") from None
    found = int(row[0][0]) if row else 0
    if found < OLDEST_WRITABLE:
        raise SchemaVersionError(
            f"{label}: written by an older pumpqi (schema {found}, this version reads"
            f" {OLDEST_WRITABLE} to {SCHEMA_VERSION});"
            " re-create it by ingesting the source files into a new database file"
        )
    if found < SCHEMA_VERSION and not writing:
        raise SchemaVersionError(
            f"{label}: written by an older pumpqi (schema {found}); bring it up to date with"
            f" `pumpqi upgrade --db {label}` (keeps every row, one transaction) or by the"
            " next ingest"
        )
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{label}: written by a newer pumpqi (schema {found}, this version reads {SCHEMA_VERSION});"
            " upgrade pumpqi"
        )
    return found


def migrate(con: duckdb.DuckDBPyConnection, found: int) -> None:
    """Bring a database of schema `found` to SCHEMA_VERSION (in the caller's transaction)."""
    if found >= SCHEMA_VERSION:
        return
    for version in range(found, SCHEMA_VERSION):
        con.execute(MIGRATIONS[version])
    con.execute(
        "UPDATE pumpqi_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)]
    )


def memory_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the safe settings (no extension fetched)."""
    return duckdb.connect(":memory:", config=dict(SAFE_CONFIG))


def _raw_connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    config = dict(SAFE_CONFIG, memory_limit=memory_limit())
    return duckdb.connect(str(path), read_only=read_only, config=config)


def _open_error(exc: duckdb.Error, label: str) -> PumpqiError:
    text = str(exc)
    if "could not set lock" in text.lower():
        return PumpqiError(
            f"{label}: another program has the database open for writing (a DuckDB session?);"
            " close it, or wait for it to end, then run again"
        )
    return fault(exc, where=label) or PumpqiError(
        f"{label}: not a readable DuckDB database ({type(exc).__name__}:"
        f" {text.splitlines()[0][:160] if text else ''})"
    )


def _connect(path: Path, read_only: bool, label: str | None = None) -> duckdb.DuckDBPyConnection:
    try:
        return _raw_connect(path, read_only)
    except duckdb.Error as exc:
        raise _open_error(exc, label or path.name) from None


@contextlib.contextmanager
def reader(db: str | os.PathLike[str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to a pumpqi database.

    A full disk, too little memory or a damaged block met while reading is raised as a
    one-line MachineFault."""
    path = Path(db)
    real = dbfile.real_path(path)
    if not real.is_file():
        raise PumpqiError(
            f"{path.name}: database not found; create it with `pumpqi ingest --db {path.name} ...`"
        )
    dbfile.check_header(real, path.name)
    con = _connect(real, read_only=True, label=path.name)
    try:
        check_version(con, path.name)
        yield con
    except (duckdb.Error, OSError) as exc:
        told = fault(exc, where=path.name)
        if told is None:
            raise
        raise told from None
    finally:
        con.close()


def _orphan_wal(label: str) -> PumpqiError:
    return PumpqiError(
        f"{label}.wal: changes left by a DuckDB process that do not belong to this database"
        f" file (it was replaced or restored since). Nothing was changed. If the database is"
        f" right, move {label}.wal elsewhere and run again"
    )


def _meta_value(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    try:
        row = con.execute("SELECT value FROM pumpqi_meta WHERE key = ?", [key]).fetchall()
    except duckdb.CatalogException:
        return None
    return str(row[0][0]) if row else None


def _open_copy(tmp: Path, wal_sha: str | None, label: str) -> duckdb.DuckDBPyConnection:
    """Open the working copy; DuckDB replays the copied WAL into it. A WAL that does not
    match the file is skipped only when this file already absorbed it (a writer stopped
    between its rename and the WAL's removal); any other is refused."""
    try:
        return _raw_connect(tmp, read_only=False)
    except duckdb.Error as exc:
        if wal_sha is None or not is_stale_wal(exc):
            raise _open_error(exc, label) from None
    dbfile.wal_path(tmp).unlink()
    con = _connect(tmp, read_only=False, label=label)
    if _meta_value(con, ABSORBED_WAL_KEY) != wal_sha:
        con.close()
        raise _orphan_wal(label)
    return con


def _start(real: Path, tmp: Path, label: str) -> tuple[duckdb.DuckDBPyConnection, int, Any, Any]:
    """The working copy's connection, its schema version, the original's stat (None for
    a new database) and the hash of the WAL it took in (None without one)."""
    wal = dbfile.wal_path(real)
    if not real.exists():
        if wal.exists():
            raise _orphan_wal(label)
        con = _connect(tmp, read_only=False, label=label)
        create_schema(con)
        return con, SCHEMA_VERSION, None, None
    dbfile.check_header(real, label)
    dbfile.refuse_foreign_writer(real, lambda p: _raw_connect(p, read_only=True))
    st = dbfile.prepare_copy(real, tmp)
    shutil.copyfile(real, tmp)
    wal_sha = None
    if wal.exists():
        wal_sha = dbfile.file_sha256(wal)
        shutil.copyfile(wal, dbfile.wal_path(tmp))
    con = _open_copy(tmp, wal_sha, label)
    try:
        found = check_version(con, label, writing=True)
    except BaseException:
        con.close()
        raise
    return con, found, st, wal_sha


def _lock(real: Path, label: str) -> Any:
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        return open(real.with_name(real.name + ".lock"), "a+b")  # noqa: SIM115
    except OSError as exc:
        told = fault(exc, "; nothing was changed", where=label)
        if told is None:
            raise
        raise told from None


def _remove_temporaries(tmp: Path) -> None:
    for p in (tmp, dbfile.wal_path(tmp)):
        with contextlib.suppress(OSError):
            p.unlink()
    shutil.rmtree(tmp.with_name(tmp.name + ".tmp"), ignore_errors=True)


@contextlib.contextmanager
def writer(db: str | os.PathLike[str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on a private copy that replaces `db` atomically on success.

    Everything done inside the block lands together or not at all. A full disk, a
    read-only folder, a missing permission, too little memory or a damaged file is
    raised as a one-line MachineFault ending "nothing was changed"."""
    label = Path(db).name
    real = dbfile.real_path(db)
    with _lock(real, label) as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PumpqiError(
                f"{label}: another ingest is writing this database; try again when it ends"
            ) from None
        remove_stale(real)
        tmp = temp_path(real)
        try:
            con, found, st, wal_sha = _start(real, tmp, label)
            try:
                con.execute("BEGIN TRANSACTION")
                migrate(con, found)
                if wal_sha is not None:
                    con.execute(
                        "INSERT OR REPLACE INTO pumpqi_meta VALUES (?, ?)",
                        [ABSORBED_WAL_KEY, wal_sha],
                    )
                yield con
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise
            finally:
                con.close()
            _finish(real, tmp, st, wal_sha)
        except (duckdb.Error, OSError) as exc:
            told = fault(exc, "; nothing was changed", where=label)
            if told is None:
                raise
            raise told from None
        finally:
            _remove_temporaries(tmp)


def _finish(real: Path, tmp: Path, st: os.stat_result | None, wal_sha: str | None) -> None:
    """Mode, fsync, a last check that no other program took the file, the rename."""
    if st is not None:
        dbfile.keep_mode(tmp, st)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    if real.exists():
        dbfile.refuse_foreign_writer(real, lambda p: _raw_connect(p, read_only=True))
    os.replace(tmp, real)
    fsync_dir(real.parent)
    dbfile.remove_absorbed_wal(real, wal_sha)


# --- the rows the stored figures came from ----------------------------------------------

_SOURCES_SQL = (
    "SELECT 'visits=' || (SELECT count(*) FROM main.visits WHERE ingest_id < $before)"
    " || ' complications=' || (SELECT count(*) FROM main.complications WHERE ingest_id < $before)"
    " || ' ingest=' || (SELECT coalesce(max(ingest_id), 0) FROM main.ingest_log"
    " WHERE ingest_id < $before)"
)
"""The rows the stored figures come from: those loaded before ingest $before."""
_EVERY_INGEST = 2**31 - 1


def _sources(con: duckdb.DuckDBPyConnection, before: int = _EVERY_INGEST) -> str:
    return str(con.execute(_SOURCES_SQL, {"before": before}).fetchall()[0][0])


def record_sources(con: duckdb.DuckDBPyConnection) -> None:
    """Record, with the stored figures, the rows they are computed from (row counts and
    the last ingest): called by ingest when it stores the figures, in its transaction."""
    con.execute(
        "INSERT OR REPLACE INTO main.pumpqi_meta VALUES (?, ?)", [SOURCES_KEY, _sources(con)]
    )


def sources_match(con: duckdb.DuckDBPyConnection, before_ingest: int) -> bool:
    """True when the stored figures were computed from exactly the rows loaded before
    ingest `before_ingest` (which is loading its rows now): they can then be brought up
    to date from its rows alone (engine/incremental.py)."""
    recorded = _meta_value(con, SOURCES_KEY)
    return recorded is not None and recorded == _sources(con, before_ingest)


def check_sources(con: duckdb.DuckDBPyConnection) -> bool:
    """Before stored figures are served: True when the tables still hold the rows they
    came from; False when no record exists (figures stored by an older pumpqi: then they
    are computed afresh). A difference is refused: the file was changed outside pumpqi,
    or is damaged, and stored figures would hide it."""
    recorded = _meta_value(con, SOURCES_KEY)
    if recorded is None:
        return False
    now = _sources(con)
    if now == recorded:
        return True
    path = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    label = os.path.basename(str(path[0][0])) if path and path[0][0] else "the database"
    raise PumpqiError(
        f"{label}: the stored figures were computed from other rows than the file now holds"
        f" ({recorded} then, {now} now): it was changed outside pumpqi, or is damaged."
        f" If the change was meant, run `pumpqi upgrade --db {label}` to recompute them;"
        " otherwise restore the file from a backup"
    )

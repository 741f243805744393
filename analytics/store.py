"""The DuckDB file: schema, version check, read-only readers and atomic writers.

Design (so that readers are never blocked by an ingest, and a killed ingest
changes nothing):

* Readers open short-lived **read-only** connections (`reader()`).
* A writer (`writer()`) takes an exclusive `flock` on `DB.lock` (released by the
  kernel even on SIGKILL), copies `DB` to a temporary file beside it, writes
  there inside one transaction, checkpoints and closes it, fsyncs it and
  `os.replace`s it over `DB` -- an atomic rename. Readers that had the old file
  open keep reading the old inode; new readers see the new file. A writer that
  dies leaves only its temporary file, which the next writer removes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import duckdb

from analytics.errors import PumpqiError, SchemaVersionError

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
TMP_MARK = ".pumpqi-tmp-"


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


MEMORY_LIMIT_ENV = "PUMPQI_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "4GB"
"""DuckDB's working memory; beyond it large sorts and joins spill to a temporary folder
beside the database instead of growing the process (DuckDB's own default is 80 % of RAM)."""


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    limit = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)
    try:
        return duckdb.connect(str(path), read_only=read_only, config={"memory_limit": limit})
    except duckdb.IOException as exc:
        raise PumpqiError(
            f"{path.name}: cannot open the database ({str(exc).splitlines()[0][:200]})"
        ) from None
    except duckdb.Error as exc:
        raise PumpqiError(
            f"{path.name}: not a readable DuckDB database ({type(exc).__name__})"
        ) from None


@contextlib.contextmanager
def reader(db: str | os.PathLike[str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to a pumpqi database."""
    path = Path(db)
    if not path.exists():
        raise PumpqiError(
            f"{path.name}: database not found; create it with `pumpqi ingest --db {path.name} ...`"
        )
    con = _connect(path, read_only=True)
    try:
        check_version(con, path.name)
        yield con
    finally:
        con.close()


def _clean_stale_temporaries(path: Path) -> None:
    for p in path.parent.glob(f".{path.name}{TMP_MARK}*"):
        with contextlib.suppress(OSError):
            p.unlink()


@contextlib.contextmanager
def writer(db: str | os.PathLike[str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on a private copy that replaces `db` atomically on success.

    Everything done inside the block lands together or not at all.
    """
    path = Path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+b") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PumpqiError(
                f"{path.name}: another ingest is writing this database; try again when it ends"
            ) from None
        _clean_stale_temporaries(path)
        tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
        try:
            if path.exists():
                shutil.copyfile(path, tmp)
                con = _connect(tmp, read_only=False)
                try:
                    found = check_version(con, path.name, writing=True)
                except BaseException:
                    con.close()
                    raise
            else:
                con = _connect(tmp, read_only=False)
                create_schema(con)
                found = SCHEMA_VERSION
            try:
                con.execute("BEGIN TRANSACTION")
                migrate(con, found)
                yield con
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise
            finally:
                con.close()
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            for p in (tmp, tmp.with_name(tmp.name + ".wal")):
                with contextlib.suppress(OSError):
                    p.unlink()

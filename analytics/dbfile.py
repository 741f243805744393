"""The database file on disk: its real path, a quick look at its header, another program
holding it, its mode and owner, and a WAL left beside it by a crashed DuckDB process.

Used by analytics.store, which opens connections and replaces the file atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import struct
from collections.abc import Callable
from pathlib import Path

import duckdb

from analytics.errors import PumpqiError
from analytics.faults import describe

DUCKDB_MAGIC = b"DUCK"
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_BYTES = 3 * 4096
"""DuckDB's file starts with a main header and two database headers of 4 KiB each; the
newer database header (higher iteration) gives the block size. After the headers the
file is made of whole blocks (DuckDB allocates and trims whole blocks), so a length
that is not a whole number of blocks means the file was cut short."""


def real_path(db: str | os.PathLike[str]) -> Path:
    """The file a path names, symbolic links resolved (a dangling link: its target)."""
    return Path(os.path.realpath(db))


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def block_size(header: bytes) -> int | None:
    """The block size in DuckDB's newer database header, or None when it is not sane."""
    newer = max((4096, 8192), key=lambda offset: struct.unpack_from("<Q", header, offset + 8)[0])
    size = int(struct.unpack_from("<Q", header, newer + 40)[0])
    if size < 4096 or size > 1 << 30 or size & (size - 1):
        return None
    return size


def check_header(path: Path, label: str) -> None:
    """Refuse, in one line, a file that is not a DuckDB database or is shorter than its
    header says (truncated): before DuckDB opens it (no extension is ever fetched for it)."""
    try:
        with open(path, "rb") as f:
            header = f.read(HEADER_BYTES)
            size = os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise PumpqiError(describe(exc) or f"{label}: cannot be read ({exc.strerror})") from None
    if not header:
        raise PumpqiError(
            f"{label}: the file is empty, not a pumpqi database; delete it to start a new"
            " database, or give the right file"
        )
    if header.startswith(SQLITE_MAGIC):
        raise PumpqiError(
            f"{label}: a SQLite database, not a pumpqi (DuckDB) database; give the .duckdb"
            " file written by `pumpqi ingest`"
        )
    if header[8:12] != DUCKDB_MAGIC:
        raise PumpqiError(
            f"{label}: not a pumpqi database (not a DuckDB file); give the .duckdb file"
            " written by `pumpqi ingest`"
        )
    block = block_size(header) if len(header) == HEADER_BYTES else None
    if len(header) < HEADER_BYTES or (block is not None and (size - HEADER_BYTES) % block):
        raise PumpqiError(
            f"{label}: the database file is damaged (truncated: it ends inside a block);"
            " restore it from a backup, or re-create it by ingesting the source files into"
            " a new file"
        )


def refuse_foreign_writer(path: Path, connect: Callable[[Path], duckdb.DuckDBPyConnection]) -> None:
    """Refuse when another program (a DuckDB session) has the file open for writing:
    copying it now could miss its changes. `connect` opens it read-only."""
    try:
        connect(path).close()
    except duckdb.Error as exc:  # other faults show when the copy is opened
        if "could not set lock" in str(exc).lower():
            raise PumpqiError(
                f"{path.name}: another program has the database open for writing (a DuckDB"
                " session?); close it, then run again. Nothing was changed"
            ) from None


def prepare_copy(path: Path, tmp: Path) -> os.stat_result:
    """Create the empty working copy `tmp` with `path`'s owner and group (before any
    copying, so that a refusal costs nothing). Returns `path`'s stat, for its mode."""
    st = path.stat()
    if st.st_nlink > 1:
        raise PumpqiError(
            f"{path.name}: the file has {st.st_nlink} names (hard links); a change replaces"
            " the file, which would part them. Keep one name (a symbolic link is fine)"
        )
    if not os.access(path, os.W_OK):
        raise PumpqiError(
            f"{path.name}: the file is read-only (its permissions); make it writable for"
            " this user to change it. Nothing was changed"
        )
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        mine = os.fstat(fd)
        if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
            try:
                os.fchown(fd, st.st_uid, st.st_gid)
            except PermissionError:
                raise PumpqiError(
                    f"{path.name}: belongs to another user or group, and a change by this user"
                    " would make it this user's; run as its owner (or root). Nothing was"
                    " changed"
                ) from None
    finally:
        os.close(fd)
    return st


def keep_mode(tmp: Path, st: os.stat_result) -> None:
    """Give the finished copy the original file's permission bits."""
    os.chmod(tmp, stat.S_IMODE(st.st_mode))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remove_absorbed_wal(path: Path, sha256: str | None) -> None:
    """After the replace: remove `path`'s WAL when it is the one the new file absorbed."""
    wal = wal_path(path)
    if sha256 is None or not wal.exists():
        return
    with contextlib.suppress(OSError):
        if file_sha256(wal) == sha256:
            wal.unlink()

"""Faults of the computer or of a file, told in one line: what happened, where, what to do.

A full disk, a read-only folder, a missing permission, too little memory and a damaged
database file are not pumpqi's bugs: the person running it can act on them. These
functions recognise them (from the errno of an OSError, or DuckDB's error class and
text, following the exception's causes) and word them; the CLI and the database layer
use them instead of an "internal error" line.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator

from analytics.atomic import original_name
from analytics.errors import PumpqiError

MEMORY_LIMIT_ENV = "PUMPQI_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "4GB"


class MachineFault(PumpqiError):
    """The disk, the folder, the memory or the file stopped the work (see `describe`)."""


_ERRNO_KINDS: dict[int, str] = {
    errno.ENOSPC: "disk-full",
    errno.EDQUOT: "disk-full",
    errno.EFBIG: "disk-full",
    errno.EROFS: "read-only",
    errno.EACCES: "permission",
    errno.EPERM: "permission",
    errno.ENOMEM: "memory",
}
_TEXT_KINDS: tuple[tuple[str, str], ...] = (
    ("no space left on device", "disk-full"),
    ("disk quota exceeded", "disk-full"),
    ("read-only file system", "read-only"),
    ("permission denied", "permission"),
    ("operation not permitted", "permission"),
    ("out of memory", "memory"),
    ("could not allocate", "memory"),
    ("corrupt database file", "damaged"),
    ("could not read enough bytes", "damaged"),
    ("not a valid duckdb database file", "damaged"),
    ("wal does not match database file", "stale-wal"),
    ("wal checkpoint iteration does not match", "stale-wal"),
    ("corrupt wal", "damaged"),
    ("failure while replaying wal", "damaged"),
)
_QUOTED_PATH = re.compile(r'"(/[^"]+)"')


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _kind(exc: BaseException) -> str | None:
    import duckdb  # here: the CLI imports this module at start, DuckDB only when needed

    if isinstance(exc, MemoryError | duckdb.OutOfMemoryException):
        return "memory"
    if isinstance(exc, OSError) and exc.errno in _ERRNO_KINDS:
        return _ERRNO_KINDS[exc.errno]
    if isinstance(exc, duckdb.Error | OSError):  # OSError: pyarrow's carry no errno
        text = str(exc).lower()
        for needle, kind in _TEXT_KINDS:
            if needle in text:
                return kind
    return None


def is_stale_wal(exc: BaseException) -> bool:
    """DuckDB refused a WAL made for another file, or for another state of this one."""
    return _kind(exc) == "stale-wal"


def _where(exc: BaseException) -> str | None:
    """The name of the file involved (a working copy named after its file), if known."""
    path: str | None = None
    if isinstance(exc, OSError) and exc.filename is not None:
        path = os.fsdecode(exc.filename)
    else:
        found = _QUOTED_PATH.search(str(exc))
        path = found.group(1) if found else None
    if not path:
        return None
    for part in reversed(path.rstrip("/").split("/")):
        if ".pumpqi-tmp-" in part:
            return original_name(part)
    return os.path.basename(path.rstrip("/")) or None


def memory_limit() -> str:
    return os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)


def _wording(kind: str, where: str | None) -> str:
    at = f"{where}: " if where else ""
    if kind == "disk-full":
        return (
            f"{at}the disk is full; free some space (or give a path on another disk) and run again"
        )
    if kind == "read-only":
        return f"{at}the folder is on a read-only disk; use a folder that can be written"
    if kind == "permission":
        return (
            f"{at}no permission to read or write this file or its folder; run as a user"
            " who may, or ask for the permission"
        )
    if kind == "memory":
        return (
            f"out of memory (DuckDB may use {memory_limit()}, set by {MEMORY_LIMIT_ENV});"
            f" raise {MEMORY_LIMIT_ENV} if the computer has more memory free, or close other"
            " programs (or lower it: DuckDB then spills to disk) and run again"
        )
    if kind == "stale-wal":
        db = where.removesuffix(".wal") if where else "FILE"
        return (
            f"{db}.wal: the WAL file beside the database does not match it; run `pumpqi"
            f" upgrade --db {db}`, which removes it if the database already holds its"
            " changes, and otherwise says what to do"
        )
    return (
        f"{at}the database file is damaged (truncated or corrupt); restore it from a"
        " backup, or re-create it by ingesting the source files into a new file"
    )


def describe(exc: BaseException, where: str | None = None) -> str | None:
    """One line for a fault of the machine or the file (see the module), else None.
    `where`: the file's name when the error does not say it."""
    for link in _chain(exc):
        kind = _kind(link)
        if kind is not None:
            return _wording(kind, _where(link) or where)
    return None


def fault(exc: BaseException, suffix: str = "", where: str | None = None) -> MachineFault | None:
    """`describe`'s line as a MachineFault (with `suffix`, e.g. "; nothing was written")."""
    text = describe(exc, where)
    return MachineFault(text + suffix) if text else None

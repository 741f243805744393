"""Files that appear whole or not at all.

Every file pumpqi writes is first written under a temporary name in the same folder
(`.NAME.pumpqi-tmp-PID`, plus DuckDB's `.wal` and spill folder `.tmp/` beside it for
the database) and renamed over NAME at the end: a reader sees the old file or the new
one, never half of one. A writer that is killed leaves only its temporaries; the next
writer removes those whose process is no longer alive.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

TMP_MARK = ".pumpqi-tmp-"


def temp_path(target: Path, pid: int | None = None) -> Path:
    """The temporary name of `target` for the process `pid` (default: this one)."""
    return target.with_name(f".{target.name}{TMP_MARK}{os.getpid() if pid is None else pid}")


def original_name(name: str) -> str:
    """`pumps.duckdb` for `.pumps.duckdb.pumpqi-tmp-123(.wal)`; other names unchanged."""
    if TMP_MARK not in name:
        return name
    return name.split(TMP_MARK, 1)[0].removeprefix(".")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process holds the lock now: its earlier temporaries are stale
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def remove_stale(target: Path) -> list[str]:
    """Remove the temporaries of `target` (files and spill folders) left by processes
    that are no longer alive; return their names. Call with the writer's lock held."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}{re.escape(TMP_MARK)}(\d+)(\..*)?$")
    removed: list[str] = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            found = pattern.match(entry.name)
            if not found or _alive(int(found.group(1))):
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed.append(entry.name)
    return removed


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


@contextlib.contextmanager
def all_or_nothing(targets: Mapping[str, Path]) -> Iterator[dict[str, Path]]:
    """Temporary paths for `targets` (key -> final path), renamed over them together when
    the block ends normally; on any error every temporary is removed and no target is
    touched. Targets must be in existing folders."""
    temps = {key: temp_path(path) for key, path in targets.items()}
    try:
        yield temps
        for tmp in temps.values():
            _fsync_file(tmp)
        for key, tmp in temps.items():
            os.replace(tmp, targets[key])
        for folder in {p.parent for p in targets.values()}:
            fsync_dir(folder)
    finally:
        for tmp in temps.values():
            with contextlib.suppress(OSError):
                tmp.unlink()


def write_files(writers: Mapping[Path, Callable[[Path], object]]) -> None:
    """Write every file with its writer (called with a temporary path), all or none."""
    keyed = {str(i): p for i, p in enumerate(writers)}
    with all_or_nothing(keyed) as temps:
        for key, path in keyed.items():
            writers[path](temps[key])


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write a text file (UTF-8) whole or not at all (a device or pipe such as
    /dev/stdout is written directly: it cannot be replaced)."""
    target = Path(path)
    if target.exists() and not target.is_file():
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)
        return
    write_files({target: lambda tmp: tmp.write_text(text, encoding="utf-8")})

"""Faults of the machine, told in one line (issue 19): a full disk (a small tmpfs), a
read-only folder (a tmpfs remounted read-only), no permission (as user nobody, since
root ignores file modes), too little memory (a tiny DuckDB limit). Each time the
database or the report folder is left exactly as it was, and the message says so.

The disk tests mount tmpfs file systems and need root; they are skipped, with the
reason, where mounting is not allowed."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from test_report_fixtures import GENERATED, MONTH, build_db

from analytics.errors import PumpqiError
from analytics.faults import describe
from analytics.ingest.load import ingest_files
from analytics.report import ReportRequest, build_report
from analytics.store import TMP_MARK
from tests.test_reliability_data import pumpqi_cmd, run_pumpqi, subprocess_env, write_visits

NOBODY = 65534


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if not ln.startswith("  …")]
    assert len(lines) == 1, stderr
    assert "internal error" not in lines[0] and "Traceback" not in stderr, stderr
    return lines[0]


def _mount(folder: Path, size: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    return res.returncode == 0


@contextlib.contextmanager
def small_disk(size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted on a fresh folder (skips the test where not possible)."""
    folder = Path(tempfile.mkdtemp(prefix="pumpqi-disk-"))
    if not _mount(folder, size):
        folder.rmdir()
        pytest.skip("mounting a tmpfs needs root and the mount permission")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def remount_read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


def _kib(n_bytes: int) -> str:
    return f"{-(-n_bytes // 4096) * 4}k"


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faults")
    db = folder / "pumps.duckdb"
    ingest_files(db, write_visits(folder / "jan.csv", 200, prefix="o"))
    return db


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_visits(tmp_path_factory.mktemp("faults-src") / "feb.csv", 60_000, prefix="n")


# --- a full disk -------------------------------------------------------------------------


@pytest.mark.parametrize("room", ["copy", "write"])
def test_an_ingest_on_a_full_disk_changes_nothing_and_says_so(
    base_db: Path, big_csv: Path, room: str
) -> None:
    size = base_db.stat().st_size
    # "copy": no room for the working copy; "write": the copy fits, the new rows do not
    disk = _kib(size + 64 * 1024) if room == "copy" else _kib(2 * size + 512 * 1024)
    with small_disk(disk) as folder:
        db = folder / "pumps.duckdb"
        shutil.copyfile(base_db, db)
        before = digest(db)
        res = run_pumpqi("ingest", "--db", str(db), str(big_csv))
        assert res.returncode == 2
        line = one_line(res.stderr)
        assert line.startswith("pumpqi: pumps.duckdb: the disk is full"), line
        assert line.endswith("nothing was changed")
        assert digest(db) == before
        assert sorted(p.name for p in folder.iterdir()) == ["pumps.duckdb", "pumps.duckdb.lock"]
        assert run_pumpqi("metrics", "--db", str(db)).returncode == 0


@pytest.fixture(scope="module")
def report_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("report-faults"))


def test_a_report_on_a_full_disk_writes_nothing_and_says_so(
    report_db: Path, tmp_path: Path
) -> None:
    sizes = build_report(ReportRequest(report_db, MONTH, tmp_path, generated_at=GENERATED))
    assert sizes.html is not None and sizes.pdf is not None
    html_size = sizes.html.stat().st_size
    assert sizes.pdf.stat().st_size > 64 * 1024
    with small_disk(_kib(html_size + 32 * 1024)) as folder:  # the HTML fits, the PDF not
        res = run_pumpqi("report", "--db", str(report_db), "--month", MONTH, "--out", str(folder))
        assert res.returncode == 2
        line = one_line(res.stderr)
        assert "the disk is full" in line and line.endswith("nothing was written"), line
        assert list(folder.iterdir()) == [], "no HTML beside a 0-byte PDF: nothing at all"


# --- a read-only folder ------------------------------------------------------------------


def test_an_ingest_into_a_read_only_folder_says_so(base_db: Path, big_csv: Path) -> None:
    with small_disk("16m") as folder:
        db = folder / "pumps.duckdb"
        shutil.copyfile(base_db, db)
        before = digest(db)
        remount_read_only(folder)
        res = run_pumpqi("ingest", "--db", str(db), str(big_csv))
        assert res.returncode == 2
        line = one_line(res.stderr)
        assert "read-only disk" in line and line.endswith("nothing was changed"), line
        assert digest(db) == before
        metrics = run_pumpqi("metrics", "--db", str(db))
        assert metrics.returncode == 0, "reading needs no write access"
        out = run_pumpqi("metrics", "--db", str(db), "--out", str(folder / "m.csv"))
        assert out.returncode == 2 and "read-only disk" in one_line(out.stderr)


# --- no permission -----------------------------------------------------------------------


def _as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
    """The pumpqi command run as user nobody (root ignores file modes)."""
    cmd = pumpqi_cmd(*args)
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("needs setpriv to run as another user")
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
    env = subprocess_env() | {"HOME": tempfile.gettempdir()}
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder others can enter (pytest's own are private to their owner)."""
    folder = Path(tempfile.mkdtemp(prefix="pumpqi-perm-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


def test_no_permission_to_write_the_folder_says_so(
    base_db: Path, big_csv: Path, shared_folder: Path
) -> None:
    db = shared_folder / "pumps.duckdb"
    shutil.copyfile(base_db, db)
    db.chmod(0o644)
    src = shared_folder / "feb.csv"
    shutil.copyfile(big_csv, src)
    src.chmod(0o644)
    shared_folder.chmod(0o555)  # nobody may read, not write
    before = digest(db)
    res = _as_nobody("ingest", "--db", str(db), str(src))
    assert res.returncode == 2
    line = one_line(res.stderr)
    assert "no permission" in line and line.endswith("nothing was changed"), line
    assert digest(db) == before
    assert _as_nobody("metrics", "--db", str(db)).returncode == 0
    report = _as_nobody(
        "report", "--db", str(db), "--month", "2019-06", "--out", str(shared_folder)
    )
    assert report.returncode == 2 and "no permission" in one_line(report.stderr)
    assert sorted(p.name for p in shared_folder.iterdir()) == ["feb.csv", "pumps.duckdb"]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_database_of_another_user_is_not_taken_over(base_db: Path, shared_folder: Path) -> None:
    db = shared_folder / "pumps.duckdb"
    shutil.copyfile(base_db, db)
    db.chmod(0o666)  # others may write it, and the folder
    shared_folder.chmod(0o777)
    src = write_visits(shared_folder / "feb.csv", 10, prefix="n")
    src.chmod(0o644)
    res = _as_nobody("ingest", "--db", str(db), str(src))
    assert res.returncode == 2
    assert "belongs to another user" in one_line(res.stderr)
    assert db.stat().st_uid == 0
    assert not [p for p in shared_folder.iterdir() if TMP_MARK in p.name]


# --- too little memory -------------------------------------------------------------------


def test_out_of_memory_says_what_to_do(base_db: Path, big_csv: Path, tmp_path: Path) -> None:
    db = tmp_path / "pumps.duckdb"
    shutil.copyfile(base_db, db)
    before = digest(db)
    env = subprocess_env() | {"PUMPQI_MEMORY_LIMIT": "1MB"}
    root = Path(__file__).resolve().parents[1]
    for args in (("ingest", "--db", str(db), str(big_csv)), ("metrics", "--db", str(db))):
        res = subprocess.run(
            pumpqi_cmd(*args), cwd=root, capture_output=True, text=True, env=env, timeout=120
        )
        assert res.returncode == 2
        line = one_line(res.stderr)
        assert "out of memory" in line and "PUMPQI_MEMORY_LIMIT" in line, line
    assert digest(db) == before


# --- the wording, error by error ---------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/d/out.csv"), "out.csv: the disk is full"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "the disk is full"),
        (OSError(errno.EROFS, "Read-only file system", "/m/x"), "x: the folder is on a read-only"),
        (PermissionError(errno.EACCES, "Permission denied", "/r/pumps.duckdb.lock"),
         "pumps.duckdb.lock: no permission"),
        (OSError(errno.ENOSPC, "full", "/d/.pumps.duckdb.pumpqi-tmp-12.tmp/duckdb_temp_1.block"),
         "pumps.duckdb: the disk is full"),
        (MemoryError(), "out of memory"),
        (duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block"), "out of memory"),
        (duckdb.IOException('IO Error: Could not write file "/a/b.duckdb": No space left on device'),
         "b.duckdb: the disk is full"),
        (duckdb.IOException('IO Error: Cannot open file "/a/c.duckdb": Permission denied'),
         "c.duckdb: no permission"),
        (duckdb.Error("Corrupt database file: computed checksum 1 does not match stored checksum 2"),
         "the database file is damaged"),
    ],
)  # fmt: skip
def test_each_fault_gets_its_words(exc: BaseException, expected: str) -> None:
    text = describe(exc)
    assert text is not None and text.startswith(expected), text
    assert "\n" not in text


def test_a_fault_is_found_behind_a_wrapping_error() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/x/book.xlsx")
        except OSError as inner:
            raise RuntimeError("could not close the workbook") from inner
    except RuntimeError as outer:
        assert describe(outer) == describe(OSError(errno.ENOSPC, "x", "/x/book.xlsx"))


@pytest.mark.parametrize(
    "exc", [ValueError("bad"), KeyError("k"), OSError(errno.ENOENT, "No such file", "/x")]
)
def test_other_errors_are_not_dressed_up(exc: BaseException) -> None:
    assert describe(exc) is None


def test_a_failing_report_file_leaves_nothing(
    report_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import analytics.report.build as build

    def full(html: str, path: Path) -> None:
        path.write_bytes(b"")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(build, "write_pdf", full)
    with pytest.raises(
        PumpqiError, match=r"pumpqi-2026-06\.pdf: the disk is full.*nothing was written"
    ):
        build_report(ReportRequest(report_db, MONTH, tmp_path, generated_at=GENERATED))
    assert list(tmp_path.iterdir()) == []

    def bug(*args: object) -> None:
        raise ZeroDivisionError

    monkeypatch.undo()  # the PDF is written again; the workbook fails
    monkeypatch.setattr(build, "write_xlsx", bug)
    with pytest.raises(ZeroDivisionError):
        build_report(ReportRequest(report_db, MONTH, tmp_path, generated_at=GENERATED))
    assert list(tmp_path.iterdir()) == [], "a bug leaves no file either"

"""SQL-looking values through CLI options and headers (issue #11): refused, nothing changes.

Values reach SQL only as bound parameters; dynamic identifiers come from allow-lists
(metrics.GROUP_COLUMNS, the contract) or are quoted by validation.q. These tests check
the behaviour from the outside: exit 2, a short message, the database byte-for-byte
unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from analytics.cli.commands import main
from analytics.ingest.load import ingest_files
from analytics.store import reader
from tests.test_reliability_data import fingerprint, write_visits

INJECTIONS = [
    (["metrics", "--as-of", "2024-01-01'; DROP TABLE visits; --"], "--as-of"),
    (["refills", "--as-of", "2024-01-01'; DROP TABLE visits; --"], "--as-of"),
    (["metrics", "--by", "site; DROP"], "--by"),
    (["complications", "--by", "site; DROP TABLE visits"], "--by"),
    (["metrics", "--from", "2024-01' OR '1'='1"], "--from"),
    (["metrics", "--to", "2024-01'); DELETE FROM visits; --"], "--to"),
    (["complications", "--from", "2024-01' OR '1'='1"], "--from"),
    (["metrics", "--as-of", '2024-01-01" OR 1=1 --'], "--as-of"),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("inj")
    path = d / "pumps.duckdb"
    ingest_files(path, write_visits(d / "v.csv", 400, prefix="o"))
    return path


@pytest.mark.parametrize(("args", "option"), INJECTIONS)
def test_sql_in_options_is_refused_and_changes_nothing(
    db: Path, args: list[str], option: str
) -> None:
    before_bytes, before = db.read_bytes(), fingerprint(db)
    res = CliRunner().invoke(main, [args[0], "--db", str(db), *args[1:]])
    assert res.exit_code == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and res.stdout == ""
    error_lines = [ln for ln in res.stderr.splitlines() if ln.startswith(("pumpqi:", "Error:"))]
    assert len(error_lines) == 1 and option in error_lines[0], res.stderr
    assert db.read_bytes() == before_bytes and fingerprint(db) == before


def test_sql_in_an_ignored_header_is_quoted(tmp_path: Path) -> None:
    """A header name is user data: an ignored column named like SQL loads nothing odd."""
    name = "x'); DROP TABLE visits; --"
    text = f'patient_id,visit_date,visit_type,"{name}"\npa1,2024-01-05,implant,1\n'
    path = tmp_path / "v.csv"
    path.write_text(text)
    db = tmp_path / "x.duckdb"
    res = CliRunner().invoke(main, ["ingest", "--db", str(db), str(path), "--ignore-columns", name])
    assert res.exit_code == 0, res.stderr
    with reader(db) as con:
        assert con.execute("SELECT count(*) FROM visits").fetchall() == [(1,)]
        (raw,) = con.execute("SELECT count(*) FROM quarantine").fetchall()[0]
    assert raw == 0

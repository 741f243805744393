"""The data contract shipped with the product: generated from the declarations, kept in
step with the checks, reachable from `pumpqi --help`, and no pointer to unshipped files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from analytics.cli.commands import main
from analytics.ingest.contract import FILE_COLUMNS, TABLES, normalise_name
from analytics.ingest.contract_doc import (
    IDENTIFIER_NAME_EXAMPLES,
    allowed,
    contract_markdown,
)
from analytics.ingest.identifiers import IDENTIFIER_NAME_PATTERNS, identifier_name_kind
from analytics.ingest.load import validate_files
from analytics.vocabulary import CODES
from tests.conftest import write_csv

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "contract.md"


def test_the_checked_in_page_is_the_generated_one() -> None:
    assert PAGE.read_text(encoding="utf-8") == contract_markdown(), (
        "docs/contract.md is out of date: run `pumpqi contract --out docs/contract.md`"
    )


def test_every_column_value_and_code_is_on_the_page() -> None:
    page = contract_markdown()
    for table in TABLES.values():
        assert f"## Table `{table.name}`" in page
        for c in table.columns:
            row = next(line for line in page.splitlines() if line.startswith(f"| `{c.name}` |"))
            assert f"| {'yes' if c.required else 'no'} | {allowed(c, table)} |" in row, row
            for v in c.values if c.name != "complication" else ():
                assert f"`{v}`" in row
    for code in CODES:
        assert f"| `{code.id}` | {code.category} |" in page
    for c in FILE_COLUMNS:
        assert f"- `{c.name}`" in page
    assert "| `pump_implant_date` | date | no | YYYY-MM-DD, from 1980-01-01; or YYYY-MM" in page


def test_the_stated_ranges_are_the_checked_ones(tmp_path: Path) -> None:
    """For each number column, the page's bounds: the bound itself loads (above it for an
    exclusive bound), one past it is quarantined."""
    visits = TABLES["visits"]
    numbers = [c for c in visits.columns if c.kind in ("number", "integer")]
    header = ["patient_id", "visit_date", "visit_type", *(c.name for c in numbers)]
    cases: list[tuple[str, float, bool]] = []  # column, value, quarantined
    for c in numbers:
        assert c.minimum is not None and c.maximum is not None
        if c.min_exclusive:
            cases += [(c.name, c.minimum, True), (c.name, c.minimum + 0.5, False)]
        else:
            cases += [(c.name, c.minimum, False), (c.name, c.minimum - 1, True)]
        cases += [(c.name, c.maximum, False), (c.name, c.maximum + 1, True)]
    rows = []
    for name, value, _ in cases:
        cells = ["" for _ in numbers]
        cells[[c.name for c in numbers].index(name)] = f"{value:g}"
        rows.append(["pa1", "2024-01-05", "follow_up", *cells])
    path = write_csv(tmp_path / "visits.csv", header, rows)
    _, faults = validate_files(path)
    bad_lines = {int(line) for line in faults["line"]}
    for i, (name, value, bad) in enumerate(cases):
        assert (i + 2 in bad_lines) == bad, (name, value)
    words = {c.name: allowed(c, visits) for c in numbers}
    assert words["concentration_mg_ml"] == "above 0, at most 1,000"
    assert words["pain_nrs"] == "0 to 10, whole"


def test_every_identifier_kind_has_examples_that_are_refused_as_that_kind() -> None:
    assert set(IDENTIFIER_NAME_EXAMPLES) == set(IDENTIFIER_NAME_PATTERNS)
    for kind, names in IDENTIFIER_NAME_EXAMPLES.items():
        assert names
        for name in names:
            assert identifier_name_kind(normalise_name(name)) == kind, name


def test_pumpqi_contract_prints_the_page_and_the_main_help_names_it(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["contract"])
    assert res.exit_code == 0 and res.stdout == contract_markdown()
    out = tmp_path / "c.md"
    res = CliRunner().invoke(main, ["contract", "--out", str(out)])
    assert res.exit_code == 0 and out.read_text(encoding="utf-8") == contract_markdown()
    res = CliRunner().invoke(main, ["--help"])
    assert "pumpqi contract" in res.stdout and "contract " in res.stdout


def test_the_readme_points_to_the_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/contract.md)" in readme and "pumpqi contract" in readme


UNSHIPPED = re.compile(
    r"DATA_CONTRACT|METRICS(\.md|\s+\")|\b(CLI|DOMAIN|STYLE|TOOLCHAIN)\.md|shared/(spc-reference|"
    r"METRICS|CLI)|/work/shared"
)
SHIPPED_TREES = ("analytics", "dashboards", "benchmarks", "examples", "docs", "scripts")


def _shipped_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml"]
    for tree in SHIPPED_TREES:
        files += [
            p
            for p in (ROOT / tree).rglob("*")
            if p.is_file()
            and p.suffix in (".py", ".md", ".sql", ".toml", ".sh", ".txt", "")
            and "data" not in p.relative_to(ROOT).parts[1:2]
        ]
    return files


@pytest.mark.parametrize("planted", [False, True])
def test_no_text_points_to_a_file_the_project_does_not_ship(tmp_path: Path, planted: bool) -> None:
    files = _shipped_files()
    assert len(files) > 50
    if planted:  # the check itself can fail
        bad = tmp_path / "x.py"
        bad.write_text('"""Defaults from METRICS.md."""\n')
        files = [bad]
    hits = [
        f"{p.name}:{n}: {line.strip()}"
        for p in files
        for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if UNSHIPPED.search(line)
    ]
    assert bool(hits) == planted, hits

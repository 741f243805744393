"""`--messy` faults match what validation quarantines; the identifier column is refused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.cli.commands import main
from analytics.ingest.load import validate_files
from analytics.synth import generate, write


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_manifest_matches_validation(tmp_path: Path, fmt: str) -> None:
    result = generate(patients=300, years=3, seed=21, messy=True)
    write(result, tmp_path, fmt=fmt)
    manifest = pd.read_csv(tmp_path / "manifest.csv", keep_default_na=False)
    results, faults = validate_files(tmp_path / f"visits.{fmt}", tmp_path / f"complications.{fmt}")
    got = faults[["source_file", "line", "reason"]].rename(columns={"source_file": "file"})
    both = manifest.merge(got, on=["file", "line"], how="outer", indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"]
    assert all(
        r.startswith(e) for r, e in zip(both["reason"], both["expected_reason"], strict=True)
    )
    for r in results:
        share = r.rows_quarantined / r.rows_read
        assert 0.005 <= share <= 0.05 or r.table == "complications"
    assert {"conflicting_duplicate", "exact_duplicate", "date_future"} <= set(manifest["fault"])


def test_messy_rows_in_equal_loaded_plus_quarantined(tmp_path: Path) -> None:
    write(generate(patients=100, years=2, seed=4, messy=True), tmp_path)
    results, faults = validate_files(tmp_path / "visits.csv", tmp_path / "complications.csv")
    for r in results:
        assert r.rows_read == r.rows_loaded + r.rows_quarantined
    assert len(faults) == sum(r.rows_quarantined for r in results)


def test_cli_synth_writes_and_summarises(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["synth", "--patients", "40", "--years", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "rows to visits.csv" in res.output and "rows to complications.csv" in res.output
    assert (out / "visits.csv").exists() and not (out / "manifest.csv").exists()
    res = CliRunner().invoke(main, ["validate", str(out / "visits.csv")])
    assert res.exit_code == 0, res.output


def test_cli_identifier_column_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["synth", "--patients", "30", "--years", "1", "--seed", "3"]
    res = CliRunner().invoke(main, [*args, "--with-identifier-column", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out / "visits.csv", dtype=str)["mrn"].str.fullmatch(r"\d{7}").all()
    for cmd in (["validate"], ["ingest", "--db", str(tmp_path / "x.duckdb")]):
        res = CliRunner().invoke(main, [*cmd, str(out / "visits.csv")])
        assert res.exit_code == 2, res.output
        assert "mrn" in res.output
    assert not (tmp_path / "x.duckdb").exists()


def test_cli_bad_start_is_one_line_exit_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main,
        [
            "synth",
            "--patients",
            "5",
            "--years",
            "1",
            "--start",
            "2099-01-01",
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 2
    assert "Traceback" not in res.output

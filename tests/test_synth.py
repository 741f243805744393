"""Synthetic generator: API, determinism, data contract, clean ingest."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.ingest.contract import COMPLICATIONS, VISITS
from analytics.ingest.load import ingest_files, validate_files
from analytics.synth import DEMO, SynthResult, default_window, generate, write


@pytest.fixture(scope="module")
def small() -> SynthResult:
    return generate(patients=300, years=3, seed=11)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_demo_preset() -> None:
    assert DEMO == {"patients": 600, "years": 4, "sites": 3, "seed": 2026}


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write(generate(patients=120, years=2, seed=seed), tmp_path / name)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_default_window_ends_last_day_of_previous_month() -> None:
    start, end = default_window(2, None, None, today=dt.date(2026, 3, 15))
    assert end == dt.date(2026, 2, 28)
    assert (end - start).days == round(2 * 365.25)
    s2, e2 = default_window(1, dt.date(2020, 1, 1), None, today=dt.date(2026, 3, 15))
    assert (s2, e2) == (dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    with pytest.raises(ValueError):
        default_window(1, None, dt.date(2026, 4, 1), today=dt.date(2026, 3, 15))


def test_columns_and_enums_follow_the_contract(small: SynthResult) -> None:
    for df, table in ((small.visits, VISITS), (small.complications, COMPLICATIONS)):
        assert set(df.columns) <= set(table.names)
        assert list(df.columns) == [n for n in table.names if n in df.columns]
        for col in table.columns:
            if col.name not in df.columns:
                continue
            values = df[col.name].dropna()
            if col.required:
                assert len(values) == len(df), col.name
            if col.kind == "enum":
                assert set(values.astype(str)) <= set(col.values), col.name
            if col.kind in ("number", "integer") and len(values):
                assert values.min() >= col.minimum and values.max() <= col.maximum, col.name
                if col.min_exclusive:
                    assert values.min() > col.minimum


def test_dates_inside_the_window_and_never_in_the_future(small: SynthResult) -> None:
    today = pd.Timestamp(dt.date.today())
    for df, col in ((small.visits, "visit_date"), (small.complications, "report_date")):
        assert df[col].min() >= pd.Timestamp(small.start)
        assert df[col].max() <= pd.Timestamp(small.end) <= today


def test_ids_are_pseudonyms_and_unique(small: SynthResult) -> None:
    ids = small.visits["patient_id"].astype(str).unique()
    assert all(len(i) == 12 and not i.isdigit() for i in ids)
    assert pd.Series(ids).str.fullmatch(r"[0-9a-f]{12}").all()
    assert small.visits["visit_id"].is_unique and small.visits["visit_id"].str.startswith("V").all()
    assert small.complications["report_id"].is_unique
    assert "notes" not in small.visits.columns


def test_linked_complications_point_at_a_visit_of_that_patient_that_day(small: SynthResult) -> None:
    c = small.complications.dropna(subset=["visit_id"])
    v = small.visits.set_index("visit_id")
    linked = v.loc[c["visit_id"]]
    assert (
        linked["patient_id"].astype(str).to_numpy() == c["patient_id"].astype(str).to_numpy()
    ).all()
    assert (linked["visit_date"].to_numpy() == c["report_date"].to_numpy()).all()


def test_output_is_sorted(small: SynthResult) -> None:
    v = small.visits
    key = pd.DataFrame({"p": v["patient_id"].astype(str), "d": v["visit_date"]})
    assert key.equals(key.sort_values(["p", "d"], kind="stable"))


def test_no_visit_after_the_therapy_ended(small: SynthResult) -> None:
    v = small.visits
    ends = v[v["visit_type"].isin(["explant", "discharge"])].groupby("patient_id", observed=True)
    last = v.groupby("patient_id", observed=True)["visit_date"].max()
    end_day = ends["visit_date"].max()
    assert (last.loc[end_day.index] == end_day).all()


def test_clean_output_ingests_without_quarantine(tmp_path: Path, small: SynthResult) -> None:
    write(small, tmp_path / "out")
    results = ingest_files(
        tmp_path / "db.duckdb", tmp_path / "out/visits.csv", tmp_path / "out/complications.csv"
    )
    assert [r.rows_quarantined for r in results] == [0, 0]
    assert [r.rows_loaded for r in results] == [len(small.visits), len(small.complications)]


def test_parquet_ingests_without_quarantine(tmp_path: Path) -> None:
    result = generate(patients=80, years=2, seed=3)
    write(result, tmp_path / "out", fmt="parquet")
    results = ingest_files(
        tmp_path / "db.duckdb",
        tmp_path / "out/visits.parquet",
        tmp_path / "out/complications.parquet",
    )
    assert [r.rows_quarantined for r in results] == [0, 0]


def test_sites_and_clinicians(small: SynthResult) -> None:
    assert set(small.visits["site"].astype(str)) == {"A", "B", "C"}
    assert small.visits["clinician"].astype(str).str.fullmatch(r"CL\d{2}").all()
    one = generate(patients=30, years=1, seed=2, sites=1)
    assert set(one.visits["site"].astype(str)) == {"A"}


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        generate(patients=0, years=1, seed=1)
    with pytest.raises(ValueError):
        write(generate(patients=5, years=1, seed=1), "/tmp/never-used", fmt="xlsx")
    assert np.isfinite(
        generate(patients=1, years=0.5, seed=1).visits["reservoir_ml"].fillna(0)
    ).all()


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    patients=st.integers(1, 60),
    years=st.floats(0.2, 6),
    seed=st.integers(0, 2**31),
    sites=st.integers(1, 5),
)
def test_any_clean_output_validates(
    tmp_path: Path, patients: int, years: float, seed: int, sites: int
) -> None:
    out = tmp_path / f"{seed}-{patients}"
    result = generate(patients=patients, years=years, seed=seed, sites=sites)
    write(result, out)
    results, faults = validate_files(out / "visits.csv", out / "complications.csv")
    assert len(faults) == 0
    assert [r.rows_read for r in results] == [len(result.visits), len(result.complications)]
    assert result.visits["patient_id"].nunique() <= patients


def test_identifier_column_with_messy_lists_the_refused_file(tmp_path: Path) -> None:
    result = generate(patients=40, years=1, seed=9, messy=True, with_identifier_column=True)
    write(result, tmp_path)
    manifest = pd.read_csv(tmp_path / "manifest.csv")
    refused = manifest[manifest["fault"] == "identifier_column"]
    assert refused[["file", "line", "column"]].values.tolist() == [["visits.csv", 1, "mrn"]]

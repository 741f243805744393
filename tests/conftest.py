"""Shared fixtures: tiny contract files written on the fly."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the same (derandomised) examples every time, so a red run is reproducible;
# locally hypothesis explores new examples on each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

VISIT_HEADER = [
    "patient_id",
    "visit_date",
    "visit_type",
    "visit_id",
    "site",
    "pump_model",
    "reservoir_ml",
    "drug",
    "concentration_mg_ml",
    "daily_dose_mg",
    "volume_added_ml",
    "notes",
]


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
    return path


@pytest.fixture
def make_csv(tmp_path: Path) -> Callable[..., Path]:
    def _make(
        name: str, header: Sequence[str], rows: Sequence[Sequence[object]], **kw: object
    ) -> Path:
        return write_csv(tmp_path / name, header, rows, **kw)  # type: ignore[arg-type]

    return _make


def good_visit_rows() -> list[list[object]]:
    return [
        [
            "pa1",
            "2024-01-05",
            "implant",
            "v1",
            "A",
            "SynchroMed II",
            20,
            "baclofen",
            2,
            0.4,
            20,
            "",
        ],
        ["pa1", "2024-03-01", "refill", "v2", "A", "", "", "", "", "", 19, "routine"],
        ["pa2", "2024-02-10", "implant", "v3", "B", "Prometra II", 40, "morphine", 25, 5, 40, ""],
    ]

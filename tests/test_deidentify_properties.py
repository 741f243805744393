"""Properties of `pumpqi deidentify`: nothing identifying leaks; date shifts keep intervals."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.cli.commands import main
from analytics.deidentify.core import Options, deidentify
from analytics.deidentify.keys import MAX_SHIFT_DAYS, new_key_file
from analytics.ingest.load import validate_files
from tests.conftest import write_csv

HEADER = [
    "MRN", "First Name", "Last Name", "Date of Birth", "Visit Date", "Visit Type", "Site",
    "Reservoir Volume", "Volume Added", "Serial Number", "Lot", "Zip Code", "Phone", "Email",
    "SSN", "Address", "Notes",
]  # fmt: skip
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

upper = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=6, max_size=10)
digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


patient = st.fixed_dictionaries(
    {
        "mrn": st.integers(8, 10).flatmap(_digits),
        "first": upper,
        "last": upper,
        "dob": st.dates(dt.date(1915, 1, 1), dt.date(1985, 12, 31)),
        "zip": _digits(5),
        "phone": st.tuples(_digits(3), _digits(3), _digits(4)).map("-".join),
        "email": st.tuples(upper, upper).map(lambda t: f"{t[0].lower()}@{t[1].lower()}.org"),
        "ssn": st.tuples(_digits(3), _digits(2), _digits(4)).map("-".join),
        "serial": _digits(7).map(lambda s: "NGP" + s),
        "lot": _digits(6).map(lambda s: "LOT" + s),
        "street": upper.map(lambda s: f"{s} STREET"),
        "visits": st.lists(st.dates(dt.date(2016, 1, 1), dt.date(2024, 12, 31)), min_size=1, max_size=4),
    }
)  # fmt: skip


def _rows(patients: list[dict[str, object]], with_name_in_notes: bool) -> list[list[object]]:
    rows: list[list[object]] = []
    for p in patients:
        note = (f"called {p['phone']} mail {p['email']} ssn {p['ssn']} MRN {p['mrn']}"
                f" DOB {p['dob']} zip {p['zip']}")  # fmt: skip
        if with_name_in_notes:
            note += f" {p['first']} {p['last']}"
        for d in p["visits"]:  # type: ignore[attr-defined]
            rows.append([p["mrn"], p["first"], p["last"], p["dob"], d, "refill", "A", 20, 18,
                         p["serial"], p["lot"], p["zip"], p["phone"], p["email"], p["ssn"],
                         p["street"], note])  # fmt: skip
    return rows


def _found(value: str, text: str) -> bool:
    """Whether `value` occurs in `text`; a digits-only value must not sit inside a hex run.

    Pseudonyms are 16 hex characters, so a 5-digit ZIP can turn up inside one by chance
    (about once in 10^6) without having leaked.
    """
    if value.isdigit():
        return re.search(rf"(?<![0-9a-f]){value}(?![0-9a-f])", text) is not None
    return value in text


@SETTINGS
@given(
    patients=st.lists(patient, min_size=1, max_size=5, unique_by=lambda p: p["mrn"]),
    shift_dates=st.booleans(),
    keep_notes=st.booleans(),
    extras=st.booleans(),
)
def test_no_dropped_or_transformed_value_reaches_file_or_terminal(
    patients: list[dict[str, object]], shift_dates: bool, keep_notes: bool, extras: bool
) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        key = tmp / "k.key"
        new_key_file(key)
        # Names in notes can only be removed by dropping the notes.
        raw = write_csv(tmp / "export.csv", HEADER, _rows(patients, not keep_notes))
        mapping = tmp / "map.toml"
        mapping.write_text('extras = ["age", "zip3"]\n' if extras else "")
        out = tmp / "visits.csv"
        args = ["deidentify", str(raw), "--key-file", str(key), "--out", str(out),
                "--map", str(mapping)]  # fmt: skip
        args += ["--shift-dates"] * shift_dates + ["--keep-notes"] * keep_notes
        result = CliRunner().invoke(main, args)
        shown = result.output + result.stderr
        assert result.exit_code == 0, shown
        written = out.read_text()
        for p in patients:
            for field in ["mrn", "first", "last", "dob", "zip", "phone", "email", "ssn",
                          "serial", "lot", "street"]:  # fmt: skip
                value = str(p[field])
                assert not _found(value, written), (field, "file")
                assert not _found(value, shown), (field, "printed")
        assert key.read_text().strip() not in written + shown
        ignore = ["age", "zip3"] if extras else []
        results, faults = validate_files(out, ignore=ignore, today=dt.date(2026, 1, 1))
        assert len(faults) == 0, faults.to_dict("records")
        assert results[0].rows_loaded == sum(len(p["visits"]) for p in patients)  # type: ignore[arg-type]


@SETTINGS
@given(
    visits=st.lists(
        st.tuples(st.integers(0, 6), st.dates(dt.date(2015, 1, 1), dt.date(2024, 12, 31))),
        min_size=1,
        max_size=30,
    ),
)
def test_shift_keeps_each_patients_intervals(visits: list[tuple[int, dt.date]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        key = tmp / "k.key"
        new_key_file(key)
        rows = [[f"MRN{p:07d}", day, "refill", day + dt.timedelta(days=30)] for p, day in visits]
        header = ["MRN", "Visit Date", "Visit Type", "Next Refill Date"]
        raw = write_csv(tmp / "export.csv", header, rows)
        comp = write_csv(
            tmp / "comp.csv", ["MRN", "Report Date", "Complication"],
            [[r[0], r[1], "pocket_fill"] for r in rows],
        )  # fmt: skip
        deidentify(Options(raw, key, tmp / "v.csv", shift_dates=True))
        deidentify(Options(comp, key, tmp / "c.csv", table="complications", shift_dates=True))
        v = pd.read_csv(tmp / "v.csv", dtype=str)
        c = pd.read_csv(tmp / "c.csv", dtype=str)
        offsets: dict[str, int] = {}
        for i, (_, day) in enumerate(visits):
            shifted = dt.date.fromisoformat(v["visit_date"][i])
            offset = (shifted - day).days
            assert -MAX_SHIFT_DAYS <= offset <= -1  # back only: never into the future
            assert offsets.setdefault(v["patient_id"][i], offset) == offset  # one per patient
            due = dt.date.fromisoformat(v["next_refill_due"][i])
            assert (due - shifted).days == 30  # the interval is kept
            assert c["patient_id"][i] == v["patient_id"][i]  # same pseudonym in both tables
            assert dt.date.fromisoformat(c["report_date"][i]) == shifted  # same offset
        assert len(offsets) == len({p for p, _ in visits})

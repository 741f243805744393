"""No identifier leaks (issue #11): planted identifiers never reach any output.

A raw clinic export is built from synthetic data (60 patients, 2 years, fixed seed
and key) with clinic-style columns and sentinel identifiers of eleven kinds: patient
names, MRNs (7 digits), dates of birth, phone numbers, e-mail addresses, street
addresses, SSNs, pump serial numbers, catheter lot numbers, ZIP5 codes, and all of
these again inside free-text notes. The whole path runs through the real CLI:
`deidentify` (visits with --keep-notes, complications without) -> `validate` ->
`ingest` -> `refills`, `metrics`, `complications` -> `report` (HTML, PDF text,
xlsx cells and the xlsx zip's XML) -> the analytics.figures page functions -> an
AppTest run of every dashboard page. None of the sentinels may appear in any file
written, any line printed on stdout/stderr, any log record, any DuckDB table
(every table dumped, quarantine.raw_row and ingest_log included; the database
file's bytes too) or any rendered page.

The second half slips an identifier into contract files that ingest refuses or
quarantines (an e-mail as clinician, an SSN or MRN as patient_id, a phone in notes,
an identifier-named column, ZIP codes in an ignored column; for deidentify, a phone
in a kept column and in an unmapped column): the message names the file, column
and reason but never the value. An MRN as patient_id in one row, and a name and birth
date typed into a date cell, are quarantined with the cell redacted.

Known limit, not tested: `deidentify --keep-notes` cuts identifier *patterns* only,
so a name or street address typed into notes survives (its warning says so).
Here names, addresses, serials and lots appear in the notes of the complications
export, whose notes are dropped, and in their own columns, which are dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest
from test_dashboard_fixtures import APP

from analytics.cli.commands import main
from analytics.figures import (
    Cutoff,
    Scope,
    complications_figures,
    data_quality,
    definitions_figures,
    filter_options,
    open_cutoff,
    overview,
    patient_ids,
    patient_timeline,
    refills_figures,
    worklist_figures,
)
from analytics.store import reader
from analytics.synth import generate

PATIENTS, YEARS, SEED = 60, 2, 4242
START = dt.date(2023, 1, 1)
MONTH = "2024-12"
KEY_HEX = hashlib.sha256(b"pumpqi leaks test key").hexdigest()
FIRST = ("Zebulon", "Xanthippe", "Quirinus", "Ottoline", "Barnabus", "Philomena", "Hepzibah")
LAST = ("Quixote-Farnsworth", "Vandersnoot", "Thistlewaite", "Zwiebelkamp", "Pickwick-Oyelaran")
PAGES = (
    "app_pages/overview.py",
    "app_pages/refills.py",
    "app_pages/complications.py",
    "app_pages/worklist.py",
    "app_pages/timeline.py",
    "app_pages/quality.py",
    "app_pages/definitions.py",
)


@dataclasses.dataclass(frozen=True)
class Person:
    """One patient's planted identifiers (all fictitious)."""

    name: str
    mrn: str
    dob: str
    phone: str
    email: str
    address: str
    ssn: str
    serial: str
    lot: str
    zip5: str

    def patterned_note(self) -> str:
        """Identifiers deidentify --keep-notes can find by pattern (MRN, phone, ...)."""
        return (
            f"Called {self.phone} about the refill; MRN {self.mrn}; e-mail {self.email};"
            f" DOB {self.dob}; SSN {self.ssn}; ZIP {self.zip5}. Reservoir checked."
        )

    def full_note(self) -> str:
        return (
            f"{self.name} of {self.address} phoned {self.phone}; pump SN {self.serial},"
            f" catheter lot {self.lot}; old SSN {self.ssn.replace('-', '')};"
            f" {self.patterned_note()}"
        )


def person(i: int) -> Person:
    dob = dt.date(1931, 3, 7) + dt.timedelta(days=211 * i)
    return Person(
        name=f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}",
        mrn=f"{8675300 + i}",
        dob=dob.isoformat(),
        phone=f"(555) 014-{2100 + i}",
        email=f"zq.farnsworth{i}@quixotemail.example",
        address=f"{1200 + i} Quixote Lane",
        ssn=f"078-05-{1120 + i}",
        serial=f"NGP{735100 + i}H",
        lot=f"QXLOT{4400 + i}",
        zip5=f"0{5801 + i}",
    )


@dataclasses.dataclass(frozen=True)
class Sentinel:
    """A planted value; bare digit strings match only with no word character around."""

    kind: str
    value: str
    bounded: bool = False

    def search(self, text: str, lowered: str) -> int:
        """Index of the first match in text (lowered: text.lower()), or -1."""
        if not self.bounded:
            return lowered.find(self.value.lower())
        if self.value not in text:  # fast path: the regex runs only on a candidate
            return -1
        m = re.search(rf"(?<![\w.]){re.escape(self.value)}(?!\w)", text)
        return m.start() if m else -1


def sentinels(people: Sequence[Person]) -> list[Sentinel]:
    """Every planted value, and the distinctive parts of names, addresses and devices."""
    out = [
        Sentinel("name/address/device part", word)
        for word in (*FIRST, *LAST, "quixotemail", "Quixote Lane", "NGP7351", "QXLOT")
    ]
    for p in people:
        out += [
            Sentinel("name", p.name),
            Sentinel("MRN", p.mrn, bounded=True),
            Sentinel("DOB", p.dob),
            Sentinel("phone", p.phone),
            Sentinel("phone digits", p.phone[-8:], bounded=True),
            Sentinel("e-mail", p.email),
            Sentinel("address", p.address),
            Sentinel("SSN", p.ssn),
            Sentinel("SSN digits", p.ssn.replace("-", ""), bounded=True),
            Sentinel("serial", p.serial),
            Sentinel("lot", p.lot),
            Sentinel("ZIP5", p.zip5, bounded=True),
        ]
    return out


def leaks(text: str, planted: Sequence[Sentinel]) -> list[str]:
    """'kind: …context…' for every sentinel found in text."""
    lowered = text.lower()
    found = []
    for s in planted:
        at = s.search(text, lowered)
        if at >= 0:
            found.append(f"{s.kind}: …{text[max(0, at - 40) : at + len(s.value) + 40]!r}…")
    return found


# --- the raw clinic export --------------------------------------------------------------


def raw_exports(base: Path) -> tuple[Path, Path, list[Person]]:
    """Synth visits and complications turned into clinic exports with identifiers."""
    result = generate(patients=PATIENTS, years=YEARS, seed=SEED, start=START)
    ids = sorted(set(result.visits["patient_id"]) | set(result.complications["patient_id"]))
    people = [person(i) for i in range(len(ids))]
    who = dict(zip(ids, people, strict=True))
    v = result.visits.copy()
    pv = [who[p] for p in v["patient_id"]]
    visits = pd.DataFrame(
        {
            "MRN": [p.mrn for p in pv],
            "Patient Name": [p.name for p in pv],
            "DOB": [p.dob for p in pv],
            "Phone": [p.phone for p in pv],
            "Email": [p.email for p in pv],
            "Address": [p.address for p in pv],
            "ZIP": [p.zip5 for p in pv],
            "SSN": [p.ssn for p in pv],
            "Pump Serial": [p.serial for p in pv],
            "Lot Number": [p.lot for p in pv],
            "Refill Date": v["visit_date"].dt.strftime("%Y-%m-%d"),
            "Visit Type": v["visit_type"],
            "Encounter ID": v["visit_id"],
            "Clinic": v["site"],
            "Provider": v["clinician"],
            "Pump Model": v["pump_model"],
            "Reservoir Volume": v["reservoir_ml"],
            "Drug": v["drug"],
            "Concentration mg mL": v["concentration_mg_ml"],
            "Daily Dose mg": v["daily_dose_mg"],
            "Daily Rate mL": v["daily_rate_ml"],
            "Volume Added": v["volume_added_ml"],
            "Expected Residual mL": v["expected_residual_ml"],
            "Actual Residual mL": v["actual_residual_ml"],
            "Alarm mL": v["alarm_ml"],
            "Next Refill Date": v["next_refill_due"].dt.strftime("%Y-%m-%d"),
            "Indication": v["indication"],
            "Pain NRS": v["pain_nrs"],
            "Comments": [
                p.patterned_note() if i % 3 == 0 else "routine refill, no issues"
                for i, p in enumerate(pv)
            ],
        }
    )
    c = result.complications.copy()
    pc = [who[p] for p in c["patient_id"]]
    complications = pd.DataFrame(
        {
            "MRN": [p.mrn for p in pc],
            "Patient Name": [p.name for p in pc],
            "Phone": [p.phone for p in pc],
            "Event Date": c["report_date"].dt.strftime("%Y-%m-%d"),
            "Complication Type": c["complication"],
            "Report ID": c["report_id"],
            "Encounter ID": c["visit_id"],
            "Clinic": c["site"],
            "Severity": c["severity"],
            "Serious": c["serious"],
            "Action": c["action"],
            "Notes": [p.full_note() for p in pc],
        }
    )
    base.mkdir(parents=True, exist_ok=True)
    visits.to_csv(base / "visits_export.csv", index=False)
    complications.to_csv(base / "complications_export.csv", index=False)
    return base / "visits_export.csv", base / "complications_export.csv", people


# --- running the CLI and collecting everything it produced ------------------------------


@dataclasses.dataclass
class Run:
    """Everything a pipeline produced, as text to scan: label -> text."""

    work: Path
    raw: Path
    texts: dict[str, str] = dataclasses.field(default_factory=dict)

    def cli(self, label: str, *args: str, code: int | Sequence[int] = 0) -> Result:
        result = CliRunner().invoke(main, list(args))
        codes = (code,) if isinstance(code, int) else tuple(code)
        shown = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert result.exit_code in codes, (label, result.exit_code, shown)
        self.texts[f"cli {label}"] = shown
        return result


def key_file(directory: Path) -> Path:
    path = directory / "clinic.key"
    path.write_text("pumpqi-key-v1:" + KEY_HEX + "\n")
    os.chmod(path, 0o600)
    return path


def file_texts(root: Path, skip: Sequence[Path]) -> Iterator[tuple[str, str]]:
    """Every file under root as text: PDFs by pypdf, xlsx by openpyxl and its XML parts."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path in skip:
            continue
        label = str(path.relative_to(root))
        if path.suffix == ".pdf":
            pages = PdfReader(str(path)).pages
            yield label, "\n".join(page.extract_text() or "" for page in pages)
        elif path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path)
            cells = [
                str(v)
                for ws in book.worksheets
                for row in ws.iter_rows(values_only=True)
                for v in row
                if v is not None
            ]
            yield f"{label} cells", "\n".join(cells)
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    yield f"{label}:{name}", z.read(name).decode("utf-8", "replace")
        else:
            yield label, path.read_bytes().decode("latin-1")


def dump_database(db: Path) -> dict[str, str]:
    """Every table of every schema as CSV text, plus the file's raw bytes."""
    out: dict[str, str] = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL"
        ).fetchall()
        views = con.execute(
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal ORDER BY ALL"
        ).fetchall()
        for schema, name in [*tables, *views]:
            df = con.execute(f'SELECT * FROM "{schema}"."{name}"').df()
            out[f"db {schema}.{name}"] = df.to_csv(index=False)
    finally:
        con.close()
    assert "db main.quarantine" in out and "db main.ingest_log" in out, sorted(out)
    out["db file bytes"] = db.read_bytes().decode("latin-1")
    return out


def as_text(obj: Any, depth: int = 0) -> str:
    """A page-data object (dataclasses, frames, dicts, tuples) flattened to text."""
    if depth > 8:
        return repr(obj)
    if isinstance(obj, pd.DataFrame):
        return obj.to_csv(index=False)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return "\n".join(as_text(getattr(obj, f.name), depth + 1) for f in dataclasses.fields(obj))
    if isinstance(obj, dict):
        return "\n".join(f"{k}: {as_text(v, depth + 1)}" for k, v in obj.items())
    if isinstance(obj, list | tuple):
        return "\n".join(as_text(v, depth + 1) for v in obj)
    return str(obj)


def view_texts(db: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with reader(db) as con:
        options = filter_options(open_cutoff(con))
    scopes = {
        False: Scope.months(options.months[0], options.months[-1]),
        True: Scope.quarter(options.quarters[-1], 11),
    }
    for sharing, scope in scopes.items():
        pages: dict[str, Callable[[Cutoff, Scope], object]] = {
            "options": lambda cut, s: filter_options(cut),
            "overview": overview,
            "refills": refills_figures,
            "complications": complications_figures,
            "worklist": lambda cut, s: worklist_figures(cut, s, 60),
            "quality": lambda cut, s, sh=sharing: data_quality(cut.con, sharing=sh),
            "definitions": lambda cut, s: definitions_figures(),
        }
        for name, page in pages.items():
            with reader(db) as con:
                out[f"view {name} sharing={sharing}"] = as_text(page(open_cutoff(con), scope))
    with reader(db) as con:
        ids = patient_ids(open_cutoff(con), scopes[False])
        out["view patient ids"] = "\n".join(ids)
        for pid in ids:
            out[f"view timeline {pid}"] = as_text(patient_timeline(con, pid))
    return out


def element_texts(node: Any) -> Iterator[str]:
    """Every element of an AppTest tree as its protobuf text (dataframes as CSV too)."""
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from element_texts(child)
        return
    proto = getattr(node, "proto", None)
    if proto is not None:
        yield str(proto)
    if type(node).__name__ == "Dataframe":
        yield node.value.to_csv(index=False)


def app_texts(db: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("PUMPQI_DB", str(db))
    monkeypatch.delenv("PUMPQI_SHARING_ONLY", raising=False)
    out: dict[str, str] = {}
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        out[f"app {page}"] = "\n".join(element_texts(at._tree))
        assert len(out[f"app {page}"]) > 200, page
    return out


# --- the whole path ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def people_and_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Person], Run]:
    """deidentify -> validate -> ingest -> refills/metrics/complications -> report."""
    raw_dir = tmp_path_factory.mktemp("raw")
    visits_raw, compl_raw, people = raw_exports(raw_dir)
    key = key_file(raw_dir)
    work = tmp_path_factory.mktemp("work")
    run = Run(work, raw_dir)
    mapping = work / "map.toml"
    mapping.write_text('extras = ["age", "zip3"]\n')
    visits, compl, db = work / "visits.csv", work / "complications.csv", work / "pumps.duckdb"
    run.cli("deidentify visits", "deidentify", str(visits_raw), "--key-file", str(key),
            "--out", str(visits), "--map", str(mapping), "--keep-notes")  # fmt: skip
    run.cli("deidentify complications", "deidentify", str(compl_raw), "--key-file", str(key),
            "--out", str(compl), "--table", "complications")  # fmt: skip
    ignore = ("--ignore-columns", "age,zip3")
    run.cli("validate", "validate", str(visits), "--complications", str(compl), *ignore,
            "--out", str(work / "faults.csv"), code=(0, 1))  # fmt: skip
    run.cli("validate json", "validate", str(visits), "--complications", str(compl), *ignore,
            "--format", "json", code=(0, 1))  # fmt: skip
    run.cli("ingest", "ingest", "--db", str(db), str(visits), "--complications", str(compl),
            *ignore)  # fmt: skip
    run.cli("ingest again", "ingest", "--db", str(db), str(visits), "--complications",
            str(compl), *ignore)  # fmt: skip
    d = ("--db", str(db))
    run.cli("refills", "refills", *d, "--detail")
    run.cli("refills json", "refills", *d, "--format", "json", "--out", str(work / "r.json"))
    for by in ((), ("--by", "site")):
        run.cli(f"metrics {by}", "metrics", *d, *by)
        run.cli(f"complications {by}", "complications", *d, *by, "--codes")
    run.cli("metrics out", "metrics", *d, "--out", str(work / "metrics.csv"))
    run.cli("report", "report", *d, "--month", MONTH, "--out", str(work / "report"))
    return people, run


def test_planted_identifiers_are_in_the_raw_exports(
    people_and_run: tuple[list[Person], Run],
) -> None:
    """The scan itself finds every sentinel kind where it was planted (no vacuous pass)."""
    people, run = people_and_run
    raw = "\n".join(text for _, text in file_texts(run.raw, skip=()))
    kinds = {s.kind for s in sentinels(people)}
    hit = {line.split(":")[0] for line in leaks(raw, sentinels(people))}
    assert hit == kinds, kinds - hit


def test_no_identifier_in_cli_output_files_or_database(
    people_and_run: tuple[list[Person], Run],
) -> None:
    people, run = people_and_run
    patterns = sentinels(people)
    texts = dict(run.texts)
    texts.update(file_texts(run.work, skip=()))
    texts.update(dump_database(run.work / "pumps.duckdb"))
    assert {"report/pumpqi-2024-12.html", "report/pumpqi-2024-12.pdf"} <= set(texts)
    assert any(k.startswith("report/pumpqi-2024-12.xlsx:xl/") for k in texts)
    assert "[removed]" in texts["visits.csv"], "notes were kept, scrubbed"
    assert "p_" in texts["db main.visits"]
    found = {label: leaks(text, patterns) for label, text in texts.items()}
    assert not {k: v for k, v in found.items() if v}


def test_no_identifier_in_page_data_app_or_logs(
    people_and_run: tuple[list[Person], Run],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    people, run = people_and_run
    db = run.work / "pumps.duckdb"
    caplog.set_level(logging.DEBUG)
    texts = view_texts(db)
    texts.update(app_texts(db, monkeypatch))
    texts["log records"] = "\n".join(r.getMessage() for r in caplog.records)
    assert texts["view patient ids"].count("p_") >= PATIENTS // 2
    timelines = [t for k, t in texts.items() if k.startswith("view timeline ")]
    assert sum("refill" in t for t in timelines) >= len(timelines) // 2  # not empty pages
    found = {label: leaks(text, sentinels(people)) for label, text in texts.items()}
    assert not {k: v for k, v in found.items() if v}


# --- refusals name file, column and reason, never the value -----------------------------


def _contract(run: Run, name: str, edit: dict[str, Any], row: int = 3) -> Path:
    """A copy of the deidentified visits file with cells of one row replaced."""
    df = pd.read_csv(run.work / "visits.csv", dtype=str, keep_default_na=False)
    for column, value in edit.items():
        df.loc[row, column] = value
    path = run.work.parent / f"bad-{name}" / "visits.csv"
    path.parent.mkdir(exist_ok=True)
    df.to_csv(path, index=False)
    return path


REFUSED: dict[str, tuple[str, str, str]] = {
    # case -> (column, the planted person's field, words of the reason)
    "email-clinician": ("clinician", "email", "direct identifier (e-mail address)"),
    "ssn-patient": ("patient_id", "ssn", "patient_id must be a pseudonym"),
    "phone-site": ("site", "phone", "direct identifier (phone number)"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_file_message_names_no_value(
    people_and_run: tuple[list[Person], Run], case: str
) -> None:
    people, run = people_and_run
    column, field, reason = REFUSED[case]
    value = getattr(people[7], field)
    path = _contract(run, case, {column: value})
    db = path.parent / "pumps.duckdb"
    ignore = ("--ignore-columns", "age,zip3")
    for label, args in {
        "validate": ("validate", str(path), *ignore),
        "ingest": ("ingest", "--db", str(db), str(path), *ignore),
    }.items():
        shown = run.cli(f"{case} {label}", *args, code=2).output
        assert "visits.csv" in shown and f"'{column}'" in shown and reason in shown, shown
        assert not leaks(shown, sentinels(people)), shown
    if db.exists():
        assert not any(leaks(t, sentinels(people)) for t in dump_database(db).values())


def test_identifier_columns_refused_by_name_or_content(
    people_and_run: tuple[list[Person], Run],
) -> None:
    """An `mrn` column is refused by its name; ZIP codes in an ignored column by content."""
    people, run = people_and_run
    df = pd.read_csv(run.work / "visits.csv", dtype=str, keep_default_na=False)
    out = run.work.parent / "bad-columns"
    out.mkdir(exist_ok=True)
    df.assign(mrn=[people[i % len(people)].mrn for i in range(len(df))]).to_csv(
        out / "named.csv", index=False
    )
    df.assign(home=[people[i % len(people)].zip5 for i in range(len(df))]).to_csv(
        out / "zips.csv", index=False
    )
    named = run.cli("mrn column", "validate", str(out / "named.csv"), "--ignore-columns",
                    "age,zip3,mrn", code=2).output  # fmt: skip
    assert "named.csv, column 'mrn': looks like a direct identifier (record number)" in named
    zips = run.cli("zip column", "ingest", "--db", str(out / "z.duckdb"), str(out / "zips.csv"),
                   "--ignore-columns", "age,zip3,home", code=2).output  # fmt: skip
    assert "zips.csv, column 'home': values look like ZIP codes" in zips
    assert not leaks(named + zips, sentinels(people))


def test_identifier_in_notes_is_quarantined_and_redacted(
    people_and_run: tuple[list[Person], Run],
) -> None:
    people, run = people_and_run
    p = people[11]
    path = _contract(run, "phone-notes", {"notes": f"patient asked to call back on {p.phone}"})
    db = path.parent / "pumps.duckdb"
    faults = run.cli("phone-notes validate", "validate", str(path), "--ignore-columns",
                     "age,zip3", code=1).output  # fmt: skip
    assert "identifier-like text in notes" in faults and "notes" in faults
    shown = run.cli("phone-notes ingest", "ingest", "--db", str(db), str(path),
                    "--ignore-columns", "age,zip3").output  # fmt: skip
    assert "1 quarantined" in shown
    dump = dump_database(db)
    assert "[redacted: identifier-like text]" in dump["db main.quarantine"]
    found = {k: leaks(v, sentinels(people)) for k, v in {**dump, "out": faults + shown}.items()}
    assert not {k: v for k, v in found.items() if v}


@pytest.mark.parametrize(
    ("case", "column", "reason"),
    [
        ("mrn-patient", "patient_id", "patient_id looks like a record number"),
        ("name-in-date", "next_refill_due", "unparseable date"),
    ],
)
def test_identifier_in_a_row_is_quarantined_and_redacted(
    people_and_run: tuple[list[Person], Run], case: str, column: str, reason: str
) -> None:
    people, run = people_and_run
    p = people[13]
    value = p.mrn if case == "mrn-patient" else f"{p.name} {p.dob}"
    path = _contract(run, case, {column: value})
    db = path.parent / "pumps.duckdb"
    ignore = ("--ignore-columns", "age,zip3")
    faults = run.cli(f"{case} validate", "validate", str(path), *ignore, code=1).output
    assert reason in faults and column in faults
    shown = run.cli(f"{case} ingest", "ingest", "--db", str(db), str(path), *ignore).output
    assert "1 quarantined" in shown
    dump = dump_database(db)
    assert "[redacted: identifier-like text]" in dump["db main.quarantine"]
    found = {k: leaks(v, sentinels(people)) for k, v in {**dump, "out": faults + shown}.items()}
    assert not {k: v for k, v in found.items() if v}


@pytest.mark.parametrize(
    ("rename", "message"),
    [
        ({"Clinic": "Clinic"}, "column clinic (-> site): values look like a direct identifier"),
        ({"Clinic": "Guardian Contact"}, "unmapped column(s): guardian_contact"),
    ],
)
def test_deidentify_refusal_names_no_value(
    people_and_run: tuple[list[Person], Run], rename: dict[str, str], message: str
) -> None:
    """A phone number in a kept column (or an unmapped one) stops deidentify; no value shown."""
    people, run = people_and_run
    raw_dir = run.work.parent / "bad-raw"
    raw_dir.mkdir(exist_ok=True)
    raw = pd.read_csv(run.raw / "visits_export.csv", dtype=str)
    raw.loc[5, "Clinic"] = people[5].phone
    raw = raw.rename(columns=rename)
    raw.to_csv(raw_dir / "export.csv", index=False)
    out = raw_dir / "visits.csv"
    shown = run.cli(f"deidentify refused {rename}", "deidentify", str(raw_dir / "export.csv"),
                    "--key-file", str(key_file(raw_dir)), "--out", str(out), code=2).output  # fmt: skip
    assert message in shown, shown
    assert not out.exists()
    assert not leaks(shown, sentinels(people)), shown

"""A small deterministic programme for the report tests (no tests here).

Three sites, ~45 patients over two years to 2026-06-30: implants, refills with a
recorded due date (mostly on time, some late, a few pumps running dry), explants, a
left-truncated patient, residual readings, complication reports, one quarantined row
and two process changes (one of them a rebase). Built with random.Random(seed), so the
same seed gives the same database, independent of the synthetic generator.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from html.parser import HTMLParser
from pathlib import Path

from analytics.ingest.contract import COMPLICATIONS, VISITS
from analytics.ingest.load import ingest_files
from analytics.spc import add_annotation

START, END = dt.date(2024, 7, 1), dt.date(2026, 6, 30)
MONTH = "2026-06"
GENERATED = dt.datetime(2026, 7, 2, 9, 30)
DRUGS = (("baclofen", 2.0), ("morphine", 25.0), ("hydromorphone", 10.0))
CODES = ("catheter_occlusion", "infection_superficial", "pump_failure", "side_effect",
         "pocket_fill", "granuloma", "seroma", "withdrawal")  # fmt: skip


def _refills(
    rng: random.Random, pid: str, site: str, first: dt.date, stop: dt.date
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    day = first
    while True:
        interval = rng.randint(45, 80)
        due = day + dt.timedelta(days=interval)
        rows.append({"patient_id": pid, "visit_date": day.isoformat(), "visit_type": "refill",
                     "site": site, "volume_added_ml": 20, "daily_rate_ml": round(18 / (interval + 12), 4),
                     "next_refill_due": due.isoformat(),
                     "expected_residual_ml": 2.0, "actual_residual_ml": 2.0 + rng.choice([0, 0, 0, 0.5, 3.5])})  # fmt: skip
        roll = rng.random()
        delta = (
            -rng.randint(0, 7)
            if roll < 0.8
            else rng.randint(1, 9)
            if roll < 0.95
            else rng.randint(25, 40)
        )
        day = due + dt.timedelta(days=delta)
        if day > stop:
            return rows


def _patient(rng: random.Random, i: int) -> list[dict[str, object]]:
    pid, site = f"p{i:03d}", "ABC"[i % 3] if i % 7 else "A"
    drug, conc = DRUGS[i % 3]
    start = START + dt.timedelta(days=rng.randint(0, 560))
    end = min(END, start + dt.timedelta(days=rng.randint(200, 700))) if i % 9 == 0 else END
    first = {"patient_id": pid, "visit_date": start.isoformat(), "visit_type": "implant" if i != 5 else "refill",
             "site": site, "pump_model": "SynchroMed II" if i % 2 else "Prometra II", "reservoir_ml": 20,
             "drug": drug, "concentration_mg_ml": conc, "volume_added_ml": 20,
             "daily_rate_ml": 0.3, "next_refill_due": (start + dt.timedelta(days=55)).isoformat(),
             "indication": "spasticity" if drug == "baclofen" else "noncancer_pain"}  # fmt: skip
    rows = [first] + _refills(rng, pid, site, start + dt.timedelta(days=rng.randint(48, 56)), end)[
        : -0 or None
    ]
    if end < END:
        rows = [r for r in rows if str(r["visit_date"]) < end.isoformat()]
        rows.append(
            {
                "patient_id": pid,
                "visit_date": end.isoformat(),
                "visit_type": "explant",
                "site": site,
            }
        )
    return rows


def _complications(rng: random.Random, visits: list[dict[str, object]]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for v in visits:
        if v["visit_type"] == "refill" and rng.random() < 0.11:
            day = dt.date.fromisoformat(str(v["visit_date"])) + dt.timedelta(
                days=rng.randint(1, 20)
            )
            code = rng.choice(CODES)
            serious = code in ("pump_failure", "withdrawal") or rng.random() < 0.1
            out.append({"patient_id": v["patient_id"], "report_date": min(day, END).isoformat(),
                        "complication": code, "site": v["site"],
                        "severity": "severe" if serious else "mild", "serious": str(serious).lower(),
                        "action": "revision" if code == "pump_failure" else "medical"})  # fmt: skip
    return out


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(columns))
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return path


def build_db(folder: Path, seed: int = 2026, patients: int = 45) -> Path:
    """Write the CSV files, ingest them into folder/report.duckdb, log two process changes."""
    rng = random.Random(seed)
    visits = [row for i in range(patients) for row in _patient(rng, i)]
    for n, v in enumerate(visits):
        v["visit_id"] = f"v{n:05d}"
    complications = _complications(rng, visits)
    for n, c in enumerate(complications):
        c["report_id"] = f"r{n:04d}"
    bad = dict(visits[3], visit_id="v99999", visit_date="2026-02-30")
    vpath = _write(folder / "visits.csv", VISITS.names, [*visits, bad])
    cpath = _write(folder / "complications.csv", COMPLICATIONS.names, complications)
    db = folder / "report.duckdb"
    ingest_files(db, vpath, cpath, today=dt.date(2026, 7, 1))
    add_annotation(db, "2025-09-15", "Pharmacy double-check of refill volumes", rebase=True)
    add_annotation(db, "2026-06-10", "Refill reminder calls started")
    return db


class _Outline(HTMLParser):
    """Headings, captions and the key-figure table of a report page, as text lines."""

    TAGS = ("h1", "h2", "caption", "figcaption")

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._tag: str | None = None
        self._text: list[str] = []
        self._in_key = False
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", "key_figures") in attrs:
            self._in_key = True
        if self._in_key and tag == "tr":
            self._row = []
        if tag in self.TAGS or (self._in_key and tag in ("td", "th")):
            self._tag, self._text = tag, []

    def handle_data(self, data: str) -> None:
        if self._tag:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == self._tag:
            text = " ".join("".join(self._text).split())
            if tag in ("td", "th") and self._row is not None:
                self._row.append(text)
            elif tag in self.TAGS:
                self.lines.append(f"{tag}: {text}")
            self._tag = None
        if tag == "tr" and self._row is not None:
            self.lines.append("row: " + " | ".join(self._row))
            self._row = None
        if tag == "table":
            self._in_key = False


def outline(html: str) -> str:
    parser = _Outline()
    parser.feed(html)
    return "\n".join(parser.lines) + "\n"


def normalise(html: str) -> str:
    """The page with its generation time replaced by a fixed mark."""
    return re.sub(
        r'<span class="generated">[^<]*</span>', '<span class="generated">TIME</span>', html
    )

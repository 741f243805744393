"""Synthetic data whose site names are attacks on spreadsheets, Markdown and HTML.

Not a test module: the security tests import `evil_sources` and `evil_database`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from analytics.ingest.load import ingest_files
from analytics.synth import generate, write

EVIL_SITES: dict[str, str] = {
    "A": "=cmd|' /C calc'!A0",
    "B": '=HYPERLINK("http://evil.example/x","click me")',
    "C": '<a href="http://evil.example/a">C</a> ![t](http://evil.example/track.png)'
    " <script>alert(1)</script>",
}
"""Synthetic site code -> the name it gets: a DDE formula, a formula link, and markup."""
END = dt.date(2024, 12, 31)
MONTH = "2024-12"


def evil_sources(base: Path) -> tuple[Path, Path]:
    """visits.csv and complications.csv (90 patients, 2 years) with EVIL_SITES as sites."""
    out = base / "evil-source"
    visits, compl = out / "visits.csv", out / "complications.csv"
    if visits.exists():
        return visits, compl
    result = generate(patients=90, years=2, seed=19, end=END, sites=3)
    write(result, out, "csv")
    for path in (visits, compl):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "site" in df.columns:
            df["site"] = df["site"].map(lambda s: EVIL_SITES.get(s, s))
        df.to_csv(path, index=False, lineterminator="\n")
    return visits, compl


def evil_database(base: Path) -> Path:
    """The evil sources ingested into base/evil.duckdb (built once per base folder)."""
    db = base / "evil.duckdb"
    if not db.exists():
        visits, compl = evil_sources(base)
        ingest_files(db, visits, compl)
    return db

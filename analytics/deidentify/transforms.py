"""Column transforms of `pumpqi deidentify`: dates, age at visit, ZIP3, notes, value maps.

Each function takes and returns whole columns (pandas Series of text). None of them
ever raises with, prints or logs a cell value.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from analytics.ingest.contract import normalise_name
from analytics.ingest.identifiers import NOTES_PATTERNS, VALUE_PATTERNS

AGE_TOP_CODE = 90
"""Safe Harbor: ages over 89 are aggregated into one category, written `90+`."""

RESTRICTED_ZIP3: frozenset[str] = frozenset(
    [
        "036",
        "059",
        "102",
        "202",
        "203",
        "204",
        "205",
        "369",
        "556",
        "692",
        "753",
        "772",
        "821",
        "823",
        "878",
        "879",
        "884",
        "893",
    ]
)
"""Safe Harbor ZIP3 areas of 20,000 people or fewer (2000 census): written `000`."""

REMOVED = "[removed]"

_ISO_DATE = r"^\s*(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.+\-Z ]*)?\s*$"
_EXTRA_NOTE_PATTERNS: dict[str, str] = {
    "date": r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b",
    "ZIP code": r"\b\d{5}(-\d{4})?\b",
}


def _as_lookarounds(pattern: str) -> str:
    r"""`(^|[^\d])X($|[^\d])` -> `(?<!\d)X(?!\d)`, so a replacement keeps the neighbours."""
    head, tail = r"(^|[^\d])", r"($|[^\d])"
    if pattern.startswith(head) and pattern.endswith(tail):
        return r"(?<!\d)" + pattern[len(head) : -len(tail)] + r"(?!\d)"
    return pattern


_NOTE_RX: tuple[re.Pattern[str], ...] = tuple(
    re.compile(_as_lookarounds(p))
    for p in (*NOTES_PATTERNS.values(), *_EXTRA_NOTE_PATTERNS.values())
)
_NOTE_CHECK_RX: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in NOTES_PATTERNS.values())
_VALUE_RX: dict[str, re.Pattern[str]] = {k: re.compile(p) for k, p in VALUE_PATTERNS.items()}


def text(values: pd.Series) -> pd.Series:
    """The column as object-dtype text with missing cells as empty strings."""
    return values.astype(object).where(values.notna(), "").astype(str).astype(object)


_EXCEL_WHOLE_NUMBER = re.compile(r"(\d+)\.0+")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
"""Control and format characters (zero-width space, joiners, BOM, soft hyphen) and spaces."""


def normalise_id(value: str) -> str:
    """One raw id as it is hashed: Unicode NFKC (full-width letters and digits read as
    plain ones), every space, line break, control and zero-width character removed, case
    folded, and a whole number as Excel writes it (`1000000.0`) as the integer."""
    text = unicodedata.normalize("NFKC", value)
    text = "".join(
        c for c in text if not c.isspace() and unicodedata.category(c) not in _DROPPED_CATEGORIES
    )
    text = unicodedata.normalize("NFKC", text.casefold())
    if m := _EXCEL_WHOLE_NUMBER.fullmatch(text):
        return m.group(1)
    return text


def normalise_ids(values: pd.Series) -> pd.Series:
    """`normalise_id` of every cell (once per distinct value); empty cells stay empty."""
    raw = text(values)
    lookup = {v: normalise_id(v) for v in raw.unique()}
    return raw.map(lookup).astype(object)


def trimmed_ids(values: pd.Series) -> pd.Series:
    """The raw ids only trimmed (a column the mapping does not normalise)."""
    return text(values).str.strip().astype(object)


def parse_dates(values: pd.Series, date_format: str | None = None) -> pd.Series:
    """Parse ISO dates (a timestamp keeps its date) or `date_format`; NaT where neither fits."""
    raw = text(values).str.strip()
    uniques = pd.Series(raw.unique(), dtype=object)
    iso = pd.to_datetime(
        uniques.str.extract(_ISO_DATE, expand=False), format="%Y-%m-%d", errors="coerce"
    )
    if date_format:
        other = pd.to_datetime(uniques, format=date_format, errors="coerce")
        iso = iso.where(iso.notna(), other)
    lookup = dict(zip(uniques, iso, strict=True))
    return pd.to_datetime(raw.map(lookup), errors="coerce")


def iso_or_original(parsed: pd.Series, original: pd.Series, *, blank_unparsed: bool) -> pd.Series:
    """ISO text where parsed; elsewhere the original cell, or empty when `blank_unparsed`."""
    out = parsed.dt.strftime("%Y-%m-%d").astype(object)
    fallback = "" if blank_unparsed else text(original)
    return out.where(parsed.notna(), fallback)


def shift(parsed: pd.Series, offsets: pd.Series) -> pd.Series:
    """Dates moved by per-row offsets in days (NaT where the offset is missing)."""
    return parsed + pd.to_timedelta(offsets, unit="D")


def age_at(birth: pd.Series, at: pd.Series) -> pd.Series:
    """Whole years from `birth` to `at` as text; `90+` from 90; empty when unknown or negative."""
    before_birthday = (at.dt.month < birth.dt.month) | (
        (at.dt.month == birth.dt.month) & (at.dt.day < birth.dt.day)
    )
    years = (at.dt.year - birth.dt.year - before_birthday.astype(float)).astype(float)
    years = years.where(birth.notna() & at.notna())
    out = pd.Series("", index=birth.index, dtype=object)
    ok = years.notna() & (years >= 0)
    out[ok] = years[ok].astype(int).astype(str)
    out[ok & (years >= AGE_TOP_CODE)] = f"{AGE_TOP_CODE}+"
    return out


def zip3(values: pd.Series) -> pd.Series:
    """First three digits of a US ZIP (`000` for the restricted areas); empty otherwise.

    Accepts ZIP5, ZIP+4, 9 digits, a 4-digit ZIP whose leading 0 a spreadsheet
    removed, and a ZIP3 already cut.
    """
    raw = text(values).str.strip()
    five = raw.str.extract(r"^(\d{5})(?:-?\d{4})?$", expand=False)
    four = raw.str.extract(r"^(\d{4})$", expand=False)
    five = five.where(five.notna(), "0" + four)
    three = five.str[:3]
    three = three.where(three.notna(), raw.str.extract(r"^(\d{3})$", expand=False))
    three = three.where(~three.isin(RESTRICTED_ZIP3), "000")
    return three.where(three.notna(), "").astype(object)


def scrub_note(note: str) -> str:
    """Replace identifier-pattern matches (and dates, ZIP-like numbers) with `[removed]`.

    Repeats until nothing matches (a replaced match can expose a neighbour). A note
    that still matches a notes pattern of the ingest guard becomes empty.
    """
    for _ in range(8):
        before = note
        for rx in _NOTE_RX:
            note = rx.sub(REMOVED, note)
        if note == before:
            break
    if any(rx.search(note) for rx in _NOTE_CHECK_RX):
        return ""
    return note


def scrub_notes(values: pd.Series) -> tuple[pd.Series, int]:
    """Scrubbed notes and how many non-empty notes had to be emptied entirely."""
    raw = text(values)
    uniques = raw.unique()
    lookup = {v: scrub_note(v) for v in uniques}
    out = raw.map(lookup).astype(object)
    emptied = int(((raw.str.strip() != "") & (out == "")).sum())
    return out, emptied


def map_values(values: pd.Series, pairs: dict[str, str]) -> pd.Series:
    """Replace cells whose normalised text is a key of `pairs`; other cells are kept."""
    raw = text(values)
    uniques = raw.unique()
    lookup = {v: pairs.get(normalise_name(v), v) for v in uniques}
    return raw.map(lookup).astype(object)


def identifier_value_kind(values: pd.Series) -> str | None:
    """The first VALUE_PATTERNS label that some whole cell matches (ingest would refuse it)."""
    uniques = np.unique(text(values).str.strip().to_numpy(dtype=str))
    for label, rx in _VALUE_RX.items():
        if any(rx.fullmatch(v) for v in uniques if v):
            return label
    return None

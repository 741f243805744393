"""Identifier-like text is redacted in the quarantined rows the database keeps.

A quarantined row is stored as the JSON of its cells (for the data manager to find and
fix it; the data-quality page shows only the file, line, column and reason). A cell is
replaced by REDACTED when it may identify a person:

* any column: an SSN, phone number, e-mail address, record-number words (`MRN`, `chart
  no`), a run of 7 or more digits, or birth-date words (`DOB`, `born`) anywhere in it;
* patient_id: also a record number, a person's name or a date (analytics.ingest.patient_ids);
* visit_id and report_id: also two words of letters (a name);
* date, number, integer and boolean columns, and enum columns when the cell is not one
  of their values: also two words of letters (`Alice Zebrowski 1961-04-17` in a date
  cell) or a date in a column that is not a date (a birth date typed in the wrong place).

Only contract columns are kept: ignored columns (`--ignore-columns`) and the key
fingerprint are left out of the stored row.
"""

from __future__ import annotations

from analytics.ingest.contract import Column
from analytics.ingest.identifiers import DATE_TEXT, NOTES_PATTERNS, PERSON_NAME
from analytics.ingest.patient_ids import kind_sql

REDACTED = "[redacted: identifier-like text]"
NAMED_IDS = ("visit_id", "report_id")
_TYPED = ("date", "number", "integer", "boolean", "enum")


def _lit(s: str) -> str:
    """A SQL literal for a fixed pattern or contract value (never for user data)."""
    return "'" + s.replace("'", "''") + "'"


def _any_of(patterns: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


IDENTIFIER_TEXT = _any_of(list(NOTES_PATTERNS.values()))


def _conditions(col: Column, value: str) -> list[str]:
    conds = [f"regexp_matches({value}, {_lit(IDENTIFIER_TEXT)})"]
    if col.name == "patient_id":
        conds.append(f"{kind_sql(f'trim({value})')} IS NOT NULL")
    elif col.name in NAMED_IDS:
        conds.append(f"regexp_matches({value}, {_lit(PERSON_NAME)})")
    elif col.kind in _TYPED:
        words = PERSON_NAME if col.kind == "date" else _any_of([PERSON_NAME, DATE_TEXT])
        cond = f"regexp_matches({value}, {_lit(words)})"
        if col.kind == "enum":
            values = ", ".join(_lit(v) for v in col.values)
            norm = f"regexp_replace(lower(trim({value})), '[ -]+', '_', 'g')"
            cond = f"({cond} AND {norm} NOT IN ({values}))"
        conds.append(cond)
    return conds


def redacted_sql(col: Column, value: str) -> str:
    """SQL for the cell `value` of contract column `col` as it is stored in quarantine."""
    return (
        f"CASE WHEN {' OR '.join(_conditions(col, value))} THEN {_lit(REDACTED)} ELSE {value} END"
    )

"""The identifier guard: column names and values that look like direct identifiers.

Patterns are DuckDB (RE2) regular expressions, so the scan runs set-based in SQL.
Nothing here ever returns or prints a matched value: callers learn only *that*
a column or row matched and under which pattern name.
"""

from __future__ import annotations

import re

# Column names (after contract normalisation) that are direct identifiers.
IDENTIFIER_NAME_PATTERNS: dict[str, str] = {
    "name": r"^(patient_|first_|last_|family_|given_|middle_|full_|sur)?names?$|^(fname|lname|surname|forename)$",
    "record number": r"(^|_)(mrn|mr_no|mr_number|medical_record|record_(no|num|number|id)|chart_(no|num|number)|hospital_(no|number|id)|nhs_(no|number)|health_card)($|_)",
    "social security number": r"(^|_)(ssn|social_security|sin|national_id|nin)($|_)",
    "phone number": r"(^|_)(phone|telephone|tel|mobile|cell|fax)($|_)",
    "e-mail address": r"(^|_)(e_?mail|mail_address)($|_)",
    "street address": r"(^|_)(address|street|addr|city|home_address)($|_)",
    "birth date": r"(^|_)(dob|birth|birthdate|date_of_birth|birth_date|birthday)($|_)",
    "ZIP code": r"(^|_)(zip|zip_?code|zip5|postal_?code|postcode)($|_)",
    "device serial or lot number": r"(^|_)(serial|sn|serial_(no|number)|lot|lot_(no|number)|udi)($|_)",
}

# Values. Full-cell patterns decide whether a whole column is an identifier column;
# the same patterns anywhere in free text send a notes row to quarantine.
SSN = r"\d{3}-\d{2}-\d{4}"
PHONE = r"(\+?1[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}"
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
RECORD_NUMBER_TEXT = r"(?i)\b(mrn|med(ical)?[ .]?rec(ord)?( ?(no|num|number|#))?|record ?(no|num|number|#)|chart ?(no|num|number|#)|ssn)\b"
LONG_DIGITS = r"\b\d{7,}\b"
ZIP5 = r"\d{5}(-\d{4})?"
BIRTH_DATE_TEXT = r"(?i)\b(dob|d\.o\.b\.|date of birth|born)\b"

VALUE_PATTERNS: dict[str, str] = {
    "social security number": SSN,
    "phone number": PHONE,
    "e-mail address": EMAIL,
}
"""A column any of whose cells is entirely one of these is refused."""

NOTES_PATTERNS: dict[str, str] = {
    "social security number": r"\b" + SSN + r"\b",
    "phone number": r"(^|[^\d])" + PHONE + r"($|[^\d])",
    "e-mail address": EMAIL,
    "record number": RECORD_NUMBER_TEXT,
    "long digit sequence (record number?)": LONG_DIGITS,
    "birth date": BIRTH_DATE_TEXT,
}
"""Free text matching any of these is quarantined (the value is never echoed)."""

RECORD_NUMBER_ID = (
    r"(?i:mrn|mr|rec|chart)?[ #:.-]*\d{6,}"  # digits only, 6 or more (a prefix such as MRN)
    r"|[A-Z]{1,3}[ -]?(?:\d{6,}[A-Z]{0,2}|\d{4,5}[A-Z]{1,2})"  # H1000000, NGP123456, AB7919X
)
PERSON_NAME = r"\p{L}{2,}[,.]?\s+\p{L}{2,}"
DATE_TEXT = r"\d{4}-\d{1,2}-\d{1,2}|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"

PATIENT_ID_FULL: dict[str, str] = {"a record number": RECORD_NUMBER_ID}
"""A patient_id cell that is entirely one of these is not a pseudonym. Letters of a
record number in capitals: the lower-case hex of keyed hashes never matches."""
PATIENT_ID_CONTAINS: dict[str, str] = {"a person's name": PERSON_NAME, "a date": DATE_TEXT}
"""A patient_id cell that holds one of these anywhere is not a pseudonym (two words of
letters are a name; a date in an id is a birth date more often than not)."""

_COMPILED_NAMES = {label: re.compile(p) for label, p in IDENTIFIER_NAME_PATTERNS.items()}


def identifier_name_kind(normalised_column: str) -> str | None:
    """What identifier a column name denotes, or None. Contract columns are never flagged."""
    from analytics.ingest.contract import TABLES

    if any(normalised_column in t.accepted for t in TABLES.values()):
        return None
    for label, rx in _COMPILED_NAMES.items():
        if rx.search(normalised_column):
            return label
    return None


def sql_full_match_any(column_sql: str, patterns: dict[str, str]) -> str:
    """SQL CASE naming the first pattern the whole cell matches (NULL when none)."""
    whens = " ".join(
        f"WHEN regexp_full_match(trim({column_sql}), {_sql_str(p)}) THEN {_sql_str(label)}"
        for label, p in patterns.items()
    )
    return f"CASE {whens} END"


def sql_contains_any(column_sql: str, patterns: dict[str, str]) -> str:
    """SQL CASE naming the first pattern found anywhere in the cell (NULL when none)."""
    whens = " ".join(
        f"WHEN regexp_matches({column_sql}, {_sql_str(p)}) THEN {_sql_str(label)}"
        for label, p in patterns.items()
    )
    return f"CASE {whens} END"


def _sql_str(s: str) -> str:
    """A SQL string literal for one of the fixed patterns above (never for user data)."""
    return "'" + s.replace("'", "''") + "'"

"""patient_id must be a pseudonym: cells that look like a record number or a name.

A patient_id that is a record number (`H1000000`, `AB7919X`, `MRN 1234567`, 6 or more
digits), holds a person's name (two words of letters: `Alice Zebrowski`) or a date is not
a pseudonym. The rule, set-based in SQL (the value is never fetched or echoed):

* in **most** rows of a file (more than half of the non-empty patient ids): the file is
  refused, one line naming the file, the column and the kind: it was not pseudonymised;
* in fewer rows: each such row is quarantined ("patient_id looks like ..."), and its
  patient_id is redacted in the stored quarantine row.

Pseudonyms made by `pumpqi deidentify` (`p_` + 16 hex) and the synthetic data's ids (12
lower-case hex characters, never all digits) never match.
"""

from __future__ import annotations

import duckdb

from analytics.errors import FileFault
from analytics.ingest.identifiers import PATIENT_ID_CONTAINS, PATIENT_ID_FULL
from analytics.ingest.readers import RawTable

COLUMN = "patient_id"
MOST = 0.5
"""A file is refused when more than this share of its patient ids look like identifiers."""


def _lit(s: str) -> str:
    """A SQL literal for one of the fixed patterns (never for user data)."""
    return "'" + s.replace("'", "''") + "'"


def kind_conditions(cell: str) -> list[tuple[str, str]]:
    """(SQL condition on `cell`, kind) for each kind of identifier, in the order tested."""
    out = [(f"regexp_full_match({cell}, {_lit(p)})", kind) for kind, p in PATIENT_ID_FULL.items()]
    out += [(f"regexp_matches({cell}, {_lit(p)})", kind) for kind, p in PATIENT_ID_CONTAINS.items()]
    return out


def kind_sql(cell: str) -> str:
    """SQL naming the first kind a (trimmed) patient_id cell matches, NULL for a pseudonym."""
    whens = " ".join(f"WHEN {cond} THEN {_lit(kind)}" for cond, kind in kind_conditions(cell))
    return f"CASE {whens} END"


def _distinct_kinds(view: str) -> str:
    """Each distinct (trimmed, non-empty) patient id once: its kind and its rows. The
    patterns run once per patient, not once per row."""
    cell = f"NULLIF(trim({COLUMN}), '')"
    return f"""SELECT v, {kind_sql("v")} AS kind, n
               FROM (SELECT {cell} AS v, count(*) AS n FROM {view} GROUP BY ALL)
               WHERE v IS NOT NULL"""


def check_patient_ids(con: duckdb.DuckDBPyConnection, raw: RawTable, view: str) -> None:
    """Refuse the file when most patient ids look like a record number, a name or a date
    (see the module docstring); fewer such rows are quarantined by staging."""
    if COLUMN not in raw.columns:
        return
    rows = con.execute(
        f"""SELECT kind, sum(n) AS rows, sum(sum(n)) OVER () AS total
            FROM ({_distinct_kinds(view)}) GROUP BY kind ORDER BY rows DESC, kind"""
    ).fetchall()
    total = int(rows[0][2]) if rows else 0
    hits = [(str(kind), int(n)) for kind, n, _ in rows if kind is not None]
    flagged = sum(n for _, n in hits)
    if total and flagged > MOST * total:
        raise FileFault(
            raw.path.name,
            f"looks like {hits[0][0]} in {flagged:,} of {total:,} rows: patient_id must be a"
            " pseudonym; make the file with `pumpqi deidentify` (keyed pseudonyms)",
            COLUMN,
        )


def flag_rows(
    con: duckdb.DuckDBPyConnection, view: str, columns: set[str], name: str
) -> str | None:
    """Before staging: a temp table `name` of the patient ids that look like identifiers,
    with their kind; None (and no table) when there are none, the usual case, so that
    staging then tests nothing per row."""
    if COLUMN not in columns:
        return None
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS"
        f" SELECT v, kind FROM ({_distinct_kinds(view)}) WHERE kind IS NOT NULL"
    )
    if con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]:
        return name
    con.execute(f"DROP TABLE {name}")
    return None


def row_faults(cell: str, flagged: str | None) -> list[tuple[str, str]]:
    """Row faults (condition, reason) of the staged patient_id cell (trimmed, NULL when
    empty), from the table `flag_rows` made (none without one)."""
    if flagged is None:
        return []
    return [
        (
            f"{cell} IN (SELECT v FROM {flagged} WHERE kind = {_lit(kind)})",
            f"patient_id looks like {kind}, not a pseudonym",
        )
        for kind in (*PATIENT_ID_FULL, *PATIENT_ID_CONTAINS)
    ]

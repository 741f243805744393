"""patient_id must be a pseudonym: cells that look like a record number or a name.

A patient_id that is a record number (`H1000000`, `AB7919X`, `MRN 1234567`, 6 or more
digits), holds a person's name (two words of letters: `Alice Zebrowski`) or a date is not
a pseudonym. The rule, set-based in SQL (the value is never fetched or echoed):

* in **most** rows of a file (more than half of the rows with a patient id): the file
  is refused, one line naming the file, the column and the kind: it was not
  pseudonymised;
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


ANY_PATTERN = (
    r"^\s*(?:"
    + "|".join(f"(?:{p})" for p in PATIENT_ID_FULL.values())
    + r")\s*$|"
    + "|".join(f"(?:{p})" for p in PATIENT_ID_CONTAINS.values())
)
"""One pattern for every kind: a cell matching none is a pseudonym (one test per row)."""


def flag_rows(con: duckdb.DuckDBPyConnection, raw: RawTable, view: str, name: str) -> str | None:
    """Before staging: refuse the file when most patient ids look like identifiers (see
    the module docstring); otherwise a temp table `name` of the ids that do, with their
    kind, for staging to quarantine those rows. None (and no table) when there are none,
    the usual case: staging then tests nothing per row.

    One pass over the column with one pattern; the kinds are worked out only for the
    matching cells, once per distinct id.
    """
    if COLUMN not in raw.columns:
        return None
    total, flagged = con.execute(
        f"SELECT count({COLUMN}), count(*) FILTER (WHERE regexp_matches({COLUMN}, $p)) FROM {view}",
        {"p": ANY_PATTERN},
    ).fetchall()[0]
    if not flagged:
        return None
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {name} AS
            SELECT v, {kind_sql("v")} AS kind, n
            FROM (SELECT trim({COLUMN}) AS v, count(*) AS n FROM {view}
                  WHERE regexp_matches({COLUMN}, $p) GROUP BY ALL)""",
        {"p": ANY_PATTERN},
    )
    if flagged > MOST * total:
        kind = con.execute(
            f"SELECT kind FROM {name} GROUP BY kind ORDER BY sum(n) DESC, kind LIMIT 1"
        ).fetchall()[0][0]
        con.execute(f"DROP TABLE {name}")
        raise FileFault(
            raw.path.name,
            f"looks like {kind} in {flagged:,} of {total:,} rows: patient_id must be a"
            " pseudonym; make the file with `pumpqi deidentify` (keyed pseudonyms)",
            COLUMN,
        )
    return name


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

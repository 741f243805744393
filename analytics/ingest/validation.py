"""Row validation as SQL generated from the contract (set-based, one pass per table).

`staging_sql` turns a registered Arrow table of text cells into typed columns plus
`faults` (a list of [column, reason], one per faulty column, in contract order; NULL for
a clean row); `raw_row_sql` gives the JSON of the cells as read (identifier-like text
redacted) for quarantined rows only.
"""

from __future__ import annotations

from analytics.ingest.contract import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    EARLIEST_DATE,
    Column,
    Table,
)
from analytics.ingest.identifiers import NOTES_PATTERNS, sql_contains_any
from analytics.ingest.patient_ids import row_faults as patient_id_faults
from analytics.ingest.readers import LINE
from analytics.ingest.redaction import redacted_sql
from analytics.vocabulary import COMPLICATION_CATEGORIES


def q(identifier: str) -> str:
    """Quote an SQL identifier (column names come from the contract or a checked header)."""
    return '"' + identifier.replace('"', '""') + '"'


def lit(value: str) -> str:
    """An SQL literal for a fixed contract value (never for user data)."""
    return "'" + value.replace("'", "''") + "'"


def _cell(col: Column, present: set[str], untrimmed: frozenset[str]) -> str:
    if col.name not in present:
        return "CAST(NULL AS VARCHAR)"
    if col.name in untrimmed:
        return f"NULLIF({q(col.name)}, '')"  # no cell can start or end with a space
    return f"NULLIF(trim({q(col.name)}), '')"


def _sql_list(values: tuple[str, ...]) -> str:
    """'a', 'b', 'c' for a fixed tuple of contract values (never user data)."""
    return ", ".join(lit(v) for v in values)


def _enum_norm(expr: str) -> str:
    return f"regexp_replace(lower({expr}), '[ -]+', '_', 'g')"


ISO_DATE = r"\d{4}-\d{2}-\d{2}"
ISO_MONTH = r"\d{4}-\d{2}"
ISO_TIMESTAMP = ISO_DATE + r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?"


def _date_expr(expr: str, month_ok: bool = False) -> str:
    """YYYY-MM-DD, or an ISO timestamp whose time is valid (its date kept as written,
    any time zone ignored), or (`month_ok`) a year-month YYYY-MM read as its 15th;
    anything else is unparseable."""
    month = (
        f"WHEN length({expr}) = 7 AND regexp_full_match({expr}, {lit(ISO_MONTH)}) "
        f"THEN TRY_CAST({expr} || '-15' AS DATE) "
        if month_ok
        else ""
    )
    return (
        f"CASE {month}WHEN length({expr}) = 10 AND regexp_full_match({expr}, {lit(ISO_DATE)}) "
        f"THEN TRY_CAST({expr} AS DATE) "
        f"WHEN regexp_full_match({expr}, {lit(ISO_TIMESTAMP)}) "
        f"AND TRY_CAST(substr(replace({expr}, 'T', ' '), 1, 19) AS TIMESTAMP) IS NOT NULL "
        f"THEN TRY_CAST(substr({expr}, 1, 10) AS DATE) END"
    )


def _typed(col: Column, cell: str) -> str:
    if col.kind == "date":
        return _date_expr(cell, col.month_ok)
    if col.kind in ("number", "integer"):
        # DuckDB's cast reads "1_0" as 10; a contract number has no underscore
        return f"CASE WHEN NOT contains({cell}, '_') THEN TRY_CAST({cell} AS DOUBLE) END"
    if col.kind == "enum":
        # a cell already written as a contract value needs no normalising (the usual case,
        # and far cheaper than the regular expression)
        return (
            f"CASE WHEN {cell} IN ({_sql_list(col.values)}) THEN {cell} ELSE {_enum_norm(cell)} END"
        )
    if col.kind == "boolean":
        t, f = _sql_list(BOOLEAN_TRUE), _sql_list(BOOLEAN_FALSE)
        return (
            f"CASE WHEN lower({cell}) IN ({t}) THEN TRUE WHEN lower({cell}) IN ({f}) THEN FALSE END"
        )
    if col.name == "drug":
        return f"regexp_replace(lower({cell}), '\\s*\\+\\s*', '+', 'g')"
    return cell


def _faults(
    col: Column, cell: str, typed: str, table: Table, flagged_ids: str | None = None
) -> list[tuple[str, str]]:
    """(condition, reason) pairs for one column, in the order they are tested."""
    out: list[tuple[str, str]] = []
    if col.required:
        out.append((f"{cell} IS NULL", "missing required value"))
    if col.kind in ("text", "enum"):
        out.append(
            (f"length({cell}) > {col.max_chars}", f"text longer than {col.max_chars} characters")
        )
    if col.kind == "date":
        out.append(
            (f"{cell} IS NOT NULL AND {typed} IS NULL", "unparseable date (expected YYYY-MM-DD)")
        )
        out.append((f"{typed} < DATE {lit(EARLIEST_DATE)}", "date before 1980"))
        if col.name == table.date_column:
            out.append((f"{typed} > $today", "date after today"))
    elif col.kind in ("number", "integer"):
        out.append((f"{cell} IS NOT NULL AND {typed} IS NULL", "not a number"))
        out.append((f"{typed} IS NOT NULL AND NOT isfinite({typed})", "not a finite number"))
        lo_op = "<=" if col.min_exclusive else "<"
        bounds = f"{'above' if col.min_exclusive else 'from'} {col.minimum:g} to {col.maximum:g}"
        out.append(
            (
                f"{typed} {lo_op} {col.minimum!r} OR {typed} > {col.maximum!r}",
                f"out of range (allowed {bounds})",
            )
        )
        if col.kind == "integer":
            out.append((f"{typed} <> floor({typed})", "not a whole number"))
    elif col.kind == "enum":
        out.append((f"{typed} NOT IN ({_sql_list(col.values)})", "unknown value"))
    elif col.kind == "boolean":
        out.append(
            (f"{cell} IS NOT NULL AND {typed} IS NULL", "not a boolean (true/false/yes/no/1/0)")
        )
    if col.name == "patient_id":
        out.extend(patient_id_faults(cell, flagged_ids))
    if col.name == "notes":
        out.append(
            (
                f"{sql_contains_any(cell, NOTES_PATTERNS)} IS NOT NULL",
                "identifier-like text in notes",
            )
        )
    return out


def staging_sql(
    table: Table,
    source: str,
    present: set[str],
    flagged_ids: str | None = None,
    untrimmed: frozenset[str] = frozenset(),
) -> str:
    """SELECT producing the staged rows of `source` (a registered Arrow table).

    Three steps so that every cell is cleaned and parsed once: `cells` (trimmed text,
    empty = NULL), `parsed` (typed values), then the faults of each row beside the typed
    columns: for each column its first failing check, in contract order. A clean row (the
    usual case) is told apart by one CASE over every check; the list of faults is built
    for faulty rows only. `flagged_ids`: the temp table of patient ids that look like
    identifiers (analytics.ingest.patient_ids.flag_rows). `untrimmed`: columns none of
    whose text holds a space or a non-ASCII byte (analytics.ingest.readers.spaceless_columns),
    whose cells need no trim (trimming every cell was a third of the step's time).
    """
    cell_sql = ", ".join(
        f"{_cell(c, present, untrimmed)} AS {q('c_' + c.name)}" for c in table.columns
    )
    parsed_sql = ", ".join(
        f"{_typed(c, q('c_' + c.name))} AS {q('t_' + c.name)}" for c in table.columns
    )
    any_clauses: list[str] = []
    per_column: list[str] = []
    for col in table.columns:
        cell, typed = q("c_" + col.name), q("t_" + col.name)
        whens = [
            f"WHEN {cond} THEN [{lit(col.name)}, {lit(reason)}]"
            for cond, reason in _faults(col, cell, typed, table, flagged_ids)
        ]
        any_clauses += whens
        per_column.append("CASE " + " ".join(whens) + " END")
    first = "CASE " + " ".join(any_clauses) + " END"
    every = f"list_filter([{', '.join(per_column)}], lambda f: f IS NOT NULL)"
    faults = f"CASE WHEN {first} IS NOT NULL THEN {every} END"

    select_typed: list[str] = []
    for col in table.columns:
        expr = q("t_" + col.name)
        if col.kind in ("number", "integer", "date", "boolean"):
            # TRY_CAST: a faulty row (quarantined) must never make the cast fail
            expr = f"TRY_CAST({expr} AS {col.sql_type})"
        if table.name == "visits" and col.name == "site":
            expr = f"coalesce({expr}, 'main')"
        select_typed.append(f"{expr} AS {q(col.name)}")

    return f"""
        WITH cells AS (SELECT {cell_sql}, {LINE} FROM {q(source)}),
        parsed AS (SELECT *, {parsed_sql} FROM cells)
        SELECT {", ".join(select_typed)},
               {LINE} AS source_line,
               {faults} AS faults
        FROM parsed
    """


def raw_row_sql(present: set[str], alias: str, table: Table) -> str:
    """JSON of the contract cells as read, identifier-like text redacted (see
    analytics.ingest.redaction), for quarantined rows."""
    items = []
    for col in sorted((c for c in table.columns if c.name in present), key=lambda c: c.name):
        value = redacted_sql(col, f"{alias}.{q(col.name)}")
        items.append(f"{lit(col.name)}: {value}")
    return "to_json({" + ", ".join(items) + "})::VARCHAR"


def content_hash_sql(table: Table) -> str:
    """md5 over every contract column but the id, as canonical text (typed values): the
    derived id of a row without one (computed for those rows only, never stored)."""
    parts = [
        f"coalesce(CAST({q(c.name)} AS VARCHAR), chr(0))"
        for c in table.columns
        if c.name != table.id_column
    ]
    return "md5(concat_ws(chr(31), " + ", ".join(parts) + "))"


def content_row_sql(table: Table, alias: str = "", missing: frozenset[str] = frozenset()) -> str:
    """A row's content: every contract column but the id, as one value. Two rows are
    identical when their contents are not distinct (a missing value matching only a
    missing value); DISTINCT counts them alike. Columns in `missing` (not yet in a
    database of an older schema) are empty."""
    prefix = f"{alias}." if alias else ""
    cols = (
        "NULL" if c.name in missing else f"{prefix}{q(c.name)}"
        for c in table.columns
        if c.name != table.id_column
    )
    return "row(" + ", ".join(cols) + ")"


def category_sql(code_expr: str) -> str:
    whens = " ".join(
        f"WHEN {lit(code)} THEN {lit(cat)}" for code, cat in COMPLICATION_CATEGORIES.items()
    )
    return f"CASE {code_expr} {whens} END"

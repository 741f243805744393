"""A file whose rows fail mostly for one reason is refused as a whole, with a hint.

Dates written `dd/mm/yyyy`, a decimal comma, another delimiter in the rows than in the
header, a dose in micrograms: every row fails the same check, and quarantining them all
would load nothing and still report success. The rule: when one fault (the same column
and reason; "wrong number of fields" counts as one reason whatever the numbers) is found
in more than SHARE of the rows read and in at least MIN_ROWS rows, the file is refused
(a file-level fault: nothing is loaded, exit 2), in one line naming the file, the column,
the reason, how many rows and what to do. The rule looks at the file alone (not at the
database), so `validate` and `ingest` refuse the same files.

Only the shape of the cells is looked at for the hint (counts of cells matching fixed
patterns); no value is fetched or echoed.
"""

from __future__ import annotations

import duckdb

from analytics.errors import FileFault
from analytics.ingest.contract import Column, Table
from analytics.ingest.quarantine import STATUS_REASONS, UNKNOWN_VALUE, allowed_text
from analytics.ingest.readers import RawTable
from analytics.ingest.validation import lit, q

SHARE = 0.5
"""A fault in more than this share of a file's rows makes it a fault of the file."""
MIN_ROWS = 5
"""... provided it is found in at least this many rows."""
WRONG_FIELDS = "wrong number of fields"

_DATE_SHAPES: tuple[tuple[str, str], ...] = (
    (r"\d{4}-\d{1,2}-\d{1,2}([T ].*)?", "iso"),
    (r"\d{1,2}/\d{1,2}/\d{2,4}", "slash"),
    (r"\d{1,2}\.\d{1,2}\.\d{2,4}", "DD.MM.YYYY"),
    (r"\d{1,2}-\d{1,2}-\d{4}", "DD-MM-YYYY"),
    (r"\d{4}/\d{1,2}/\d{1,2}", "YYYY/MM/DD"),
    (r"\d{8}", "YYYYMMDD (without dashes)"),
    (r"\d{5}(\.\d+)?", "as spreadsheet day numbers (e.g. 45321)"),
    (r".*\p{L}{3}.*", "with month names"),
)
DECIMAL_COMMA = r"[+-]?\d+,\d+"
WITH_UNIT = r"[+-]?\d+([.,]\d+)?\s*[^\d\s.,+-].*"
_UNITS: tuple[tuple[str, str, str], ...] = (
    ("_mg_ml", "mg/mL", " (mcg/mL divided by 1,000 give mg/mL)"),
    ("_ml", "mL", ""),
    ("_mg", "mg", " (micrograms divided by 1,000 give mg)"),
)


def check_systematic(con: duckdb.DuckDBPyConnection, table: Table, raw: RawTable) -> None:
    """Refuse the file when one fault dominates its rows (see the module docstring).

    Reads `stage_<table>` before it is compared with the database (statuses 'fault',
    'duplicate', 'conflict') and the malformed records of `raw`."""
    rows = raw.rows_read
    if rows < MIN_ROWS:
        return
    statuses = [s for s in STATUS_REASONS if s != "conflict_db"]
    whole = " UNION ALL ".join(
        f"SELECT {lit(table.id_column) if s.startswith('conflict') else 'NULL'},"
        f" {lit(STATUS_REASONS[s])}, count(*) FROM stage_{table.name} WHERE status = {lit(s)}"
        for s in statuses
    )
    found = con.execute(
        f"""
        SELECT column_name, reason, n FROM (
            SELECT f[1] AS column_name, f[2] AS reason, count(*) AS n
            FROM (SELECT unnest(faults) AS f FROM stage_{table.name} WHERE status = 'fault')
            GROUP BY ALL
            UNION ALL {whole}
            UNION ALL SELECT NULL, {lit(WRONG_FIELDS)}, $malformed)
        ORDER BY n DESC, column_name NULLS FIRST, reason LIMIT 1
        """,
        {"malformed": raw.malformed.num_rows},
    ).fetchall()
    if not found:
        return
    column, reason, n = found[0]
    if n <= SHARE * rows or n < MIN_ROWS:
        return
    col = table.column(column) if column in table.names else None
    what = _hint(con, f"raw_{table.name}", col, str(reason), raw)
    raise FileFault(
        raw.path.name,
        f"{reason} in {n:,} of {rows:,} rows, so the whole file is refused: {what}",
        column,
    )


def _hint(
    con: duckdb.DuckDBPyConnection, view: str, col: Column | None, reason: str, raw: RawTable
) -> str:
    """What to do about the dominant fault, from its reason and the cells' shape."""
    if reason == WRONG_FIELDS:
        return (
            f"most lines have another number of fields than the header ({len(raw.columns)});"
            " is the delimiter of the rows the header's (`,` `;` or tab), or is there a"
            " decimal comma in a comma-separated file? Save the file again with one delimiter"
        )
    if reason.startswith("duplicate"):
        return "the file holds its rows more than once (the same export appended twice?)"
    if reason.startswith("conflicting duplicate id") and col is not None:
        return (
            f"{col.name} is not unique per row (a patient or episode number?); leave the"
            " column out to let pumpqi derive the ids from each row's content"
        )
    if col is None:
        return "fix the export and run again"
    if reason.startswith("unparseable date"):
        return _date_hint(con, view, col)
    if reason == "not a number":
        return _number_hint(con, view, col)
    if reason.startswith("out of range"):
        unit = _unit(col)
        takes = f"{col.name} takes {unit[0]}{unit[1]}" if unit else f"check {col.name}"
        return f"is the unit right? {takes}; fix the export and run again"
    if reason == UNKNOWN_VALUE:
        return (
            f"the values are not the contract's codes{allowed_text(col.values)}; recode"
            f" them (`pumpqi deidentify` does it with a [values.{col.name}] section in its map)"
        )
    return {
        "missing required value": f"{col.name} is empty in most rows; is the right column"
        " named so, or did the export leave it out?",
        "date after today": "most dates lie in the future; were they shifted forward, or is"
        " this computer's date wrong?",
        "date before 1980": "most dates lie before 1980; were two-digit years read as 19xx?",
        "identifier-like text in notes": "leave out the notes column, or make the file with"
        " `pumpqi deidentify` (it drops notes unless --keep-notes)",
    }.get(reason, f"fix {col.name} in the export and run again")


def _unit(col: Column) -> tuple[str, str] | None:
    """The unit a number column is written in (from its name) and an example of scaling."""
    return next(((u, eg) for suffix, u, eg in _UNITS if col.name.endswith(suffix)), None)


def _shares(con: duckdb.DuckDBPyConnection, view: str, name: str, patterns: list[str]) -> list[int]:
    """How many non-empty cells of column `name` fully match each pattern (counts only)."""
    cell = f"trim({q(name)})"
    counts = ", ".join(
        f"count(*) FILTER (WHERE regexp_full_match({cell}, {lit(p)}))" for p in patterns
    )
    row = con.execute(f"SELECT {counts} FROM {q(view)} WHERE {cell} <> ''").fetchall()[0]
    return [int(v) for v in row]


def _date_hint(con: duckdb.DuckDBPyConnection, view: str, col: Column) -> str:
    do = (
        "; write them as YYYY-MM-DD (in a spreadsheet, format the column as yyyy-mm-dd before"
        " saving; `pumpqi deidentify` converts them with a [dates] format in its map)"
    )
    counts = _shares(con, view, col.name, [p for p, _ in _DATE_SHAPES])
    best = max(range(len(counts)), key=lambda i: counts[i])
    if counts[best] == 0:
        return "the dates are not written YYYY-MM-DD" + do
    shape = _DATE_SHAPES[best][1]
    if shape == "iso":
        _, second, third = _parts(con, view, col.name, r"^(\d{4})-(\d{1,2})-(\d{1,2})")
        if second > 12 and third <= 12:
            return "the dates are written YYYY-DD-MM (the day before the month)" + do
        return (
            "the dates are shaped YYYY-MM-DD but are not calendar dates (a month 13, a 30"
            " February, a time 25:00?); fix them in the export and run again"
        )
    if shape == "slash":
        first, second, _ = _parts(con, view, col.name, r"^(\d{1,2})/(\d{1,2})/(\d{2,4})$")
        shape = (
            "DD/MM/YYYY"
            if first > 12
            else "MM/DD/YYYY"
            if second > 12
            else "DD/MM/YYYY or MM/DD/YYYY"
        )
    return f"the dates are written {shape}" + do


def _parts(
    con: duckdb.DuckDBPyConnection, view: str, name: str, pattern: str
) -> tuple[int, int, int]:
    """The largest first, second and third numbers of the cells matching `pattern` (three
    groups of digits; numbers only, no text is fetched)."""
    cell = f"trim({q(name)})"
    rx = lit(pattern)
    row = con.execute(
        "SELECT "
        + ", ".join(
            f"max(TRY_CAST(regexp_extract({cell}, {rx}, {i}) AS INTEGER))" for i in (1, 2, 3)
        )
        + f" FROM {q(view)} WHERE regexp_matches({cell}, {rx})"
    ).fetchall()[0]
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


def _number_hint(con: duckdb.DuckDBPyConnection, view: str, col: Column) -> str:
    comma, with_unit = _shares(con, view, col.name, [DECIMAL_COMMA, WITH_UNIT])
    if comma and comma >= with_unit:
        return (
            "the numbers are written with a decimal comma (2,5); write them with a decimal"
            " point (2.5): save the file with `.` as the decimal separator"
        )
    if with_unit:
        unit = _unit(col)
        return (
            "the cells hold a unit or words beside the number (e.g. `20 mL`); write the number"
            f" only{f' (in {unit[0]})' if unit else ''}"
        )
    return f"write {col.name} as plain numbers with a decimal point"

"""The data contract as a page: markdown generated from the declarations it describes.

Columns, kinds, ranges and allowed values come from analytics.ingest.contract; the
identifier rules from analytics.ingest.identifiers and patient_ids; the quarantine and
file-refusal rules from analytics.ingest.quarantine and systematic. `pumpqi contract`
prints it, the dashboard's Definitions page shows it, and docs/contract.md in the
repository is this text (a test keeps them identical).
"""

from __future__ import annotations

from analytics.ingest import patient_ids, quarantine, systematic
from analytics.ingest.contract import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    EARLIEST_DATE,
    FILE_COLUMNS,
    KNOWN_DRUGS,
    TABLES,
    Column,
    Table,
)
from analytics.ingest.identifiers import IDENTIFIER_NAME_PATTERNS, NOTES_PATTERNS, VALUE_PATTERNS
from analytics.ingest.readers import MAX_CELL_CHARS, MAX_COLUMNS, MAX_FILE_BYTES
from analytics.vocabulary import CODES, WORDS

IDENTIFIER_NAME_EXAMPLES: dict[str, tuple[str, ...]] = {
    "name": ("Patient Name", "Last Name", "surname"),
    "record number": ("MRN", "Medical Record Number", "Chart No"),
    "social security number": ("SSN", "National ID"),
    "phone number": ("Phone", "Home Phone", "Mobile"),
    "e-mail address": ("E-mail", "Email"),
    "street address": ("Address", "Street", "City"),
    "birth date": ("DOB", "Date of Birth", "Birth Date"),
    "ZIP code": ("ZIP", "Postal Code", "Postcode"),
    "device serial or lot number": ("Pump Serial", "Serial Number", "Lot No", "UDI"),
}
"""Column names of each kind the identifier guard refuses (a test checks each is refused
as that kind, and that every kind has examples)."""

KIND_WORDS: dict[str, str] = {
    "text": "text",
    "date": "date",
    "number": "number",
    "integer": "whole number",
    "enum": "code",
    "boolean": "yes/no",
}


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:,g}"


def allowed(col: Column, table: Table) -> str:
    """What a cell of `col` may hold, in words (the checks of analytics.ingest.validation)."""
    if col.kind in ("number", "integer"):
        whole = ", whole" if col.kind == "integer" else ""
        if col.min_exclusive:
            return f"above {_num(col.minimum)}, at most {_num(col.maximum)}{whole}"
        return f"{_num(col.minimum)} to {_num(col.maximum)}{whole}"
    if col.kind == "date":
        text = f"YYYY-MM-DD, from {EARLIEST_DATE}"
        if col.name == table.date_column:
            text += ", not after today"
        if col.month_ok:
            text += "; or YYYY-MM (read as its 15th)"
        return text
    if col.kind == "enum":
        if col.name == "complication":
            return "a code of the taxonomy below"
        return ", ".join(f"`{v}`" for v in col.values)
    if col.kind == "boolean":
        return f"{'/'.join(BOOLEAN_TRUE)} or {'/'.join(BOOLEAN_FALSE)}"
    least = f"{col.min_chars} to " if col.min_chars else "at most "
    return f"{least}{col.max_chars:,} characters"


def _meaning(col: Column) -> str:
    text = col.help.replace("|", "/")
    if col.name == "drug":
        text += "; usually one of " + ", ".join(f"`{d}`" for d in KNOWN_DRUGS)
    return text


def column_table(table: Table) -> str:
    rows = [
        "| column | kind | required | allowed | meaning |",
        "|---|---|---|---|---|",
    ]
    for c in table.columns:
        rows.append(
            f"| `{c.name}` | {KIND_WORDS[c.kind]} | {'yes' if c.required else 'no'}"
            f" | {allowed(c, table)} | {_meaning(c)} |"
        )
    return "\n".join(rows)


def _value_words(table: Table, h: str) -> str:
    """Each coded column's values with their readable words."""
    parts: list[str] = []
    for c in table.columns:
        if c.kind != "enum" or c.name == "complication":
            continue
        words = WORDS.get(c.name, {})
        items = ", ".join(
            f"`{v}` ({words[v]})" if words.get(v, v.replace("_", " ")) != v else f"`{v}`"
            for v in c.values
        )
        parts.append(f"- `{c.name}`: {items}.")
    return f"{h} Coded values\n\n" + "\n".join(parts) if parts else ""


def taxonomy() -> str:
    """Complication codes and their categories (the vocabulary's taxonomy)."""
    rows = ["| code | category | words |", "|---|---|---|"]
    rows += [f"| `{c.id}` | {c.category} | {c.label} |" for c in CODES]
    return "\n".join(rows)


def _reading(h: str) -> str:
    return f"""{h} How files and cells are read

- **Files**: CSV (UTF-8 or Latin-1; `,` `;` or tab between cells, as in the header
  row), Parquet, or an Excel workbook `.xlsx` (the sheet named like the table, else the
  first sheet). At most {MAX_FILE_BYTES // 1024**3} GiB, {MAX_COLUMNS} columns and
  {MAX_CELL_CHARS:,} characters in a cell.
- **Column names** are trimmed, lower-cased, and spaces and dashes count as `_`
  (`Visit Date` is `visit_date`). Only the columns below are accepted: any other
  column refuses the file, unless it is named in `--ignore-columns` (then skipped).
- **An empty cell** is a missing value.
- **Dates** are written `YYYY-MM-DD`; a timestamp (`2024-03-01T10:30`) keeps the date
  as written, any time zone ignored.
- **Numbers** use `.` as the decimal point, with no unit and no thousands separator.
- **Codes** are compared trimmed and lower-cased, spaces and dashes counting as `_`
  (`Follow-up` is `follow_up`).
- **A row's id** (`visit_id`, `report_id`), when the column is absent or the cell
  empty, is derived from the row's content (the same row gets the same id every time)."""


def _identifiers(h: str) -> str:
    kinds = "\n".join(
        f"  - {kind}: e.g. {', '.join(f'`{e}`' for e in IDENTIFIER_NAME_EXAMPLES[kind])}"
        for kind in IDENTIFIER_NAME_PATTERNS
    )
    values = ", ".join(VALUE_PATTERNS)
    notes = ", ".join(NOTES_PATTERNS)
    return f"""{h} Identifiers: what is refused

The files must be de-identified (`pumpqi deidentify` makes them from a raw export).

- **A column named like a direct identifier** refuses the file:
{kinds}
- **A column any of whose cells is entirely an identifier** ({values}) refuses the
  file, naming the column, never the value. A column skipped with `--ignore-columns`
  whose cells are mostly ZIP codes is refused too.
- **`patient_id` must be a pseudonym**: a record number, a person's name or a date in
  it is not. When more than {patient_ids.MOST:.0%} of a file's patient ids look so, the
  file is refused; otherwise each such row is quarantined.
- **`notes`** holding identifier-like text ({notes}) puts the row in quarantine.
- A quarantined row is kept with its cells, each cell that looks like an identifier
  replaced by a mark."""


def _faults(h: str) -> str:
    share = f"{systematic.SHARE:.0%}"
    return f"""{h} What happens to faults

- **A fault of the file** refuses it as a whole, in one line naming the file, the
  column and what to do; nothing is loaded (exit code 2): a file that cannot be read, a
  required column missing, an unknown column (with the closest contract column, when
  one is close), an identifier column, a key fingerprint of another key, and **one
  fault in most rows**: the same column and reason in more than {share} of the rows
  read and in at least {systematic.MIN_ROWS} rows (dates written `DD/MM/YYYY`, a decimal
  comma, another delimiter in the rows than in the header, a dose in micrograms). The
  line says what the cells look like and how to fix them. This is judged on the file
  alone, so `pumpqi validate` refuses exactly the files `pumpqi ingest` refuses.
- **A fault of a row** puts the row in quarantine, never loaded and never dropped
  silently: a cell that does not parse or is outside its range, a missing required
  value, an unknown code, a record with the wrong number of fields, an exact copy of an
  earlier row of the file (`duplicate`), rows with one id but different content (all
  of them), a row whose id was loaded before with other content. Every faulty column
  of the row is listed with its reason; an unknown code is told the closest allowed
  codes ("did you mean `spasticity`?", at most {quarantine.HINT_MAX}) or else the
  allowed ones.
- **Counts always add up**: rows read = loaded + already present + quarantined. A row
  is already present when a row with its id was loaded before and agrees with it in
  every column. A quarantined row whose content (its cells as kept in quarantine) an
  earlier ingest quarantined is counted as already in quarantine and kept once (a
  cumulative export does not fill the quarantine twice).
- **Exit codes**: `pumpqi validate` 0 when every row is loadable, 1 when some rows
  would be quarantined (each fault listed with file, line, column and reason), 2 when
  a file is refused; `pumpqi ingest` 0 when the files were loaded, whatever was
  quarantined, 2 when a file is refused. Loading the same file again changes nothing."""


def _file_columns(h: str) -> str:
    rows = "\n".join(f"- `{c.name}` ({KIND_WORDS[c.kind]}): {c.help}." for c in FILE_COLUMNS)
    return f"""{h} Columns about the whole file (both tables, optional)

{rows}"""


def contract_markdown(level: int = 1) -> str:
    """The data contract page as markdown; `level`: its title's heading level."""
    h1, h2, h3 = ("#" * (level + i) for i in range(3))
    parts = [
        f"{h1} The input files (data contract)",
        "pumpqi reads two tables of de-identified follow-up records: **visits** (one row"
        " per encounter with the pump programme) and **complications** (one row per"
        " complication report). `pumpqi validate` checks files against this page without"
        " loading them; `pumpqi ingest` loads them.",
        _reading(h2),
    ]
    for table in TABLES.values():
        what = "one row per encounter" if table.name == "visits" else "one row per report"
        parts += [f"{h2} Table `{table.name}`: {what}", column_table(table)]
        words = _value_words(table, h3)
        if words:
            parts.append(words)
        if table.name == "complications":
            parts += [f"{h3} Complication codes and categories", taxonomy()]
    parts += [_file_columns(h2), _identifiers(h2), _faults(h2)]
    return "\n\n".join(parts) + "\n"

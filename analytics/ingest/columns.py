"""The columns of a file: refuse missing, unknown and identifier-named ones, teaching.

A missing required column or an unknown one is told the closest contract column, or
the file's column that may be meant (difflib on the names; never a value); a header
read as one column is told its delimiter.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from analytics.errors import FileFault
from analytics.ingest.contract import TABLES, Table
from analytics.ingest.identifiers import identifier_name_kind
from analytics.ingest.readers import RawTable

CLOSE = 0.75
"""difflib ratio from which a column name is offered as "did you mean"."""


def check_columns(raw: RawTable, table: Table, ignore: Sequence[str]) -> list[str]:
    """Refuse missing, unknown and identifier-named columns; return the ignored ones present.

    A missing required column or an unknown one is told the closest contract column or
    the file's column that may be meant (difflib, names only)."""
    label = raw.path.name
    ignore_n = set(ignore)
    for name in raw.columns:
        kind = identifier_name_kind(name)
        if kind is not None:
            raise FileFault(
                label,
                f"looks like a direct identifier ({kind}); remove it or run `pumpqi deidentify`",
                name,
            )
    unknown = [n for n in raw.columns if n not in table.accepted and n not in ignore_n]
    for name in table.required:
        if name not in raw.columns:
            meant = _closest(name, unknown)
            hint = f"; is `{meant}` meant to be it? Rename it {name}" if meant else ""
            if len(raw.columns) == 1 and _one_column_hint(raw.columns[0]):
                hint = _one_column_hint(raw.columns[0])
            raise FileFault(label, f"required column is missing{hint}", name)
    for name in unknown:
        meant = _closest(name, table.accepted)
        other = next((t.name for t in TABLES.values() if name in t.accepted), None)
        hint = (
            f" (did you mean `{meant}`?)"
            if meant
            else f" (a column of the {other} table)"
            if other
            else ""
        )
        raise FileFault(
            label,
            f"unknown column{hint}; the {table.name} table accepts only contract columns"
            " (`pumpqi contract` lists them; --ignore-columns skips a column deliberately)",
            name,
        )
    return [n for n in raw.columns if n in ignore_n and n not in table.accepted]


def _one_column_hint(header: str) -> str:
    """A header read as one column that holds another delimiter: say which ("" if none)."""
    other = sorted({c for c in header if not (c.isalnum() or c == "_")})
    if not other:
        return ""
    used = f" (this one seems to use `{other[0]}`)" if len(other) == 1 else ""
    return (
        f"; the header was read as one column: pumpqi reads `,` `;` or tab as the"
        f" delimiter{used}; save the file again with one of them"
    )


def _closest(name: str, candidates: Sequence[str]) -> str | None:
    """The candidate closest to `name` (difflib ratio of at least CLOSE), or None."""
    found = difflib.get_close_matches(name, list(candidates), n=1, cutoff=CLOSE)
    return found[0] if found else None

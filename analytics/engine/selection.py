"""A selection of groups (site A, drug baclofen, ...) applied to the engine's fact tables.

The figures read three fact tables: `pq_refills` (a fill goes to the values in force at
the fill), `pq_exposure` (a pump-day to the values in force that day) and `pq_reports` (a
report to its own site when recorded, else the values in force on its date). SQL that
reads them names them `{refills}`, `{exposure}` and `{reports}`; `with_facts` puts in the
table itself, or the table narrowed to the selection (also `{open_fills}`, `{pumps}` and
`{dose_flags}`, the planning tables). These are exactly the groups of
`pumpqi metrics --by`, so a selected figure equals the figure of that group.

Column names come from the vocabulary's fixed allow-list; values are bound parameters.
"""

from __future__ import annotations

from typing import Any

from analytics.errors import PumpqiError
from analytics.vocabulary import BY_IDS, DIMENSION, UNKNOWN_GROUP

Selection = tuple[tuple[str, str], ...]
"""(dimension id, value) pairs, at most one per dimension; () selects everything."""

FACT_TABLES: dict[str, str] = {
    "refills": "pq_refills",
    "exposure": "pq_exposure",
    "reports": "pq_reports",
}
PLANNING_TABLES: dict[str, str] = {
    "open_fills": "pq_open_fills",
    "pumps": "pq_pumps",
    "dose_flags": "pq_dose_flags",
}
"""The planning tables (built on demand, engine/on_demand.py) carry the same group values
as the fact tables and are narrowed the same way."""


def check_selection(selection: Selection) -> Selection:
    """The selection in dimension order, refusing unknown or repeated dimensions."""
    seen: dict[str, str] = {}
    for dim, value in selection:
        if dim not in BY_IDS:
            raise PumpqiError(f"not a grouping: '{dim}' (one of {', '.join(BY_IDS)})")
        if dim in seen:
            raise PumpqiError(f"'{dim}' selected twice")
        seen[dim] = str(value)
    return tuple((d, seen[d]) for d in BY_IDS if d in seen)


def selection_where(selection: Selection) -> tuple[str, dict[str, Any]]:
    """`coalesce(site, 'unknown') = $sel_0 AND ...` and its parameters ('TRUE' for none)."""
    parts, params = [], {}
    for i, (dim, value) in enumerate(check_selection(selection)):
        parts.append(f"coalesce({DIMENSION[dim].column}, '{UNKNOWN_GROUP}') = $sel_{i}")
        params[f"sel_{i}"] = value
    return (" AND ".join(parts) or "TRUE"), params


def with_facts(sql: str, selection: Selection = ()) -> tuple[str, dict[str, Any]]:
    """`sql` with {refills}, {exposure}, {reports} replaced by the fact tables, narrowed
    to `selection`; returns the SQL and the selection's parameters."""
    where, params = selection_where(selection)
    for key, table in {**FACT_TABLES, **PLANNING_TABLES}.items():
        source = table if where == "TRUE" else f"(SELECT * FROM {table} WHERE {where})"
        sql = sql.replace("{" + key + "}", source)
    return sql, params


def describe(selection: Selection) -> str:
    """'site A, drug baclofen' or 'all patients'."""
    parts = [f"{DIMENSION[d].label.lower()} {v}" for d, v in check_selection(selection)]
    return ", ".join(parts) if parts else "all patients"

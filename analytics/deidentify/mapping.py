"""Which raw export column becomes which contract column: built-in aliases + a TOML mapping.

Every raw column gets exactly one action (see `Action`). Names are compared after
the contract's normalisation (trim, lower case, spaces and dashes as `_`). A raw
column that no rule covers stops the run (fail closed) unless the caller drops
unmapped columns deliberately. See examples/deidentify-map.toml for the format.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from analytics.errors import PumpqiError
from analytics.ingest.contract import Table, normalise_name
from analytics.ingest.identifiers import identifier_name_kind

EXTRAS: tuple[str, ...] = ("age", "zip3")
"""Opt-in output columns that are not contract columns (ingest needs --ignore-columns)."""

DROP = "drop"
AGE_SOURCE = "birth date"
ZIP_SOURCE = "ZIP code"

# Raw name (normalised) -> target. Targets: a contract column, an extra, or "drop".
# "age" and "zip3" targets are dropped unless the mapping asks for that extra.
_COMMON_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ["mrn", "medical_record_number", "medical_record_no", "patient_number", "patient_no"],
        "patient_id",
    ),
    **dict.fromkeys(
        ["patient_name", "name", "first_name", "last_name", "full_name", "surname", "given_name"],
        DROP,
    ),
    **dict.fromkeys(["dob", "date_of_birth", "birth_date", "birthdate"], "age"),
    **dict.fromkeys(["zip", "zip_code", "zipcode", "postal_code", "zip5"], "zip3"),
    **dict.fromkeys(
        [
            "pump_serial",
            "serial_number",
            "serial",
            "serial_no",
            "lot",
            "lot_number",
            "catheter_lot",
        ],
        DROP,
    ),
    **dict.fromkeys(
        ["phone", "phone_number", "telephone", "mobile", "email", "e_mail", "email_address"],
        DROP,
    ),
    **dict.fromkeys(["address", "street_address", "home_address", "city"], DROP),
    **dict.fromkeys(["ssn", "social_security_number"], DROP),
    **dict.fromkeys(["comments", "comment", "note", "remarks"], "notes"),
    **dict.fromkeys(["provider", "physician", "nurse"], "clinician"),
    "clinic": "site",
}
_TABLE_ALIASES: dict[str, dict[str, str]] = {
    "visits": {
        **dict.fromkeys(["date", "refill_date", "encounter_date"], "visit_date"),
        "reservoir_volume": "reservoir_ml",
        "volume_added": "volume_added_ml",
        "next_refill_date": "next_refill_due",
        "encounter_id": "visit_id",
    },
    "complications": {
        **dict.fromkeys(["date", "complication_date", "event_date"], "report_date"),
        "complication_type": "complication",
        "encounter_id": "visit_id",
    },
}

Kind = Literal["keep", "pseudonym", "date", "notes", "age", "zip3", "drop"]

PSEUDONYM_KINDS: dict[str, str] = {
    "patient_id": "patient",
    "visit_id": "visit",
    "report_id": "report",
    "clinician": "clinician",
}
"""Contract columns whose raw values are replaced by keyed pseudonyms."""

NORMALISED_BY_DEFAULT: frozenset[str] = frozenset({"patient_id"})
"""Pseudonym columns whose raw ids are normalised before hashing unless the mapping's
[normalise] section says otherwise (one patient typed `AB7919X`, `ab7919x `, with a
zero-width space or as `1000000.0` is one patient). Other id columns are only trimmed,
so that visit and report ids keep the pseudonyms earlier versions gave them."""


@dataclass(frozen=True)
class Action:
    """What happens to one raw column: its output column (None when dropped) and why."""

    raw: str
    kind: Kind
    target: str | None
    reason: str


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file. All names normalised; `values` maps contract column → {raw: value}."""

    columns: dict[str, str] = field(default_factory=dict)
    drop: frozenset[str] = frozenset()
    extras: frozenset[str] = frozenset()
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_format: str | None = None
    normalise: dict[str, bool] = field(default_factory=dict)

    def normalises(self, target: str) -> bool:
        """Whether the raw ids of pseudonym column `target` are normalised before hashing."""
        return self.normalise.get(target, target in NORMALISED_BY_DEFAULT)


def load_mapping(path: Path | None, table: Table) -> Mapping:
    """Parse and check a TOML mapping file (None: built-in aliases only)."""
    if path is None:
        return Mapping()
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PumpqiError(f"{path}: mapping file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PumpqiError(f"{path}: not a readable TOML mapping ({exc})") from None
    return _parse_mapping(doc, table, path.name)


def _parse_mapping(doc: dict[str, Any], table: Table, label: str) -> Mapping:
    unknown = sorted(set(doc) - {"columns", "drop", "extras", "values", "dates", "normalise"})
    if unknown:
        raise PumpqiError(f"{label}: unknown section or key {', '.join(unknown)}")
    columns_doc = dict(_table(doc, "columns", label))
    drop_list = _names(doc.get("drop", []), f"{label}: drop")
    if isinstance(columns_doc.get("drop"), list):  # `drop = [...]` written after [columns]
        drop_list += _names(columns_doc.pop("drop"), f"{label}: drop")
    columns: dict[str, str] = {}
    allowed = set(table.names) | set(EXTRAS) | {DROP}
    for raw, target in columns_doc.items():
        t = normalise_name(str(target))
        if not isinstance(target, str) or t not in allowed:
            raise PumpqiError(
                f"{label}: [columns] '{raw}' maps to '{target}', which is not a column of the"
                f" {table.name} table (nor age, zip3 or drop)"
            )
        columns[normalise_name(raw)] = t
    extras = set(_names(doc.get("extras", []), f"{label}: extras"))
    extras |= {t for t in columns.values() if t in EXTRAS}
    if extras - set(EXTRAS):
        raise PumpqiError(f"{label}: extras may list only {', '.join(EXTRAS)}")
    dates = _table(doc, "dates", label)
    date_format = dates.get("format")
    if date_format is not None and not isinstance(date_format, str):
        raise PumpqiError(f'{label}: [dates] format must be a string such as "%m/%d/%Y"')
    return Mapping(
        columns=columns,
        drop=frozenset(drop_list),
        extras=frozenset(extras),
        values=_parse_values(_table(doc, "values", label), table, label),
        date_format=date_format,
        normalise=_parse_normalise(_table(doc, "normalise", label), label),
    )


def _table(doc: dict[str, Any], key: str, label: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise PumpqiError(f"{label}: '{key}' must be a [{key}] section")
    return value


def _names(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PumpqiError(f"{where} must be a list of column names in quotes")
    return [normalise_name(v) for v in value]


def _parse_values(doc: dict[str, Any], table: Table, label: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for col, pairs in doc.items():
        name = normalise_name(col)
        if name not in table.names or not isinstance(pairs, dict):
            raise PumpqiError(
                f"{label}: [values.{col}] must name a column of the {table.name} table"
                ' and hold "raw value" = "contract value" lines'
            )
        out[name] = {normalise_name(str(k)): str(v) for k, v in pairs.items()}
    return out


def _parse_normalise(doc: dict[str, Any], label: str) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for col, flag in doc.items():
        name = normalise_name(col)
        if name not in PSEUDONYM_KINDS or not isinstance(flag, bool):
            raise PumpqiError(
                f"{label}: [normalise] takes lines such as `patient_id = false` for the id"
                f" columns {', '.join(PSEUDONYM_KINDS)} (true or false)"
            )
        out[name] = flag
    return out


def _aliases(table: Table) -> dict[str, str]:
    return {**_COMMON_ALIASES, **_TABLE_ALIASES.get(table.name, {})}


def _action(raw: str, target: str, why: str, mapping: Mapping, table: Table) -> Action:
    """The action for a raw column whose target is known."""
    if target == DROP:
        return Action(raw, "drop", None, "identifier" if why == "built-in alias" else why)
    if target in EXTRAS:
        source = AGE_SOURCE if target == "age" else ZIP_SOURCE
        if target not in mapping.extras:
            return Action(raw, "drop", None, f"{source} (extra '{target}' not requested)")
        kind: Kind = "age" if target == "age" else "zip3"
        return Action(raw, kind, target, f"{source} -> {target}")
    if target in PSEUDONYM_KINDS:
        return Action(raw, "pseudonym", target, "keyed pseudonym")
    if target == "notes":
        return Action(raw, "notes", target, "free text")
    if table.column(target).kind == "date":
        return Action(raw, "date", target, "date")
    return Action(raw, "keep", target, why)


def _plan_one(raw: str, table: Table, mapping: Mapping) -> Action | None:
    """The action for one raw column by the first rule that covers it (None: unmapped)."""
    aliases = _aliases(table)
    if raw in mapping.drop:
        return Action(raw, "drop", None, "listed in drop")
    if raw in mapping.columns:
        return _action(raw, mapping.columns[raw], "mapping", mapping, table)
    if raw in aliases:
        return _action(raw, aliases[raw], "built-in alias", mapping, table)
    if raw in table.names:
        return _action(raw, raw, "contract column", mapping, table)
    if (kind := identifier_name_kind(raw)) is not None:
        return Action(raw, "drop", None, f"looks like an identifier ({kind})")
    return None


def plan_columns(
    raw_columns: tuple[str, ...], table: Table, mapping: Mapping, *, drop_unmapped: bool
) -> list[Action]:
    """One action per raw column; refuse unmapped columns, clashes and missing required ones."""
    actions: list[Action] = []
    unmapped: list[str] = []
    for raw in raw_columns:
        action = _plan_one(raw, table, mapping)
        if action is not None:
            actions.append(action)
        elif drop_unmapped:
            actions.append(Action(raw, "drop", None, "unmapped (--drop-unmapped)"))
        else:
            unmapped.append(raw)
    if unmapped:
        raise PumpqiError(
            f"unmapped column(s): {', '.join(unmapped)}; map each in [columns] or list it in"
            " drop = [...] of the mapping file (--map), or pass --drop-unmapped"
        )
    _check_targets(actions, table)
    return actions


def source_column(raw_columns: tuple[str, ...], table: Table, mapping: Mapping, target: str) -> str:
    """The one raw column that gives contract column `target`, by the same rules as
    plan_columns (other columns are not looked at)."""
    found = [
        raw
        for raw in raw_columns
        if (a := _plan_one(raw, table, mapping)) is not None and a.target == target
    ]
    if len(found) > 1:
        raise PumpqiError(
            f"columns {', '.join(found)} all map to {target}; keep one"
            " (drop the others in the mapping file)"
        )
    if not found:
        raise PumpqiError(
            f"no column of the export gives {target}; map one in [columns] of the mapping"
            f' file (e.g. "Your Column" = "{target}")'
        )
    return found[0]


def _check_targets(actions: list[Action], table: Table) -> None:
    by_target: dict[str, list[str]] = {}
    for a in actions:
        if a.target is not None:
            by_target.setdefault(a.target, []).append(a.raw)
    for target, raws in by_target.items():
        if len(raws) > 1:
            raise PumpqiError(
                f"columns {', '.join(raws)} all map to {target}; keep one"
                " (drop the others in the mapping file)"
            )
    for name in table.required:
        if name not in by_target:
            raise PumpqiError(
                f"no raw column gives the required {table.name} column {name};"
                f' map one in [columns] of the mapping file (e.g. "Your Column" = "{name}")'
            )


def unused_mapping_entries(mapping: Mapping, raw_columns: tuple[str, ...]) -> list[str]:
    """Mapping names (columns and drop) that match no column of the file."""
    present = set(raw_columns)
    return sorted((set(mapping.columns) | mapping.drop) - present)

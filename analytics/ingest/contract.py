"""The input tables (the data contract), declared once as data.

Validation, the definitions page and error messages all read from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from analytics.vocabulary import (
    ACTION_LABELS,
    COMPLICATION_CATEGORIES,
    INDICATION_LABELS,
    SEVERITY_LABELS,
    VISIT_TYPE_LABELS,
)

Kind = Literal["text", "date", "number", "integer", "enum", "boolean"]

VISIT_TYPES: tuple[str, ...] = tuple(VISIT_TYPE_LABELS)
"""In the order visits of one patient on the same day are taken."""

FILL_TYPES: tuple[str, ...] = ("implant", "refill", "replacement")
INDICATIONS: tuple[str, ...] = tuple(INDICATION_LABELS)
SEVERITIES: tuple[str, ...] = tuple(SEVERITY_LABELS)
ACTIONS: tuple[str, ...] = tuple(ACTION_LABELS)
KNOWN_DRUGS: tuple[str, ...] = (
    "morphine",
    "hydromorphone",
    "fentanyl",
    "sufentanil",
    "bupivacaine",
    "clonidine",
    "baclofen",
    "ziconotide",
)


BOOLEAN_TRUE: tuple[str, ...] = ("true", "yes", "1", "y", "t")
BOOLEAN_FALSE: tuple[str, ...] = ("false", "no", "0", "n", "f")

EARLIEST_DATE = "1980-01-01"
TEXT_MAX_CHARS = 1000
NOTES_MAX_CHARS = 4000


@dataclass(frozen=True)
class Column:
    """One contract column: name, kind, whether required, and its plausible range."""

    name: str
    kind: Kind
    required: bool = False
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    values: tuple[str, ...] = ()
    max_chars: int = TEXT_MAX_CHARS
    min_chars: int = 0
    month_ok: bool = False
    """A date column that also takes a year-month `YYYY-MM`, read as its 15th."""

    @property
    def sql_type(self) -> str:
        return {
            "text": "VARCHAR",
            "enum": "VARCHAR",
            "date": "DATE",
            "number": "DOUBLE",
            "integer": "INTEGER",
            "boolean": "BOOLEAN",
        }[self.kind]


KEY_FINGERPRINT = Column(
    "key_fingerprint",
    "text",
    max_chars=64,
    help="written by `pumpqi deidentify`: names the key the pseudonyms were made with "
    "(never the key); the same on every row; ingest refuses a file made with another key "
    "than the database's",
)
FILE_COLUMNS: tuple[Column, ...] = (KEY_FINGERPRINT,)
"""Optional columns of both tables that describe the whole file, not a row: checked by
ingest, kept in the database's metadata, never loaded as row data."""


@dataclass(frozen=True)
class Table:
    """One input table: its columns, id column and the date that must be in range."""

    name: str
    columns: tuple[Column, ...]
    id_column: str
    date_column: str
    id_prefix: str
    derived: tuple[tuple[str, str], ...] = field(default=())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def accepted(self) -> tuple[str, ...]:
        """Every column a file of this table may hold: the row columns and FILE_COLUMNS."""
        return self.names + tuple(c.name for c in FILE_COLUMNS)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _num(name: str, lo: float, hi: float, help: str, *, exclusive: bool = False) -> Column:
    return Column(name, "number", minimum=lo, maximum=hi, min_exclusive=exclusive, help=help)


VISITS = Table(
    name="visits",
    id_column="visit_id",
    date_column="visit_date",
    id_prefix="v",
    columns=(
        Column(
            "patient_id",
            "text",
            required=True,
            max_chars=64,
            min_chars=1,
            help="pseudonymous patient key (e.g. keyed hash); never a record number",
        ),
        Column("visit_date", "date", required=True, help="date of the encounter"),
        Column("visit_type", "enum", required=True, values=VISIT_TYPES, help="kind of encounter"),
        Column(
            "visit_id", "text", help="unique per source; derived from the row's content when absent"
        ),
        Column("site", "text", help="clinic/site code; default `main`"),
        Column("clinician", "text", help="pseudonymous clinician code"),
        Column("pump_model", "text", help="e.g. SynchroMed II, Prometra II"),
        _num("reservoir_ml", 1, 100, "pump reservoir capacity (mL)"),
        Column("drug", "text", help="primary drug, lower-case generic name; mixtures joined by +"),
        _num(
            "concentration_mg_ml",
            0,
            1000,
            "concentration of the primary drug (mg/mL)",
            exclusive=True,
        ),
        _num("daily_dose_mg", 0, 1000, "programmed daily dose after this visit (mg)"),
        _num("daily_rate_ml", 0, 50, "programmed daily volume after this visit (mL/day)"),
        _num("volume_added_ml", 0, 100, "volume put into the reservoir at this visit (mL)"),
        _num(
            "expected_residual_ml",
            0,
            100,
            "residual the programmer expected before the refill (mL)",
        ),
        _num("actual_residual_ml", 0, 100, "residual actually withdrawn (mL)"),
        _num("alarm_ml", 0, 20, "programmed low-reservoir alarm volume (mL)"),
        Column(
            "next_refill_due",
            "date",
            help="next refill / low-reservoir alarm date shown by the programmer",
        ),
        Column("indication", "enum", values=INDICATIONS, help="why the pump was implanted"),
        Column("pain_nrs", "integer", minimum=0, maximum=10, help="pain score 0-10"),
        Column(
            "pump_implant_date",
            "date",
            month_ok=True,
            help="implant date of the pump in place, for pumps implanted before the data "
            "starts (battery life, device survival); a year-month YYYY-MM counts as its 15th",
        ),
        Column(
            "notes", "text", max_chars=NOTES_MAX_CHARS, help="free text; scanned for identifiers"
        ),
    ),
)

COMPLICATIONS = Table(
    name="complications",
    id_column="report_id",
    date_column="report_date",
    id_prefix="c",
    derived=(("category", "VARCHAR"),),
    columns=(
        Column(
            "patient_id",
            "text",
            required=True,
            max_chars=64,
            min_chars=1,
            help="pseudonymous patient key, as in visits",
        ),
        Column("report_date", "date", required=True, help="date the complication was reported"),
        Column(
            "complication",
            "enum",
            required=True,
            values=tuple(COMPLICATION_CATEGORIES),
            help="complication code (taxonomy)",
        ),
        Column("report_id", "text", help="unique per source; derived when absent"),
        Column("visit_id", "text", help="visit it was reported at, when known"),
        Column("site", "text", help="default: the patient's site at that date"),
        Column("severity", "enum", values=SEVERITIES, help="severity grade"),
        Column("serious", "boolean", help="serious adverse event (true/false/yes/no/1/0)"),
        Column("action", "enum", values=ACTIONS, help="action taken"),
        Column(
            "notes", "text", max_chars=NOTES_MAX_CHARS, help="free text; scanned for identifiers"
        ),
    ),
)

TABLES: dict[str, Table] = {"visits": VISITS, "complications": COMPLICATIONS}


def normalise_name(name: str) -> str:
    """Column-name normalisation of the contract: trim, lower-case, spaces and dashes to `_`."""
    out = name.strip().lower().replace(" ", "_").replace("-", "_")
    while "__" in out:
        out = out.replace("__", "_")
    return out

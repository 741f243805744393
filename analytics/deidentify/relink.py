"""Local re-link: the clinic's own patient ids added to a worklist, on the clinic's machine.

A worklist (from `pumpqi refills`, the dashboard's "Download as CSV", or any CSV with a
`patient_id` column of pseudonyms) names patients by pseudonym only. With the secret key
and the raw export the pseudonyms were made from, `relink` recomputes each patient's
pseudonym exactly as deidentify does (same mapping, same normalisation, same key) and
writes a copy of the worklist with the column `clinic_patient_id` beside `patient_id`.

Nothing is written to any database; the output file is created readable by its owner
only (mode 600), its cells neutralised for spreadsheets. What is printed holds counts
only, never an id. A patient typed several ways in the export is shown with the spelling
used most often there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analytics.deidentify.core import raw_ids, read_export
from analytics.deidentify.keys import Keyed, load_key
from analytics.deidentify.mapping import load_mapping, source_column
from analytics.deidentify.transforms import trimmed_ids
from analytics.errors import PumpqiError
from analytics.export import write_csv
from analytics.ingest.contract import TABLES

ID_COLUMN = "patient_id"
CLINIC_ID_COLUMN = "clinic_patient_id"
OUTPUT_MODE = 0o600


@dataclass(frozen=True)
class RelinkRequest:
    """One re-link run (the CLI options, as a typed object)."""

    worklist: Path
    raw: Path
    key_file: Path
    out: Path
    table: str = "visits"
    mapping: Path | None = None


@dataclass(frozen=True)
class RelinkSummary:
    """Counts only (safe to print): rows of the worklist, matched and not."""

    out_file: str
    rows: int
    matched: int

    @property
    def unmatched(self) -> int:
        return self.rows - self.matched

    def lines(self) -> list[str]:
        out = [
            f"{self.out_file}: {self.rows} rows, {self.matched} re-linked to the clinic's"
            f" patient id ({CLINIC_ID_COLUMN}); written readable by you only (mode 600)"
        ]
        if self.unmatched:
            out.append(
                f"warning: {self.unmatched} row(s) could not be matched: their pseudonym is not"
                " made from this export with this key (another key, or a patient not in it);"
                f" their {CLINIC_ID_COLUMN} is empty"
            )
        return out


def relink(request: RelinkRequest) -> RelinkSummary:
    """Write the worklist with the clinic's patient ids; see the module docstring."""
    keyed = Keyed(load_key(request.key_file))
    _check_paths(request)
    if request.table not in TABLES:
        raise PumpqiError(f"--table must be one of {', '.join(TABLES)}")
    table = TABLES[request.table]
    worklist = _read_worklist(request.worklist)
    mapping = load_mapping(request.mapping, table)
    raw = read_export(request.raw, table)
    column = source_column(raw.columns, table, mapping, ID_COLUMN)
    ids = raw.data.column(column).to_pandas()
    links = clinic_ids(keyed, raw_ids(ids, ID_COLUMN, mapping), trimmed_ids(ids))
    pseudonyms = worklist[ID_COLUMN].str.strip()
    clinic = pseudonyms.map(links).fillna("")
    out = worklist.copy()
    out.insert(list(out.columns).index(ID_COLUMN) + 1, CLINIC_ID_COLUMN, clinic.astype(object))
    write_csv(out, request.out, mode=OUTPUT_MODE, lineterminator="\n")
    return RelinkSummary(request.out.name, len(out), int((clinic != "").sum()))


def clinic_ids(keyed: Keyed, hashed: pd.Series, shown: pd.Series) -> pd.Series:
    """Pseudonym -> the clinic's id as written in the export (its most frequent spelling
    for that patient; the first such in the file on a tie). Set-based: one pseudonym per
    distinct id, one grouping."""
    frame = pd.DataFrame({"pseudonym": keyed.pseudonymise(hashed, "patient"), "shown": shown})
    frame = frame[(frame["pseudonym"] != "") & (frame["shown"] != "")]
    counts = frame.groupby(["pseudonym", "shown"], sort=False).size().reset_index(name="n")
    best = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates("pseudonym")
    return best.set_index("pseudonym")["shown"]


def _check_paths(request: RelinkRequest) -> None:
    out = request.out
    if out.suffix.lower() != ".csv":
        raise PumpqiError(f"--out {out.name}: the re-linked worklist is written as .csv")
    for other, what in (
        (request.worklist, "the worklist itself (keep the pseudonymised one)"),
        (request.raw, "the raw export"),
        (request.key_file, "the key file"),
    ):
        if out.resolve() == other.resolve():
            raise PumpqiError(f"--out must not be {what}")


def _read_worklist(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise PumpqiError(f"{path}: worklist file not found") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise PumpqiError(
            f"{path.name}: not a readable CSV worklist ({type(exc).__name__})"
        ) from None
    if ID_COLUMN not in frame.columns:
        raise PumpqiError(
            f"{path.name}: no {ID_COLUMN} column; re-link a worklist written by pumpqi"
            " (`pumpqi refills`, the dashboard's Download as CSV)"
        )
    if CLINIC_ID_COLUMN in frame.columns:
        raise PumpqiError(f"{path.name}: already re-linked (it has a {CLINIC_ID_COLUMN} column)")
    return frame

"""Turn a clinic's raw export into a contract file: keyed pseudonyms, identifiers dropped.

`deidentify(options)` reads a CSV/Excel/Parquet export, gives every raw column one
action (analytics.deidentify.mapping), transforms the columns it keeps
(analytics.deidentify.transforms), pseudonymises ids with the secret key
(analytics.deidentify.keys) and writes only contract columns plus the opted-in
extras `age` and `zip3`. Nothing is written when any check fails. What it returns
(and the CLI prints) holds counts and column names only, never a cell value.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analytics.deidentify.keys import Keyed, load_key, new_key_file
from analytics.deidentify.mapping import (
    EXTRAS,
    PSEUDONYM_KINDS,
    Action,
    Mapping,
    load_mapping,
    plan_columns,
    unused_mapping_entries,
)
from analytics.deidentify.transforms import (
    age_at,
    identifier_value_kind,
    iso_or_original,
    map_values,
    normalise_ids,
    parse_dates,
    scrub_notes,
    shift,
    text,
    trimmed_ids,
    zip3,
)
from analytics.errors import FileFault, PumpqiError
from analytics.export import neutralise_frame
from analytics.ingest.contract import KEY_FINGERPRINT, TABLES, Table
from analytics.ingest.readers import RawTable, read_table_file

__all__ = ["Options", "Summary", "deidentify", "new_key_file"]

OUTPUT_SUFFIXES = (".csv", ".parquet")
SHIFT_WARNING = (
    "warning: --shift-dates moved each patient's dates back by a keyed offset of 1 to 180 days;"
    " intervals are kept, but calendar-month trends (metrics by month, control charts)"
    " become approximate, and shifted data is not Safe Harbor de-identified by itself"
    " (it needs an expert determination or a data use agreement)"
)
NOTES_WARNING = (
    "warning: --keep-notes kept free text after replacing identifier patterns with [removed];"
    " names and other identifiers without a pattern cannot be found this way:"
    " review the notes before sharing the file"
)


@dataclass(frozen=True)
class Options:
    """One deidentify run (the CLI options, as a typed object)."""

    raw: Path
    key_file: Path
    out: Path
    table: str = "visits"
    mapping: Path | None = None
    shift_dates: bool = False
    drop_unmapped: bool = False
    keep_notes: bool = False


@dataclass(frozen=True)
class Summary:
    """What a run did: counts and column names only (safe to print and log)."""

    table: str
    raw_file: str
    out_file: str
    rows: int
    columns: tuple[str, ...]
    kept: tuple[str, ...]
    transformed: tuple[str, ...]
    dropped: tuple[str, ...]
    warnings: tuple[str, ...]
    fingerprint: str = ""

    def lines(self) -> list[str]:
        out = [
            f"{self.table}: {self.raw_file} -> {self.out_file}: {self.rows} rows,"
            f" {len(self.columns)} columns written",
            f"key fingerprint: {self.fingerprint} (in column {KEY_FINGERPRINT.name}; ingest"
            " refuses a file made with another key than the database's)",
            f"kept ({len(self.kept)}): {', '.join(self.kept) or '-'}",
            f"transformed ({len(self.transformed)}): {'; '.join(self.transformed) or '-'}",
            f"dropped ({len(self.dropped)}): {'; '.join(self.dropped) or '-'}",
        ]
        extras = [c for c in self.columns if c in EXTRAS]
        if extras:
            out.append(
                f"note: not contract columns: {', '.join(extras)}; ingest this file with"
                f" --ignore-columns {','.join(extras)}"
            )
        return out


@dataclass
class _Work:
    """Mutable state of one run while columns are built."""

    table: Table
    mapping: Mapping
    options: Options
    keyed: Keyed
    frame: pd.DataFrame
    actions: list[Action]
    out: dict[str, pd.Series]
    transformed: dict[str, str]  # output column -> how it was made
    warnings: list[str]

    def raw_of(self, target: str) -> pd.Series:
        (action,) = [a for a in self.actions if a.target == target]
        return self.frame[action.raw]

    def ids_of(self, target: str) -> pd.Series:
        """The raw ids of a pseudonym column as they are hashed (see raw_ids)."""
        return raw_ids(self.raw_of(target), target, self.mapping)


def raw_ids(values: pd.Series, target: str, mapping: Mapping) -> pd.Series:
    """Raw ids as they are hashed: normalised (patient_id by default; the mapping's
    [normalise] section decides per column) or only trimmed."""
    return normalise_ids(values) if mapping.normalises(target) else trimmed_ids(values)


def deidentify(options: Options) -> Summary:
    """Read, map, transform and write one export; see the module docstring."""
    table = _table(options.table)
    keyed = Keyed(load_key(options.key_file))
    _check_out(options)
    mapping = load_mapping(options.mapping, table)
    raw = read_export(options.raw, table)
    actions = plan_columns(raw.columns, table, mapping, drop_unmapped=options.drop_unmapped)
    needed = [a.raw for a in actions if a.target is not None]
    frame = raw.data.select(needed).to_pandas() if needed else pd.DataFrame()
    work = _Work(table, mapping, options, keyed, frame, actions, {}, {}, [])
    work.warnings.extend(_read_warnings(raw, mapping, options))
    _build(work)
    work.out[KEY_FINGERPRINT.name] = pd.Series(keyed.fingerprint, index=frame.index, dtype=object)
    columns = [c for c in (*table.names, *EXTRAS, KEY_FINGERPRINT.name) if c in work.out]
    result = pd.DataFrame({c: work.out[c] for c in columns})
    _write(result, options.out)
    return _summary(work, raw, columns)


def _table(name: str) -> Table:
    if name not in TABLES:
        raise PumpqiError(f"--table must be one of {', '.join(TABLES)}")
    return TABLES[name]


def _check_out(options: Options) -> None:
    if options.out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise PumpqiError(f"--out {options.out.name}: the output file must end in .csv or .parquet")
    if options.out.resolve() == options.raw.resolve():
        raise PumpqiError("--out must not be the raw export itself")
    if options.out.resolve() == options.key_file.resolve():
        raise PumpqiError("--out must not be the key file")


def read_export(path: Path, table: Table) -> RawTable:
    """Read the export; a reader's parenthesised detail (which may quote data) is cut."""
    try:
        return read_table_file(path, table.name)
    except FileFault as exc:
        reason = re.sub(r"\s*\(.*\)\s*$", "", exc.reason, flags=re.S)
        raise FileFault(exc.file, reason, exc.column) from None


def _read_warnings(raw: RawTable, mapping: Mapping, options: Options) -> list[str]:
    warnings = []
    bad = raw.malformed.column("_line").to_pylist()
    if bad:
        shown = ", ".join(str(n) for n in bad[:10]) + (", ..." if len(bad) > 10 else "")
        warnings.append(
            f"warning: {len(bad)} malformed record(s) (wrong number of fields) were not written;"
            f" lines {shown}"
        )
    unused = unused_mapping_entries(mapping, raw.columns)
    if unused:
        warnings.append(f"warning: mapping names no column of the file: {', '.join(unused)}")
    return warnings


def _build(work: _Work) -> None:
    """Fill `work.out` with one output column per kept or transformed raw column."""
    for action in work.actions:
        if action.target is None:
            continue
        series = work.frame[action.raw]
        target = action.target
        if action.kind == "pseudonym":
            ids = work.ids_of(target)
            work.out[target] = work.keyed.pseudonymise(ids, PSEUDONYM_KINDS[target])
            how = (
                "normalised, keyed pseudonym"
                if work.mapping.normalises(target)
                else "keyed pseudonym"
            )
            work.transformed[target] = f"{target} <- {action.raw} ({how})"
        elif action.kind == "date":
            work.out[target] = _date_column(work, action, series)
        elif action.kind == "age":
            _age_column(work, action, series)
        elif action.kind == "zip3":
            work.out[target] = zip3(series)
            work.transformed["zip3"] = f"zip3 <- {action.raw} (first 3 digits, 000 if restricted)"
        elif action.kind == "notes":
            _notes_column(work, action, series)
        else:
            work.out[target] = _kept_column(work, action, series)
    if work.options.shift_dates:
        empty = int((text(work.raw_of("patient_id")).str.strip() == "").sum())
        if empty:
            work.warnings.append(
                f"warning: {empty} row(s) have no patient id; their dates were emptied"
            )
        work.warnings.append(SHIFT_WARNING)


def _date_column(work: _Work, action: Action, series: pd.Series) -> pd.Series:
    parsed = parse_dates(series, work.mapping.date_format)
    unparsed = int((parsed.isna() & (text(series).str.strip() != "")).sum())
    target = str(action.target)
    shifting = work.options.shift_dates
    if shifting:
        parsed = shift(parsed, work.keyed.offsets(work.ids_of("patient_id")))
        work.transformed[target] = f"{target} <- {action.raw} (date, shifted per patient)"
    elif action.raw != target or work.mapping.date_format:
        work.transformed[target] = f"{target} <- {action.raw} (date, ISO)"
    if unparsed:
        fate = "emptied (they cannot be shifted)" if shifting else "kept as they were"
        work.warnings.append(
            f"warning: {target}: {unparsed} cell(s) are not dates ({fate});"
            " ingest will quarantine those rows (set [dates] format in the mapping?)"
        )
    return iso_or_original(parsed, series, blank_unparsed=shifting)


def _age_column(work: _Work, action: Action, series: pd.Series) -> None:
    birth = parse_dates(series, work.mapping.date_format)
    at = parse_dates(work.raw_of(work.table.date_column), work.mapping.date_format)
    work.out["age"] = age_at(birth, at)
    work.transformed["age"] = f"age <- {action.raw} (whole years at {work.table.date_column}, 90+)"


def _notes_column(work: _Work, action: Action, series: pd.Series) -> None:
    if not work.options.keep_notes:
        return
    notes, emptied = scrub_notes(series)
    work.out["notes"] = notes
    work.transformed["notes"] = f"notes <- {action.raw} (identifier patterns replaced by [removed])"
    if emptied:
        work.warnings.append(f"warning: notes: {emptied} note(s) emptied (could not be cleaned)")
    work.warnings.append(NOTES_WARNING)


def _kept_column(work: _Work, action: Action, series: pd.Series) -> pd.Series:
    target = str(action.target)
    values = text(series)
    if target in work.mapping.values:
        values = map_values(values, work.mapping.values[target])
    kind = identifier_value_kind(values)
    if kind is not None:
        raise PumpqiError(
            f"column {action.raw} (-> {target}): values look like a direct identifier ({kind});"
            " nothing was written: drop the column in the mapping file"
        )
    return values


def _dropped(work: _Work) -> list[str]:
    out = [f"{a.raw} ({a.reason})" for a in work.actions if a.target is None]
    if not work.options.keep_notes:
        out += [
            f"{a.raw} (free text; --keep-notes keeps it scrubbed)"
            for a in work.actions
            if a.kind == "notes"
        ]
    return out


def _summary(work: _Work, raw: RawTable, columns: list[str]) -> Summary:
    kept = [
        a.target if a.raw == a.target else f"{a.target} <- {a.raw}"
        for a in work.actions
        if a.target is not None and a.target in columns and a.target not in work.transformed
    ]
    return Summary(
        table=work.table.name,
        raw_file=raw.path.name,
        out_file=work.options.out.name,
        rows=raw.data.num_rows,
        columns=tuple(columns),
        kept=tuple(kept),
        transformed=tuple(work.transformed.values()),
        dropped=tuple(_dropped(work)),
        warnings=tuple(work.warnings),
        fingerprint=work.keyed.fingerprint,
    )


def _write(frame: pd.DataFrame, out: Path) -> None:
    """Write CSV or Parquet (all text) atomically: a temp file renamed into place. CSV
    cells a spreadsheet would run as a formula get a leading quote (analytics.export)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".pumpqi-", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        if out.suffix.lower() == ".parquet":
            arrays = {
                c: pa.array([v if v != "" else None for v in text(frame[c])], pa.string())
                for c in frame.columns
            }
            pq.write_table(pa.table(arrays), tmp)
        else:
            neutralise_frame(frame).to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        raise PumpqiError(f"{out}: cannot write the output file ({exc.strerror})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

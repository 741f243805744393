"""The key fingerprint of a file made by `pumpqi deidentify`, checked against the database's.

A pseudonym depends on the secret key: a file made with another key gives every patient
another pseudonym, and month-to-month linkage would break without a word. deidentify
writes the key's fingerprint (`kf_` + 16 hex, never the key) on every row of the
optional column `key_fingerprint`; ingest checks it and keeps it in `pumpqi_meta`:

* the column must hold one value on every row, in the form deidentify writes;
* a database takes the fingerprint of the first file that has one;
* after that, a file with another fingerprint is refused, and so is a file without one
  (it was not made by deidentify with the database's key);
* a database that never saw a fingerprint (files pseudonymised elsewhere) takes files
  without one as before.

The column is not row data: it is never loaded into `visits` or `complications`.
"""

from __future__ import annotations

import re

import duckdb

from analytics.deidentify.keys import FINGERPRINT_PATTERN
from analytics.errors import FileFault
from analytics.ingest.contract import KEY_FINGERPRINT
from analytics.ingest.readers import RawTable

META_KEY = "key_fingerprint"
COLUMN = KEY_FINGERPRINT.name


def file_fingerprint(raw: RawTable) -> str | None:
    """The file's fingerprint (None without the column); refuses a column that is not
    one fingerprint on every row. One scan of the column, set-based."""
    if COLUMN not in raw.columns:
        return None
    con = duckdb.connect()
    try:
        con.register("fp_file", raw.data.select([COLUMN]))
        distinct, empty, value = con.execute(
            f"""SELECT count(DISTINCT NULLIF(trim({COLUMN}), '')),
                       count(*) FILTER (WHERE NULLIF(trim({COLUMN}), '') IS NULL),
                       min(trim({COLUMN}))
                FROM fp_file"""
        ).fetchall()[0]
    finally:
        con.close()
    label = raw.path.name
    if distinct == 0:
        return None
    if distinct > 1 or empty:
        raise FileFault(
            label,
            "the key fingerprint is not the same on every row (rows made with different keys,"
            " or edited); make the file again with `pumpqi deidentify` and one key",
            COLUMN,
        )
    if not re.fullmatch(FINGERPRINT_PATTERN, str(value)):
        raise FileFault(
            label,
            "not a key fingerprint written by `pumpqi deidentify`; make the file again with it",
            COLUMN,
        )
    return str(value)


def check_same_key(fingerprints: dict[str, tuple[str, str | None]]) -> None:
    """Files of one ingest or validation (table -> (file name, fingerprint)) made with two
    different keys are refused."""
    seen = [(label, fp) for label, fp in fingerprints.values() if fp is not None]
    for label, fp in seen[1:]:
        if fp != seen[0][1]:
            raise FileFault(
                label,
                f"made with another key than {seen[0][0]} (the key fingerprints differ);"
                " deidentify both exports with the same key file",
                COLUMN,
            )


def check_and_store(
    con: duckdb.DuckDBPyConnection, fingerprints: dict[str, tuple[str, str | None]]
) -> None:
    """Compare the files' fingerprints with the database's (on the writer's connection, in
    its transaction) and keep the first one seen; see the module docstring."""
    check_same_key(fingerprints)
    row = con.execute("SELECT value FROM pumpqi_meta WHERE key = ?", [META_KEY]).fetchall()
    stored = str(row[0][0]) if row else None
    for label, fp in fingerprints.values():
        if stored is None:
            continue
        if fp is None:
            raise FileFault(
                label,
                "has no key fingerprint, but this database holds files made by"
                " `pumpqi deidentify` with a key; make this file with deidentify and the same"
                " key file, so that its pseudonyms match",
            )
        if fp != stored:
            raise FileFault(
                label,
                f"made with another key than this database's files (key fingerprint {fp},"
                f" the database's is {stored}): its pseudonyms would not match; deidentify the"
                " export again with the key file used before",
                COLUMN,
            )
    new = next((fp for _, fp in fingerprints.values() if fp is not None), None)
    if stored is None and new is not None:
        con.execute("INSERT INTO pumpqi_meta VALUES (?, ?)", [META_KEY, new])

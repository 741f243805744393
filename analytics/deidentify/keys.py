"""The secret key of `pumpqi deidentify`: keyed pseudonyms and per-patient date offsets.

A pseudonym is HMAC-SHA256(key, "pumpqi:<kind>:" + raw value), hex, truncated to
16 characters and prefixed (`p_` for patients). The same key gives the same
pseudonym every month; without the key the raw value cannot be recomputed from it
(45 CFR 164.514(c): the code is not derived from the person's information alone).
The date offset (-180..-1 days) uses another derivation ("pumpqi:date_shift:") of
the same key.

The key is never printed, logged or written anywhere but its own file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analytics.errors import PumpqiError

KEY_BYTES = 32
PSEUDONYM_HEX_CHARS = 16
MAX_SHIFT_DAYS = 180

PREFIXES: dict[str, str] = {
    "patient": "p_",
    "visit": "v_",
    "report": "r_",
    "clinician": "cl_",
}
"""Kinds of pseudonym and their readable prefixes."""

_HEX_KEY = re.compile(rb"(?:[0-9a-fA-F]{2}){%d,}" % KEY_BYTES)


def new_key_file(path: Path) -> None:
    """Create a key file of 32 random bytes (as 64 hex characters), mode 0600.

    Refuses to overwrite an existing file: a lost or replaced key breaks the
    month-to-month linkage of every pseudonym made with it.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PumpqiError(
            f"{path}: the key file already exists; it is never overwritten"
            " (choose another name, or keep using this key)"
        ) from None
    except OSError as exc:
        raise PumpqiError(f"{path}: cannot create the key file ({exc.strerror})") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, secrets.token_bytes(KEY_BYTES).hex().encode("ascii") + b"\n")
    finally:
        os.close(fd)


def load_key(path: Path) -> bytes:
    """Read a key file made by `--new-key` (or any file of at least 32 bytes)."""
    if not path.exists():
        raise PumpqiError(
            f"{path}: key file not found; create one once with"
            f" `pumpqi deidentify --new-key {path}` and keep it for every month"
        )
    if not path.is_file():
        raise PumpqiError(f"{path}: the key file is not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PumpqiError(f"{path}: cannot read the key file ({exc.strerror})") from None
    text = data.strip()
    if _HEX_KEY.fullmatch(text):
        return bytes.fromhex(text.decode("ascii"))
    if len(data) >= KEY_BYTES:
        return data
    raise PumpqiError(
        f"{path}: not a pumpqi key (expected 64 hex characters);"
        " create one with `pumpqi deidentify --new-key FILE`"
    )


def key_file_is_private(path: Path) -> bool:
    """True when neither group nor others may read the key file."""
    return not (path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


@dataclass(frozen=True)
class Keyed:
    """Keyed derivations from raw identifiers. Holds the key; never print it."""

    key: bytes = field(repr=False)

    def _digest(self, kind: str, raw: str) -> bytes:
        msg = f"pumpqi:{kind}:".encode() + raw.encode("utf-8")
        return hmac.new(self.key, msg, hashlib.sha256).digest()

    def pseudonym(self, kind: str, raw: str) -> str:
        """`p_` + 16 hex characters for kind "patient" (see PREFIXES)."""
        return PREFIXES[kind] + self._digest(kind, raw).hex()[:PSEUDONYM_HEX_CHARS]

    def date_offset(self, raw_patient_id: str) -> int:
        """Days in -180..-1, fixed for one patient and key.

        Never 0, and never forward: a recent visit moved into the future would be
        quarantined by ingest ("date after today"). REDCap likewise shifts backwards only.
        """
        n = int.from_bytes(self._digest("date_shift", raw_patient_id)[:8], "big")
        return -(n % MAX_SHIFT_DAYS) - 1

    def pseudonymise(self, values: pd.Series, kind: str) -> pd.Series:
        """Pseudonyms for a column of raw ids; empty cells stay empty.

        The HMAC runs once per distinct id, not once per row.
        """
        raw = values.fillna("").astype(str).str.strip()
        mapping = {v: (self.pseudonym(kind, v) if v else "") for v in raw.unique()}
        return raw.map(mapping).astype(object)

    def offsets(self, raw_patient_ids: pd.Series) -> pd.Series:
        """Per-row day offsets (float, NaN where the patient id is empty)."""
        raw = raw_patient_ids.fillna("").astype(str).str.strip()
        mapping = {v: (float(self.date_offset(v)) if v else float("nan")) for v in raw.unique()}
        return raw.map(mapping).astype(float)

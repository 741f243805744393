"""The secret key of `pumpqi deidentify`: keyed pseudonyms and per-patient date offsets.

A pseudonym is HMAC-SHA256(key, "pumpqi:<kind>:" + raw value), hex, truncated to
16 characters and prefixed (`p_` for patients). The same key gives the same
pseudonym every month; without the key the raw value cannot be recomputed from it
(45 CFR 164.514(c): the code is not derived from the person's information alone).
The date offset (-180..-1 days) uses another derivation ("pumpqi:date_shift:") of
the same key.

The key file is one line, `pumpqi-key-v1:` and 64 hex characters, readable by its owner
only; a key that is not random (one byte repeated, a pattern) is refused. The key is
never printed, logged or written anywhere but its own file; its *fingerprint* (a keyed
hash, `kf_` + 16 hex) travels with the files deidentify writes.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
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
KEY_MARKER = "pumpqi-key-v1:"
"""A key file is one line: this marker and 64 hex characters (32 random bytes)."""
MAX_KEY_FILE_BYTES = 256
MIN_DISTINCT_BYTES = 16
"""32 random bytes hold about 30 distinct values; fewer than 16 is a made-up key."""
MIN_DISTINCT_STEPS = 8
"""...and about 29 distinct steps from one byte to the next; fewer is a pattern (00 01 02 ...)."""
FINGERPRINT_PREFIX = "kf_"
FINGERPRINT_HEX_CHARS = 16
FINGERPRINT_PATTERN = r"kf_[0-9a-f]{16}"

PREFIXES: dict[str, str] = {
    "patient": "p_",
    "visit": "v_",
    "report": "r_",
    "clinician": "cl_",
}
"""Kinds of pseudonym and their readable prefixes."""

_HEX = "[0-9a-fA-F]{" + str(2 * KEY_BYTES) + "}"
_KEY_LINE = re.compile(re.escape(KEY_MARKER) + "(" + _HEX + ")")
_LEGACY_KEY_LINE = re.compile(_HEX)
_NEW_KEY_HINT = "create one once with `pumpqi deidentify --new-key FILE` and keep it"


def new_key_file(path: Path) -> None:
    """Create a key file (the marker and 32 random bytes as hex), mode 0600.

    Refuses to overwrite an existing file: a lost or replaced key breaks the
    month-to-month linkage of every pseudonym made with it.
    """
    key = secrets.token_bytes(KEY_BYTES)
    while weak_key_reason(key) is not None:  # practically never: 1 draw in far more than 2^100
        key = secrets.token_bytes(KEY_BYTES)
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
        os.write(fd, (KEY_MARKER + key.hex() + "\n").encode("ascii"))
    finally:
        os.close(fd)


def weak_key_reason(key: bytes) -> str | None:
    """Why a key is too regular to be random (None when it looks random): one byte
    repeated, too few distinct bytes, or a regular pattern such as 00 01 02 ..."""
    if len(set(key)) == 1:
        return "every byte is the same"
    if len(set(key)) < MIN_DISTINCT_BYTES:
        return f"only {len(set(key))} distinct bytes"
    steps = {(b - a) % 256 for a, b in itertools.pairwise(key)}
    if len(steps) < MIN_DISTINCT_STEPS:
        return "a regular pattern"
    return None


def load_key(path: Path) -> bytes:
    """Read a key file made by `--new-key`: private to its owner, the marker line, random.

    A bare line of 64 hex characters (what `--new-key` wrote before the marker) is read
    too, so that keys made earlier keep their pseudonyms. Anything else is refused with
    a one-line message that never quotes the file.
    """
    if not path.exists():
        raise PumpqiError(
            f"{path}: key file not found; create one once with"
            f" `pumpqi deidentify --new-key {path}` and keep it for every month"
        )
    if not path.is_file():
        raise PumpqiError(f"{path}: the key file is not a regular file")
    if not key_file_is_private(path):
        raise PumpqiError(
            f"{path}: the key file can be read or changed by other users; make it private"
            f" with `chmod 600 {path}` and run again"
        )
    try:
        size = path.stat().st_size
        data = path.read_bytes() if size <= MAX_KEY_FILE_BYTES else b""
    except OSError as exc:
        raise PumpqiError(f"{path}: cannot read the key file ({exc.strerror})") from None
    key = _parse_key(data)
    if key is None:
        raise PumpqiError(
            f"{path}: not a pumpqi key file (one line `{KEY_MARKER}` and 64 hex characters"
            f" is expected); {_NEW_KEY_HINT}"
        )
    weak = weak_key_reason(key)
    if weak is not None:
        raise PumpqiError(
            f"{path}: this key is not random ({weak}): its pseudonyms could be reversed;"
            f" {_NEW_KEY_HINT}"
        )
    return key


def _parse_key(data: bytes) -> bytes | None:
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if m := _KEY_LINE.fullmatch(text):
        return bytes.fromhex(m.group(1))
    if _LEGACY_KEY_LINE.fullmatch(text):
        return bytes.fromhex(text)
    return None


def key_file_is_private(path: Path) -> bool:
    """True when neither group nor others have any permission on the key file."""
    return not (path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def key_fingerprint(key: bytes) -> str:
    """`kf_` + 16 hex characters of a keyed hash: names the key without revealing it.

    Written into every file deidentify makes, so that ingest can tell whether two files
    were made with the same key (same fingerprint) without the key itself.
    """
    digest = hmac.new(key, b"pumpqi:key_fingerprint", hashlib.sha256).hexdigest()
    return FINGERPRINT_PREFIX + digest[:FINGERPRINT_HEX_CHARS]


@dataclass(frozen=True)
class Keyed:
    """Keyed derivations from raw identifiers. Holds the key; never print it."""

    key: bytes = field(repr=False)

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.key)

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

"""Pseudonym keys: only the `--new-key` format, random, private; the key fingerprint that
travels with deidentify's files and stops ingest from mixing keys; patient ids normalised
before hashing (one patient typed four ways is one pseudonym)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from analytics.cli.commands import main
from analytics.deidentify.core import Options, deidentify
from analytics.deidentify.keys import (
    KEY_MARKER,
    Keyed,
    key_fingerprint,
    load_key,
    new_key_file,
    weak_key_reason,
)
from analytics.deidentify.transforms import normalise_id
from analytics.errors import PumpqiError
from analytics.ingest.load import ingest_files, validate_files
from analytics.store import reader
from tests.conftest import write_csv

RAW_HEADER = ["MRN", "Refill Date", "Visit Type", "Reservoir Volume", "Volume Added"]
RAW_ROWS: list[list[object]] = [
    ["AB7919X", "2024-01-05", "implant", 20, 20],
    [" ab7919x ", "2024-02-05", "refill", 20, 19],
    ["AB\u200b7919X", "2024-03-05", "refill", 20, 18],
    ["ＡＢ７９１９Ｘ", "2024-04-05", "refill", 20, 17],
    ["1000000", "2024-01-10", "implant", 40, 40],
    ["1000000.0", "2024-02-10", "refill", 40, 39],
    ["\u00a01000000\u2060", "2024-03-10", "refill", 40, 38],
]


def invoke(args: Sequence[str]) -> Result:
    return CliRunner().invoke(main, list(args))


def printed(result: Result) -> str:
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


def key_text(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.key"
    new_key_file(path)
    return path


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "export.csv", RAW_HEADER, RAW_ROWS)


# --- the key file --------------------------------------------------------------------


def test_new_key_has_the_marker_and_is_private(key: Path) -> None:
    text = key.read_text()
    assert text.startswith(KEY_MARKER) and len(text.strip()) == len(KEY_MARKER) + 64
    assert (key.stat().st_mode & 0o777) == 0o600
    assert len(load_key(key)) == 32


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("a" * 32 + "\n", "not a pumpqi key file"),  # any 32 bytes were a key before
        ("MRN,Refill Date\n0012345,2024-01-05\n" * 3, "not a pumpqi key file"),
        (KEY_MARKER + "00" * 32 + "\n", "every byte is the same"),
        (KEY_MARKER + "61" * 32 + "\n", "every byte is the same"),
        (KEY_MARKER + "0102030405060708" * 4 + "\n", "distinct bytes"),
        (KEY_MARKER + bytes(range(32)).hex() + "\n", "a regular pattern"),
        (KEY_MARKER + "abcd" * 15 + "\n", "not a pumpqi key file"),  # too short
    ],
)
def test_bad_or_weak_keys_are_refused(tmp_path: Path, raw: Path, content: str, words: str) -> None:
    path = key_text(tmp_path / "k.key", content)
    out = tmp_path / "o.csv"
    result = invoke(["deidentify", str(raw), "--key-file", str(path), "--out", str(out)])
    assert result.exit_code == 2, printed(result)
    shown = printed(result)
    assert words in shown and "--new-key" in shown and result.stderr.count("\n") == 1
    assert "0012345" not in shown and content.strip()[-20:] not in shown
    assert not out.exists()


@pytest.mark.parametrize("mode", [0o640, 0o644, 0o604, 0o660])
def test_key_readable_by_others_is_refused(tmp_path: Path, raw: Path, key: Path, mode: int) -> None:
    key.chmod(mode)
    out = tmp_path / "o.csv"
    result = invoke(["deidentify", str(raw), "--key-file", str(key), "--out", str(out)])
    assert result.exit_code == 2
    assert f"chmod 600 {key}" in printed(result)
    assert not out.exists()


def test_a_key_made_before_the_marker_still_works(tmp_path: Path) -> None:
    """A bare line of 64 hex characters (what --new-key wrote before) gives the same key."""
    new = tmp_path / "new.key"
    new_key_file(new)
    hex_key = load_key(new).hex()
    old = key_text(tmp_path / "old.key", hex_key + "\n")
    assert load_key(old) == load_key(new)


def test_random_keys_pass_the_weakness_check() -> None:
    assert all(weak_key_reason(secrets.token_bytes(32)) is None for _ in range(2000))


@given(st.lists(st.integers(0, 255), min_size=32, max_size=32, unique=False).filter(
    lambda b: len(set(b)) < 16))  # fmt: skip
def test_keys_with_few_distinct_bytes_are_weak(values: list[int]) -> None:
    assert weak_key_reason(bytes(values)) is not None


# --- the fingerprint -----------------------------------------------------------------


def test_fingerprint_names_the_key_without_revealing_it(tmp_path: Path) -> None:
    a, b = tmp_path / "a.key", tmp_path / "b.key"
    new_key_file(a)
    new_key_file(b)
    ka, kb = load_key(a), load_key(b)
    fa = key_fingerprint(ka)
    assert fa == key_fingerprint(load_key(a)) == Keyed(ka).fingerprint
    assert fa != key_fingerprint(kb)
    assert fa.startswith("kf_") and len(fa) == 19
    assert ka.hex()[:16] not in fa and fa[3:] not in ka.hex()
    assert fa[3:] != hashlib.sha256(ka).hexdigest()[:16]  # keyed, not a plain hash


def test_deidentify_writes_the_fingerprint_on_every_row(
    tmp_path: Path, key: Path, raw: Path
) -> None:
    out = tmp_path / "visits.csv"
    summary = deidentify(Options(raw, key, out))
    df = pd.read_csv(out, dtype=str)
    assert set(df["key_fingerprint"]) == {key_fingerprint(load_key(key))}
    assert any(key_fingerprint(load_key(key)) in line for line in summary.lines())


def _visits(tmp_path: Path, key: Path, name: str, rows: list[list[object]] = RAW_ROWS) -> Path:
    src = write_csv(tmp_path / f"{name}-export.csv", RAW_HEADER, rows)
    out = tmp_path / f"{name}.csv"
    deidentify(Options(src, key, out))
    return out


def _meta(db: Path) -> dict[str, str]:
    with reader(db) as con:
        return dict(con.execute("SELECT key, value FROM pumpqi_meta").fetchall())


def test_ingest_keeps_the_fingerprint_and_refuses_another_key(tmp_path: Path, key: Path) -> None:
    db = tmp_path / "pumps.duckdb"
    first = _visits(tmp_path, key, "jan", RAW_ROWS[:4])
    ingest_files(db, first)
    fp = key_fingerprint(load_key(key))
    assert _meta(db)["key_fingerprint"] == fp
    with reader(db) as con:
        columns = {r[0] for r in con.execute("DESCRIBE visits").fetchall()}
    assert "key_fingerprint" not in columns  # per file, never row data
    before = db.read_bytes()
    other = tmp_path / "other.key"
    new_key_file(other)
    feb = _visits(tmp_path, other, "feb", RAW_ROWS[4:])
    result = invoke(["ingest", "--db", str(db), str(feb), "--quiet"])
    assert result.exit_code == 2
    shown = printed(result)
    assert "feb.csv, column 'key_fingerprint': made with another key" in shown
    assert result.stderr.count("\n") == 1 and load_key(other).hex() not in shown
    assert db.read_bytes() == before
    # the same key next month is fine
    same = _visits(tmp_path, key, "feb-same", RAW_ROWS[4:])
    assert ingest_files(db, same)[0].rows_loaded == 3


def test_file_without_fingerprint_into_a_keyed_database_is_refused(
    tmp_path: Path, key: Path
) -> None:
    db = tmp_path / "pumps.duckdb"
    ingest_files(db, _visits(tmp_path, key, "jan", RAW_ROWS[:4]))
    bare = tmp_path / "bare.csv"
    pd.read_csv(_visits(tmp_path, key, "feb", RAW_ROWS[4:]), dtype=str).drop(
        columns="key_fingerprint"
    ).to_csv(bare, index=False)
    result = invoke(["ingest", "--db", str(db), str(bare)])
    assert result.exit_code == 2 and "has no key fingerprint" in printed(result)


def test_database_without_fingerprint_keeps_taking_files_without_one(tmp_path: Path) -> None:
    header = ["patient_id", "visit_date", "visit_type"]
    db = tmp_path / "pumps.duckdb"
    a = write_csv(tmp_path / "a.csv", header, [["p_0a1b", "2024-01-05", "implant"]])
    b = write_csv(tmp_path / "b.csv", header, [["p_0a1b", "2024-02-05", "refill"]])
    ingest_files(db, a)
    ingest_files(db, b)
    assert "key_fingerprint" not in _meta(db)


def test_mixed_or_malformed_fingerprints_refuse_the_file(tmp_path: Path, key: Path) -> None:
    path = _visits(tmp_path, key, "jan")
    df = pd.read_csv(path, dtype=str)
    other = tmp_path / "o.key"
    new_key_file(other)
    cases = {
        "mixed": df.assign(key_fingerprint=[key_fingerprint(load_key(other))] + list(df["key_fingerprint"][1:])),
        "gap": df.assign(key_fingerprint=[""] + list(df["key_fingerprint"][1:])),
        "made-up": df.assign(key_fingerprint="my key"),
    }  # fmt: skip
    for name, frame in cases.items():
        bad = tmp_path / f"{name}.csv"
        frame.to_csv(bad, index=False)
        result = invoke(["validate", str(bad)])
        assert result.exit_code == 2, (name, printed(result))
        assert f"{name}.csv, column 'key_fingerprint'" in printed(result)


def test_visits_and_complications_made_with_two_keys(tmp_path: Path, key: Path) -> None:
    visits = _visits(tmp_path, key, "visits")
    other = tmp_path / "o.key"
    new_key_file(other)
    src = write_csv(tmp_path / "c-export.csv", ["MRN", "Complication Date", "Complication"],
                    [["AB7919X", "2024-02-01", "pocket_fill"]])  # fmt: skip
    compl = tmp_path / "complications.csv"
    deidentify(Options(src, other, compl, table="complications"))
    with pytest.raises(PumpqiError, match="made with another key than visits.csv"):
        validate_files(visits, compl)


# --- normalised ids ------------------------------------------------------------------


def test_one_patient_typed_four_ways_is_one_pseudonym(tmp_path: Path, key: Path) -> None:
    out = _visits(tmp_path, key, "visits")
    ids = pd.read_csv(out, dtype=str)["patient_id"].tolist()
    assert len(set(ids[:4])) == 1 and len(set(ids[4:])) == 1 and ids[0] != ids[4]
    k = Keyed(load_key(key))
    assert ids[0] == k.pseudonym("patient", "ab7919x")
    assert ids[4] == k.pseudonym("patient", "1000000")
    results, faults = validate_files(out)
    assert len(faults) == 0 and results[0].rows_loaded == 7


def test_shifted_dates_use_the_normalised_id(tmp_path: Path, key: Path, raw: Path) -> None:
    out = tmp_path / "v.csv"
    deidentify(Options(raw, key, out, shift_dates=True))
    shifted = pd.to_datetime(pd.read_csv(out, dtype=str)["visit_date"])
    given_dates = pd.to_datetime(pd.Series([r[1] for r in RAW_ROWS]))
    offsets = (shifted - given_dates).dt.days
    assert offsets[:4].nunique() == 1 and offsets[4:].nunique() == 1


def test_excel_number_and_text_are_one_patient(tmp_path: Path, key: Path) -> None:
    src = tmp_path / "export.xlsx"
    pd.DataFrame({
        "MRN": [1000000, "1000000.0", "1000000"],
        "Refill Date": [dt.datetime(2024, 1, 5), dt.datetime(2024, 2, 5), dt.datetime(2024, 3, 5)],
        "Visit Type": ["implant", "refill", "refill"],
    }).to_excel(src, index=False)  # fmt: skip
    out = tmp_path / "v.csv"
    deidentify(Options(src, key, out))
    assert pd.read_csv(out, dtype=str)["patient_id"].nunique() == 1


def test_the_map_may_turn_normalising_off(tmp_path: Path, key: Path, raw: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text("[normalise]\npatient_id = false\n")
    out = tmp_path / "v.csv"
    summary = deidentify(Options(raw, key, out, mapping=mapping))
    ids = pd.read_csv(out, dtype=str)["patient_id"].tolist()
    assert len(set(ids[:4])) == 4  # four spellings, four pseudonyms (trimmed only)
    assert "normalised" not in " ".join(summary.transformed)
    mapping.write_text("[normalise]\nsite = true\n")
    with pytest.raises(PumpqiError, match=r"\[normalise\]"):
        deidentify(Options(raw, key, tmp_path / "w.csv", mapping=mapping))


_INVISIBLE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", " ", "\u00a0",
                              "\u3000", "\t"])  # fmt: skip


@given(
    st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=12),
    st.lists(st.tuples(st.integers(0, 12), _INVISIBLE), max_size=4),
    st.booleans(),
)
def test_normalising_ignores_case_spaces_and_invisible_characters(
    mrn: str, inserts: list[tuple[int, str]], upper: bool
) -> None:
    typed = mrn.upper() if upper else mrn.lower()
    for pos, ch in inserts:
        typed = typed[:pos] + ch + typed[pos:]
    assert normalise_id(typed) == normalise_id(mrn) == mrn.casefold()
    assert normalise_id(normalise_id(typed)) == normalise_id(typed)


def test_key_is_never_echoed_by_a_failing_run(tmp_path: Path, key: Path) -> None:
    """A refused export (unmapped column) never prints the key."""
    src = write_csv(tmp_path / "e.csv", ["MRN", "Refill Date", "Visit Type", "Odd"],
                    [["AB7919X", "2024-01-05", "implant", "x"]])  # fmt: skip
    result = invoke(
        ["deidentify", str(src), "--key-file", str(key), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2 and "unmapped column(s): odd" in printed(result)
    assert load_key(key).hex() not in printed(result) and not (tmp_path / "o.csv").exists()

"""Assemble the contract tables from the simulated arrays: window, order, ids, columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.ingest.contract import ACTIONS, INDICATIONS, SEVERITIES, VISIT_TYPES
from analytics.synth import params as P
from analytics.synth.events import CODES, VT, Window
from analytics.synth.patients import NEVER, Patients
from analytics.synth.refills import REFILL, REPLACEMENT, FillLog

EPOCH = np.datetime64("1970-01-01", "D")
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_IND = np.array([INDICATIONS.index(i) for i in P.INDICATIONS])  # params order -> contract


def hex_ids(prefix: str, index: np.ndarray, salt: int, width: int = 10) -> pa.Array:
    """Unique `prefix` + hex ids: a bijection of 0..n-1 on 4*width bits (vectorised)."""
    bits = 4 * width
    mask = np.uint64((1 << bits) - 1)
    x = index.astype(np.uint64)
    x = (x * np.uint64(0x9E3779B97F4A7C15 & ((1 << bits) - 1) | 1) + np.uint64(salt)) & mask
    x ^= x >> np.uint64(bits // 2)
    x = (x * np.uint64(0xBF58476D1CE4E5B9 & ((1 << bits) - 1) | 1)) & mask
    n, w = len(x), width + len(prefix)
    buf = np.empty((n, w), dtype=np.uint8)
    buf[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    for j in range(width):
        buf[:, len(prefix) + j] = _HEX[((x >> np.uint64(4 * (width - 1 - j))) & np.uint64(15))]
    offsets = np.arange(0, w * (n + 1), w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))


def _dict(codes: np.ndarray, names: tuple[str, ...] | np.ndarray) -> pa.Array:
    idx = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(idx, pa.array(list(names), pa.string()))


def _date(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), type=pa.date32(), mask=days >= NEVER)


def _num(x: np.ndarray) -> pa.Array:
    return pa.array(x, type=pa.float64(), from_pandas=True)


def first_refill(pat: Patients, fills: dict[str, np.ndarray], win: Window) -> np.ndarray:
    """Per patient: the first refill in the window (where a left-truncated log starts)."""
    first = np.full(len(pat.ids), NEVER)
    m = (fills["date"] >= win.start) & (fills["ftype"] == REFILL)
    np.minimum.at(first, fills["c"][m], fills["date"][m])
    return first


def visit_arrays(
    pat: Patients, log: FillLog, trials: dict[str, np.ndarray], others: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """All visits in the global order trials, fills, reprograms, others (with their columns)."""
    f, r = log.fills, log.reprograms
    parts = (trials, f, r, others)
    n = [len(p["c"]) for p in parts]
    out = {
        "c": np.concatenate([p["c"] for p in parts]),
        "date": np.concatenate([p["date"] for p in parts]),
        "vtype": np.concatenate(
            [trials["vtype"], np.full(n[1], -1), np.full(n[2], VT["reprogram"]), others["vtype"]]
        ),
    }
    ftype_code = np.array([-1, VT["implant"], VT["refill"], VT["replacement"]])[f["ftype"]]
    out["vtype"][n[0] : n[0] + n[1]] = ftype_code
    total, a, b = sum(n), n[0], n[0] + n[1]
    for name in ("dose", "rate", "vol", "expected", "actual", "alarm", "conc", "reservoir"):
        out[name] = np.full(total, np.nan)
    for name in ("model", "drug", "ind"):
        out[name] = np.full(total, -1, dtype=np.int64)
    out["due"] = np.full(total, NEVER)
    fc = f["c"]
    for name, val in (("dose", f["dose"]), ("rate", f["rate"]), ("vol", f["vol"]), ("expected", f["expected"]), ("actual", f["actual"]), ("alarm", pat.alarm[fc]), ("conc", f["conc"]), ("reservoir", pat.reservoir[fc]), ("model", pat.model[fc]), ("drug", pat.drug[fc]), ("ind", _IND[pat.ind[fc]]), ("due", f["due_rec"])):  # fmt: skip
        out[name][a:b] = val
    out["dose"][b : b + n[2]], out["rate"][b : b + n[2]], out["due"][b : b + n[2]] = (
        r["dose"],
        r["rate"],
        r["due_rec"],
    )
    out["drug"][:a], out["ind"][:a] = pat.drug[trials["c"]], _IND[pat.ind[trials["c"]]]
    return out


def keep_visits(
    pat: Patients, v: dict[str, np.ndarray], first_refill: np.ndarray, win: Window
) -> np.ndarray:
    """Visits inside the window; a left-truncated log starts at its first refill there."""
    c, d = v["c"], v["date"]
    keep = (d >= win.start) & (d <= win.end)
    return keep & ~(pat.left[c] & (d < first_refill[c]))


def keep_reports(
    pat: Patients, r: dict[str, np.ndarray], first_refill: np.ndarray, win: Window
) -> np.ndarray:
    c, d = r["c"], r["date"]
    keep = (d >= win.start) & (d <= win.end)
    keep &= ~pat.has_chain[c] | (d <= pat.end[c])
    return keep & ~(pat.left[c] & (d < first_refill[c]))


_SURGICAL = np.array([VT[t] for t in ("implant", "replacement", "revision", "explant")])


def _clinicians(
    rng: np.random.Generator, pat: Patients, c: np.ndarray, vtype: np.ndarray
) -> np.ndarray:
    """The patient's clinician mostly, another of the site sometimes; the patient's
    surgeon (one of the site's first few clinicians) at every operation."""
    own = rng.random(len(c)) < P.PRIMARY_CLINICIAN_P
    other = pat.site[c] * P.CLINICIANS_PER_SITE + rng.integers(0, P.CLINICIANS_PER_SITE, len(c))
    return np.where(
        np.isin(vtype, _SURGICAL), pat.surgeon[c], np.where(own, pat.clinician[c], other)
    )


def pump_implant_dates(
    pat: Patients, fills: dict[str, np.ndarray], c: np.ndarray, date: np.ndarray
) -> pa.Array:
    """Per visit, the implant date of the pump in place, for patients whose records carry
    it (a pump implanted before the data; after a replacement, the replacement's date).
    A pre-data pump of some patients is written as a year-month only."""
    rec = np.flatnonzero(pat.implant_recorded)
    repl = (fills["ftype"] == REPLACEMENT) & pat.implant_recorded[fills["c"]]
    ec = np.concatenate([rec, fills["c"][repl]])
    ed = np.concatenate([pat.pump_implant[rec], fills["date"][repl]])
    month = np.concatenate([pat.implant_month_only[rec], np.zeros(int(repl.sum()), dtype=bool)])
    order = np.lexsort((ed, ec))
    ec, ed, month = ec[order], ed[order], month[order]
    shift = np.int64(1 << 24)  # days since 1970 (+ 2^23 for earlier ones) fit in 24 bits
    pos = np.searchsorted(ec * shift + ed + shift // 2, c * shift + date + shift // 2, "right") - 1
    at = np.maximum(pos, 0)
    found = (pos >= 0) & (ec[at] == c) if len(ec) else np.zeros(len(c), dtype=bool)
    days = EPOCH + ed
    text = np.where(
        month, np.datetime_as_string(days, unit="M"), np.datetime_as_string(days, unit="D")
    )
    names, code = np.unique(text, return_inverse=True)  # one string per distinct date
    return _dict(np.where(found, code.reshape(-1)[at] if len(ec) else -1, -1), names)


def _pain(rng: np.random.Generator, pat: Patients, c: np.ndarray, vtype: np.ndarray) -> np.ndarray:
    """NRS 0-10 for pain patients: ~7-9 at trial, a personal 3-6 level on therapy."""
    level = 3.0 + (np.arange(len(pat.ids)) * 0.6180339887 % 1.0) * 3.0
    at = np.isin(vtype, [VT[t] for t in ("trial", "refill", "follow_up", "unscheduled", "implant")])
    pain_pt = np.isin(pat.ind[c], P.PAIN_INDICATIONS)
    rec = at & pain_pt & (rng.random(len(c)) < P.PAIN_RECORDED_P)
    base = np.where(vtype == VT["trial"], 8.0, level[c])
    score = np.clip(np.round(base + rng.normal(0, 1.2, len(c))), 0, 10)
    return np.where(rec, score, -1).astype(np.int64)


def visits_table(
    rng: np.random.Generator,
    pat: Patients,
    v: dict[str, np.ndarray],
    rank: np.ndarray,
    sites: tuple[str, ...],
    salt: int,
    implant_dates: pa.Array,
) -> pa.Table:
    """The visits table in contract column order, sorted by patient, date, visit order."""
    c = v["c"]
    pain = _pain(rng, pat, c, v["vtype"])
    clin = _clinicians(rng, pat, c, v["vtype"])
    n_clin = len(sites) * P.CLINICIANS_PER_SITE
    clinicians = tuple(f"CL{i + 1:02d}" for i in range(n_clin))
    cols: dict[str, pa.Array] = {
        "patient_id": _dict(rank[c], np.sort(pat.ids)),
        "visit_date": _date(v["date"]),
        "visit_type": _dict(v["vtype"], VISIT_TYPES),
        "visit_id": hex_ids("V", np.arange(len(c)), salt=salt),
        "site": _dict(pat.site[c], sites),
        "clinician": _dict(clin, clinicians),
        "pump_model": _dict(v["model"], P.PUMP_MODELS),
        "reservoir_ml": _num(v["reservoir"]),
        "drug": _dict(v["drug"], P.DRUG_NAMES),
        "concentration_mg_ml": _num(v["conc"]),
        "daily_dose_mg": _num(v["dose"]),
        "daily_rate_ml": _num(v["rate"]),
        "volume_added_ml": _num(v["vol"]),
        "expected_residual_ml": _num(v["expected"]),
        "actual_residual_ml": _num(v["actual"]),
        "alarm_ml": _num(v["alarm"]),
        "next_refill_due": _date(v["due"]),
        "indication": _dict(v["ind"], INDICATIONS),
        "pain_nrs": pa.array(pain.astype(np.int8), mask=pain < 0),
        "pump_implant_date": implant_dates,
    }
    return pa.table(cols)


def reports_table(
    pat: Patients,
    r: dict[str, np.ndarray],
    graded: dict[str, np.ndarray],
    visit_ids: pa.Array,
    rank: np.ndarray,
    sites: tuple[str, ...],
    salt: int,
) -> pa.Table:
    """The complications table in contract column order (already sorted)."""
    c, link = r["c"], r["link"]
    linked = pa.array(np.where(link >= 0, link, 0)).cast(pa.int64())
    vid = visit_ids.take(linked) if len(visit_ids) else pa.nulls(len(c), pa.string())
    vid = pa.compute.if_else(pa.array(link >= 0), vid, pa.scalar(None, pa.string()))
    return pa.table(
        {
            "patient_id": _dict(rank[c], np.sort(pat.ids)),
            "report_date": _date(r["date"]),
            "complication": _dict(r["code"], CODES),
            "report_id": hex_ids("R", np.arange(len(c)), salt=salt),
            "visit_id": vid,
            "site": _dict(pat.site[c], sites),
            "severity": _dict(graded["severity"], SEVERITIES),
            "serious": pa.array(graded["serious"]),
            "action": _dict(graded["action"], ACTIONS),
        }
    )


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas: categories stay categorical, dates become datetime64."""
    df = table.to_pandas(date_as_object=False)
    if "pain_nrs" in df:
        df["pain_nrs"] = df["pain_nrs"].astype("Int8")
    return df

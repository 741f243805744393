"""Procedure-anchored surgical outcomes: window edges, attribution, open windows,
Clopper-Pearson intervals, the SQL tied to the vocabulary, the CLI."""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.engine.complications import Period
from analytics.engine.intervals import clopper_pearson
from analytics.engine.surgical import SURGICAL_COLUMNS, procedure_list, surgical_outcomes
from analytics.errors import PumpqiError
from analytics.vocabulary import OUTCOME_WINDOWS, PROCEDURE_TYPES
from tests.engine_helpers import BASE, D, engine_db, implant, visit

SUP, DEEP = "superficial_30d", "deep_90d"


def report(rid: str, pid: str, date: str, code: str) -> dict[str, object]:
    return {"report_id": rid, "patient_id": pid, "report_date": date, "complication": code}


def _by_patient(con, as_of: str) -> pd.DataFrame:
    return procedure_list(con, D(as_of)).set_index("patient_id")


def test_window_edges_day_30_and_31_day_90_and_91() -> None:
    """Implants on 2024-01-01 (day 30 = 01-31, day 31 = 02-01, day 90 = 03-31, day 91 =
    04-01). a: seroma on day 30 (in). b: seroma on day 31 (out). c: infection_deep on day
    90 (in). d: infection_deep on day 91 (out). e: superficial infection on day 45: out
    of its 30 days (the 90-day window is for deep infection and meningitis only).
    f: meningitis on day 0 (in). Cut-off 2024-06-30: every window closed."""
    vis = [implant(p, "2024-01-01", **BASE) for p in "abcdef"]
    reports = [
        report("ra", "a", "2024-01-31", "seroma"),
        report("rb", "b", "2024-02-01", "seroma"),
        report("rc", "c", "2024-03-31", "infection_deep"),
        report("rd", "d", "2024-04-01", "infection_deep"),
        report("re", "e", "2024-02-15", "infection_superficial"),
        report("rf", "f", "2024-01-01", "meningitis"),
    ]
    with engine_db(vis, reports) as con:
        p = _by_patient(con, "2024-06-30")
        out = surgical_outcomes(con, D("2024-06-30"), period="all").set_index("outcome_window")
    assert p[SUP].to_dict() == dict(a=True, b=False, c=False, d=False, e=False, f=False)
    assert p[DEEP].to_dict() == dict(a=False, b=False, c=True, d=False, e=False, f=True)
    assert p.loc["a", f"{SUP}_report_id"] == "ra" and p.loc["c", f"{DEEP}_report_id"] == "rc"
    assert str(p.loc["a", f"{SUP}_end"])[:10] == "2024-01-31"
    assert str(p.loc["a", f"{DEEP}_end"])[:10] == "2024-03-31"
    sup, deep = out.loc[SUP], out.loc[DEEP]
    assert (sup.procedures, sup.with_outcome, sup.window_open) == (6, 1, 0)
    assert (deep.procedures, deep.with_outcome, deep.window_open) == (6, 2, 0)
    assert sup.rate_per_100 == pytest.approx(100 / 6)
    assert deep.rate_per_100 == pytest.approx(200 / 6)


def test_report_goes_to_the_latest_procedure_on_or_before_it() -> None:
    """Patient a: implant 2024-01-01, revision 2024-01-20. A hematoma on 02-10 (day 40
    after the implant, day 21 after the revision) belongs to the revision; an
    infection_deep on 03-20 (day 79 / day 60) too: the implant has no outcome. A seroma
    on 01-10 (before the revision) is the implant's. Patient b: replacement-day report:
    implant 2024-01-01 and a replacement on 2024-02-01 with a CSF leak the same day:
    the replacement's (day 0). Patient c: an implant and a revision on the same day are
    one procedure, of the type of the later (revision)."""
    vis = [
        implant("a", "2024-01-01", **BASE),
        visit("a", "2024-01-20", "revision"),
        implant("b", "2024-01-01", **BASE),
        visit("b", "2024-02-01", "replacement", **BASE),
        implant("c", "2024-01-05", **BASE),
        visit("c", "2024-01-05", "revision"),
    ]
    reports = [
        report("h", "a", "2024-02-10", "hematoma"),
        report("i", "a", "2024-03-20", "infection_deep"),
        report("s", "a", "2024-01-10", "seroma"),
        report("l", "b", "2024-02-01", "csf_leak"),
    ]
    with engine_db(vis, reports) as con:
        p = procedure_list(con, D("2024-12-31"))
        by_type = surgical_outcomes(con, D("2024-12-31"), "procedure_type", "all")
    p = p.set_index(["patient_id", "procedure_type"])
    assert len(p) == 5  # a: implant, revision; b: implant, replacement; c: revision
    assert p.loc[("a", "implant"), SUP] and p.loc[("a", "implant"), f"{SUP}_report_id"] == "s"
    assert not p.loc[("a", "implant"), DEEP]
    assert p.loc[("a", "revision"), f"{SUP}_report_id"] == "h"
    assert p.loc[("a", "revision"), f"{DEEP}_report_id"] == "i"
    assert not p.loc[("b", "implant"), SUP] and p.loc[("b", "replacement"), SUP]
    assert ("c", "implant") not in p.index and ("c", "revision") in p.index
    t = by_type.set_index(["group", "outcome_window"])
    assert (t.loc[("implant", SUP)].procedures, t.loc[("implant", SUP)].with_outcome) == (2, 1)
    assert (t.loc[("revision", DEEP)].procedures, t.loc[("revision", DEEP)].with_outcome) == (2, 1)
    assert t.loc[("replacement", SUP)].with_outcome == 1


def test_open_windows_are_counted_apart() -> None:
    """Cut-off 2024-03-31. Implant a on 2024-01-01: the 30-day window ended 01-31 and the
    90-day one ends 03-31 (= the cut-off: closed). Implant b on 2024-03-10: both windows
    open (30 days end 04-09), although a seroma was already reported (not in the rate). Implant c on
    2024-02-15: 30 days ended 03-16, 90 days open."""
    vis = [
        implant("a", "2024-01-01", **BASE),
        implant("b", "2024-03-10", **BASE),
        implant("c", "2024-02-15", **BASE),
    ]
    reports = [report("s", "b", "2024-03-15", "seroma")]
    with engine_db(vis, reports) as con:
        out = surgical_outcomes(con, D("2024-03-31"), period="all").set_index("outcome_window")
        monthly = surgical_outcomes(con, D("2024-03-31"))
    assert (out.loc[SUP].procedures, out.loc[SUP].with_outcome, out.loc[SUP].window_open) == (
        2,
        0,
        1,
    )
    assert (out.loc[DEEP].procedures, out.loc[DEEP].window_open) == (1, 2)
    assert monthly.period.unique().tolist() == ["2024-01", "2024-02", "2024-03"]
    march = monthly[(monthly.period == "2024-03") & (monthly.outcome_window == SUP)].iloc[0]
    assert (march.procedures, march.window_open) == (0, 1)
    assert np.isnan(march.rate_per_100) and np.isnan(march.ci_low)


def test_quarters_groups_and_period_bounds() -> None:
    """Implants at site A in 2024-Q1 (two) and site B in 2024-Q2 (one), an infection
    on day 10 of A's first. By quarter: every quarter from the first procedure's to the
    cut-off's, every group in each (zeros where none). --from 2024-04 keeps Q2 only."""
    vis = [
        implant("a", "2024-01-10", site="A", **BASE),
        implant("b", "2024-03-10", site="A", **BASE),
        implant("c", "2024-05-10", site="B", **BASE),
    ]
    reports = [report("x", "a", "2024-01-20", "infection_superficial")]
    with engine_db(vis, reports) as con:
        q = surgical_outcomes(con, D("2024-12-31"), "site", "quarter")
        later = surgical_outcomes(con, D("2024-12-31"), "site", "quarter", Period("2024-04"))
    assert list(q.columns) == list(SURGICAL_COLUMNS)
    assert len(q) == 4 * 2 * len(OUTCOME_WINDOWS)
    q1a = q.set_index(["period", "group", "outcome_window"]).loc[("2024-Q1", "A", SUP)]
    assert (q1a.procedures, q1a.with_outcome) == (2, 1)
    assert (q1a.ci_low, q1a.ci_high) == pytest.approx((1.257912, 98.742088), abs=1e-5)
    assert set(later.period) == {"2024-Q2", "2024-Q3", "2024-Q4"}
    assert later.procedures.sum() == len(OUTCOME_WINDOWS)  # only c, in both windows
    with pytest.raises(PumpqiError):
        surgical_outcomes(con=None, period="week")  # type: ignore[arg-type]


def test_no_procedures_gives_an_empty_table_with_the_columns() -> None:
    vis = [visit("a", "2024-01-01", "refill", volume_added_ml=5)]  # left-truncated, no surgery
    with engine_db(vis) as con:
        out = surgical_outcomes(con)
    assert out.empty and list(out.columns) == list(SURGICAL_COLUMNS)


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    # exact 95 % limits as R's binom.test gives them; 0 of n: upper = 1 - 0.025^(1/n)
    [(0, 10, 0.0, 0.308497), (1, 10, 0.002529, 0.445016), (5, 10, 0.187086, 0.812914),
     (10, 10, 0.691503, 1.0), (2, 20, 0.012349, 0.316983)],
)  # fmt: skip
def test_clopper_pearson_matches_published_limits(x: int, n: int, low: float, high: float) -> None:
    p, lo, hi = clopper_pearson([x], [n], 1.0)
    assert p[0] == pytest.approx(x / n)
    assert (lo[0], hi[0]) == pytest.approx((low, high), abs=1e-6)
    assert np.isnan(clopper_pearson([0], [0])[0][0])


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), frac=st.floats(0, 1), level=st.sampled_from([0.8, 0.95, 0.99]))
def test_binomial_interval_contains_the_rate(n: int, frac: float, level: float) -> None:
    x = round(frac * n)
    p, lo, hi = clopper_pearson([x], [n], 100.0, level)
    assert 0 <= lo[0] <= p[0] <= hi[0] <= 100


def test_sql_windows_and_procedure_types_are_the_vocabulary() -> None:
    sql = resources.files("analytics.engine").joinpath("sql/09_procedures.sql").read_text("utf-8")
    in_sql = set(re.findall(r"window_id = '([a-z0-9_]+)'", sql))
    assert in_sql == {w.id for w in OUTCOME_WINDOWS}
    for w in OUTCOME_WINDOWS:
        for suffix in ("", "_report_id", "_date", "_end", "_open"):
            assert f"AS {w.id}{suffix}\n" in sql or f"AS {w.id}{suffix}," in sql
    reuse = resources.files("analytics.engine").joinpath("sql/reuse.sql").read_text("utf-8")
    narrowed = set(re.findall(r"AS ([a-z0-9_]+?)_open\b", reuse))
    assert narrowed == {w.id for w in OUTCOME_WINDOWS}, "reuse.sql narrows every window"
    types = re.search(r"visit_type IN \(([^)]*)\)", sql)
    assert types and tuple(re.findall(r"'(\w+)'", types.group(1))) == PROCEDURE_TYPES


def test_cli_surgical(tmp_path) -> None:
    from analytics.cli.commands import main
    from analytics.ingest.contract import COMPLICATIONS, VISITS
    from analytics.ingest.load import ingest_files
    from tests.engine_helpers import _write

    vis = [
        implant(p, "2024-01-01", site=s, clinician="CL1", visit_id=f"v{p}", **BASE)
        for p, s in zip("abcdefghijklmn", "AAAAAAAAAAAAAB", strict=True)
    ]
    reps = [report("r", "a", "2024-01-15", "seroma")]
    db = tmp_path / "s.duckdb"
    ingest_files(
        db,
        _write(tmp_path / "v.csv", VISITS.names, vis),
        _write(tmp_path / "c.csv", COMPLICATIONS.names, reps),
    )
    run = CliRunner().invoke
    base = ["complications", "--db", str(db), "--as-of", "2024-12-31", "--surgical"]
    r = run(main, [*base, "--by", "clinician", "--period", "all"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == ",".join(SURGICAL_COLUMNS)
    assert lines[1].startswith("all,CL1,superficial_30d,14,1,")
    r = run(main, [*base, "--by", "site", "--period", "all", "--suppress-below", "11"])
    rows = pd.read_csv(pd.io.common.StringIO(r.stdout), dtype=str)
    a = rows[(rows.group == "A") & (rows.outcome_window == SUP)].iloc[0]
    b = rows[(rows.group == "B") & (rows.outcome_window == SUP)].iloc[0]
    assert a.with_outcome == "<11" and pd.isna(a.rate_per_100)
    # B's single procedure is hidden, and so is A's 13 (else 14 - 13 gives B away)
    assert b.procedures != "1" and a.procedures != "13"
    for bad, words in (
        (["--period", "month"], "only with --surgical"),
        (["--by", "procedure_type"], "only with --surgical"),
    ):
        r = run(main, ["complications", "--db", str(db), *bad])
        assert r.exit_code == 2 and words in r.stderr
    r = run(main, [*base, "--codes"])
    assert r.exit_code == 2 and "do not apply" in r.stderr


def test_earlier_cut_off_sees_only_what_was_known_then() -> None:
    """Data to 2024-12-31; cut-off 2024-02-10 (the stored procedures narrowed, as for a
    monthly report). a: implant 01-01, infection_deep on 02-20 (after the cut-off: not
    known) and a seroma on 01-20 (known): 30-day window closed with an outcome, 90-day
    window open without one. b: implant 03-01, after the cut-off: not there. The same
    figures computed in full (another configuration) agree."""
    from dataclasses import replace

    from analytics.config import DEFAULT

    vis = [
        implant("a", "2024-01-01", **BASE),
        implant("b", "2024-03-01", **BASE),
        visit("b", "2024-12-31", "follow_up"),
    ]
    reports = [
        report("late", "a", "2024-02-20", "infection_deep"),
        report("s", "a", "2024-01-20", "seroma"),
    ]
    cut = D("2024-02-10")
    with engine_db(vis, reports) as con:
        narrowed = procedure_list(con, cut)
        full = procedure_list(con, cut, config=replace(DEFAULT, worklist_days=99))
        now = procedure_list(con).set_index("patient_id")
    assert narrowed.patient_id.tolist() == ["a"]
    a = narrowed.iloc[0]
    assert (a[SUP], a[f"{SUP}_report_id"], a[f"{SUP}_open"]) == (True, "s", False)
    assert (a[DEEP], a[f"{DEEP}_report_id"], a[f"{DEEP}_open"]) == (False, None, True)
    pd.testing.assert_frame_equal(narrowed, full)
    assert now.loc["a", f"{DEEP}_report_id"] == "late"  # at the data's end it is known

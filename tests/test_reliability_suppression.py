"""Suppression holds everywhere (issue #11): no small count, shown or recoverable.

What counts as "a count": a column listed in the `counts` of the Rules the module
responsible suppresses with (analytics.figures.disclosure.METRICS_RULES and
COMPLICATION_RULES for the CLI; the module-level Rules of analytics.figures.* for the
pages), i.e. numbers of people, fills, refills, reports or rows. Pump-days are days
of therapy, not people or events, and are not counts; neither are ids, days late
or the totals of whole database tables in the missing-field table. As a guard on
the rules themselves, every integer column of a shared table must be a listed count
or one of NOT_COUNTS.

For N in 2..15, in `pumpqi metrics --suppress-below N` (with and without `--by
site`), `pumpqi complications --suppress-below N` (`--by site`, `--codes`) and every
table of the dashboard page functions in sharing mode (config.suppress_below = N):
  * a count cell is `<N`, 0, or at least N;
  * a figure derived from a hidden count (rate, interval, share, signal) is blank;
  * no visible row total minus the other visible cells of its row reveals a hidden
    cell (exactly one hidden part under a visible total), e.g. refills_due - on_time
    - late - missed - overdue;
  * KPI tiles and count sentences show no count in 1..N-1.
The report in suppressed mode is covered by tests/test_report_suppression.py.

Known gap (xfail below): differencing *two* outputs, `metrics` and `metrics --by
site`, recovers a hidden site cell from the visible all-sites total.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tempfile
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from analytics.cli.commands import main
from analytics.config import DEFAULT
from analytics.engine.metrics import monthly_metrics
from analytics.figures import (
    Filters,
    complications_page,
    data_quality,
    overview,
    refills_page,
    worklist_page,
)
from analytics.figures.complications_page import FUNNEL_RULES, RATE_RULES, REPORT_RULES
from analytics.figures.complications_page import GROUP_RULES as COMPLICATION_GROUP_RULES
from analytics.figures.disclosure import COMPLICATION_RULES, METRICS_RULES, Rules, suppress_table
from analytics.figures.quality import COUNT_RULES as QUALITY_COUNT_RULES
from analytics.figures.quality import LOG_RULES, MISSING_RULES
from analytics.figures.refills_page import COUNT_RULES as REFILL_COUNT_RULES
from analytics.figures.refills_page import GROUP_RULES as REFILL_GROUP_RULES
from analytics.figures.refills_page import QUALITY_RULES
from analytics.figures.worklist_page import COUNT_RULES as WORKLIST_COUNT_RULES
from analytics.ingest.load import ingest_files
from analytics.store import reader
from analytics.synth import generate, write

START = dt.date(2023, 1, 1)
NOT_COUNTS = {"pump_days", "ingest_id", "days_late", "days_left", "dry_days", "rows_missing"}
COUNT_WORDS = re.compile(r"(?<![\w.<])(\d[\d,]*) (?:of\b|refills|reports|pumps|more overdue)")


def build(base: Path, patients: int, years: float, seed: int, sites: int) -> Path:
    result = generate(patients=patients, years=years, seed=seed, start=START, sites=sites)
    write(result, base, "csv")
    db = base / "pumps.duckdb"
    ingest_files(db, base / "visits.csv", base / "complications.csv")
    return db


def hidden(series: pd.Series, n: int) -> pd.Series:
    return series.astype(str) == f"<{n}"


def blank(value: object) -> bool:
    return value is None or value == "" or (not isinstance(value, str) and bool(pd.isna(value)))


def integer_column(series: pd.Series) -> bool:
    """Whole numbers (ints, or digit / `<N` strings as in CSV output), not floats or bools."""
    values = [v for v in series if not blank(v)]
    return bool(values) and all(
        (isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_))
        or (isinstance(v, str) and re.fullmatch(r"\d+|<\d+", v) is not None)
        for v in values
    )


def problems(df: pd.DataFrame, rules: Rules, n: int, where: str) -> list[str]:
    """Every way this table shows or gives away a count in 1..n-1."""
    out: list[str] = []
    if df.empty:
        return out
    counts = [c for c in rules.counts if c in df.columns]
    for col in df.columns:
        if col not in counts and col not in NOT_COUNTS and integer_column(df[col]):
            out.append(f"{where}: integer column {col} is not a listed count")
    mask = {c: hidden(df[c], n) for c in counts}
    for c in counts:
        v = pd.to_numeric(df[c].where(~mask[c]), errors="coerce")
        for x in v[(v >= 1) & (v < n)]:
            out.append(f"{where}: {c}={x:g} shown")
    for total, parts in rules.row_totals.items():
        parts = [p for p in parts if p in mask]
        if total in mask and parts:
            n_hidden = sum(mask[p].astype(int) for p in parts)
            exposed = ~mask[total] & (n_hidden == 1)
            for i in df.index[exposed]:
                out.append(f"{where}: row {i}: {total} minus the visible parts reveals a cell")
    for col, sources in rules.derived.items():
        if col not in df.columns:
            continue
        any_hidden = pd.Series(False, index=df.index)
        for s in sources:
            if s in mask:
                any_hidden |= mask[s]
        for i in df.index[any_hidden]:
            if not blank(df.at[i, col]):
                out.append(f"{where}: row {i}: {col} shown beside a hidden {sources}")
    return out


def cli_table(*args: str) -> pd.DataFrame:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return pd.read_csv(StringIO(result.stdout), dtype=str, keep_default_na=False)


def cli_problems(db: Path, n: int) -> Iterator[str]:
    d = ("--db", str(db), "--suppress-below", str(n))
    for by in ((), ("--by", "site")):
        yield from problems(cli_table("metrics", *d, *by), METRICS_RULES, n, f"metrics {by}")
    for extra in (("--by", "site"), ("--codes",), ("--by", "site", "--codes")):
        table = cli_table("complications", *d, *extra)
        yield from problems(table, COMPLICATION_RULES, n, f"complications {extra}")


def page_tables(db: Path, n: int) -> Iterator[tuple[str, pd.DataFrame, Rules]]:
    config = dataclasses.replace(DEFAULT, suppress_below=n)
    f = Filters(sharing=True)
    with reader(db) as con:
        o = overview(con, f, config)
    yield "overview metrics", o.base.metrics, METRICS_RULES
    with reader(db) as con:
        r = refills_page(con, f, config)
    statuses = r.statuses.rename(columns={"refills": "refills_numeric", "shown": "refills"})
    yield "refills statuses", statuses.drop(columns="refills_numeric"), REFILL_COUNT_RULES
    yield "refills excluded", r.excluded, REFILL_COUNT_RULES
    yield "refills days late", r.days_late, REFILL_COUNT_RULES
    yield "refills residuals", r.residual_summary, QUALITY_RULES
    for dim, table in r.by_group.items():
        yield f"refills by {dim}", table, REFILL_GROUP_RULES
    assert r.early.empty and r.residual_flags.empty, "row lists are hidden in sharing mode"
    yield "refills early count", pd.DataFrame({"count": [r.early_count]}), Rules(("count",))
    with reader(db) as con:
        c = complications_page(con, f, config)
    yield "complications categories", c.categories, RATE_RULES
    yield "complications codes", c.codes, RATE_RULES
    for dim, table in c.by_group.items():
        yield f"complications by {dim}", table, COMPLICATION_GROUP_RULES
    for by, fun in c.funnels.items():
        yield f"funnel by {by}", fun.table, FUNNEL_RULES
    yield "time since surgery", c.time_since_surgery, REPORT_RULES
    yield "severity", c.severity, REPORT_RULES
    yield "outside episodes", c.outside, REPORT_RULES
    yield "serious count", pd.DataFrame({"count": [c.serious_count]}), Rules(("count",))
    assert c.serious.empty and c.outside_list.empty
    with reader(db) as con:
        w = worklist_page(con, f, 60, config)
    assert w.table.empty
    yield "worklist counts", w.counts, WORKLIST_COUNT_RULES
    with reader(db) as con:
        q = data_quality(con, config, sharing=True)
    yield "quality summary", q.summary, QUALITY_COUNT_RULES
    yield "quality quarantine", q.quarantine, QUALITY_COUNT_RULES
    yield "quality ingest log", q.ingest_log, LOG_RULES
    missing = q.missing.rename(columns={"rows": "rows_missing"})
    yield "quality missing", missing, MISSING_RULES
    kpis = [(k.key, k.value, k.detail) for k in o.kpis]
    yield "kpis", pd.DataFrame(kpis, columns=["key", "value", "detail"]), Rules(())


def kpi_problems(kpis: pd.DataFrame, n: int) -> list[str]:
    out = []
    for key, value, detail in kpis.itertuples(index=False):
        number = re.fullmatch(r"[\d,]+", value) is not None
        if key in METRICS_RULES.counts and number and 1 <= int(value.replace(",", "")) < n:
            out.append(f"tile {key}: {value}")
        for m in COUNT_WORDS.finditer(detail):
            if 1 <= int(m.group(1).replace(",", "")) < n:
                out.append(f"tile {key}: {detail!r}")
    return out


@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: each example takes seconds
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    n=st.integers(min_value=2, max_value=15),
    patients=st.integers(min_value=15, max_value=70),
    years=st.sampled_from([1.0, 1.5, 2.0]),
    seed=st.integers(min_value=0, max_value=10_000),
    sites=st.integers(min_value=1, max_value=4),
)
def test_no_small_count_shown_or_recoverable(
    n: int, patients: int, years: float, seed: int, sites: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = build(Path(tmp), patients, years, seed, sites)
        found = list(cli_problems(db, n))
        suppressed = 0
        seen = 0
        for where, table, rules in page_tables(db, n):
            seen += 1
            suppressed += int(table.isin([f"<{n}"]).to_numpy().sum())
            if where == "kpis":
                found += kpi_problems(table, n)
            else:
                found += problems(table, rules, n, where)
        assert seen > 20 and suppressed > 0, "nothing was suppressed: a vacuous example"
    assert not found, found


def test_the_checks_catch_an_unsuppressed_table(tmp_path: Path) -> None:
    """Without suppression (or with a total left exposed) the checks do fail."""
    db = build(tmp_path, 60, 2.0, 5, 3)
    with reader(db) as con:
        m = monthly_metrics(con, None, None, None, None)
    assert problems(m, METRICS_RULES, 11, "raw")
    shown = suppress_table(m, METRICS_RULES, 11)
    assert not problems(shown, METRICS_RULES, 11, "suppressed")
    leaky = dataclasses.replace(METRICS_RULES, row_totals={})
    assert problems(suppress_table(m, leaky, 11), METRICS_RULES, 11, "no complement")


def test_all_sites_total_does_not_reveal_a_hidden_site(tmp_path: Path) -> None:
    db = build(tmp_path, 60, 2.0, 0, 3)
    n = 11
    every = cli_table("metrics", "--db", str(db), "--suppress-below", str(n)).set_index("month")
    by_site = cli_table("metrics", "--db", str(db), "--suppress-below", str(n), "--by", "site")
    found = []
    for month, rows in by_site.groupby("month"):
        for col in ("complications", "refills_due", "on_time", "missed", "fills"):
            if every.at[month, col] != f"<{n}" and int(hidden(rows[col], n).sum()) == 1:
                found.append(f"{month} {col}")
    assert not found, found

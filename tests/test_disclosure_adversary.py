"""The adversary: takes everything the shared views draw — tiles, tables, chart points
with their lines and limits, funnels, the worklist counts — for two neighbouring
quarters at one cut-off, and the shared pack, writes down every relation a reader knows
between those numbers (a total and its parts, all groups and each group, a quarter and
its months, a pooled rate times its pump-days, a chart's centre line), and solves for
each hidden count the lowest and highest value it can take. A count 1..N-1 is safe only
when it cannot be pinned to one value. The relations are written here from what the
tables mean, not taken from the product's own list.

Also: no small count is shown, no complementary cell says `<N`, no rate is shown beside
a hidden count, and no chart draws a point (or its limits) for a hidden month. The CLI's
`--suppress-below` tables are checked the same way, table by table.
"""

from __future__ import annotations

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
from scipy.optimize import linprog

from analytics.cli.commands import main
from analytics.figures import (
    COMPLEMENT,
    FigureTable,
    Scope,
    complications_figures,
    filter_options,
    is_hidden,
    open_cutoff,
    overview,
    refills_figures,
    worklist_figures,
)
from analytics.figures.disclosure import COMPLICATION_RULES, METRICS_RULES
from analytics.figures.planning import planning_figures
from analytics.ingest.load import ingest_files
from analytics.report.content import gather
from analytics.report.period import ReportMonth
from analytics.store import reader
from analytics.synth import generate, write
from analytics.vocabulary import CODES, DUE_STATUS_IDS, WORDS

START = dt.date(2023, 1, 1)
ADDITIVE = ("refills_due", *DUE_STATUS_IDS, "complications", "fills", "refill_errors")


def build(base: Path, patients: int, years: float, seed: int, sites: int) -> Path:
    result = generate(patients=patients, years=years, seed=seed, start=START, sites=sites)
    write(result, base, "csv")
    db = base / "pumps.duckdb"
    ingest_files(db, base / "visits.csv", base / "complications.csv")
    return db


class Knowledge:
    """What the adversary read: named values (numbers or marks) and linear relations."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.values: dict[tuple[str, ...], object] = {}
        self.relations: list[tuple[tuple[str, ...], list[tuple[str, ...]]]] = []
        self.problems: list[str] = []

    def see(self, key: tuple[str, ...], value: object) -> None:
        if isinstance(value, str) and not is_hidden(value):
            value = int(value.replace(",", ""))
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return
        old = self.values.get(key)
        if (
            old is not None
            and not is_hidden(old)
            and not is_hidden(value)
            and float(old) != float(value)
        ):  # type: ignore[arg-type]
            self.problems.append(f"{key}: shown as {old} and as {value}")
        if is_hidden(value) or old is None or is_hidden(old):
            self.values[key] = value if old is None or is_hidden(old) else old
        if not is_hidden(value) and 1 <= float(value) < self.n:  # type: ignore[arg-type]
            self.problems.append(f"{key}: small count {value} shown")

    def sum(self, total: tuple[str, ...], parts: list[tuple[str, ...]]) -> None:
        self.relations.append((total, parts))

    def pinned(self) -> list[str]:
        """Hidden counts whose value the relations pin down. A number the views never
        drew is unknown to the reader (any value from 0), not zero."""
        hidden = sorted(k for k, v in self.values.items() if is_hidden(v))
        if not hidden:
            return []
        unseen = sorted({m for t, ps in self.relations for m in (t, *ps)} - set(self.values))
        unknown = hidden + unseen
        index = {k: i for i, k in enumerate(unknown)}
        rows, rhs = [], []
        for total, parts in self.relations:
            members = [(total, -1.0)] + [(p, 1.0) for p in parts]
            row, known = np.zeros(len(unknown)), 0.0
            for key, sign in members:
                if key in index:
                    row[index[key]] += sign
                else:
                    known -= sign * float(self.values[key])  # type: ignore[arg-type]
            if row.any():
                rows.append(row)
                rhs.append(known)
            else:
                assert abs(known) < 1e-6, f"shown figures disagree: {total} vs its parts"
        if not rows:
            return []
        a, b = np.asarray(rows), np.asarray(rhs)
        bounds = [
            (1.0, self.n - 1.0) if self.values[k] != COMPLEMENT else (0.0, None) for k in hidden
        ] + [(0.0, None)] * len(unseen)
        out = []
        for i, key in enumerate(hidden):
            c = np.zeros(len(unknown))
            c[i] = 1.0
            lo = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
            hi = linprog(-c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
            assert lo.status == 0, f"the shown figures contradict each other at {key}"
            if hi.status == 0 and -hi.fun - lo.fun < 1 - 1e-6:
                out.append(f"{key} pinned to {lo.fun:g}")
        return out


def read_table(k: Knowledge, fig: FigureTable, key: tuple[str, ...], by: str | None = None) -> None:
    """Every count cell of a figure table; `by`: the column naming the row."""
    for _, row in fig.frame.iterrows():
        name = str(row[by]) if by else "all"
        for c in fig.columns:
            if c.kind == "count":
                k.see((*key, name, c.key), row[c.key])
        for rate, sources in METRICS_RULES.derived.items():
            if rate in row and row[rate] is not None and not pd.isna(row[rate]):
                for s in sources:
                    if s in row and is_hidden(row[s]):
                        k.problems.append(f"{fig.key}: {rate} shown beside a hidden {s}")


def read_quarter(k: Knowledge, cut, quarter: str) -> None:
    scope = Scope.quarter(quarter, k.n)
    q = ("q", quarter)
    over = overview(cut, scope)
    assert over.rows is not None
    for period, row in over.rows.iterrows():
        for c in (*ADDITIVE, "active_patients"):
            k.see(("q", str(period), "all", "all", c), row[c])
    ref = refills_figures(cut, scope)
    com = complications_figures(cut, scope)
    for dim, fig in ref.by_group.items():
        read_table(k, fig, (*q, dim), "group")
        groups = [str(g) for g in fig.frame["group"]]
        for c in ("refills_due", *DUE_STATUS_IDS, "fills"):
            k.sum((*q, "all", "all", c), [(*q, dim, g, c) for g in groups])
        for g in groups:
            k.sum((*q, dim, g, "refills_due"), [(*q, dim, g, s) for s in DUE_STATUS_IDS])
    for dim, fig in com.by_group.items():
        frame = fig.frame.rename(columns={"complications": "complications"})
        read_table(k, fig, (*q, dim), "group")
        k.sum(
            (*q, "all", "all", "complications"),
            [(*q, dim, str(g), "complications") for g in frame["group"]],
        )
    k.sum((*q, "all", "all", "refills_due"), [(*q, "all", "all", s) for s in DUE_STATUS_IDS])
    read_table(k, ref.excluded, (*q, "excluded"), "status")
    days = ref.days_late.frame
    for _, r in days.iterrows():
        k.see((*q, "late", r["status"], r["bucket"]), r["refills"])
    for status in ("late", "missed", "overdue"):
        label = {
            "late": "late, not dry",
            "missed": "ran dry (computed)",
            "overdue": "alarm date passed",
        }[status]
        buckets = days[days["status"] == label]["bucket"]
        k.sum((*q, "all", "all", status), [(*q, "late", label, b) for b in buckets])
    cats = com.categories.frame
    read_table(k, com.categories, (*q, "category"), "category")
    k.sum(
        (*q, "category", "All categories", "reports"),
        [(*q, "category", c, "reports") for c in cats["category"][:-1]],
    )
    k.sum((*q, "all", "all", "complications"), [(*q, "category", "All categories", "reports")])
    read_table(k, com.codes, (*q, "code"), "complication")
    listed = set(com.codes.frame["complication"])
    for x in CODES:  # a code the table leaves out had no report
        if x.label not in listed:
            k.see((*q, "code", x.label, "reports"), 0)
    for cat, words in WORDS["category"].items():
        codes = [x.label for x in CODES if x.category == cat]
        k.sum((*q, "category", words, "reports"), [(*q, "code", c, "reports") for c in codes])
    surgery = com.surgery.frame
    for _, r in surgery.iterrows():
        for c in com.surgery.columns[1:]:
            k.see((*q, "surgery", r["category"], c.key), r[c.key])
        k.sum(
            (*q, "surgery", r["category"], "total"),
            [(*q, "surgery", r["category"], c.key) for c in com.surgery.columns[1:-1]],
        )
        k.sum((*q, "category", r["category"], "reports"), [(*q, "surgery", r["category"], "total")])
    sev = com.severity.frame
    read_table(k, com.severity, (*q, "severity"), "severity")
    for c in ("reports", "serious"):
        k.sum(
            (*q, "severity", "All reports", c),
            [(*q, "severity", s, c) for s in sev["severity"][:-1]],
        )
    read_table(k, com.outside, (*q, "outside"), "context")
    k.see((*q, "serious"), com.serious_count)
    k.sum((*q, "serious"), [(*q, "severity", "All reports", "serious")])
    k.see((*q, "early"), ref.early_count)
    for fig in (ref.quality,):
        read_table(k, fig, (*q, "quality"))
    funnel = com.funnels["site"]
    if funnel.pooled_rate_per_1000 is not None:
        total_days = float(funnel.table.frame["pump_days"].sum())
        k.see((*q, "funnel-pooled"), round(funnel.pooled_rate_per_1000 * total_days / 1000))
        k.sum((*q, "all", "all", "complications"), [(*q, "funnel-pooled")])
    for _, r in funnel.table.frame.iterrows():
        k.see((*q, "site", str(r["group"]), "complications"), r["complications"])
        if (
            r["rate_per_1000"] is not None
            and not pd.isna(r["rate_per_1000"])
            and is_hidden(r["complications"])
        ):
            k.problems.append(f"funnel: a rate drawn for a hidden site {r['group']}")
    for chart, num, den in (
        (over.on_time, "on_time", "refills_due"),
        (over.complications, "complications", None),
    ):
        read_chart(k, chart, num, den)
    bars, level = ref.by_period, "m" if ref.by_period_unit == "month" else "q"
    for _, r in bars.iterrows():
        status = next(s for s in DUE_STATUS_IDS if WORDS["status"][s] == r["status"])
        k.see((level, r["period"], "all", "all", status), r["refills"])
    for m in sorted(set(bars["period"])):
        k.sum(
            (level, m, "all", "all", "refills_due"),
            [(level, m, "all", "all", s) for s in DUE_STATUS_IDS],
        )
    seen = {key[1] for key in k.values if key[0] in ("m", "q")}
    for qq in {str(pd.Period(p, "Q" if "Q" in p else "M").asfreq("Q")) for p in seen}:
        ms = [
            p.strftime("%Y-%m")
            for p in pd.period_range(
                pd.Period(qq, "Q").asfreq("M", "start"), pd.Period(qq, "Q").asfreq("M", "end")
            )
        ]
        for c in (*DUE_STATUS_IDS, "refills_due", "complications"):
            if ("q", qq, "all", "all", c) in k.values:
                k.sum(("q", qq, "all", "all", c), [("m", m, "all", "all", c) for m in ms])
    wl, plan = worklist_figures(cut, scope), planning_figures(cut, scope)
    if wl.counts is not None or plan.workload is not None or plan.battery_counts is not None:
        k.problems.append("the patients now (changing every day) drawn in a shared view")
    read_table(k, plan.dose_counts, (*q, "dose"), "month")
    replaced = plan.replaced.frame
    read_table(k, plan.replaced, ("replaced",), "group")
    sites = [str(g) for g in replaced["group"] if g != "all sites"]
    for c in ("pumps_reached_eol", "replaced_before_eol"):
        k.sum(("replaced", "all sites", c), [("replaced", g, c) for g in sites])


def read_chart(k: Knowledge, chart, num: str, den: str | None) -> None:
    """Each drawn point is a month (or quarter) that is shown; its count and, for a
    p-chart, its denominator (worked out from the limits) are what the reader learns."""
    if chart is None or chart.result is None:
        return
    t = chart.result.table
    for _, r in t.iterrows():
        x = pd.Timestamp(r["x"])
        level, period = (
            ("m", x.strftime("%Y-%m")) if chart.unit == "month" else ("q", f"{x.year}Q{x.quarter}")
        )
        if den is not None:
            k.see((level, period, "all", "all", num), round(float(r["y"]) / 100 * float(r["n"])))
            k.see((level, period, "all", "all", den), round(float(r["n"])))
            cl, ucl = float(r["cl"]) / 100, float(r["ucl"]) / 100
            if 0 < cl < 1 and 0 < ucl < 1:
                n_from_limits = cl * (1 - cl) * 9 / (ucl - cl) ** 2
                assert abs(n_from_limits - float(r["n"])) < 1e-6 * max(1.0, n_from_limits)
        else:
            k.see((level, period, "all", "all", num), round(float(r["y"]) * float(r["n"]) / 1000))


@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    n=st.integers(min_value=5, max_value=15),
    patients=st.integers(min_value=20, max_value=80),
    years=st.sampled_from([1.5, 2.0]),
    seed=st.integers(min_value=0, max_value=10_000),
    sites=st.integers(min_value=1, max_value=4),
)
def test_no_hidden_count_can_be_recovered_from_a_shared_view(
    n: int, patients: int, years: float, seed: int, sites: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = build(Path(tmp), patients, years, seed, sites)
        k = Knowledge(n)
        with reader(db) as con:
            cut = open_cutoff(con)
            quarters = filter_options(cut).quarters
            assert len(quarters) >= 2
            for quarter in quarters[-2:]:
                read_quarter(k, cut, quarter)
        hidden = [key for key, v in k.values.items() if is_hidden(v)]
        assert hidden, "nothing was hidden: a vacuous example"
        assert not k.problems, k.problems[:10]
        assert not k.pinned(), "a hidden count can be worked out"


def test_the_adversary_finds_a_leak_when_there_is_one() -> None:
    """Its own check: a site hidden alone under a shown total is pinned; two hidden sites
    are not."""
    k = Knowledge(11)
    k.see(("all",), 30)
    k.see(("A",), 25)
    k.see(("B",), "<11")
    k.sum(("all",), [("A",), ("B",)])
    assert k.pinned() == ["('B',) pinned to 5"]
    k.values[("A",)] = COMPLEMENT
    assert k.pinned() == []


def test_a_shared_pack_shows_no_small_count_and_no_list(tmp_path: Path) -> None:
    db = build(tmp_path, 40, 2.0, 7, 3)
    with reader(db) as con:
        end = con.execute("SELECT max(visit_date) FROM visits").fetchall()[0][0]
        month = ReportMonth.parse((end.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m"))
        cut = open_cutoff(con, month.as_of)
        content = gather(con, month, cut.config, "P", dt.datetime(2026, 1, 1), 11)
    assert content.missed is None and content.serious is None
    assert content.worklist is None and content.headline is None, "the patients now: not shared"
    assert content.planning.workload is None and content.planning.battery_counts is None
    tables = [content.by_site, content.excluded, content.quality, content.planning.replaced,
              content.planning.dose_counts, content.categories, content.codes, content.surgery, content.severity,
              content.data_quality, content.funnel.table]  # fmt: skip
    for t in tables:
        for c in t.columns:
            if c.kind == "count":
                values = t.frame[c.key]
                numeric = pd.to_numeric(values.where(~values.map(is_hidden)), errors="coerce")
                assert not ((numeric >= 1) & (numeric < 11)).any(), (t.key, c.key)
    assert content.scope.shared and content.long_scope is None


# --- the CLI's shared tables -----------------------------------------------------------


def cli_table(*args: str) -> pd.DataFrame:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return pd.read_csv(StringIO(result.stdout), dtype=str, keep_default_na=False)


def table_problems(df: pd.DataFrame, counts: list[str], n: int, where: str) -> Iterator[str]:
    for c in counts:
        if c not in df:
            continue
        for v in df[c]:
            if re.fullmatch(r"\d+", v) and 1 <= int(v) < n:
                yield f"{where}: {c}={v} shown"
    parts = [p for p in DUE_STATUS_IDS if p in df]
    if "refills_due" in df and parts:
        for i, row in df.iterrows():
            hidden = sum(1 for p in parts if not re.fullmatch(r"\d+", row[p]))
            if re.fullmatch(r"\d+", row["refills_due"]) and hidden == 1:
                yield f"{where}: row {i}: one hidden status under a shown total"


def test_cli_shared_tables_show_no_small_count(tmp_path: Path) -> None:
    db = build(tmp_path, 50, 2.0, 3, 3)
    n = 11
    d = ("--db", str(db), "--suppress-below", str(n))
    found: list[str] = []
    for by in ((), ("--by", "site")):
        found += table_problems(
            cli_table("metrics", *d, *by), list(METRICS_RULES.counts), n, f"metrics {by}"
        )
    for extra in (("--by", "site"), ("--codes",)):
        table = cli_table("complications", *d, *extra)
        found += table_problems(table, list(COMPLICATION_RULES.counts), n, f"complications {extra}")
    every = cli_table("metrics", *d).set_index("month")
    by_site = cli_table("metrics", *d, "--by", "site")
    for month, rows in by_site.groupby("month"):
        for col in ("complications", "refills_due", "on_time", "missed", "fills"):
            hidden = int((~rows[col].str.fullmatch(r"\d+")).sum())
            if re.fullmatch(r"\d+", every.at[month, col]) and hidden == 1:
                found.append(f"{month} {col}: one hidden site under the shown all-sites total")
    assert not found, found[:10]
    assert (by_site == COMPLEMENT).to_numpy().any() or (by_site == f"<{n}").to_numpy().any()

"""Dose safety flags: doses and concentrations above the configured maxima and large
dose steps up, listed and counted per month (definitions: "Dose safety flags").

Both read pq_dose_flags (sql/10_dose_flags.sql): one row per visit and rule broken.
"""

from __future__ import annotations

import calendar
import datetime as dt

import duckdb
import pandas as pd

from analytics.config import DEFAULT, Config
from analytics.engine.metrics import group_expr
from analytics.engine.on_demand import on_demand
from analytics.engine.selection import Selection, with_facts
from analytics.vocabulary import DOSE_RULE_LABELS

FLAG_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "visit_date",
    "visit_id",
    "visit_type",
    "site",
    "drug",
    "daily_dose_mg",
    "concentration_mg_ml",
    "rule",
    "rule_label",
    "maximum",
    "previous_dose_mg",
    "step_up_pct",
)
RULES: tuple[str, ...] = tuple(DOSE_RULE_LABELS)

FLAGS_SQL = """
SELECT f.patient_id, f.visit_date, f.visit_id, f.visit_type, f.site, f.drug, f.daily_dose_mg,
       f.concentration_mg_ml, f.rule, r.rule_label, f.maximum, f.previous_dose_mg, f.step_up_pct,
       f.vkey, r.rule_order
FROM {dose_flags} f JOIN voc_dose_rules r USING (rule)
WHERE f.visit_date BETWEEN $first AND $last
"""
SORT_KEYS: tuple[str, ...] = ("visit_date", "patient_id", "vkey", "rule_order")
"""The list's order: by date, then patient and the visit order of the day (vkey), then
rule (vocabulary order). Sorted on these keys in Arrow after fetching (a sort in SQL
carries every text column along: slower for a long list). The patient id, not the
patient's integer key, orders patients: keys are given as patients arrive."""

COUNTS_SQL = """
WITH months AS (
    SELECT CAST(m AS DATE) AS month_start
    FROM generate_series((SELECT date_trunc('month', min(start_date)) FROM pq_episodes),
                         date_trunc('month', CAST($as_of AS DATE)), INTERVAL 1 MONTH) AS t(m)
    WHERE m BETWEEN $first AND $last
),
groups AS (
    SELECT DISTINCT coalesce({g}, 'unknown') AS grp FROM {exposure} WHERE pump_days > 0
    UNION SELECT DISTINCT coalesce({g}, 'unknown') FROM {dose_flags}
),
counted AS (
    SELECT CAST(date_trunc('month', visit_date) AS DATE) AS month_start,
           coalesce({g}, 'unknown') AS grp,
           {rule_counts},
           count(DISTINCT vkey) AS visits_flagged
    FROM {dose_flags}
    WHERE visit_date BETWEEN $first AND $last_day
    GROUP BY ALL
)
SELECT strftime(m.month_start, '%Y-%m') AS month, g.grp AS "group",
       {rule_columns}, coalesce(c.visits_flagged, 0) AS visits_flagged
FROM months m CROSS JOIN groups g
LEFT JOIN counted c ON c.month_start = m.month_start AND c.grp = g.grp
ORDER BY month, "group"
""".replace(
    "{rule_counts}", ", ".join(f"count(*) FILTER (WHERE rule = '{r}') AS {r}" for r in RULES)
).replace("{rule_columns}", ", ".join(f"coalesce(c.{r}, 0) AS {r}" for r in RULES))
"""The rule columns come from the vocabulary (fixed ids, never user input)."""

FIRST = dt.date(1, 1, 1)
LAST = dt.date(9999, 12, 31)


def _register_rules(con: duckdb.DuckDBPyConnection) -> None:
    """The rules' words and order (vocabulary) as the temp table voc_dose_rules."""
    frame = pd.DataFrame(
        {
            "rule": list(DOSE_RULE_LABELS),
            "rule_label": list(DOSE_RULE_LABELS.values()),
            "rule_order": range(len(DOSE_RULE_LABELS)),
        }
    )
    con.register("voc_dose_rules_frame", frame)
    con.execute("CREATE OR REPLACE TEMP TABLE voc_dose_rules AS SELECT * FROM voc_dose_rules_frame")
    con.unregister("voc_dose_rules_frame")


def dose_flags(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    config: Config = DEFAULT,
    dated_in: tuple[dt.date, dt.date] | None = None,
    selection: Selection = (),
) -> pd.DataFrame:
    """Every visit breaking a dose-safety rule, as of `as_of` (default: the data's end):
    one row per visit and rule, with the dose and concentration in force after the visit,
    the maximum it broke (for a step: the previous dose x (1 + dose_step_up_pct / 100))
    and, for a step, the previous dose and the step in %.

    Checked: every fill and every visit that programs a dose or a concentration inside a
    therapy episode. Rules: daily dose above the drug's maximum; concentration above the
    drug's maximum (a mixture: its primary, first-named drug, whose dose and
    concentration the data records); a recorded dose more than dose_step_up_pct % above
    the previous recorded dose of the episode, the drug being the same. Drugs without a
    maximum are not checked against one. With `dated_in` (first, last day): those visits.
    """
    as_of = on_demand(con, "pq_dose_flags", as_of, config)
    _register_rules(con)
    first, last = dated_in if dated_in is not None else (FIRST, LAST)
    # through Arrow, sorted there: faster than .df() and a sort in pandas for a long list
    sql, chosen = with_facts(FLAGS_SQL, selection)
    table = con.sql(sql, params={"first": first, "last": last, **chosen}).to_arrow_table()
    table = table.sort_by([(key, "ascending") for key in SORT_KEYS])
    return table.select(list(FLAG_COLUMNS)).to_pandas(date_as_object=False)


def dose_flag_counts(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    by: str | None = None,
    config: Config = DEFAULT,
    months: tuple[dt.date, dt.date] | None = None,
    selection: Selection = (),
) -> pd.DataFrame:
    """Dose-safety flags per month (of the visit date) and group (`by`: site, drug,
    pump_model, indication; None: all), one column per rule, and `visits_flagged`: visits
    breaking at least one rule. Every month from the first episode's to as_of's and every
    group with pump-days or flags, zeros included. `months`: (first, last) month starts."""
    g = group_expr(by)
    as_of = on_demand(con, "pq_dose_flags", as_of, config)
    first, last = months if months is not None else (FIRST, dt.date(9999, 12, 1))
    last_day = last.replace(day=calendar.monthrange(last.year, last.month)[1])
    sql, chosen = with_facts(COUNTS_SQL.replace("{g}", g), selection)
    bounds = {"as_of": as_of, "first": first, "last": last, "last_day": last_day}
    df = con.execute(sql, {**bounds, **chosen}).df()
    for col in (*RULES, "visits_flagged"):
        df[col] = df[col].astype("int64")
    return df

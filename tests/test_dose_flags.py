"""Dose safety flags: hand-worked cases (default maxima, mg/day and mg/mL: morphine 15 and
20; hydromorphone 10 and 15; baclofen none; steps up of more than 50 %)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from analytics.config import DEFAULT
from analytics.engine.dose_flags import FLAG_COLUMNS, RULES, dose_flag_counts, dose_flags
from tests.engine_helpers import engine_db, implant, visit

PUMP: dict[str, object] = dict(pump_model="SynchroMed II", reservoir_ml=20, volume_added_ml=20)


def rows() -> list[dict[str, object]]:
    """a  morphine 25 mg/mL, 16 mg/day at the implant (01-05): dose and concentration above.
    b  morphine 20 mg/mL, 15 mg/day: at the maxima, not above: no flag.
    c  hydromorphone+clonidine 16 mg/mL (the primary drug's: hydromorphone, max 15): flag.
    d  baclofen 0.4 -> 0.64 mg/day (+60 %, 02-01): step flagged (limit 0.6); -> 0.896
       (+40 %, 03-01): not flagged. Baclofen has no maximum.
    e  baclofen 0.4 -> 0.6 (exactly +50 %, 02-01): not flagged.
    g  morphine 2 mg/day (01-05); hydromorphone 4 mg/day at a refill (02-05): a new drug,
       no step; 4 -> 10 mg/day (02-20, +150 %): step flagged.
    h  a trial with morphine 20 mg/day (outside any episode): no flag; implant 5 mg/day.
    i  morphine 10 mg/day, explanted 02-01; new implant 03-01 at 20 mg/day (20 mg/mL): above
       the maximum, but no step (a new episode).
    j  morphine 10 mg/day 20 mg/mL (01-05); reprogrammed to 16 (02-10): above the maximum
       and a +60 % step; refilled 03-01 without a dose recorded: the dose in force (16) is
       still above: flagged again at the fill.
    Sites: a, c, d, g at A; the others at B. The data ends 2024-03-15."""
    m20 = dict(drug="morphine", concentration_mg_ml=20)
    return [
        implant(
            "a",
            "2024-01-05",
            drug="morphine",
            concentration_mg_ml=25,
            daily_dose_mg=16,
            site="A",
            **PUMP,
        ),  # fmt: skip
        implant("b", "2024-01-05", daily_dose_mg=15, site="B", **m20, **PUMP),
        implant(
            "c",
            "2024-01-05",
            drug="hydromorphone+clonidine",
            concentration_mg_ml=16,
            daily_dose_mg=1,
            site="A",
            **PUMP,
        ),  # fmt: skip
        implant(
            "d",
            "2024-01-05",
            drug="baclofen",
            concentration_mg_ml=2,
            daily_dose_mg=0.4,
            site="A",
            **PUMP,
        ),  # fmt: skip
        visit("d", "2024-02-01", "reprogram", daily_dose_mg=0.64, site="A"),
        visit("d", "2024-03-01", "reprogram", daily_dose_mg=0.896, site="A"),
        implant(
            "e",
            "2024-01-05",
            drug="baclofen",
            concentration_mg_ml=2,
            daily_dose_mg=0.4,
            site="B",
            **PUMP,
        ),  # fmt: skip
        visit("e", "2024-02-01", "reprogram", daily_dose_mg=0.6, site="B"),
        implant(
            "g",
            "2024-01-05",
            drug="morphine",
            concentration_mg_ml=10,
            daily_dose_mg=2,
            site="A",
            **PUMP,
        ),  # fmt: skip
        visit(
            "g",
            "2024-02-05",
            "refill",
            drug="hydromorphone",
            concentration_mg_ml=10,
            daily_dose_mg=4,
            volume_added_ml=20,
            site="A",
        ),  # fmt: skip
        visit("g", "2024-02-20", "reprogram", daily_dose_mg=10, site="A"),
        visit("h", "2023-12-01", "trial", daily_dose_mg=20, site="B", **m20),
        implant("h", "2024-01-05", daily_dose_mg=5, site="B", **m20, **PUMP),
        implant("i", "2024-01-05", daily_dose_mg=10, site="B", **m20, **PUMP),
        visit("i", "2024-02-01", "explant", site="B"),
        implant("i", "2024-03-01", daily_dose_mg=20, site="B", **m20, **PUMP),
        implant("j", "2024-01-05", daily_dose_mg=10, site="B", **m20, **PUMP),
        visit("j", "2024-02-10", "reprogram", daily_dose_mg=16, site="B"),
        visit("j", "2024-03-01", "refill", volume_added_ml=20, site="B"),
        visit("b", "2024-03-15", "follow_up", site="B"),
    ]


def test_flags_listed_with_their_maximum_and_rule() -> None:
    with engine_db(rows()) as con:
        df = dose_flags(con)
    assert tuple(df.columns) == FLAG_COLUMNS
    got = [
        (r.patient_id, str(r.visit_date.date()), r.rule, round(r.daily_dose_mg, 3),
         r.concentration_mg_ml, round(r.maximum, 4))
        for r in df.itertuples()
    ]  # fmt: skip
    assert got == [
        ("a", "2024-01-05", "dose_above_max", 16, 25, 15),
        ("a", "2024-01-05", "concentration_above_max", 16, 25, 20),
        ("c", "2024-01-05", "concentration_above_max", 1, 16, 15),
        ("d", "2024-02-01", "dose_step_up", 0.64, 2, 0.6),
        ("j", "2024-02-10", "dose_above_max", 16, 20, 15),
        ("j", "2024-02-10", "dose_step_up", 16, 20, 15),
        ("g", "2024-02-20", "dose_step_up", 10, 10, 6),
        ("i", "2024-03-01", "dose_above_max", 20, 20, 15),
        ("j", "2024-03-01", "dose_above_max", 16, 20, 15),
    ]
    steps = df[df["rule"] == "dose_step_up"]
    assert list(steps["previous_dose_mg"]) == [0.4, 10, 4]
    assert list(steps["step_up_pct"]) == [60.0, 60.0, 150.0]
    assert df.loc[df["rule"] == "dose_above_max", "step_up_pct"].isna().all()
    assert set(df["rule_label"]) == {
        "daily dose above the maximum",
        "concentration above the maximum",
        "dose step up above the limit",
    }


def test_counts_per_month_and_site() -> None:
    """January: a (2 rules), c: dose 1, concentration 2, 2 visits. February: d, j (2 rules),
    g: dose 1, steps 3, 3 visits. March: i, j: dose 2, 2 visits."""
    with engine_db(rows()) as con:
        overall = dose_flag_counts(con)
        by_site = dose_flag_counts(con, by="site")
    cols = ["month", *RULES, "visits_flagged"]
    assert overall[cols].values.tolist() == [
        ["2024-01", 1, 2, 0, 2],
        ["2024-02", 1, 0, 3, 3],
        ["2024-03", 2, 0, 0, 2],
    ]
    a = by_site[by_site["group"] == "A"][cols].values.tolist()
    b = by_site[by_site["group"] == "B"][cols].values.tolist()
    assert a == [["2024-01", 1, 2, 0, 2], ["2024-02", 0, 0, 2, 2], ["2024-03", 0, 0, 0, 0]]
    assert b == [["2024-01", 0, 0, 0, 0], ["2024-02", 1, 0, 1, 1], ["2024-03", 2, 0, 0, 2]]


def test_maxima_and_step_are_settings() -> None:
    """A step limit of 30 % flags e's +50 % and d's +40 % too; a baclofen maximum of 0.5
    mg/day flags the visits programming d's 0.64 and 0.896 and e's 0.6 mg/day."""
    config = replace(
        DEFAULT, dose_step_up_pct=30, dose_max_mg_day={**DEFAULT.dose_max_mg_day, "baclofen": 0.5}
    )
    with engine_db(rows()) as con:
        df = dose_flags(con, config=config)
    steps = df[df["rule"] == "dose_step_up"]
    assert sorted(zip(steps["patient_id"], steps["step_up_pct"], strict=True)) == [
        ("d", 40.0),
        ("d", 60.0),
        ("e", 50.0),
        ("g", 150.0),
        ("j", 60.0),
    ]
    baclofen = df[(df["rule"] == "dose_above_max") & (df["drug"] == "baclofen")]
    assert list(zip(baclofen["patient_id"], baclofen["daily_dose_mg"], strict=True)) == [
        ("d", 0.64),
        ("e", 0.6),
        ("d", 0.896),
    ]


def test_an_earlier_cut_off_sees_only_the_visits_known_then() -> None:
    """As of 2024-02-15: a, c (January), d and j (February) only."""
    with engine_db(rows()) as con:
        df = dose_flags(con, pd.Timestamp("2024-02-15").date())
    assert sorted(set(df["patient_id"])) == ["a", "c", "d", "j"]
    assert df["visit_date"].max() <= pd.Timestamp("2024-02-15")


def test_definitions_show_every_default_maximum_with_its_source() -> None:
    """The Definitions page's table of maxima is the configuration's defaults, each with
    its source (config.DOSE_SOURCES) and the words "confirm against local policy"."""
    from analytics.config import DOSE_SOURCES
    from analytics.figures.definitions import definitions_markdown

    section = definitions_markdown().split("## Dose safety flags", 1)[1].split("\n## ", 1)[0]
    table = {
        cells[0]: cells[1:]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| drug")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    drugs = set(DEFAULT.dose_max_mg_day) | set(DEFAULT.concentration_max_mg_ml)
    assert set(table) == drugs == set(DOSE_SOURCES)
    for drug, (dose, conc, source) in table.items():
        assert dose == (
            f"{DEFAULT.dose_max_mg_day[drug]:g}" if drug in DEFAULT.dose_max_mg_day else "—"
        )
        assert conc == (
            f"{DEFAULT.concentration_max_mg_ml[drug]:g}"
            if drug in DEFAULT.concentration_max_mg_ml
            else "—"
        )
        assert source == f"{DOSE_SOURCES[drug]} — confirm against local policy"

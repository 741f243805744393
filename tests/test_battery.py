"""Battery end of life: hand-worked dates, the plan and "replaced before end of life".

SynchroMed pumps have a battery life of 84 months (7 years), the elective-replacement
warning (ERI) 90 days before; Prometra has none configured (no date).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from analytics.config import DEFAULT
from analytics.engine.battery import (
    PLAN_COLUMNS,
    battery_plan,
    battery_plan_counts,
    replaced_before_eol,
)
from tests.engine_helpers import D, engine_db, implant, visit

SYN: dict[str, object] = dict(
    pump_model="SynchroMed II", reservoir_ml=20, drug="baclofen", daily_rate_ml=0.2
)


def plan_rows() -> list[dict[str, object]]:
    """p: left-truncated (first visit a refill) with pump_implant_date 2019-03 (its 15th):
    end of life 2026-03-15, ERI 2025-12-15 (Dec 15 -> Mar 15 = 31 + 31 + 28 = 90 days).
    q: implant visit 2020-06-30: end of life 2027-06-30, ERI 2027-04-01.
    r: implant visit 2021-01-31, a later visit records pump_implant_date 2020-01-10: the
    visit wins, end of life 2028-01-31.
    f: implant 2020-02-29: end of life 2027-02-28 (no 29th).
    n: Prometra (no battery life configured): no date, never listed.
    Sites: p, q at A; r, f, n at B. The data ends 2025-11-30."""
    return [
        visit(
            "p",
            "2024-01-10",
            "refill",
            pump_implant_date="2019-03",
            site="A",
            volume_added_ml=20,
            **SYN,
        ),  # fmt: skip
        implant("q", "2020-06-30", site="A", volume_added_ml=20, **SYN),
        implant("r", "2021-01-31", site="B", volume_added_ml=20, **SYN),
        visit("r", "2021-03-01", "follow_up", pump_implant_date="2020-01-10", site="B"),
        implant("f", "2020-02-29", site="B", volume_added_ml=20, **SYN),
        implant(
            "n", "2020-01-01", site="B", volume_added_ml=20, **{**SYN, "pump_model": "Prometra II"}
        ),  # fmt: skip
        visit("q", "2025-11-30", "follow_up", site="A"),
    ]


def by_patient(df: pd.DataFrame) -> dict[str, tuple[object, ...]]:
    return {
        r.patient_id: (str(r.implant_date.date()), str(r.eri_date.date()), str(r.eol_date.date()))
        for r in df.itertuples()
    }


def test_end_of_life_from_an_implant_visit_or_the_recorded_date() -> None:
    """Within 10 years of 2025-12-01 every SynchroMed pump is listed, soonest first."""
    with engine_db(plan_rows()) as con:
        df = battery_plan(con, D("2025-12-01"), 120)
    assert tuple(df.columns) == PLAN_COLUMNS
    assert list(df["patient_id"]) == ["p", "f", "q", "r"]
    assert by_patient(df) == {
        "p": ("2019-03-15", "2025-12-15", "2026-03-15"),
        "f": ("2020-02-29", "2026-11-30", "2027-02-28"),
        "q": ("2020-06-30", "2027-04-01", "2027-06-30"),
        "r": ("2021-01-31", "2027-11-02", "2028-01-31"),
    }
    sources = dict(zip(df["patient_id"], df["implant_source"], strict=True))
    assert sources == {"p": "recorded", "f": "implant", "q": "implant", "r": "implant"}


def test_plan_lists_twelve_months_with_warning_and_past_states() -> None:
    """Today 2026-01-01, horizon 2027-01-01: p only (ERI 2025-12-15 passed, end of life
    2026-03-15 ahead: 'eri', 73 days to end of life). f (2027-02-28) is beyond the horizon.
    Today 2026-07-01 (data still ending 2025-11-30), horizon 2027-07-01: p is past its end
    of life; f (ERI 2026-11-30 ahead) and q (2027-06-30) are within."""
    with engine_db(plan_rows()) as con:
        jan = battery_plan(con, D("2026-01-01"))
        jul = battery_plan(con, D("2026-07-01"))
    assert list(jan["patient_id"]) == ["p"]
    assert (jan.iloc[0].battery_status, jan.iloc[0].days_to_eol) == ("eri", 73)
    assert jan.iloc[0].days_to_eri == -17
    assert list(zip(jul["patient_id"], jul["battery_status"], strict=True)) == [
        ("p", "past_eol"),
        ("f", "eol_soon"),
        ("q", "eol_soon"),
    ]
    assert set(jul["data_end"]) == {pd.Timestamp("2025-11-30")}


def test_plan_counts_by_site_and_month() -> None:
    """Today 2026-07-01: months 2026-07 .. 2027-07 for sites A and B (zeros included); p
    (A, past its end of life) counts in 2026-07; f (B) in 2027-02; q (A) in 2027-06."""
    with engine_db(plan_rows()) as con:
        df = battery_plan_counts(con, D("2026-07-01"))
    assert len(df) == 13 * 2
    got = {(r.month, r.site): (r.pumps, r.past_eol) for r in df.itertuples() if r.pumps}
    assert got == {("2026-07", "A"): (1, 1), ("2027-02", "B"): (1, 0), ("2027-06", "A"): (1, 0)}


def test_battery_life_and_warning_are_settings() -> None:
    """Prometra given 60 months and a 180-day warning: n (implant 2020-01-01) reaches its
    end of life on 2025-01-01, warning 2024-07-05 (2025-01-01 - 180 days)."""
    config = replace(
        DEFAULT,
        battery_life_months={**DEFAULT.battery_life_months, "prometra": 60},
        eri_warning_days=180,
    )
    with engine_db(plan_rows()) as con:
        df = battery_plan(con, D("2025-12-01"), 1, config)
    n = df[df["patient_id"] == "n"].iloc[0]
    assert (str(n.eol_date.date()), str(n.eri_date.date())) == ("2025-01-01", "2024-07-05")


def test_a_replaced_pump_is_no_longer_in_place() -> None:
    """s: implanted 2018-01-01 (recorded, left-truncated), replaced 2024-06-01: the pump
    in place is the new one (end of life 2031-06-01), not the old one (2025-01-01)."""
    rows = [
        visit(
            "s", "2023-01-01", "refill", pump_implant_date="2018-01-01", volume_added_ml=20, **SYN
        ),  # fmt: skip
        visit("s", "2024-06-01", "replacement", volume_added_ml=20, **SYN),
    ]
    with engine_db(rows) as con:
        df = battery_plan(con, D("2024-07-01"), 120)
    assert by_patient(df) == {"s": ("2024-06-01", "2031-03-03", "2031-06-01")}


def measure_rows() -> list[dict[str, object]]:
    """Pump periods (SynchroMed, 84 months) and where they stand on 2024-12-31:

    s   recorded 2018-01-01, EOL 2025-01-01, replaced 2024-06-01: its end of life is
        after the cut-off, so not (yet) in the measure;
    t   implant 2017-01-10, EOL 2024-01-10, replaced 2024-02-01 (after): denominator only;
    e   implant 2017-01-01, EOL 2024-01-01, replaced 2023-12-01 (before): both;
    w   implant 2017-03-01, EOL 2024-03-01, explanted 2023-05-01 (before EOL): excluded;
    y   implant 2017-04-01, EOL 2024-04-01, still in place: denominator only;
    v   implant 2017-05-01, EOL 2024-05-01, explanted 2024-06-01 (after): denominator;
    k   implant 2017-07-01, EOL 2024-07-01, an implant visit during the open episode on
        2024-06-30 (a new pump, the day before): both;
    n   Prometra: no end of life, excluded.
    Sites: e, t, k at A; y, v, w at B.
    """
    return [
        visit(
            "s",
            "2023-01-01",
            "refill",
            pump_implant_date="2018-01-01",
            site="A",
            volume_added_ml=20,
            **SYN,
        ),  # fmt: skip
        visit("s", "2024-06-01", "replacement", site="A", volume_added_ml=20, **SYN),
        implant("t", "2017-01-10", site="A", **SYN),
        visit("t", "2024-02-01", "replacement", site="A", **SYN),
        implant("e", "2017-01-01", site="A", **SYN),
        visit("e", "2023-12-01", "replacement", site="A", **SYN),
        implant("w", "2017-03-01", site="B", **SYN),
        visit("w", "2023-05-01", "explant", site="B"),
        implant("y", "2017-04-01", site="B", **SYN),
        implant("v", "2017-05-01", site="B", **SYN),
        visit("v", "2024-06-01", "explant", site="B"),
        implant("k", "2017-07-01", site="A", **SYN),
        implant("k", "2024-06-30", site="A", **SYN),
        implant("n", "2017-01-01", site="B", **{**SYN, "pump_model": "Prometra II"}),
        visit("y", "2024-12-31", "follow_up", site="B"),
    ]


def test_replaced_before_end_of_life_numerator_and_denominator() -> None:
    """As of 2024-12-31: denominator t, e, y, v, k = 5; numerator e, k = 2 (s's end of
    life, 2025-01-01, is after the cut-off; w was explanted before its end of life)."""
    with engine_db(measure_rows()) as con:
        overall = replaced_before_eol(con)
        by_site = replaced_before_eol(con, None, "site")
    assert overall.to_dict("records") == [
        {"group": "all", "pumps_reached_eol": 5, "replaced_before_eol": 2, "proportion": 0.4}
    ]
    got = {r.group: (r.pumps_reached_eol, r.replaced_before_eol) for r in by_site.itertuples()}
    assert got == {"A": (3, 2), "B": (2, 0)}


def test_replaced_before_end_of_life_at_an_earlier_cut_off() -> None:
    """As of 2024-03-31: t (EOL 01-10, replaced later) and e (EOL 01-01, replaced before)
    have reached it: 1 of 2. As of 2023-12-31: none reached it yet: one row of zeros."""
    with engine_db(measure_rows()) as con:
        march = replaced_before_eol(con, D("2024-03-31"))
        none = replaced_before_eol(con, D("2023-12-31"))
    assert (march.iloc[0].pumps_reached_eol, march.iloc[0].replaced_before_eol) == (2, 1)
    assert (none.iloc[0].pumps_reached_eol, none.iloc[0].replaced_before_eol) == (0, 0)
    assert pd.isna(none.iloc[0].proportion)


def test_replacement_on_the_end_of_life_day_is_not_before_it() -> None:
    """Replaced on its end-of-life date (2024-01-01): reached it, not replaced before."""
    rows = [
        implant("e", "2017-01-01", **SYN),
        visit("e", "2024-01-01", "replacement", **SYN),
    ]
    with engine_db(rows) as con:
        df = replaced_before_eol(con)
    assert (df.iloc[0].pumps_reached_eol, df.iloc[0].replaced_before_eol) == (1, 0)


@pytest.mark.parametrize("by", ["ward", "clinician"])
def test_replaced_groups_come_from_an_allow_list(by: str) -> None:
    from analytics.errors import PumpqiError

    with engine_db(plan_rows()) as con, pytest.raises(PumpqiError, match="--by"):
        replaced_before_eol(con, None, by)


@pytest.mark.parametrize("stored", [True, False])
def test_a_dashboard_filter_narrows_the_on_demand_tables(stored: bool) -> None:
    """After `narrow` (the dashboard's site filter) the plan holds site A's pumps only:
    whether pq_pumps is the stored table (narrowed at once) or built afterwards for
    another configuration (narrowed when built)."""
    from analytics.engine.on_demand import STAGES
    from analytics.engine.tables import ON_DEMAND_TABLES, narrow, prepare

    assert tuple(STAGES) == ON_DEMAND_TABLES
    config = DEFAULT if stored else replace(DEFAULT, suppress_below=5)
    with engine_db(plan_rows()) as con:
        prepare(con, None, config)
        narrow(con, "site", "A", "unknown")
        df = battery_plan(con, D("2025-12-01"), 120, config)
    assert list(df["patient_id"]) == ["p", "q"]

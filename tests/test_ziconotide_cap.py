"""The ziconotide stability cap by dilution (product label), hand-worked.

Every pump here runs at a recorded 0.024 mL/day, so a 20 mL fill reaches the 2 mL alarm
only after (20 - 2) / 0.024 = 750 days: the stability cap always gives the due date.
Each patient is implanted on 2024-01-01 (first fill of a new pump: cap 14, due 01-15)
and refilled on 2024-01-10. The refill's cap, by the concentration in force at it:

* at a vial strength (0.1 or 0.025 mg/mL, within 0.000001 mg/mL): undiluted, 84 days
  -> 2024-01-10 + 84 = 2024-04-03 (21 days to 01-31, 29 to 02-29, 31 to 03-31, 3 more);
* any other concentration, an unknown one, or ziconotide in a mixture: diluted, 40 days
  -> 2024-01-10 + 40 = 2024-02-19 (21 days to 01-31, 19 more).
"""

from __future__ import annotations

import pandas as pd

from analytics.config import Config
from tests.engine_helpers import D, fills_of, implant, visit
from tests.test_refills_engine import date_of, row

AS_OF = "2024-01-20"
UNDILUTED_DUE = D("2024-04-03")
DILUTED_DUE = D("2024-02-19")


def zico(
    pid: str, concentration: float | None, drug: str = "ziconotide"
) -> list[dict[str, object]]:
    """Implant on 01-01 at `concentration` (None: never recorded), refill on 01-10."""
    pump: dict[str, object] = dict(
        pump_model="SynchroMed II",
        reservoir_ml=20,
        drug=drug,
        daily_rate_ml=0.024,
        volume_added_ml=20,
    )
    if concentration is not None:
        pump["concentration_mg_ml"] = concentration
    return [
        implant(pid, "2024-01-01", **pump),
        visit(pid, "2024-01-10", "refill", volume_added_ml=20),
    ]


def refill_of(df: pd.DataFrame, pid: str) -> pd.Series:
    return row(df[df.patient_id == pid], "2024-01-10")


def test_refill_cap_depends_on_dilution() -> None:
    """0.1 and 0.025 mg/mL (vial strengths): 84 days; 0.05: 40; morphine+ziconotide at
    0.1 mg/mL: min(morphine 90, ziconotide in a mixture 40) = 40; no concentration ever
    recorded: 40. Every implant (a new pump's first fill): 14 days, due 01-15."""
    cases = {
        "vial_100": (0.1, "ziconotide", 84, UNDILUTED_DUE),
        "vial_25": (0.025, "ziconotide", 84, UNDILUTED_DUE),
        "diluted": (0.05, "ziconotide", 40, DILUTED_DUE),
        "mixture": (0.1, "morphine+ziconotide", 40, DILUTED_DUE),
        "unknown": (None, "ziconotide", 40, DILUTED_DUE),
    }
    visits = [v for pid, (c, drug, _, _) in cases.items() for v in zico(pid, c, drug)]
    df = fills_of(visits, AS_OF)
    for pid, (_, _, cap, due) in cases.items():
        r = refill_of(df, pid)
        assert (pid, r.cap_days, date_of(r.due_date), r.due_source) == (
            pid,
            cap,
            due,
            "stability_cap",
        )
        first = row(df[df.patient_id == pid], "2024-01-01")
        assert (pid, first.cap_days, date_of(first.due_date)) == (pid, 14, D("2024-01-15"))


def test_vial_strength_is_matched_within_a_millionth_of_a_mg_per_ml() -> None:
    """0.1000005 is within 0.000001 mg/mL of 0.1: undiluted (84); 0.1001 is not: 40."""
    df = fills_of([*zico("near", 0.1000005), *zico("off", 0.1001)], AS_OF)
    assert (refill_of(df, "near").cap_days, refill_of(df, "off").cap_days) == (84, 40)


def test_concentration_in_force_at_the_fill_decides() -> None:
    """Implanted at 0.1 mg/mL; the 01-10 refill records 0.05 (diluted: 40 days, 02-19);
    a refill on 01-20 records nothing, 0.05 stays in force: 40 -> 02-29. Patient u goes
    the other way: implanted at 0.05, refilled at 0.1 on 01-10: 84 -> 04-03. A
    replacement at 0.1 mg/mL on 01-20 is a new pump's first fill: 14 -> 02-03. (A new
    concentration is recorded with its rate: otherwise the daily volume is unknown.)"""
    rate: dict[str, object] = dict(daily_rate_ml=0.024)
    pump: dict[str, object] = dict(
        pump_model="SynchroMed II", reservoir_ml=20, drug="ziconotide", **rate
    )
    df = fills_of(
        [
            implant("d", "2024-01-01", concentration_mg_ml=0.1, volume_added_ml=20, **pump),
            visit(
                "d", "2024-01-10", "refill", volume_added_ml=20, concentration_mg_ml=0.05, **rate
            ),
            visit("d", "2024-01-20", "refill", volume_added_ml=20),
            implant("u", "2024-01-01", concentration_mg_ml=0.05, volume_added_ml=20, **pump),
            visit("u", "2024-01-10", "refill", volume_added_ml=20, concentration_mg_ml=0.1, **rate),
            visit("u", "2024-01-20", "replacement", volume_added_ml=20),
        ],
        "2024-01-25",
    )
    d, u = df[df.patient_id == "d"], df[df.patient_id == "u"]
    assert [(r.cap_days, date_of(r.due_date)) for r in d.itertuples()] == [
        (14, D("2024-01-15")),
        (40, D("2024-02-19")),
        (40, D("2024-02-29")),
    ]
    assert [(r.cap_days, date_of(r.due_date)) for r in u.itertuples()] == [
        (14, D("2024-01-15")),
        (84, UNDILUTED_DUE),
        (14, D("2024-02-03")),
    ]


def test_site_settings_change_the_vial_list_and_both_caps() -> None:
    """A site whose vials are 0.05 mg/mL, undiluted cap 60, diluted cap 30: the 0.05
    refill is undiluted, 01-10 + 60 = 03-10; the 0.1 refill is now diluted,
    01-10 + 30 = 02-09. With no vial strengths at all, every refill is diluted."""
    visits = [*zico("a", 0.05), *zico("b", 0.1)]
    site = Config(
        ziconotide_vial_mg_ml=(0.05,),
        ziconotide_undiluted_cap_days=60,
        stability_caps={"baclofen": 180, "morphine": 90, "hydromorphone": 90, "ziconotide": 30},
    )
    df = fills_of(visits, AS_OF, config=site)
    a, b = refill_of(df, "a"), refill_of(df, "b")
    assert (a.cap_days, date_of(a.due_date)) == (60, D("2024-03-10"))
    assert (b.cap_days, date_of(b.due_date)) == (30, D("2024-02-09"))
    none = fills_of(visits, AS_OF, config=Config(ziconotide_vial_mg_ml=()))
    assert list(none[none.fill_type == "refill"].cap_days) == [40, 40]

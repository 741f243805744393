"""Hand-worked refill cases. Every expected value is worked out in the docstring.

The base pump unless said otherwise: SynchroMed II, 20 mL reservoir, baclofen 2 mg/mL at
0.4 mg/day = 0.2 mL/day, alarm 2.0 mL (SynchroMed default). Filled with 20 mL on
2024-01-01 it reaches the alarm after (20 - 2) / 0.2 = 90 days (2024-03-31) and is empty
after 20 / 0.2 = 100 days (2024-04-10). The baclofen stability cap is 180 days.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analytics.config import DEFAULT, Config
from tests.engine_helpers import BASE, D, fills_of, implant, visit


def row(df: pd.DataFrame, fill_date: str) -> pd.Series:
    sel = df[df["fill_date"] == pd.Timestamp(fill_date)]
    assert len(sel) == 1, f"expected one fill on {fill_date}, got {len(sel)}"
    return sel.iloc[0]


def date_of(value: object) -> object:
    return (
        None
        if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)
        else pd.Timestamp(value).date()
    )


# --- due date precedence ---------------------------------------------------------------


def test_recorded_due_is_the_last_recorded_before_the_next_fill() -> None:
    """Implant 01-01 records due 03-01; a follow-up on 02-01 records 03-15; the refill on
    03-10 records 05-01 (that one belongs to the refill). Fill 1: recorded 03-15 wins over
    computed 03-31; next fill 03-10 <= 03-15: on_time; early? 03-10 < 03-15 - 14 = 03-01: no.
    Its empty date stays volume-based: 2024-04-10."""
    df = fills_of(
        [
            implant("p", "2024-01-01", next_refill_due="2024-03-01", **BASE),
            visit("p", "2024-02-01", "follow_up", next_refill_due="2024-03-15"),
            visit("p", "2024-03-10", "refill", volume_added_ml=19, next_refill_due="2024-05-01"),
        ],
        "2024-04-01",
    )
    f = row(df, "2024-01-01")
    assert (date_of(f.due_date), f.due_source, date_of(f.computed_due)) == (
        D("2024-03-15"),
        "recorded",
        D("2024-03-31"),
    )
    assert (f.status, f.days_late, f.dry_days, bool(f.early)) == ("on_time", 0, 0, False)
    assert date_of(f.empty_date) == D("2024-04-10")
    assert date_of(row(df, "2024-03-10").due_date) == D("2024-05-01")


def test_stability_cap_binds_computed_and_recorded_dates() -> None:
    """Morphine 25 mg/mL at 1 mg/day = 0.04 mL/day in a 40 mL pump: the alarm is (40-2)/0.04
    = 950 days away, but morphine's cap is 90 days: due 2024-01-01 + 90 = 2024-03-31,
    source stability_cap; the empty date stays volume-based (1000 days: 2026-09-27).
    Patient q records 2024-06-01: the cap (03-31) is earlier, so stability_cap too.
    Patient r records exactly 03-31: a tie keeps the source `recorded`."""
    m = dict(
        pump_model="SynchroMed II",
        reservoir_ml=40,
        drug="morphine",
        concentration_mg_ml=25,
        daily_dose_mg=1,
        volume_added_ml=40,
    )
    df = fills_of(
        [
            implant("p", "2024-01-01", **m),
            implant("q", "2024-01-01", next_refill_due="2024-06-01", **m),
            implant("r", "2024-01-01", next_refill_due="2024-03-31", **m),
        ],
        "2024-02-01",
    )
    by = df.set_index("patient_id")
    assert (date_of(by.loc["p"].due_date), by.loc["p"].due_source) == (
        D("2024-03-31"),
        "stability_cap",
    )
    assert date_of(by.loc["p"].empty_date) == D("2026-09-27")
    assert (date_of(by.loc["q"].due_date), by.loc["q"].due_source) == (
        D("2024-03-31"),
        "stability_cap",
    )
    assert (date_of(by.loc["r"].due_date), by.loc["r"].due_source) == (D("2024-03-31"), "recorded")


def test_mixture_takes_the_shortest_cap_of_its_parts() -> None:
    """baclofen+clonidine at 2 mg/mL, 0.04 mg/day = 0.02 mL/day: alarm after 900 days;
    caps baclofen 180, clonidine (not listed) 90 -> 90: due 2024-03-31."""
    df = fills_of(
        [
            implant(
                "p", "2024-01-01", **{**BASE, "drug": "baclofen+clonidine", "daily_dose_mg": 0.04}
            )
        ],
        "2024-02-01",
    )
    f = row(df, "2024-01-01")
    assert (f.cap_days, date_of(f.due_date), f.due_source) == (90, D("2024-03-31"), "stability_cap")


def test_ziconotide_first_fill_of_a_new_pump_is_capped_at_14_days() -> None:
    """Ziconotide 0.1 mg/mL at 0.0024 mg/day = 0.024 mL/day lasts years. Implant 01-01:
    cap 14 -> due 01-15. Refill 01-14: undiluted (0.1 mg/mL is a vial strength), cap 84
    -> 04-07. Replacement 03-01 (a new pump): 14 again -> 03-15. ziconotide+morphine on
    an implant: min(14, 90) = 14. (Diluted and mixed refills: test_ziconotide_cap.py.)"""
    z = dict(
        pump_model="SynchroMed II",
        reservoir_ml=20,
        drug="ziconotide",
        concentration_mg_ml=0.1,
        daily_dose_mg=0.0024,
        volume_added_ml=20,
    )
    df = fills_of(
        [
            implant("p", "2024-01-01", **z),
            visit("p", "2024-01-14", "refill", volume_added_ml=20),
            visit("p", "2024-03-01", "replacement", volume_added_ml=20),
            implant("q", "2024-01-01", **{**z, "drug": "ziconotide+morphine"}),
        ],
        "2024-03-02",
    )
    p = df[df.patient_id == "p"].set_index("fill_date")
    assert [date_of(d) for d in p.due_date] == [D("2024-01-15"), D("2024-04-07"), D("2024-03-15")]
    assert list(p.cap_days) == [14, 84, 14]
    assert date_of(row(df[df.patient_id == "q"], "2024-01-01").due_date) == D("2024-01-15")


# --- computed due dates ------------------------------------------------------------------


def test_computed_due_follows_a_reprogram_piece_by_piece() -> None:
    """0.2 mL/day from 01-01; a reprogram on 03-01 doubles the dose to 0.8 mg = 0.4 mL/day.
    By 03-01 (60 days) 12 mL are used, 8 mL left: alarm (8-2)/0.4 = 15 days -> 03-16;
    empty 8/0.4 = 20 days -> 03-21. The refill on 04-01 is after the empty date: missed,
    days late 04-01 - 03-16 = 16, dry days 04-01 - 03-21 = 11."""
    df = fills_of(
        [
            implant("p", "2024-01-01", **BASE),
            visit("p", "2024-03-01", "reprogram", daily_dose_mg=0.8),
            visit("p", "2024-04-01", "refill", volume_added_ml=20),
        ],
        "2024-04-02",
    )
    f = row(df, "2024-01-01")
    assert (date_of(f.due_date), f.due_source, date_of(f.empty_date)) == (
        D("2024-03-16"),
        "computed",
        D("2024-03-21"),
    )
    assert (f.status, f.days_late, f.dry_days) == ("missed", 16, 11)


def test_new_concentration_with_unchanged_dose_changes_the_volume() -> None:
    """On 01-31 (30 days, 6 mL used, 14 mL left) the concentration becomes 1 mg/mL with the
    dose still 0.4 mg/day: 0.4 mL/day. Alarm (14-2)/0.4 = 30 days -> 03-01; empty 35 -> 03-06."""
    df = fills_of(
        [
            implant("p", "2024-01-01", **BASE),
            visit("p", "2024-01-31", "follow_up", concentration_mg_ml=1),
        ],
        "2024-02-01",
    )
    f = row(df, "2024-01-01")
    assert (date_of(f.due_date), date_of(f.empty_date)) == (D("2024-03-01"), D("2024-03-06"))


def test_recorded_rate_wins_over_dose_over_concentration() -> None:
    """daily_rate_ml 0.3 recorded with dose/concentration giving 0.2: 18/0.3 = 60 -> 03-01."""
    df = fills_of([implant("p", "2024-01-01", **BASE, daily_rate_ml=0.3)], "2024-01-02")
    assert date_of(row(df, "2024-01-01").due_date) == D("2024-03-01")


def test_changes_on_or_after_the_next_fill_never_affect_this_fill() -> None:
    """The refill on 03-01 sets 0.8 mg/day; fill 1 keeps 0.2 mL/day: due 03-31, and the
    refill 03-01 is before 03-31 - 14 = 03-17: on_time and early."""
    df = fills_of(
        [
            implant("p", "2024-01-01", **BASE),
            visit("p", "2024-03-01", "refill", volume_added_ml=20, daily_dose_mg=0.8),
            visit("p", "2024-03-01", "reprogram", daily_dose_mg=1.0),
        ],
        "2024-03-02",
    )
    f = row(df, "2024-01-01")
    assert (date_of(f.due_date), f.status, bool(f.early)) == (D("2024-03-31"), "on_time", True)
    # the refill itself runs at 1.0 mg/day = 0.5 mL/day from 03-01 (same-day reprogram): 36 days
    assert date_of(row(df, "2024-03-01").due_date) == D("2024-04-06")


def test_alarm_volume_visit_then_model_then_default_and_reset_by_a_new_pump() -> None:
    """Alarm 4 mL set at the implant: 16/0.2 = 80 days -> 03-21. Prometra II with no alarm
    recorded: 3.0 mL -> 85 days -> 03-26. An unknown model: 2.0 mL -> 90 days -> 03-31.
    Patient p's pump is replaced on 04-01 by a Prometra II (20 mL): the 4 mL setting was the
    old pump's, so 3.0 mL: 85 days -> 06-25."""
    df = fills_of(
        [
            implant("p", "2024-01-01", alarm_ml=4, **BASE),
            visit("p", "2024-04-01", "replacement", pump_model="Prometra II", volume_added_ml=20),
            implant("q", "2024-01-01", **{**BASE, "pump_model": "Prometra II"}),
            implant("r", "2024-01-01", **{**BASE, "pump_model": "Medstream"}),
        ],
        "2024-04-02",
    )
    got = {
        (r.patient_id, date_of(r.fill_date)): (r.alarm_volume_ml, date_of(r.due_date))
        for r in df.itertuples()
    }
    assert got[("p", D("2024-01-01"))] == (4.0, D("2024-03-21"))
    assert got[("p", D("2024-04-01"))] == (3.0, D("2024-06-25"))
    assert got[("q", D("2024-01-01"))] == (3.0, D("2024-03-26"))
    assert got[("r", D("2024-01-01"))] == (2.0, D("2024-03-31"))


def test_fill_volume_is_capped_at_the_reservoir() -> None:
    """25 mL into a 20 mL pump counts as 20 mL: due 03-31 as for the base pump; flagged."""
    f = row(
        fills_of([implant("p", "2024-01-01", **{**BASE, "volume_added_ml": 25})], "2024-01-02"),
        "2024-01-01",
    )
    assert (f.start_volume_ml, date_of(f.due_date), bool(f.overfilled)) == (
        20.0,
        D("2024-03-31"),
        True,
    )


def test_zero_daily_volume_gives_the_cap_and_a_blank_empty_date() -> None:
    """Dose 0: the alarm is never reached; baclofen cap 180 days: due 2024-06-29, source
    stability_cap, empty blank. On 07-10 without a refill it is overdue (never dry): 11 days late."""
    f = row(
        fills_of([implant("p", "2024-01-01", **{**BASE, "daily_dose_mg": 0})], "2024-07-10"),
        "2024-01-01",
    )
    assert (date_of(f.due_date), f.due_source, date_of(f.empty_date)) == (
        D("2024-06-29"),
        "stability_cap",
        None,
    )
    assert (f.status, f.days_late, f.dry_days) == ("overdue", 11, 0)


# --- empty date fallbacks ------------------------------------------------------------


def test_empty_date_fallbacks() -> None:
    """p: recorded due 03-01, no volume added (can't follow the volume), 0.2 mL/day in force:
    empty = 03-01 + 2.0/0.2 = 03-11. q: recorded due 03-01 and no rate at all: empty = 03-01,
    so a refill on 03-05 is missed (4 days late, 4 dry). r: recorded due 05-01 after the
    volume-based empty date 04-10: the empty date is never earlier than the due date: 05-01."""
    df = fills_of(
        [
            implant(
                "p", "2024-01-01", next_refill_due="2024-03-01", **{**BASE, "volume_added_ml": None}
            ),
            visit("q", "2024-01-01", "refill", next_refill_due="2024-03-01"),
            visit("q", "2024-03-05", "refill"),
            implant("r", "2024-01-01", next_refill_due="2024-05-01", **BASE),
        ],
        "2024-03-06",
    )
    by = {r.patient_id: r for r in df[df.fill_date == pd.Timestamp("2024-01-01")].itertuples()}
    assert date_of(by["p"].empty_date) == D("2024-03-11")
    assert (date_of(by["q"].empty_date), by["q"].status, by["q"].days_late, by["q"].dry_days) == (
        D("2024-03-01"),
        "missed",
        4,
        4,
    )
    assert date_of(by["r"].empty_date) == D("2024-05-01")


# --- statuses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("later", "as_of", "grace", "expected"),
    [
        (
            [visit("p", "2024-03-31", "refill", volume_added_ml=20)],
            "2024-04-30",
            0,
            ("on_time", 0, 0),
        ),
        (
            [visit("p", "2024-04-03", "refill", volume_added_ml=20)],
            "2024-04-30",
            3,
            ("on_time", 0, 0),
        ),
        ([visit("p", "2024-04-05", "refill", volume_added_ml=20)], "2024-04-30", 0, ("late", 5, 0)),
        (
            [visit("p", "2024-04-10", "refill", volume_added_ml=20)],
            "2024-04-30",
            0,
            ("late", 10, 0),
        ),
        (
            [visit("p", "2024-04-15", "refill", volume_added_ml=20)],
            "2024-04-30",
            0,
            ("missed", 15, 5),
        ),
        ([], "2024-03-31", 0, ("pending", 0, 0)),
        ([], "2024-04-05", 0, ("overdue", 5, 0)),
        ([], "2024-04-10", 0, ("overdue", 10, 0)),
        ([], "2024-04-20", 0, ("missed", 20, 10)),
        ([visit("p", "2024-03-20", "explant")], "2024-06-01", 0, ("not_due", 0, 0)),
        ([visit("p", "2024-03-31", "discharge")], "2024-06-01", 0, ("not_due", 0, 0)),
        ([visit("p", "2024-04-05", "explant")], "2024-06-01", 0, ("overdue", 5, 0)),
        ([visit("p", "2024-04-20", "discharge")], "2024-06-01", 0, ("missed", 20, 10)),
    ],
)
def test_status_rules(later, as_of, grace, expected) -> None:
    """Base pump filled 01-01: due 03-31, empty 04-10. on_time: next <= due + grace;
    late: <= empty; missed: after empty (dry days from the empty date). Without a next
    fill: pending while as_of <= due + grace, overdue up to the empty date, then missed.
    An explant/discharge on or before the due date: not_due; after it, its date takes
    the place of as_of (the pump is gone; dry days stop growing)."""
    df = fills_of(
        [implant("p", "2024-01-01", **BASE), *later], as_of, config=Config(grace_days=grace)
    )
    f = row(df, "2024-01-01")
    assert (f.status, f.days_late, f.dry_days) == expected


def test_unknown_due_date() -> None:
    """A left-truncated refill with no volume, no dose and no recorded due: unknown, no days."""
    f = row(fills_of([visit("p", "2024-01-01", "refill")], "2024-02-01"), "2024-01-01")
    assert f.status == "unknown" and f.due_source is None or pd.isna(f.due_source)
    assert pd.isna(f.days_late) and pd.isna(f.dry_days) and not bool(f.early)


def test_residual_discrepancy_flags() -> None:
    """Refill 1: expected 5, actual 2: -3 mL (-60 %), |-3| > 2: flagged. Refill 2: expected 5,
    actual 6.5: +1.5 mL, not flagged. The implant has no residual to compare."""
    df = fills_of(
        [
            implant("p", "2024-01-01", **BASE),
            visit(
                "p",
                "2024-03-01",
                "refill",
                volume_added_ml=20,
                expected_residual_ml=5,
                actual_residual_ml=2,
            ),
            visit(
                "p",
                "2024-05-01",
                "refill",
                volume_added_ml=20,
                expected_residual_ml=5,
                actual_residual_ml=6.5,
            ),
        ],
        "2024-05-02",
    )
    r1, r2 = row(df, "2024-03-01"), row(df, "2024-05-01")
    assert (r1.residual_diff_ml, r1.residual_diff_pct, bool(r1.residual_flag)) == (
        -3.0,
        -60.0,
        True,
    )
    assert (r2.residual_diff_ml, bool(r2.residual_flag)) == (1.5, False)
    assert not bool(row(df, "2024-01-01").residual_flag)


def test_default_config_matches_metrics_md() -> None:
    assert (DEFAULT.grace_days, DEFAULT.early_days, DEFAULT.residual_tolerance_ml) == (0, 14, 2.0)
    assert DEFAULT.stability_caps == {
        "baclofen": 180,
        "morphine": 90,
        "hydromorphone": 90,
        "ziconotide": 40,
    }
    assert (
        DEFAULT.ziconotide_first_fill_cap_days,
        DEFAULT.ziconotide_undiluted_cap_days,
        DEFAULT.default_cap_days,
        DEFAULT.default_alarm_ml,
    ) == (14, 84, 90, 2.0)
    assert DEFAULT.ziconotide_vial_mg_ml == (0.025, 0.1)

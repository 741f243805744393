"""Values at the edges of the data contract, hand-worked: vanishing and zero daily
volumes, a concentration near 0, a 1 mL reservoir filled with 100 mL, a vanishing
expected residual, a recorded due date on the last day of the calendar, dates in 1980
and today. None may stop the engine or store an infinite number.

The base pump of test_refills_engine.py unless said otherwise: SynchroMed II (alarm
2 mL), 20 mL reservoir filled with 20 mL on 2024-01-01; baclofen (cap 180 days: due at
the latest 2024-06-29) or morphine (cap 90 days: 2024-03-31).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from analytics.cli.commands import main
from analytics.figures import data_quality
from tests.engine_helpers import BASE, D, engine_db, fills_of, implant, visit
from tests.test_refills_engine import date_of, row

MORPHINE = {**BASE, "drug": "morphine"}


def no_dose(**kw: object) -> dict[str, object]:
    """The base pump with a recorded daily volume instead of dose and concentration."""
    pump = {k: v for k, v in BASE.items() if k not in ("concentration_mg_ml", "daily_dose_mg")}
    return {**pump, **kw}


@pytest.mark.parametrize("rate", [1e-320, 5e-324, 1e-300, 0.0])
def test_a_vanishing_or_zero_daily_volume_is_capped_and_never_runs_dry(rate: float) -> None:
    """Morphine at `rate` mL/day: the alarm is (20 - 2) / rate days away, beyond the
    last day of the calendar (or never, at 0): no computed date; the cap gives the due
    date 2024-01-01 + 90 = 2024-03-31 (stability cap) and the empty date is blank. On
    2024-06-01, with no refill, the fill is overdue (never missed): 06-01 - 03-31 = 62
    days late, 0 dry days."""
    df = fills_of([implant("p", "2024-01-01", **no_dose(drug="morphine", daily_rate_ml=rate))],
                  "2024-06-01")  # fmt: skip
    f = row(df, "2024-01-01")
    assert (date_of(f.due_date), f.due_source, date_of(f.computed_due)) == (
        D("2024-03-31"),
        "stability_cap",
        None,
    )
    assert date_of(f.empty_date) is None
    assert (f.status, f.days_late, f.dry_days) == ("overdue", 62, 0)
    assert f.rate_at_fill == rate


def test_a_concentration_near_zero_empties_the_pump_on_the_day() -> None:
    """Dose 1 mg at 1e-320 mg/mL: the quotient is infinite; the daily volume is held at
    a million mL/day, which empties 20 mL on the fill day (18 / 1e6 days to the alarm,
    20 / 1e6 to empty, fractions dropped): due and empty 2024-01-01. The refill on 01-02
    (1 mg/mL, 1 mL/day) is after the empty date: missed, 1 day late, 1 dry day."""
    pump = {**BASE, "concentration_mg_ml": 1e-320, "daily_dose_mg": 1}
    df = fills_of(
        [
            implant("p", "2024-01-01", **pump),
            visit("p", "2024-01-02", "refill", volume_added_ml=20, concentration_mg_ml=1),
        ],
        "2024-01-02",
    )
    f = row(df, "2024-01-01")
    assert (date_of(f.due_date), f.due_source, date_of(f.empty_date)) == (
        D("2024-01-01"),
        "computed",
        D("2024-01-01"),
    )
    assert (f.status, f.days_late, f.dry_days, f.rate_at_fill) == ("missed", 1, 1, 1e6)
    assert row(df, "2024-01-02").rate_at_fill == 1.0


def test_slow_daily_volumes_keep_every_date_a_calendar_can_hold() -> None:
    """Baclofen at 0.001 mL/day: alarm after 18,000 days (2073-04-13), empty after 20,000
    (2078-10-04); the cap (180 days) gives the due date 2024-06-29. Patient q at
    0.0000065 mL/day: the alarm comes after 18 / 0.0000065 = 2,769,230.8 days
    (9605-11-23), but 20 / 0.0000065 = 3,076,923 days is past 9999-12-31 (2,913,173 days
    after the fill): the empty date is blank, as for a daily volume of 0."""
    df = fills_of(
        [
            implant("p", "2024-01-01", **no_dose(daily_rate_ml=0.001)),
            implant("q", "2024-01-01", **no_dose(daily_rate_ml=0.0000065)),
        ],
        "2024-12-31",
    )
    p, q = row(df[df.patient_id == "p"], "2024-01-01"), row(df[df.patient_id == "q"], "2024-01-01")
    assert (date_of(p.computed_due), date_of(p.empty_date)) == (D("2073-04-13"), D("2078-10-04"))
    assert (date_of(p.due_date), p.due_source, p.status) == (
        D("2024-06-29"),
        "stability_cap",
        "overdue",
    )
    assert (date_of(q.computed_due), date_of(q.empty_date)) == (D("9605-11-23"), None)
    assert (date_of(q.due_date), q.due_source, q.status) == (
        D("2024-06-29"),
        "stability_cap",
        "overdue",
    )


def test_a_1_ml_reservoir_filled_with_100_ml() -> None:
    """The reservoir holds 1 mL: start volume 1 mL, already at or below the 2 mL alarm,
    so the fill is due on its own day (computed, 2024-01-01); empty after 1 / 0.2 = 5
    days (01-06). The refill on 01-04 is late (after due, not after empty): 3 days late.
    Flagged twice on the data-quality page: overfilled, and not above the alarm volume."""
    visits = [
        implant("p", "2024-01-01", **{**BASE, "reservoir_ml": 1, "volume_added_ml": 100}),
        visit("p", "2024-01-04", "refill", volume_added_ml=1),
    ]
    df = fills_of(visits, "2024-01-04")
    f = row(df, "2024-01-01")
    assert (f.start_volume_ml, bool(f.overfilled)) == (1.0, True)
    assert (date_of(f.due_date), f.due_source, date_of(f.empty_date)) == (
        D("2024-01-01"),
        "computed",
        D("2024-01-06"),
    )
    assert (f.status, f.days_late, f.dry_days) == ("late", 3, 0)
    with engine_db(visits) as con:
        flags = {fl.key: fl for fl in data_quality(con).flags}
    assert flags["overfilled"].count == 1
    # both fills: 1 mL after the refill too (the reservoir holds 1 mL)
    assert flags["alarm_at_fill"].count == 2
    assert list(flags["alarm_at_fill"].rows["start_volume_ml"]) == [1.0, 1.0]


def test_a_vanishing_expected_residual_gives_no_percentage() -> None:
    """Expected residual 1e-320 mL, actual 5 mL: the difference is 5 mL (flagged, above
    the 2 mL tolerance); its percentage of expected would be infinite: blank."""
    df = fills_of(
        [
            implant("p", "2024-01-01", **BASE),
            visit(
                "p",
                "2024-02-01",
                "refill",
                volume_added_ml=15,
                expected_residual_ml=1e-320,
                actual_residual_ml=5,
            ),
        ],
        "2024-02-01",
    )
    f = row(df, "2024-02-01")
    assert (f.residual_diff_ml, bool(f.residual_flag)) == (5.0, True)
    assert math.isnan(f.residual_diff_pct)


def test_recorded_due_dates_at_the_end_of_the_calendar() -> None:
    """Patient p records 9999-12-31 at an implant without dose data: the cap gives the
    due date (2024-06-29, stability cap); the empty date cannot be followed and no daily
    volume is known, so it is the recorded date, 9999-12-31. Patient q records it with
    0.0001 mL/day but no volume: empty = recorded + 2 / 0.0001 = 20,000 days, past the
    calendar: blank. Patient r records 2024-03-01 at 1e-320 mL/day without a volume:
    2 / 1e-320 days is infinite: blank."""
    no_volume = no_dose(daily_rate_ml=0.0001)
    del no_volume["volume_added_ml"]
    df = fills_of(
        [
            implant("p", "2024-01-01", drug="baclofen", next_refill_due="9999-12-31"),
            implant("q", "2024-01-01", next_refill_due="9999-12-31", **no_volume),
            implant(
                "r", "2024-01-01", next_refill_due="2024-03-01", **{**no_volume, "daily_rate_ml": 1e-320}
            ),
        ],
        "2024-12-31",
    )  # fmt: skip
    p, q, r = (row(df[df.patient_id == x], "2024-01-01") for x in "pqr")
    assert (date_of(p.due_date), p.due_source, date_of(p.empty_date)) == (
        D("2024-06-29"),
        "stability_cap",
        D("9999-12-31"),
    )
    assert (date_of(q.due_date), q.due_source, date_of(q.empty_date)) == (
        D("2024-06-29"),
        "stability_cap",
        None,
    )
    assert (date_of(r.due_date), r.due_source, date_of(r.empty_date), r.status) == (
        D("2024-03-01"),
        "recorded",
        None,
        "overdue",
    )


def test_dates_at_the_edges_of_the_allowed_years() -> None:
    """Implant on 1980-01-01 (1980 is a leap year): alarm after 90 days, 1980-03-31;
    empty after 100, 1980-04-10. Refilled today: missed, today - 1980-03-31 days late,
    today - 1980-04-10 dry days; the refill itself is pending (due in 90 days)."""
    today = dt.date.today()
    df = fills_of(
        [
            implant("p", "1980-01-01", **BASE),
            visit("p", today.isoformat(), "refill", volume_added_ml=20),
        ],
        today.isoformat(),
    )
    f = row(df, "1980-01-01")
    assert (date_of(f.due_date), date_of(f.empty_date), f.status) == (
        D("1980-03-31"),
        D("1980-04-10"),
        "missed",
    )
    assert (f.days_late, f.dry_days) == (
        (today - D("1980-03-31")).days,
        (today - D("1980-04-10")).days,
    )
    assert row(df, today.isoformat()).status == "pending"


def _write(path: Path, cells: dict[str, str]) -> Path:
    """An implant with `cells`, then a clean refill (so that something is loaded)."""
    first = {"patient_id": "p", "visit_date": "2024-01-01", "visit_type": "implant", **cells}
    second = {**dict.fromkeys(first, ""), "patient_id": "p", "visit_date": "2024-02-01"}
    second.update(visit_type="refill", volume_added_ml="20")
    lines = [",".join(first), ",".join(first.values()), ",".join(second[k] for k in first)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("cells", "validate_code", "quarantined"),
    [
        # a denormal above 0: inside every range, loaded
        (
            {
                "concentration_mg_ml": "1e-320",
                "daily_dose_mg": "1e-320",
                "daily_rate_ml": "1e-320",
                "volume_added_ml": "20",
            },
            0,
            0,
        ),
        ({"volume_added_ml": "1e-320", "expected_residual_ml": "5e-324"}, 0, 0),
        # below the smallest double: read as 0, which a concentration may not be
        ({"concentration_mg_ml": "1e-400"}, 1, 1),
        ({"daily_rate_ml": "1e-400"}, 0, 0),
        # beyond the largest double: infinite, not a number the contract allows
        ({"daily_dose_mg": "1e400"}, 1, 1),
    ],
)
def test_validate_and_ingest_classify_a_file_alike(
    tmp_path: Path, cells: dict[str, str], validate_code: int, quarantined: int
) -> None:
    """`validate` exits 1 exactly when `ingest` quarantines a row; `ingest` loads the
    file (exit 0) either way, and the engine's figures are computed."""
    path = _write(tmp_path / "visits.csv", cells)
    runner = CliRunner()
    checked = runner.invoke(main, ["validate", str(path)])
    loaded = runner.invoke(main, ["ingest", "--db", str(tmp_path / "t.duckdb"), str(path)])
    assert (checked.exit_code, loaded.exit_code) == (validate_code, 0), loaded.output
    assert f"{quarantined} quarantined" in loaded.output
    shown = runner.invoke(main, ["refills", "--db", str(tmp_path / "t.duckdb"), "--detail"])
    assert shown.exit_code == 0 and "inf" not in shown.stdout.lower()


def test_implausible_values_are_loaded_and_flagged() -> None:
    """A full reservoir lasting more than ten years (3,652.5 days): s at 0.005 mL/day in
    20 mL lasts 4,000 days (flagged); t at 0.0055 mL/day lasts 3,636 days (not); u at
    0.005 mL/day with no reservoir size counts 20 mL (flagged); z at 0 mL/day is not
    "slow" (it never empties; the cap gives its due date). f: 10 mg/day at 0.1 mg/mL is
    100 mL/day, above the 50 mL/day maximum (flagged at the implant; its refill records
    a rate of 1 mL/day). d records a due date (02-01) before its fill (03-01). i's
    implant gives a pump implant date of May 2024 (its 15th) at a visit on 03-01; j's
    February 2024 (02-15) is before the visit. All are loaded."""
    slow = no_dose(daily_rate_ml=0.005)
    del slow["reservoir_ml"]
    visits = [
        implant("s", "2024-03-01", **no_dose(daily_rate_ml=0.005)),
        implant("t", "2024-03-01", **no_dose(daily_rate_ml=0.0055)),
        implant("u", "2024-03-01", **slow),
        implant("z", "2024-03-01", **no_dose(daily_rate_ml=0)),
        implant("f", "2024-03-01", **{**BASE, "daily_dose_mg": 10, "concentration_mg_ml": 0.1}),
        visit("f", "2024-03-02", "refill", volume_added_ml=20, daily_rate_ml=1),
        implant("d", "2024-03-01", next_refill_due="2024-02-01", **BASE),
        implant("i", "2024-03-01", pump_implant_date="2024-05", **BASE),
        implant("j", "2024-03-01", pump_implant_date="2024-02", **BASE),
    ]
    with engine_db(visits) as con:
        flags = {fl.key: fl for fl in data_quality(con).flags}
        loaded = con.execute("SELECT count(*) FROM visits").fetchall()[0][0]
    assert loaded == len(visits)
    got = {k: (flags[k].count, list(flags[k].rows["patient_id"])) for k in flags}
    assert got["slow_rate"] == (2, ["s", "u"])
    assert got["fast_rate"] == (1, ["f"])
    assert flags["fast_rate"].rows["daily_volume_ml"].tolist() == [100.0]
    assert got["due_before_fill"] == (1, ["d"])
    assert got["implant_after_visit"] == (1, ["i"])
    assert str(flags["implant_after_visit"].rows["pump_implant_date"][0])[:10] == "2024-05-15"
    # every fill starts with 20 mL, above its 2 mL alarm (f reaches it on the day by rate)
    assert got["alarm_at_fill"] == (0, [])

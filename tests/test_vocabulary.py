"""The vocabulary is the one place for statuses, dimensions, measures and codes: every
copy elsewhere (SQL, CLI choices, tables, the Definitions page) is tied to it here."""

from __future__ import annotations

from importlib import resources

import click

from analytics.cli.commands import main
from analytics.engine.metrics import COUNT_COLUMNS, GROUP_COLUMNS, METRIC_COLUMNS
from analytics.ingest.contract import COMPLICATIONS, VISITS
from analytics.vocabulary import (
    BY_IDS,
    CATEGORY_LABELS,
    CODES,
    DUE_STATUS_IDS,
    MEASURES,
    REFILL_STATUSES,
    STATUS_IDS,
    WORDS,
    label,
)


def _sql(name: str) -> str:
    return resources.files("analytics.engine").joinpath(f"sql/{name}.sql").read_text("utf-8")


def test_every_status_is_produced_by_the_refills_sql_and_no_other() -> None:
    sql = _sql("06_refills")
    for status in STATUS_IDS:
        assert f"'{status}'" in sql, f"{status} is not assigned in 06_refills.sql"
    assigned = {
        w.strip("'")
        for w in sql.replace("(", " ").replace(")", " ").split()
        if w.startswith("'") and w.endswith("'") and w.strip("'").replace("_", "").isalpha()
    }
    statuses_in_sql = assigned & {"on_time", "late", "missed", "overdue", "pending", "not_due"}
    assert statuses_in_sql <= set(STATUS_IDS)


def test_due_statuses_are_the_metrics_columns_and_counts() -> None:
    for status in DUE_STATUS_IDS:
        assert status in COUNT_COLUMNS and status in METRIC_COLUMNS
    assert set(DUE_STATUS_IDS) < set(STATUS_IDS)


def test_statuses_have_distinct_words_and_colours() -> None:
    assert len({s.label for s in REFILL_STATUSES}) == len(REFILL_STATUSES)
    assert len({s.colour.lower() for s in REFILL_STATUSES}) == len(REFILL_STATUSES)
    assert all(s.meaning for s in REFILL_STATUSES)


def test_by_choices_of_the_cli_are_the_dimensions() -> None:
    metrics = main.commands["metrics"]
    by = next(p for p in metrics.params if p.name == "by")
    assert isinstance(by.type, click.Choice)
    assert tuple(by.type.choices) == BY_IDS
    assert set(GROUP_COLUMNS) == {"all", *BY_IDS}


def test_contract_enums_are_the_vocabulary() -> None:
    assert VISITS.column("visit_type").values == tuple(WORDS["visit_type"])
    assert VISITS.column("indication").values == tuple(WORDS["indication"])
    assert COMPLICATIONS.column("complication").values == tuple(c.id for c in CODES)
    assert COMPLICATIONS.column("severity").values == tuple(WORDS["severity"])
    assert {c.category for c in CODES} == set(CATEGORY_LABELS)


def test_every_coded_value_reads_as_words() -> None:
    assert label("severity", "life_threatening") == "life-threatening"
    assert label("complication", "post_dural_puncture_headache") == "post-dural-puncture headache"
    assert label("due_source", "stability_cap") == "drug stability cap"
    assert label("status", None) == "unknown"
    for kind, words in WORDS.items():
        for code, text in words.items():
            assert text and "_" not in text, f"{kind}.{code} reads as a code: {text!r}"


def test_measures_are_unique_and_chartable() -> None:
    assert len({m.id for m in MEASURES}) == len(MEASURES)
    for m in MEASURES:
        assert m.numerator in COUNT_COLUMNS
        assert m.denominator is None or m.denominator in COUNT_COLUMNS
        if m.chart is not None:
            assert m.denominator is not None and m.y_title


def test_complication_units_windows_and_surgical_groupings_are_the_cli_choices() -> None:
    from analytics.engine.surgical import SURGICAL_GROUPS
    from analytics.vocabulary import COUNT_UNITS, OUTCOME_WINDOWS, SURGICAL_BY_IDS

    def choices(command: str, name: str) -> tuple[str, ...]:
        param = next(p for p in main.commands[command].params if p.name == name)
        assert isinstance(param.type, click.Choice)
        return tuple(param.type.choices)

    assert choices("metrics", "per") == choices("complications", "per") == tuple(COUNT_UNITS)
    assert set(choices("complications", "by")) == {*BY_IDS, *SURGICAL_BY_IDS}
    assert set(SURGICAL_GROUPS) == {"all", *SURGICAL_BY_IDS}
    assert set(WORDS["outcome_window"]) == {w.id for w in OUTCOME_WINDOWS}
    codes = {c.id for c in CODES}
    for w in OUTCOME_WINDOWS:
        assert set(w.codes) <= codes and w.days > 0

"""`pumpqi spc`, `annotate` and `annotations` through click's CliRunner, and the
process-change log round trip on a temporary database."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.cli.commands import main
from analytics.spc import CLI_COLUMNS, add_annotation, list_annotations, parts_from_annotations, qic
from analytics.store import reader, writer
from tests.conftest import write_csv

GOLDEN = Path(__file__).parent / "golden" / "spc"


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.stdout, res.stderr


def monthly_csv(tmp_path: Path) -> Path:
    months = [str(p) for p in pd.period_range("2025-01", periods=12, freq="M")]
    on_time = [40, 42, 41, 43, 40, 44, 30, 29, 31, 28, 30, 29]
    rows = [
        [m, "all", o, 50, "before" if i < 6 else "after"]
        for i, (m, o) in enumerate(zip(months, on_time, strict=True))
    ]
    return write_csv(
        tmp_path / "metrics.csv", ["month", "group", "on_time", "refills_due", "phase"], rows
    )


def test_spc_prints_exactly_the_cli_columns() -> None:
    code, out, err = run(
        "spc",
        str(GOLDEN / "05_p_varying_n_input.csv"),
        "--chart",
        "p",
        "--y",
        "y",
        "--n",
        "n",
        "--x",
        "x",
    )
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert tuple(table.columns) == CLI_COLUMNS
    ref = pd.read_csv(GOLDEN / "05_p_varying_n.csv")
    pd.testing.assert_series_equal(table["ucl"], ref["ucl"], rtol=1e-9)
    assert table["x"].tolist() == list(range(1, 25)) and table["n"].tolist() == ref["n"].tolist()
    assert table.loc[table["sigma_signal"], "x"].tolist() == [17]


def test_spc_monthly_freeze_by_date_part_and_json(tmp_path: Path) -> None:
    path = monthly_csv(tmp_path)
    args = [
        "spc",
        str(path),
        "--chart",
        "p",
        "--y",
        "on_time",
        "--n",
        "refills_due",
        "--x",
        "month",
        "--multiply",
        "100",
    ]
    code, out, err = run(*args, "--freeze", "2025-06", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert rows[0]["x"] == "2025-01-01" and list(rows[0]) == list(CLI_COLUMNS)
    assert rows[0]["cl"] == pytest.approx(250 / 300 * 100)
    assert all(r["cl"] == rows[0]["cl"] for r in rows)
    assert [r["sigma_signal"] for r in rows[6:]] == [True] * 6
    code, out, err = run(*args, "--part", "phase", "--out", str(tmp_path / "out.csv"))
    assert code == 0 and out == ""
    parts = pd.read_csv(tmp_path / "out.csv")
    assert parts["cl"].iloc[0] == pytest.approx(250 / 300 * 100)
    assert parts["cl"].iloc[-1] == pytest.approx(177 / 300 * 100)


def test_spc_freeze_by_count_and_no_screen_mr() -> None:
    path = str(GOLDEN / "14_i_chart_screened_mr_input.csv")
    code, out, _ = run("spc", path, "--chart", "i", "--y", "y", "--x", "x")
    screened = pd.read_csv(io.StringIO(out))
    code2, out2, _ = run("spc", path, "--chart", "i", "--y", "y", "--x", "x", "--no-screen-mr")
    raw = pd.read_csv(io.StringIO(out2))
    assert code == code2 == 0
    assert raw["ucl"].iloc[0] > screened["ucl"].iloc[0]
    code, out, _ = run("spc", path, "--chart", "i", "--y", "y", "--freeze", "12")
    frozen = pd.read_csv(io.StringIO(out))
    assert code == 0 and frozen["cl"].iloc[0] == pytest.approx(pd.read_csv(path)["y"][:12].mean())


@pytest.mark.parametrize(
    ("rows", "args", "message"),
    [
        (
            [["1", "x", "5"], ["2", "3", "5"]],
            ["--chart", "p", "--n", "n"],
            "metrics.csv: column 'y', line 2: 'x' is not a number",
        ),
        (
            [["1", "2", "-1"], ["2", "3", "5"]],
            ["--chart", "p", "--n", "n"],
            "line 2: the denominator must be greater than 0",
        ),
        (
            [["1", "5", "5"], ["2", "2", "0"]],
            ["--chart", "u", "--n", "n"],
            "line 3: 'y' is 2 but 'n' is 0",
        ),
        (
            [["1", "5", "5"], ["2", "2", "3"]],
            ["--chart", "g", "--n", "n"],
            "chart 'g' takes no n",
        ),
        (
            [["1", "5", ""], ["2", "0", ""]],
            ["--chart", "t"],
            "column 'y', line 3: days between events must be greater than 0, not 0",
        ),
        (
            [["1", "-1", ""], ["2", "0", ""]],
            ["--chart", "g"],
            "column 'y', line 2: a count of opportunities between events cannot be negative",
        ),
        (
            [["1", "6", "5"], ["2", "3", "5"]],
            ["--chart", "p", "--n", "n"],
            "line 2: 'y' (6) is greater than 'n' (5)",
        ),
        ([["1", "2", "5"]], ["--chart", "run"], "at least 2 points"),
        (
            [["1", "2", "5"], ["2", "3", "5"]],
            ["--chart", "u", "--n", "days"],
            "no column 'days' for n",
        ),
        (
            [["1", "2", "5"], ["2", "3", "5"]],
            ["--chart", "i", "--freeze", "9"],
            "freeze 9: give between 2 and 2",
        ),
    ],
)
def test_spc_bad_input_exits_2_with_one_line(
    tmp_path: Path, rows: list[list[str]], args: list[str], message: str
) -> None:
    path = write_csv(tmp_path / "metrics.csv", ["x", "y", "n"], rows)
    code, out, err = run("spc", str(path), "--y", "y", *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("pumpqi: ")
    assert message in err


def test_spc_skips_zero_denominators_and_says_so(tmp_path: Path) -> None:
    rows = [["2025-01", 0, 0], ["2025-02", 4, 5], ["2025-03", 0, 0], ["2025-04", 3, 6],
            ["2025-05", 5, 5]]  # fmt: skip
    path = write_csv(tmp_path / "m.csv", ["month", "on_time", "refills_due"], rows)
    code, out, err = run(
        "spc", str(path), "--chart", "p", "--y", "on_time", "--n", "refills_due", "--x", "month"
    )
    assert code == 0, err
    assert err == "m.csv: 2 points with 'refills_due' = 0 skipped (nothing to count; lines 2, 4)\n"
    table = pd.read_csv(io.StringIO(out))
    assert table["x"].tolist() == ["2025-02-01", "2025-04-01", "2025-05-01"]
    assert table["cl"].iloc[0] == pytest.approx(12 / 16)
    assert table["n"].tolist() == [5, 6, 5]
    # a later fault still names the line of the file, not of the rows kept
    rows[3][1] = "x"
    path = write_csv(tmp_path / "m.csv", ["month", "on_time", "refills_due"], rows)
    code, _, err = run("spc", str(path), "--chart", "p", "--y", "on_time", "--n", "refills_due")
    assert code == 2 and "column 'on_time', line 5: 'x' is not a number" in err


def test_readme_spc_example_works_on_the_metrics_output(tmp_path: Path) -> None:
    """README: `pumpqi spc metrics.csv --chart p --y on_time --n refills_due --x month`
    on `pumpqi metrics` output, whose first months have no refills due."""
    data = tmp_path / "data"
    assert (
        run("synth", "--patients", "30", "--years", "2", "--seed", "3", "--out", str(data))[0] == 0
    )
    db, metrics = str(tmp_path / "p.duckdb"), tmp_path / "metrics.csv"
    code, _, err = run("ingest", "--db", db, str(data / "visits.csv"), "--complications",
                       str(data / "complications.csv"))  # fmt: skip
    assert code == 0, err
    assert run("metrics", "--db", db, "--out", str(metrics))[0] == 0
    source = pd.read_csv(metrics)
    empty = int((source["refills_due"] == 0).sum())
    assert source["refills_due"].iloc[0] == 0 and empty >= 1
    code, out, err = run(
        "spc", str(metrics), "--chart", "p", "--y", "on_time", "--n", "refills_due", "--x", "month"
    )
    assert code == 0, err
    assert f"{empty} point{'s' if empty > 1 else ''} with 'refills_due' = 0 skipped" in err
    table = pd.read_csv(io.StringIO(out))
    assert len(table) == len(source) - empty and (table["n"] > 0).all()
    due = source[source["refills_due"] > 0]
    assert table["cl"].iloc[0] == pytest.approx(due["on_time"].sum() / due["refills_due"].sum())


def test_spc_g_and_t_charts_from_the_command_line() -> None:
    for case in ("18_g_refills_between_errors", "23_t_days_between_events"):
        chart = case.split("_")[1]
        code, out, err = run("spc", str(GOLDEN / f"{case}_input.csv"), "--chart", chart,
                             "--y", "y", "--x", "x")  # fmt: skip
        assert code == 0, err
        table = pd.read_csv(io.StringIO(out))
        assert tuple(table.columns) == CLI_COLUMNS
        ref = pd.read_csv(GOLDEN / f"{case}.csv")
        for col in ("y", "cl", "lcl", "ucl"):
            pd.testing.assert_series_equal(table[col], ref[col], rtol=1e-9, check_dtype=False)
        assert table["sigma_signal"].tolist() == ref["sigma_signal"].tolist()
        assert table["n"].isna().all()


def test_spc_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run("spc", str(tmp_path / "nope.csv"), "--y", "y")
    assert code == 2 and "file not found" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["spc", "annotate", "annotations"])
def test_help_has_an_example(command: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0 and "Example" in out and f"pumpqi {command}" in out


# --- the process-change log -------------------------------------------------------------


def empty_db(tmp_path: Path) -> Path:
    db = tmp_path / "pumps.duckdb"
    with writer(db):
        pass
    return db


def test_annotation_round_trip(tmp_path: Path) -> None:
    db = empty_db(tmp_path)
    second = add_annotation(db, "2025-07-15", "reminder calls started", rebase=True)
    first = add_annotation(db, dt.date(2025, 3, 2), "new pump kit; 'quotes' -- fine", rebase=False)
    assert (second.annotation_id, first.annotation_id) == (1, 2)
    with reader(db) as con:
        items = list_annotations(con)
    assert [a.annotation_id for a in items] == [2, 1]  # oldest change first
    assert items[0].description == "new pump kit; 'quotes' -- fine"
    assert items[0].change_date == dt.date(2025, 3, 2) and not items[0].rebase
    assert items[1].rebase and isinstance(items[1].created_at, dt.datetime)
    months = [str(p) for p in pd.period_range("2025-01", periods=12, freq="M")]
    parts = parts_from_annotations(months, items)
    assert parts == [1] * 6 + [2] * 6  # the rebase dated in July starts a part at July
    result = qic(y=list(range(12)), x=months, part=parts, chart="i")
    assert result.table["part"].tolist() == parts


def test_rebases_outside_the_series_or_in_one_month_make_one_split() -> None:
    from analytics.spc import Annotation

    made = dt.datetime(2025, 1, 1)
    notes = [
        Annotation(1, dt.date(2024, 5, 1), "before the series", True, made),
        Annotation(2, dt.date(2025, 3, 1), "one", True, made),
        Annotation(3, dt.date(2025, 3, 20), "same month", True, made),
        Annotation(4, dt.date(2025, 4, 1), "not a rebase", False, made),
        Annotation(5, dt.date(2026, 1, 1), "after the series", True, made),
    ]
    months = [str(p) for p in pd.period_range("2025-01", periods=6, freq="M")]
    assert parts_from_annotations(months, notes) == [1, 1, 2, 2, 2, 2]


def test_annotate_and_annotations_commands(tmp_path: Path) -> None:
    db = empty_db(tmp_path)
    code, out, err = run(
        "annotate", "--db", str(db), "--date", "2025-07-01", "--text", "reminder calls", "--rebase"
    )
    assert code == 0, err
    assert out == "annotation 1: 2025-07-01 reminder calls (new part from that month)\n"
    code, out, err = run("annotations", "--db", str(db))
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == [
        "annotation_id",
        "change_date",
        "description",
        "rebase",
        "created_at",
    ]
    assert table.iloc[0].tolist()[:4] == [1, "2025-07-01", "reminder calls", True]
    code, _, err = run("annotate", "--db", str(db), "--date", "July", "--text", "x")
    assert code == 2 and err.count("\n") == 1 and "not a date" in err
    code, _, err = run("annotations", "--db", str(tmp_path / "missing.duckdb"))
    assert code == 2 and "database not found" in err

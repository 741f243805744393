"""Exported files never run code; data values never reach Markdown, HTML or plotly as markup.

Site names that attack a spreadsheet (`=cmd|' /C calc'!A0`, `=HYPERLINK(...)`) and a page
(`<a href>`, `![t](...)`, `<script>`) go through ingest into the CLI's CSV, the report's
workbook and HTML, the dashboard's download and its captions and charts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import string
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from security_data import EVIL_SITES, MONTH, evil_database
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from test_dashboard_fixtures import APP

from analytics.cli.commands import main
from analytics.export import QUOTE, TRIGGERS, csv_text, neutralise_frame, neutralise_text
from analytics.figures.text import WORD_JOINER, html, md, plot
from analytics.report import ReportRequest, build_report

GENERATED = dt.datetime(2025, 1, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def evil_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return evil_database(tmp_path_factory.mktemp("evil"))


def cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def runs_in_a_spreadsheet(cell: str) -> bool:
    """A cell Excel or LibreOffice would read as a formula (not a plain number)."""
    return bool(cell) and cell[0] in TRIGGERS and not re.fullmatch(r"[+-]?[\d.]+(e[+-]?\d+)?", cell)


# --- the neutralising rule -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝1+1", "'＝1+1"),
        ("-", "'-"),
        ("-2", "-2"),
        ("+1.5", "+1.5"),
        ("-3e-2", "-3e-2"),
        ("North", "North"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise_text(value: str, written: str) -> None:
    assert neutralise_text(value) == written


def test_numbers_stay_numbers_and_text_is_neutralised() -> None:
    df = pd.DataFrame({
        "site": ["=1+1", "B", None],
        "rate": [-0.5, 1.0, float("nan")],
        "n": pd.array([-3, 4, None], dtype="Int64"),
        "mixed": [-7, "=A1", dt.date(2024, 1, 2)],
        "day": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
        "cat": pd.Categorical(["@x", "y", "@x"]),
    })  # fmt: skip
    out = neutralise_frame(df)
    assert out["site"].tolist()[:2] == ["'=1+1", "B"] and pd.isna(out["site"].iloc[2])
    assert out["rate"].dtype == df["rate"].dtype and out["rate"].iloc[0] == -0.5
    assert out["n"].dtype == df["n"].dtype and out["n"].iloc[0] == -3
    assert out["mixed"].tolist() == [-7, "'=A1", dt.date(2024, 1, 2)]
    assert out["day"].dtype == df["day"].dtype
    assert out["cat"].tolist() == ["'@x", "y", "'@x"]
    assert df["site"].iloc[0] == "=1+1", "the input frame is not changed"
    text = csv_text(df)
    assert "-0.5" in text and ",-3," in text and "'=1+1" in text


@given(st.text(max_size=30))
def test_no_neutralised_cell_runs_and_the_value_is_kept(value: str) -> None:
    out = neutralise_text(value)
    assert out in (value, QUOTE + value)
    if out != value:
        assert value[0] in TRIGGERS
    elif value:
        assert value[0] not in TRIGGERS or re.fullmatch(
            r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", value
        )


# --- through ingest into the CLI, the workbook and the dashboard ------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("metrics", "--by", "site"),
        ("complications", "--by", "site"),
        ("refills", "--detail"),
    ],
)
def test_cli_csv_cells_never_run(evil_db: Path, args: tuple[str, ...], tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    res = CliRunner().invoke(main, [*args, "--db", str(evil_db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    values = cells(out.read_text("utf-8"))
    assert not [c for c in values if runs_in_a_spreadsheet(c)]
    if "site" in args or "--detail" in args:
        for name in EVIL_SITES.values():
            if name.startswith("="):
                assert QUOTE + name in values, name
    # numbers are still numbers (the CSV of the same table without neutralising agrees)
    frame = pd.read_csv(out)
    assert any(pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns)
    # JSON is not a spreadsheet: the value is as loaded
    res = CliRunner().invoke(main, [*args, "--db", str(evil_db), "--format", "json"])
    if "site" in args:
        assert EVIL_SITES["A"] in {r.get("group") for r in json.loads(res.stdout)}


@pytest.fixture(scope="module")
def report_files(evil_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("evil-report")
    build_report(ReportRequest(evil_db, MONTH, out, generated_at=GENERATED,
                               formats=("html", "xlsx")))  # fmt: skip
    return out


def test_workbook_holds_text_never_formulas(report_files: Path) -> None:
    book = openpyxl.load_workbook(report_files / f"pumpqi-{MONTH}.xlsx")
    texts: list[str] = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    texts.append(c.value)
    assert not [t for t in texts if runs_in_a_spreadsheet(t)]
    assert QUOTE + EVIL_SITES["A"] in texts and QUOTE + EVIL_SITES["B"] in texts


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_report_html_escapes_data_values(report_files: Path) -> None:
    page = (report_files / f"pumpqi-{MONTH}.html").read_text("utf-8")
    parser = _Tags()
    parser.feed(page)
    assert not [t for t, _ in parser.tags if t in ("script", "img", "a", "iframe")]
    links = ("href", "src", "xlink:href", "action", "style")
    assert not [a for _, a in parser.tags if any("evil" in (a.get(k) or "") for k in links)]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text


def test_dashboard_download_and_labels(evil_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple[str | None, bytes]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        served.append((filename, data))
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    monkeypatch.setenv("PUMPQI_DB", str(evil_db))
    monkeypatch.delenv("PUMPQI_SHARING_ONLY", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("app_pages/worklist.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.number_input(key="pq_days").set_value(365).run()
    downloads = [bytes(d) for name, d in served if name and name.endswith(".csv")]
    assert downloads, "the worklist offers its CSV"
    values = cells(downloads[-1].decode("utf-8"))
    assert not [c for c in values if runs_in_a_spreadsheet(c)]
    assert any(v.startswith(QUOTE + "=") for v in values)
    # the site filter's value reaches the caption only escaped
    at.sidebar.selectbox(key="pq_site").set_value(EVIL_SITES["C"]).run()
    captions = " ".join(c.value for c in at.caption)
    assert md(EVIL_SITES["C"]) in captions and EVIL_SITES["C"] not in captions
    at.switch_page("app_pages/complications.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.sidebar.selectbox(key="pq_site").set_value(None).run()
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]  # type: ignore[attr-defined]
    labels = [t for s in specs for d in s["data"] for t in (d.get("text") or []) if t]
    assert plot(EVIL_SITES["C"]) in labels, labels
    assert not [t for t in labels if "<" in str(t)]


# --- the helpers -----------------------------------------------------------------------


def test_md_escapes_every_markdown_special() -> None:
    value = (
        '<a href="http://x">y</a> ![t](http://x/t.png) **b** :red[r] $x$ # h\n- i &amp;'
        " www.evil.example a@evil.example"
    )
    out = md(value)
    unescaped = re.sub(r"\\.", "", out)
    assert not set(unescaped) & set(string.punctuation)
    assert "\n" not in out
    shown = re.sub(r"\\(.)", r"\1", out).replace(WORD_JOINER, "")
    assert shown == value.replace("\n", " ")  # reads exactly as typed
    # no bare address left for the renderer to turn into a link after parsing
    assert not re.search(r"(?i)https?:|www\.|\w@", re.sub(r"\\(.)", r"\1", out))


def test_html_and_plot_escape_tags() -> None:
    assert html('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"
    assert plot("<a href='x'>A & B</a>") == "&lt;a href='x'&gt;A &amp; B&lt;/a&gt;"


def test_deidentify_output_cells_never_run(tmp_path: Path) -> None:
    from analytics.deidentify.core import Options, deidentify
    from analytics.deidentify.keys import new_key_file

    key = tmp_path / "k.key"
    new_key_file(key)
    raw = tmp_path / "export.csv"
    pd.DataFrame({
        "MRN": ["0012345", "0012345"], "Refill Date": ["2024-01-05", "2024-02-05"],
        "Visit Type": ["implant", "refill"], "Clinic": [EVIL_SITES["A"], "@North"],
        "Volume Added": ["20", "-1"],
    }).to_csv(raw, index=False)  # fmt: skip
    out = tmp_path / "visits.csv"
    deidentify(Options(raw, key, out, mapping=None))
    values = cells(out.read_text("utf-8"))
    assert not [c for c in values if runs_in_a_spreadsheet(c)]
    written = pd.read_csv(out, dtype=str)
    assert written["site"].tolist() == [QUOTE + EVIL_SITES["A"], "'@North"]
    assert written["volume_added_ml"].tolist() == ["20", "-1"]  # a number stays a number

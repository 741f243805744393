"""Drawing helpers shared by the pages: the safety headline, tiles, control charts, bar
charts and figure tables. They lay out what analytics.figures computed; they compute
nothing themselves. Data values never reach markdown unescaped (`md`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st
from _figcache import draw_shared, shared

from analytics.figures import ChartFigure, FigureTable, Headline, Tile, is_hidden
from analytics.figures.now import NOT_SHARED
from analytics.figures.text import md
from analytics.spc import spc_figure
from analytics.vocabulary import REFILL_STATUSES, SURGERY_BUCKETS

PALETTE = {
    **{s.label: s.colour for s in REFILL_STATUSES},
    SURGERY_BUCKETS[0][0]: "#E8590C",
    SURGERY_BUCKETS[1][0]: "#74A9CF",
    SURGERY_BUCKETS[2][0]: "#0B559F",
    SURGERY_BUCKETS[3][0]: "#BDBDBD",
}
BAR_COLOUR = "#5DA5DA"
HEIGHT = 380


def safe_headline(h: Headline) -> None:
    """The patients now: red when a pump has run dry or is past its alarm date."""
    if h.alarming:
        st.warning(f"**Now:** {md(h.sentence)}", icon=":material/warning:")
    else:
        st.success(f"**Now:** {md(h.sentence)}", icon=":material/check_circle:")


TILES_PER_ROW = 3
"""Three tiles a row: five in one row cut their values on a laptop screen."""


def kpi_tiles(tiles: Sequence[Tile]) -> None:
    for start in range(0, len(tiles), TILES_PER_ROW):
        row = tiles[start : start + TILES_PER_ROW]
        for col, k in zip(st.columns(TILES_PER_ROW)[: len(row)], row, strict=True):
            with col:
                _tile(k)


def _tile(k: Tile) -> None:
    st.metric(
        k.label, k.value, delta=k.delta, delta_color=k.delta_color,  # type: ignore[arg-type]
        help=k.help, border=True,
    )  # fmt: skip
    st.caption(md(k.detail))
    if k.signal.startswith("⚠"):
        st.markdown(f":red[**{md(k.signal)}**]")
    elif k.signal:
        st.caption(f"✓ {md(k.signal)}")


def _control_figure(chart: ChartFigure, height: int) -> go.Figure:
    assert chart.result is not None
    fig = spc_figure(chart.result, y_title=chart.measure.y_title, notes=chart.notes)
    fig.update_layout(height=height, title=None, margin={"t": 30, "l": 10})
    fig.update_yaxes(range=_y_range(chart))
    return fig


def control_chart(chart: ChartFigure | None, key: str, height: int = HEIGHT) -> None:
    """A control chart with its 'how to read' line and its signals in words; when there is
    no chart, why (and no claim about signals)."""
    if chart is None:
        return
    if chart.result is None:
        st.markdown(f"**{md(chart.title)}**")
        st.info(chart.message or "Not enough data for a chart.")
        return
    st.markdown(f"**{md(chart.title)}**")  # wraps in a narrow column; a plotly title is cut
    draw_shared(_control_figure, chart, height, key=key)
    st.caption(f"How to read this: {chart.caption}")
    if chart.signals:
        st.markdown("**Signals:** " + md("; ".join(chart.signals)) + ".")
    else:
        st.markdown(f"**No signals:** {md(chart.summary.removeprefix('no signals: '))}.")
    if chart.hidden:
        st.caption(
            f"Sharing mode: {chart.hidden} {chart.unit}(s) with small numbers are not drawn; "
            "the centre line and limits use the points shown only."
        )


def _y_range(chart: ChartFigure) -> list[float] | None:
    """Fit the axis to the values and the usual limits, so that one month with very few
    refills or pump-days (very wide limits) does not flatten the rest of the chart."""
    assert chart.result is not None
    t = chart.result.table
    y = pd.to_numeric(t["y"], errors="coerce").dropna()
    if y.empty:
        return None
    hi = max(float(y.max()), float(t["ucl"].quantile(0.9)), float(t["cl"].max()))
    lo = min(float(y.min()), float(t["lcl"].quantile(0.1)), float(t["cl"].min()))
    if hi - lo < 1e-9:  # a flat chart (all zero, limits zero): a readable unit axis
        return [min(lo, 0.0), hi + 1.0]
    pad = (hi - lo) * 0.08
    top = hi + pad
    if chart.measure.chart == "p":
        top = min(top, 100 + pad)
    return [max(lo - pad, 0.0) if lo >= 0 else lo - pad, top]


def _bar_figure(
    df: pd.DataFrame,
    x: str,
    y: str,
    title: str,
    color: str | None,
    labels: dict[str, str],
    horizontal: bool,
    extra: dict[str, Any],
) -> go.Figure:
    fig = px.bar(
        df,
        x=y if horizontal else x,
        y=x if horizontal else y,
        color=color,
        orientation="h" if horizontal else "v",
        title=title,
        labels=labels,
        template="plotly_white",
        color_discrete_map=PALETTE,
        color_discrete_sequence=[BAR_COLOUR],
        **extra,
    )
    fig.update_layout(
        height=HEIGHT + 40,
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "title": None},
        title={"font": {"size": 15}, "y": 0.97},
        margin={"t": 90},
    )
    if horizontal:
        fig.update_yaxes(categoryorder="total ascending", title=None)
    return fig


def bar_chart(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    title: str,
    how_to_read: str,
    key: str,
    color: str | None = None,
    labels: dict[str, str] | None = None,
    horizontal: bool = False,
    **kwargs: Any,
) -> None:
    """Bars of shown counts; a hidden count (a mark) has no bar, and the chart says so."""
    hidden = int(df[y].map(is_hidden).sum())
    values = pd.to_numeric(df[y].where(~df[y].map(is_hidden)), errors="coerce")
    if values.fillna(0).sum() == 0:
        st.markdown(f"**{title}**")
        st.info(
            "Nothing to show for this selection."
            + (" (Sharing mode hides the small numbers.)" if hidden else "")
        )
        return
    draw_shared(
        _bar_figure, df.assign(**{y: values}), x, y, title, color, labels or {}, horizontal,
        kwargs, key=key,
    )  # fmt: skip
    st.caption(f"How to read this: {how_to_read}")
    if hidden:
        st.caption(f"Sharing mode: {hidden} bar(s) with small numbers are not drawn.")


_FORMATS = {
    "count": "localized",
    "number": "localized",
    "pct": "%.1f %%",  # of the value × 100 (Streamlit's "percent" varies its decimals)
    "rate2": "%.2f",
    "rate1": "%.1f",
}


def figure_table(
    fig: FigureTable,
    *,
    caption: bool = True,
    height: int | None = None,
    links: dict[str, str] | None = None,
) -> None:
    """A figure table with its labels, number formats, marks as they are, and its note.
    links: column -> URL prefix (the cell's value is appended, escaped by the browser)."""
    if caption:
        st.markdown(f"**{md(fig.caption)}**")
    if fig.empty:
        st.caption("None.")
        return
    shown, config, notes = shared(_table_view, fig, links)
    kwargs: dict[str, Any] = {"height": height} if height else {}
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, **kwargs)
    if notes:
        st.caption(md(notes))


def _table_view(
    fig: FigureTable, links: dict[str, str] | None
) -> tuple[pa.Table, dict[str, Any], str]:
    """The frame as shown (numbers as numbers where no mark or blank is in the column,
    else as text; as an Arrow table, which is what the browser is sent), its column
    settings and its notes."""
    shown = fig.frame[[c.key for c in fig.columns]].copy()
    config: dict[str, Any] = {}
    for c in fig.columns:
        col = shown[c.key]
        has_marks = bool(col.map(is_hidden).any())
        if links and c.key in links:
            shown[c.key] = links[c.key] + col.astype(str)
            config[c.key] = st.column_config.LinkColumn(
                c.label, help=c.help or None, display_text=r".*=(.*)$"
            )
        elif c.kind == "date":
            shown[c.key] = pd.to_datetime(col).dt.date
            config[c.key] = st.column_config.DateColumn(c.label, help=c.help or None)
        elif c.kind != "text" and not has_marks and not col.isna().any():  # else "None" shows
            shown[c.key] = pd.to_numeric(col, errors="coerce") * (100 if c.kind == "pct" else 1)
            config[c.key] = st.column_config.NumberColumn(
                c.label, help=c.help or None, format=_FORMATS.get(c.kind, "localized")
            )
        else:
            shown[c.key] = col.map(lambda v, k=c.kind: _text(v, k))
            config[c.key] = st.column_config.TextColumn(c.label, help=c.help or None)
    return pa.Table.from_pandas(shown, preserve_index=False), config, fig.notes()


def _text(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–" if kind != "text" else ""
    if isinstance(value, str):
        return value
    if kind in ("count", "number"):
        return f"{int(value):,}"
    if kind == "pct":
        return f"{float(value) * 100:.1f} %"
    if kind in ("rate2", "rate1"):
        return f"{float(value):.{2 if kind == 'rate2' else 1}f}"
    return str(value)


def _dates_only(col: pd.Series) -> bool:
    """A date-time column whose every value is at midnight (the dates of the data)."""
    if not pd.api.types.is_datetime64_any_dtype(col):
        return False
    known = col.dropna()
    return bool((known == known.dt.normalize()).all())


def frame_table(df: pd.DataFrame, height: int | None = None, **config: Any) -> None:
    """A plain frame (data-quality tables): readable headers, no 'None'."""
    if df.empty:
        st.caption("None.")
        return
    shown = df.copy()
    cfg: dict[str, Any] = {}
    for col in shown.columns:
        if col in config:
            cfg[col] = config[col]
            continue
        label = str(col).replace("_", " ").capitalize()
        if shown[col].dtype == object:
            shown[col] = shown[col].map(
                lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
            )
            cfg[col] = st.column_config.TextColumn(label)
        elif pd.api.types.is_integer_dtype(shown[col]):
            cfg[col] = st.column_config.NumberColumn(label, format="localized")
        elif _dates_only(shown[col]):  # a date, not "2024-01-31 00:00:00"
            shown[col] = shown[col].map(lambda v: None if pd.isna(v) else v.date())
            cfg[col] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        else:
            cfg[col] = st.column_config.Column(label)
    kwargs: dict[str, Any] = {"height": height} if height else {}
    st.dataframe(shown, hide_index=True, width="stretch", column_config=cfg, **kwargs)


def sharing_note(what: str) -> None:
    st.caption(f"Sharing mode: {what} is not shown (it lists patients).")


def not_shared_now() -> None:
    """In sharing mode, in place of a figure about the patients now."""
    st.info(f"Sharing mode: {NOT_SHARED}")

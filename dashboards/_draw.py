"""Drawing helpers shared by the pages: KPI tiles, control charts, bar charts, tables.
They lay out what analytics.figures computed; they compute nothing themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from analytics.figures import ChartData, Kpi
from analytics.spc import spc_figure
from analytics.vocabulary import REFILL_STATUSES

PALETTE = {
    **{s.label: s.colour for s in REFILL_STATUSES},
    "within 30 days": "#EF6C00",
    "31 days to 1 year": "#5DA5DA",
    "after 1 year": "#1565C0",
    "no surgery in the data": "#BDBDBD",
}
BAR_COLOUR = "#5DA5DA"
HEIGHT = 380


def kpi_tiles(kpis: Sequence[Kpi]) -> None:
    for col, k in zip(st.columns(len(kpis)), kpis, strict=True):
        with col:
            st.metric(
                k.label,
                k.value,
                delta=k.delta,
                delta_color=k.delta_color,  # type: ignore[arg-type]
                help=k.help,
                border=True,
            )
            st.caption(k.detail)
            if k.signal.startswith("⚠"):
                st.markdown(f":red[**{k.signal}**]")
            elif k.signal:
                st.caption(f"✓ {k.signal}")


def control_chart(chart: ChartData | None, key: str, height: int = HEIGHT) -> None:
    """A control chart with its 'how to read' line, its signals in words and, in sharing
    mode, how many months were left out."""
    if chart is None:
        return
    m = chart.measure
    if chart.result is None:
        st.markdown(f"**{m.label}, by month**")
        st.info(chart.message or "Not enough data for a chart.")
        return
    fig = spc_figure(
        chart.result, title=f"{m.label}, by month", y_title=m.y_title, notes=chart.notes
    )
    fig.update_layout(height=height, title={"font": {"size": 15}}, margin={"t": 70, "l": 10})
    fig.update_yaxes(range=_y_range(chart))
    st.plotly_chart(fig, width="stretch", key=key)
    st.caption(f"How to read this: {chart.caption}")
    if chart.signals:
        st.markdown("**Signals:** " + "; ".join(chart.signals) + ".")
    else:
        st.markdown(f"**No signals:** {chart.summary.removeprefix('no signals: ')}.")
    if chart.hidden:
        st.caption(f"Sharing mode: {chart.hidden} month(s) with small numbers are not drawn.")


def _y_range(chart: ChartData) -> list[float] | None:
    """Fit the axis to the values and the usual limits, so that one month with very few
    refills or pump-days (very wide limits) does not flatten the rest of the chart."""
    assert chart.result is not None
    t = chart.result.table
    y = pd.to_numeric(t["y"], errors="coerce").dropna()
    if y.empty:
        return None
    hi = max(float(y.max()), float(t["ucl"].quantile(0.9)), float(t["cl"].max()))
    lo = min(float(y.min()), float(t["lcl"].quantile(0.1)), float(t["cl"].min()))
    pad = max(hi - lo, 1e-9) * 0.08
    top = hi + pad
    if chart.measure.chart == "p":
        top = min(top, 100 + pad)
    return [max(lo - pad, 0.0) if lo >= 0 else lo - pad, top]


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
    if df.empty:
        st.markdown(f"**{title}**")
        st.info("Nothing to show for this selection.")
        return
    values = pd.to_numeric(df[y], errors="coerce")
    hidden = int((values.isna() & df[y].notna()).sum())  # '<11' cells in sharing mode
    df = df.assign(**{y: values})
    if values.fillna(0).sum() == 0:
        st.markdown(f"**{title}**")
        st.info(
            "Nothing to show for this selection."
            + (" (Sharing mode hides the small numbers.)" if hidden else "")
        )
        return
    fig = px.bar(
        df,
        x=y if horizontal else x,
        y=x if horizontal else y,
        color=color,
        orientation="h" if horizontal else "v",
        title=title,
        labels=labels or {},
        template="plotly_white",
        color_discrete_map=PALETTE,
        color_discrete_sequence=[BAR_COLOUR],
        **kwargs,
    )
    fig.update_layout(
        height=HEIGHT + 40,
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "title": None},
        title={"font": {"size": 15}, "y": 0.97},
        margin={"t": 90},
    )
    if horizontal:
        fig.update_yaxes(categoryorder="total ascending", title=None)
    st.plotly_chart(fig, width="stretch", key=key)
    st.caption(f"How to read this: {how_to_read}")
    if hidden:
        st.caption(f"Sharing mode: {hidden} bar(s) with small numbers are not drawn.")


def table(
    df: pd.DataFrame,
    height: int | None = None,
    column_order: list[str] | None = None,
    **column_config: Any,
) -> None:
    """A table with readable headers and plain dates; a column holding suppressed cells
    ('<11') is shown as text so that the cell reads as it is."""
    if df.empty:
        st.caption("None.")
        return
    shown = df.copy()
    config: dict[str, Any] = {}
    for col in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: v.date() if pd.notna(v) else None)
        cfg = column_config.get(col)
        label = (cfg or {}).get("label") or str(col).replace("_", " ").capitalize()
        if shown[col].dtype == object:
            nums = pd.to_numeric(shown[col], errors="coerce")
            if nums.notna().sum() == shown[col].notna().sum():
                shown[col] = nums
            else:
                shown[col] = shown[col].map(_text)
                config[col] = st.column_config.TextColumn(label)
                continue
        config[col] = cfg or st.column_config.Column(label)
    kwargs: dict[str, Any] = {"height": height} if height else {}
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config=config,
        column_order=column_order,
        **kwargs,
    )


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def pct(label: str) -> Any:
    return st.column_config.NumberColumn(label, format="percent")


def num(label: str, fmt: str = "%.2f") -> Any:
    return st.column_config.NumberColumn(label, format=fmt)


def sharing_note(what: str) -> None:
    st.caption(f"Sharing mode: {what} is not shown (it lists patients).")

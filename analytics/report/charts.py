"""Static charts of the report: SVG from Altair specifications rendered by vl-convert.

No browser and no randomness: the same figures give the same SVG bytes. Element ids
(if Vega writes any) are renamed per chart so that several SVGs can share one page.

* `spc_svg`: values as a line with dots (hidden months left out), the centre line
  (dashed when the run rules fired in that part), the limits as steps, red dots
  outside the limits, numbered dotted lines at the process changes, the last value
  written at its dot.
* `funnel_svg`: each site's rate against its pump-days inside the exact Poisson
  95 % and 99.8 % limits around the pooled rate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd
import vl_convert as vlc

from analytics.figures import Funnel
from analytics.spc import Annotation, SpcResult

LINE = "#2F6DB5"
CENTRE = "#333333"
LIMIT = "#8C8C8C"
SIGNAL = "#D62728"
NOTE = "#7F7F7F"
WIDTH, HEIGHT = 600, 210
FONT = "DejaVu Sans"


def _svg(chart: alt.TopLevelMixin, key: str) -> str:
    spec = chart.configure(font=FONT).configure_view(stroke=None).to_dict()
    svg = vlc.vegalite_to_svg(spec)
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{key}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{key}-{m.group(1)})", svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{key}" ', 1)


def spc_frame(result: SpcResult, hidden: Sequence[str], value_format: str) -> pd.DataFrame:
    """The chart's points, with y blanked for hidden (suppressed) months."""
    t = result.table
    x = pd.to_datetime(t["x"])
    months = x.dt.strftime("%Y-%m")
    shown = ~months.isin(list(hidden))
    df = pd.DataFrame({
        "x": x.dt.strftime("%Y-%m-%d"), "y": t["y"].where(shown), "cl": t["cl"],
        "lcl": t["lcl"], "ucl": t["ucl"], "part": t["part"].astype(int),
        "runs": np.where(t["runs_signal"], "runs", "none"),
        "signal": t["sigma_signal"].astype(bool) & shown,
    })  # fmt: skip
    df["label"] = ""
    if bool(shown.iloc[-1]):
        df.loc[df.index[-1], "label"] = value_format.format(float(df["y"].iloc[-1]))
    return df


def _spc_layers(df: pd.DataFrame, y_title: str) -> list[alt.Chart]:
    base = alt.Chart(df).encode(
        x=alt.X("x:T", title=None, scale=alt.Scale(type="utc"),
                axis=alt.Axis(format="%b %Y", labelAngle=-40, tickCount={"interval": "month", "step": 3})),
        detail="part:N",
    )  # fmt: skip
    y = alt.Y("y:Q", title=y_title, scale=alt.Scale(zero=False))
    dash = alt.StrokeDash(
        "runs:N", scale=alt.Scale(domain=["none", "runs"], range=[[1, 0], [6, 4]]), legend=None
    )
    limits = [
        base.mark_line(interpolate="step", color=LIMIT, strokeWidth=1).encode(y=alt.Y(f"{c}:Q"))
        for c in ("ucl", "lcl")
    ]
    return [
        *limits,
        base.mark_line(interpolate="step", color=CENTRE, strokeWidth=1.2).encode(y="cl:Q", strokeDash=dash),
        base.mark_line(color=LINE, strokeWidth=1.6, point=alt.OverlayMarkDef(color=LINE, size=22)).encode(y=y),
        base.transform_filter("datum.signal").mark_point(color=SIGNAL, filled=True, size=70).encode(y=y),
        base.mark_text(align="left", dx=6, dy=-8, fontSize=11, color=LINE).encode(y=y, text="label:N"),
    ]  # fmt: skip


def _note_layers(df: pd.DataFrame, notes: Sequence[Annotation]) -> list[alt.Chart]:
    if not notes:
        return []
    marks = pd.DataFrame({
        "x": [a.change_date.isoformat() for a in notes],
        "n": [str(i) for i in range(1, len(notes) + 1)],
    })  # fmt: skip
    base = alt.Chart(marks).encode(x=alt.X("x:T", scale=alt.Scale(type="utc")))
    rule = base.mark_rule(color=NOTE, strokeDash=[2, 2])
    text = base.mark_text(
        dy=-4, dx=4, align="left", baseline="bottom", fontSize=10, color=NOTE
    ).encode(y=alt.value(0), text="n:N")
    return [rule, text]


def spc_svg(
    result: SpcResult,
    key: str,
    y_title: str,
    value_format: str,
    hidden: Sequence[str] = (),
    notes: Sequence[Annotation] = (),
) -> str:
    """The control chart as SVG text (notes: the process changes inside the chart's months)."""
    df = spc_frame(result, hidden, value_format)
    layers = _spc_layers(df, y_title) + _note_layers(df, notes)
    chart = alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)
    return _svg(chart, key)


def funnel_svg(funnel: Funnel, key: str = "funnel") -> str | None:
    """The funnel plot of the sites with a shown rate, around the pooled rate; None when
    the pooled rate cannot be shown or no site has a rate."""
    table = funnel.table.frame
    rate = pd.to_numeric(table["rate_per_1000"], errors="coerce")
    sites = table[rate.notna()].assign(rate=rate[rate.notna()])
    if funnel.pooled_rate_per_1000 is None or sites.empty or funnel.curve.empty:
        return None
    pooled = funnel.pooled_rate_per_1000
    c = funnel.curve
    curves = pd.concat([
        pd.DataFrame({"pump_days": c["pump_days"], "limit": c[col], "band": band, "side": side})
        for col, band, side in (("lower_95", "95 %", "low"), ("upper_95", "95 %", "high"),
                                ("lower_998", "99.8 %", "low"), ("upper_998", "99.8 %", "high"))
    ], ignore_index=True)  # fmt: skip
    x = alt.X("pump_days:Q", title="Pump-days in the period")
    band = alt.StrokeDash("band:N", scale=alt.Scale(domain=["95 %", "99.8 %"], range=[[4, 3], [1, 0]]),
                          legend=alt.Legend(title="Limits", orient="top-right"))  # fmt: skip
    lines = alt.Chart(curves).mark_line(color=LIMIT, strokeWidth=1).encode(
        x=x, y=alt.Y("limit:Q", title="Complications per 1,000 pump-days"), strokeDash=band,
        detail="side:N",
    )  # fmt: skip
    centre = alt.Chart(pd.DataFrame({"y": [pooled]})).mark_rule(color=CENTRE).encode(y="y:Q")
    pts = sites.assign(days=pd.to_numeric(sites["pump_days"]), group=sites["group"].astype(str))
    dots = alt.Chart(pts[["group", "rate", "days"]]).encode(x=alt.X("days:Q"), y=alt.Y("rate:Q"))
    layers = [lines, centre, dots.mark_point(filled=True, size=60, color=LINE),
              dots.mark_text(dx=7, align="left", fontSize=11).encode(text="group:N")]  # fmt: skip
    return _svg(alt.layer(*layers).properties(width=WIDTH, height=HEIGHT), key)

"""The dashboard's shared state: where the database is, the sidebar's scope (period,
filters, sharing) and the URL query parameters that make a link reproduce a view.
Drawing only: the scope is handed to analytics.figures, which computes every figure."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from analytics.config import load_config
from analytics.figures import FilterOptions, Scope, month_label, quarter_label
from analytics.vocabulary import BY_IDS, DIMENSION

PARAM_KEYS: tuple[str, ...] = ("from", "to", "quarter", *BY_IDS, "sharing")
_WIDGET = {"from": "pq_from", "to": "pq_to", "quarter": "pq_quarter", "sharing": "pq_sharing"} | {
    d: f"pq_{d}" for d in BY_IDS
}
DEFAULT_MONTHS = 24
DEFAULT_WORKLIST_DAYS = 14
"""The worklist's default window: refills due within this many days of today."""
DEFAULT_SURVIVAL_BY: str | None = None
"""Device survival's default curves: the whole programme (no grouping)."""


@dataclass(frozen=True)
class Source:
    """The database file and configuration the dashboard reads, with their stamps
    (mtime and size) so that cached page data is recomputed after an ingest."""

    db: str | None
    stamp: tuple[int, int] | None
    config: str | None
    config_stamp: tuple[int, int] | None


def _stamp(path: str | None) -> tuple[int, int] | None:
    if not path:
        return None
    try:
        st_ = Path(path).stat()
    except OSError:
        return None
    return (st_.st_mtime_ns, st_.st_size)


def source() -> Source:
    db = os.environ.get("PUMPQI_DB") or None
    config = os.environ.get("PUMPQI_CONFIG") or None
    return Source(db, _stamp(db), config, _stamp(config))


def sharing_only() -> bool:
    return os.environ.get("PUMPQI_SHARING_ONLY", "").strip().lower() in ("1", "true", "yes")


def default_from(months: list[str]) -> str:
    """The default period: the last 24 months (a control chart's usual window)."""
    return months[max(0, len(months) - DEFAULT_MONTHS)]


def _from_url(options: FilterOptions) -> list[str]:
    """Put the link's values into the widgets once per session; return what was ignored."""
    if st.session_state.get("pq_url_read"):
        return []
    st.session_state["pq_url_read"] = True
    qp = st.query_params
    ignored: list[str] = []
    allowed: dict[str, tuple[str, ...]] = {
        "from": options.months, "to": options.months, "quarter": options.quarters,
    }  # fmt: skip
    allowed |= options.values
    for key in PARAM_KEYS:
        value = qp.get(key)
        if value is None:
            continue
        if key == "sharing":
            st.session_state[_WIDGET[key]] = value.strip().lower() in ("1", "true", "yes", "on")
        elif value in allowed.get(key, ()):
            st.session_state[_WIDGET[key]] = value
        else:
            ignored.append(key)
    return ignored


def sidebar(options: FilterOptions) -> Scope | None:
    """Draw the sidebar, keep it in the URL and return the scope (None: nothing to show)."""
    ignored = _from_url(options)
    sb = st.sidebar
    sb.caption(f"Data up to {options.data_end:%d %b %Y}.")
    sharing = _sharing_toggle(sb)
    scope = _shared_scope(sb, options) if sharing else _committee_scope(sb, options)
    if ignored:
        names = ", ".join(k.replace("_", " ") for k in ignored)
        sb.warning(f"The link had a value not found in the data ({names}); it was ignored.")
    if scope is not None:
        _to_url(scope, list(options.months))
    return scope


def _committee_scope(sb: st.delta_generator.DeltaGenerator, options: FilterOptions) -> Scope:
    months = list(options.months)
    sb.markdown("### Period and filters")
    if st.session_state.get("pq_from") not in months:
        st.session_state["pq_from"] = default_from(months)
    if st.session_state.get("pq_to") not in months:
        st.session_state["pq_to"] = months[-1]
    c1, c2 = sb.columns(2)
    first = c1.selectbox("From month", months, key="pq_from", format_func=month_label)
    last = c2.selectbox("To month", months, key="pq_to", format_func=month_label)
    if first > last:
        sb.warning("'From' is after 'To': the two months were swapped.")
        first, last = last, first
    chosen: list[tuple[str, str]] = []
    for dim in BY_IDS:
        values: list[str | None] = [None, *options.values.get(dim, ())]
        if st.session_state.get(_WIDGET[dim]) not in values:
            st.session_state[_WIDGET[dim]] = None
        value = sb.selectbox(
            DIMENSION[dim].label, values, key=_WIDGET[dim],
            format_func=lambda v: "All" if v is None else str(v),
        )  # fmt: skip
        if value is not None:
            chosen.append((dim, str(value)))
    sb.caption("Every page uses this period and these filters (the worklist: the filters).")
    return Scope.months(first, last, tuple(chosen))


def _shared_scope(sb: st.delta_generator.DeltaGenerator, options: FilterOptions) -> Scope | None:
    quarters = list(options.quarters)
    sb.markdown("### Quarter")
    if not quarters:
        sb.warning("Sharing mode needs a calendar quarter that has ended; the data has none.")
        return None
    if st.session_state.get("pq_quarter") not in quarters:
        st.session_state["pq_quarter"] = quarters[-1]
    quarter = sb.selectbox("Quarter", quarters[::-1], key="pq_quarter", format_func=quarter_label)
    sb.caption(
        "Sharing mode shows the whole programme, one calendar quarter at a time: small counts "
        "are hidden, and filters by site, drug, pump model or indication are for the QI "
        "committee only (breakdowns appear as tables)."
    )
    return Scope.quarter(str(quarter), load_config(source().config).suppress_below)


def _sharing_toggle(sb: st.delta_generator.DeltaGenerator) -> bool:
    help_text = (
        "For figures leaving the QI committee: whole calendar quarters, counts from 1 to 10 "
        "shown as <11, figures built on them left out, and no lists of patients."
    )
    if sharing_only():
        st.session_state["pq_sharing"] = True
        sb.toggle("Sharing mode", key="pq_sharing", disabled=True, help=help_text)
        sb.caption("This server shows sharing mode only.")
        return True
    return bool(sb.toggle("Sharing mode (hide small numbers)", key="pq_sharing", help=help_text))


def _to_url(scope: Scope, months: list[str]) -> None:
    params: dict[str, str] = {}
    if scope.shared:
        params["quarter"] = scope.quarter_id
        if not sharing_only():
            params["sharing"] = "1"
    else:
        if scope.first != default_from(months):
            params["from"] = scope.first
        if scope.last != months[-1]:
            params["to"] = scope.last
        params |= dict(scope.selection)
    keep = {k: v for k, v in st.query_params.to_dict().items() if k in page_params()}
    if params | keep != st.query_params.to_dict():
        st.query_params.from_dict(params | keep)


def page_params() -> tuple[str, ...]:
    """Query parameters a page owns (kept in the URL next to the sidebar's)."""
    return ("patient", "days")


def current_scope() -> Scope | None:
    value = st.session_state.get("pq_scope")
    return value if isinstance(value, Scope) else None

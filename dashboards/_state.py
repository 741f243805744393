"""The dashboard's shared state: where the database is, the sidebar filters, and the
URL query parameters that make a link reproduce a view. Drawing only: the filter
values are handed to analytics.figures, which does every computation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from analytics.figures import DIMENSION_LABELS, DIMENSIONS, FilterOptions, Filters, month_label

PARAM_KEYS: tuple[str, ...] = ("from", "to", *DIMENSIONS, "sharing")
_WIDGET = {"from": "pq_from", "to": "pq_to", "sharing": "pq_sharing"} | {
    d: f"pq_{d}" for d in DIMENSIONS
}


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


DEFAULT_MONTHS = 24


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
    allowed: dict[str, tuple[str, ...]] = {"from": options.months, "to": options.months}
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


def sidebar(options: FilterOptions) -> Filters:
    """Draw the filters in the sidebar, keep them in the URL and return them."""
    ignored = _from_url(options)
    months = list(options.months)
    sb = st.sidebar
    sb.markdown("### Filters")
    sb.caption(f"Data up to {options.as_of:%d %b %Y}. Every page uses these filters.")
    if st.session_state.get("pq_from") not in months:
        st.session_state["pq_from"] = default_from(months)
    if st.session_state.get("pq_to") not in months:
        st.session_state["pq_to"] = months[-1]
    c1, c2 = sb.columns(2)
    month_from = c1.selectbox("From month", months, key="pq_from", format_func=month_label)
    month_to = c2.selectbox("To month", months, key="pq_to", format_func=month_label)
    if month_from > month_to:
        sb.warning("'From' is after 'To': the two months were swapped.")
        month_from, month_to = month_to, month_from
    chosen: dict[str, str | None] = {}
    for dim in DIMENSIONS:
        values: list[str | None] = [None, *options.values.get(dim, ())]
        if st.session_state.get(_WIDGET[dim]) not in values:
            st.session_state[_WIDGET[dim]] = None
        chosen[dim] = sb.selectbox(
            DIMENSION_LABELS[dim],
            values,
            key=_WIDGET[dim],
            format_func=lambda v: "All" if v is None else str(v),
        )
    sharing = _sharing_toggle(sb)
    if ignored:
        names = ", ".join("period" if k in ("from", "to") else k.replace("_", " ") for k in ignored)
        sb.warning(f"The link had a value not found in the data ({names}); it was ignored.")
    filters = Filters(month_from, month_to, sharing=sharing, **chosen)
    _to_url(filters, months)
    return filters


def _sharing_toggle(sb: st.delta_generator.DeltaGenerator) -> bool:
    help_text = (
        "For figures leaving the QI committee: counts from 1 to 10 show as <11, rates built "
        "on them are blanked, and lists of patients are hidden."
    )
    if sharing_only():
        st.session_state["pq_sharing"] = True
        sb.toggle("Sharing mode", key="pq_sharing", disabled=True, help=help_text)
        sb.caption("This server shows sharing mode only.")
        return True
    return bool(sb.toggle("Sharing mode (hide small numbers)", key="pq_sharing", help=help_text))


def _to_url(filters: Filters, months: list[str]) -> None:
    params: dict[str, str] = {}
    if filters.month_from and filters.month_from != default_from(months):
        params["from"] = filters.month_from
    if filters.month_to and filters.month_to != months[-1]:
        params["to"] = filters.month_to
    params |= filters.selected()
    if filters.sharing and not sharing_only():
        params["sharing"] = "1"
    keep = {k: v for k, v in st.query_params.to_dict().items() if k in page_params()}
    if params | keep != st.query_params.to_dict():
        st.query_params.from_dict(params | keep)


def page_params() -> tuple[str, ...]:
    """Query parameters a page owns (kept in the URL next to the filters)."""
    return ("patient", "days")


def current_filters() -> Filters:
    value = st.session_state.get("pq_filters")
    return value if isinstance(value, Filters) else Filters()

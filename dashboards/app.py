"""pumpqi dashboard: refill adherence and complication-report rates of intrathecal pumps.

Run with `pumpqi dashboard --db FILE` (which sets PUMPQI_DB). The sidebar filters apply
to every page and live in the URL, so a link reproduces the view. Every figure comes
from analytics.figures; the pages only draw. The gate (_gate.py) runs first, before
anything is read: beyond this computer, or under an unexpected host name, no data.
"""

from __future__ import annotations

import logging
import os

import _gate
import _warm
import streamlit as st
from _data import WHOLE, NoData, load
from _state import sharing_only, sidebar, source

st.set_page_config(
    page_title="pumpqi · pump QI dashboard", page_icon=":material/water_drop:", layout="wide"
)

_gate.enforce()  # first: refuses or asks to sign in, and stops, before any data is read

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("app_pages/refills.py", title="Refills", icon=":material/water_drop:"),
    st.Page("app_pages/complications.py", title="Complications", icon=":material/report:"),
    st.Page("app_pages/worklist.py", title="Worklist", icon=":material/checklist:"),
    st.Page("app_pages/planning.py", title="Planning", icon=":material/event_upcoming:"),
    st.Page("app_pages/survival.py", title="Device survival", icon=":material/monitoring:"),
    st.Page(
        "app_pages/timeline.py",
        title="Patient timeline",
        icon=":material/timeline:",
        url_path="timeline",
    ),  # fmt: skip
    st.Page("app_pages/quality.py", title="Data quality", icon=":material/fact_check:"),
    st.Page("app_pages/definitions.py", title="Definitions", icon=":material/menu_book:"),
]
page = st.navigation(PAGES)
st.sidebar.markdown("## pumpqi")
if st.user.to_dict().get("is_logged_in") is True:
    st.sidebar.button("Sign out", on_click=st.logout)

try:
    options = load("options", scope=WHOLE)
except NoData as exc:
    st.session_state["pq_nodata"] = str(exc)
except Exception as exc:  # a bug: one line for people, the traceback in the server log
    logging.getLogger("pumpqi.dashboard").exception("loading the filter options failed")
    st.error(
        f"The dashboard could not read the data ({type(exc).__name__}). "
        "The details are in the server log; please report it."
    )
    st.stop()
else:
    st.session_state.pop("pq_nodata", None)
    st.session_state["pq_scope"] = sidebar(options)
    _warm.start(sharing_only())  # once per server, with PUMPQI_WARM=1: the other default views

src = source()
if src.db:
    st.sidebar.caption(f"Database: {os.path.basename(src.db)}")
page.run()

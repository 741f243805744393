"""Data quality: rows refused at ingest, missing fields, doubtful records, the ingest log."""

import streamlit as st
from _data import WHOLE, load, run_page
from _draw import frame_table, md
from _state import current_scope

from analytics.figures import QualityData


def body() -> None:
    st.title("Data quality")
    data: QualityData = load("quality", scope=current_scope() or WHOLE)
    st.caption(
        "The whole database, whatever the sidebar filters. Counts and pseudonymous ids only: "
        "raw rows and free-text notes are never shown."
    )
    if data.message:
        st.info(data.message)
    st.subheader("Checks")
    frame_table(data.summary, height=36 * (len(data.summary) + 1) + 2)  # every check in view
    scope = current_scope()
    sharing = scope is None or scope.shared
    for flag in data.flags:
        if flag.count and not sharing:
            with st.expander(f"{flag.title} ({flag.count:,})"):
                st.caption(md(flag.description.capitalize() + "."))
                frame_table(flag.rows)
    st.subheader("Rows refused at ingest (quarantine), by reason and file")
    frame_table(data.quarantine)
    st.subheader("Missing values per column")
    st.caption("Share of loaded rows where the column is empty. Many columns are optional.")
    frame_table(
        data.missing,
        height=420,
        missing=st.column_config.NumberColumn("Rows missing", format="localized"),
        missing_share=st.column_config.NumberColumn("Share missing", format="percent"),
    )
    st.subheader("Ingest log")
    frame_table(data.ingest_log)


run_page(body)

"""Data quality: rows refused at ingest, missing fields, doubtful records, the ingest log."""

import streamlit as st
from _data import load, run_page
from _draw import pct, table
from _state import current_filters

from analytics.figures import QualityData


def body() -> None:
    st.title("Data quality")
    data: QualityData = load("quality")
    st.caption(
        "The whole database, whatever the sidebar filters. Counts and pseudonymous ids only: "
        "raw rows and free-text notes are never shown."
    )
    if data.message:
        st.info(data.message)
    st.subheader("Checks")
    table(data.summary)
    sharing = current_filters().sharing
    for flag in data.flags:
        if flag.count and not sharing:
            with st.expander(f"{flag.title} ({flag.count:,})"):
                st.caption(flag.description.capitalize() + ".")
                table(flag.rows)
    st.subheader("Rows refused at ingest (quarantine), by reason and file")
    table(data.quarantine)
    st.subheader("Missing values per column")
    st.caption("Share of loaded rows where the column is empty. Many columns are optional.")
    table(
        data.missing,
        height=420,
        missing=st.column_config.Column("Rows missing"),
        missing_share=pct("Share missing"),
    )
    st.subheader("Ingest log")
    table(data.ingest_log)


run_page(body)

"""Definitions: how every figure is computed, and the configuration in effect."""

import streamlit as st
from _data import definitions, run_page
from _draw import frame_table

from analytics.figures import DefinitionsFigures
from analytics.ingest.contract_doc import contract_markdown


def body() -> None:
    data: DefinitionsFigures = definitions()
    st.markdown(data.markdown)
    st.subheader("Configuration in effect")
    st.caption("Defaults, or the site's configuration file when the dashboard was given one.")
    frame_table(data.config)
    with st.expander("The input files (data contract)"):
        st.markdown(contract_markdown(level=3))


run_page(body)

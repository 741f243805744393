"""Definitions: how every figure is computed, and the configuration in effect."""

import streamlit as st
from _data import definitions, run_page
from _draw import frame_table

from analytics.figures import DefinitionsFigures


def body() -> None:
    data: DefinitionsFigures = definitions()
    st.markdown(data.markdown)
    st.subheader("Configuration in effect")
    st.caption("Defaults, or the site's configuration file when the dashboard was given one.")
    frame_table(data.config)


run_page(body)

"""Definitions: how every figure is computed, and the configuration in effect."""

import streamlit as st
from _data import definitions, run_page
from _draw import table

from analytics.figures import DefinitionsData


def body() -> None:
    data: DefinitionsData = definitions()
    st.markdown(data.markdown)
    st.subheader("Configuration in effect")
    st.caption("Defaults, or the site's configuration file when the dashboard was given one.")
    table(data.config)


run_page(body)

"""Export: verified .keras/.h5 downloads of the trained model, the tutorial's round trip, and the code,
training script, history, diagram, summary and project file of the current model."""

# ruff: noqa: E402 - a page first makes sure it runs inside app.py, then imports the rest
from __future__ import annotations

import streamlit as st

from components.bootstrap import run_inside_app

run_inside_app()  # before the heavy imports below

from components import state
from components.export.downloads import render_spec_downloads
from components.export.files import render_model_files
from components.training.jobs import current_job
from studio.i18n import _


def main() -> None:
    """The Export page."""
    state.init_state()
    st.title(_("Export"))
    job = current_job()
    render_model_files(job)
    st.divider()
    render_spec_downloads(state.current_spec(), job)


main()

"""Models: upload a .keras/.h5 (loaded safely), see its summary and diagram, open it in the builder,
inspect feature maps of any model (VGG16, the trained model, an upload), and fine-tune it."""

# ruff: noqa: E402 - a page first makes sure it runs inside app.py, then imports the rest
from __future__ import annotations

import streamlit as st

from components.bootstrap import run_inside_app

run_inside_app()  # before the heavy imports below

from components import cache, state
from components.models.feature_maps import render_feature_maps
from components.models.finetune import render_finetune
from components.models.upload import render_upload, uploaded_model
from components.training.jobs import current_job


def _builder_model():
    spec = state.current_spec()
    if not spec.calls:
        return None
    result = cache.analysis(spec)
    return result.model if result.ok else None


def main() -> None:
    """The Models page."""
    state.init_state()
    st.title("Models")
    job = current_job()
    trained = job.model if job is not None else None
    upload, inspect, finetune = st.tabs(["Upload a model", "Feature maps", "Fine-tune"])
    with upload:
        render_upload()
    with inspect:
        render_feature_maps(trained, uploaded_model(), _builder_model())
    with finetune:
        render_finetune(trained, uploaded_model())


main()

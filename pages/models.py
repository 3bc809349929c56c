"""Models: upload a .keras/.h5 (loaded safely), see its summary and diagram, open it in the builder,
inspect feature maps of any model (VGG16, the trained model, an upload), fine-tune it, and try it."""

# ruff: noqa: E402 - a page first makes sure it runs inside app.py, then imports the rest
from __future__ import annotations

import streamlit as st

from components.bootstrap import run_inside_app

run_inside_app()  # before the heavy imports below

from components import cache, state
from components.models.feature_maps import render_feature_maps
from components.models.finetune import render_finetune
from components.models.tryit import render_model_try_it
from components.models.upload import render_upload, uploaded_model
from components.training.jobs import current_job
from studio.i18n import _


def _builder_model():
    spec = state.current_spec()
    if not spec.calls:
        return None
    result = cache.analysis(spec)
    return result.model if result.ok else None


def main() -> None:
    """The Models page."""
    state.init_state()
    st.title(_("Models"))
    job = current_job()
    trained = job.model if job is not None else None
    upload, inspect, finetune, try_it = st.tabs([_("Upload a model"), _("Feature maps"), _("Fine-tune"), _("Try it")])
    with upload:
        render_upload()
    with inspect:
        render_feature_maps(trained, uploaded_model(), _builder_model())
    with finetune:
        render_finetune(trained, uploaded_model())
    with try_it:
        render_model_try_it(trained if job is not None and not job.active else None, uploaded_model())


main()

"""The Models page's "Try it" tab: pick the uploaded model or this session's trained one and try it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.tryit.panel import render_try_it
from studio.i18n import N_, _

UPLOADED, TRAINED = "uploaded", "trained"
SOURCES = {UPLOADED: N_("The uploaded model"), TRAINED: N_("This session's trained model")}


def source_key(available: list[str]) -> str:
    """The radio's key: a fresh radio whenever the set of available models changes."""
    return "models.tryit.source." + "-".join(available)


def render_model_try_it(trained: Any, uploaded: Any) -> None:
    """The tab: a model to try (the upload first), then its "Try it" panel."""
    models = {UPLOADED: uploaded, TRAINED: trained}
    available = [source for source, model in models.items() if model is not None]
    if not available:
        st.info(_("Upload a model in the Upload tab, or train one on the Train page (once the run has finished), to try it here."))
        return
    source = st.radio(_("Model to try"), available, format_func=lambda value: _(SOURCES[value]), horizontal=True, key=source_key(available))
    model = models[source]
    render_try_it(model, f"models.{source}")

"""The Models page's upload: a .keras/.h5 file loaded safely, its summary and diagram, and "open in builder"
when its layers are in the catalogue (else which ones are not)."""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from components import actions, state
from components.text import md
from studio.graph.spec import SpecError
from studio.i18n import _, ngettext
from studio.limits import describe, limits
from studio.model.upload import UploadedModel, load_uploaded_model, unsupported_layers

log = logging.getLogger(__name__)

UPLOADER = "models.upload"
LOADED = "models.state.loaded"  # UploadedModel of the last upload (the model stays in this session only)
LOADED_TOKEN = "models.state.loaded_token"


def uploaded_model() -> Any | None:
    """The model of this session's last good upload, or None."""
    loaded: UploadedModel | None = st.session_state.get(LOADED)
    return loaded.model if loaded is not None and loaded.ok else None


def _load(uploaded: Any) -> UploadedModel:
    """Load an upload once (a rerun with the same file reuses the model)."""
    token = (getattr(uploaded, "file_id", None), uploaded.name, uploaded.size)
    if st.session_state.get(LOADED_TOKEN) != token:
        with st.spinner(_("Loading {name} with safe_mode=True ...").format(name=md(uploaded.name))):
            st.session_state[LOADED] = load_uploaded_model(uploaded.name, uploaded.getvalue())
        st.session_state[LOADED_TOKEN] = token
    return st.session_state[LOADED]


def _open_in_builder(model: Any, name: str) -> None:
    from studio.model.importer import spec_from_model

    try:
        spec = spec_from_model(model)
        actions.check_new_spec(spec)  # the builder's limits: nodes, nesting of models, parameters
    except (SpecError, ValueError) as error:
        st.error(_("'{name}' cannot be opened in the builder: {error}").format(name=md(name), error=md(actions.error_text(error))))
        return
    spec.description = _("Imported from {name}").format(name=name)
    state.replace_spec(spec, _("Opened the uploaded model '{name}'").format(name=name), source=f"file {name}")
    state.notify(_("Opened '{name}' in the builder (its architecture; the weights stay in the file).").format(name=name))
    try:
        st.switch_page(state.PAGES["builder"])
    except Exception:  # noqa: BLE001 - the page runs on its own (tests) without the navigation
        st.success(_("'{name}' is open in the builder.").format(name=md(name)))


def render_model_card(model: Any) -> None:
    """Parameters, inputs and outputs, the summary and the diagram of a loaded model."""
    from studio.io.diagram import DiagramOptions, model_dot
    from studio.io.model_files import summary_text

    inputs = ", ".join(f"{tensor.name} {tuple(tensor.shape)}" for tensor in model.inputs)
    outputs = ", ".join(str(tuple(tensor.shape)) for tensor in model.outputs)
    parameters = ngettext("{count} parameter", "{count} parameters", model.count_params()).format(count=f"{model.count_params():,}")
    st.markdown(
        _("**{name}** · {parameters} · inputs {inputs} · outputs {outputs}").format(
            name=md(model.name), parameters=parameters, inputs=md(inputs), outputs=outputs
        )
    )
    left, right = st.columns(2)
    with left:
        st.code(summary_text(model), language=None)
    with right:
        try:
            st.graphviz_chart(model_dot(model, DiagramOptions(show_shapes=True)))
        except Exception as error:  # noqa: BLE001 - no diagram is not worth losing the page over
            st.caption(_("No diagram: {error}").format(error=f"{type(error).__name__}: {md(error)}"))


def render_upload() -> None:
    """Upload a model file and show it; every bad file gets its own clear message and the session goes on."""
    active = limits()
    st.caption(
        _(
            "A model saved with `model.save(...)` as .keras or .h5 ({limit}). It is loaded with "
            "`keras.models.load_model(..., safe_mode=True)`: files with Python code (Lambda layers, custom classes) are refused."
        ).format(limit=describe("max_model_mb", active.max_model_mb))
    )
    uploaded = st.file_uploader(_("Model file"), type=["keras", "h5", "hdf5"], key=UPLOADER, max_upload_size=active.max_model_mb)
    if uploaded is None:
        return
    result = _load(uploaded)
    if not result.ok:
        st.error(md(result.error), icon=":material/block:")
        return
    for note in result.notes:
        st.caption(md(note))
    render_model_card(result.model)
    missing = unsupported_layers(result.model)
    if missing:
        st.warning(
            ngettext(
                "This model cannot be opened in the builder: {count} layer is not in the catalogue: {layers}. "
                "You can still inspect its feature maps, fine-tune it and try it here.",
                "This model cannot be opened in the builder: {count} layers are not in the catalogue: {layers}. "
                "You can still inspect its feature maps, fine-tune it and try it here.",
                len(missing),
            ).format(count=len(missing), layers=md(", ".join(missing)))
        )
    elif st.button(_("Open in builder"), key="models.open_in_builder", icon=":material/account_tree:", type="primary"):
        _open_in_builder(result.model, result.name)

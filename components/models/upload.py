"""The Models page's upload: a .keras/.h5 file loaded safely, its summary and diagram, and "open in builder"
when its layers are in the catalogue (else which ones are not)."""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from components import state
from studio.graph.spec import SpecError
from studio.model.upload import UploadedModel, load_uploaded_model, max_model_mb, unsupported_layers

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
        with st.spinner(f"Loading {uploaded.name} with safe_mode=True ..."):
            st.session_state[LOADED] = load_uploaded_model(uploaded.name, uploaded.getvalue())
        st.session_state[LOADED_TOKEN] = token
    return st.session_state[LOADED]


def _open_in_builder(model: Any, name: str) -> None:
    from studio.model.importer import spec_from_model

    try:
        spec = spec_from_model(model)
    except SpecError as error:
        st.error(f"'{name}' cannot be opened in the builder: {error}")
        return
    spec.description = f"Imported from {name}"
    state.replace_spec(spec, f"Opened the uploaded model '{name}'", source=f"file {name}")
    state.notify(f"Opened '{name}' in the builder (its architecture; the weights stay in the file).")
    try:
        st.switch_page(state.PAGES["builder"])
    except Exception:  # noqa: BLE001 - the page runs on its own (tests) without the navigation
        st.success(f"'{name}' is open in the builder.")


def render_model_card(model: Any) -> None:
    """Parameters, inputs and outputs, the summary and the diagram of a loaded model."""
    from studio.io.diagram import DiagramOptions, model_dot
    from studio.io.model_files import summary_text

    inputs = ", ".join(f"{tensor.name} {tuple(tensor.shape)}" for tensor in model.inputs)
    outputs = ", ".join(str(tuple(tensor.shape)) for tensor in model.outputs)
    st.markdown(f"**{model.name}** · {model.count_params():,} parameters · inputs {inputs} · outputs {outputs}")
    left, right = st.columns(2)
    with left:
        st.code(summary_text(model), language=None)
    with right:
        try:
            st.graphviz_chart(model_dot(model, DiagramOptions(show_shapes=True)))
        except Exception as error:  # noqa: BLE001 - no diagram is not worth losing the page over
            st.caption(f"No diagram: {type(error).__name__}: {error}")


def render_upload() -> None:
    """Upload a model file and show it; every bad file gets its own clear message and the session goes on."""
    limit = max_model_mb()
    st.caption(
        f"A model saved with `model.save(...)` as .keras or .h5, up to {limit} MB. It is loaded with "
        "`keras.models.load_model(..., safe_mode=True)`: files with Python code (Lambda layers, custom classes) are refused."
    )
    uploaded = st.file_uploader("Model file", type=["keras", "h5", "hdf5"], key=UPLOADER, max_upload_size=limit)
    if uploaded is None:
        return
    result = _load(uploaded)
    if not result.ok:
        st.error(result.error, icon=":material/block:")
        return
    for note in result.notes:
        st.caption(note)
    render_model_card(result.model)
    missing = unsupported_layers(result.model)
    if missing:
        st.warning(
            f"This model cannot be opened in the builder: {len(missing)} layer(s) are not in the catalogue: {', '.join(missing)}. "
            "You can still inspect its feature maps and fine-tune it here."
        )
    elif st.button("Open in builder", key="models.open_in_builder", icon=":material/account_tree:", type="primary"):
        _open_in_builder(result.model, result.name)

"""The Model panel: the model's name, its ordered inputs and outputs, and the app's limits."""

from __future__ import annotations

import streamlit as st

from components import actions, state
from components.text import md
from studio.graph import edits, wiring
from studio.graph.spec import GraphSpec
from studio.i18n import _
from studio.limits import LIMIT_LABELS, limits
from studio.model.analysis import tensor_refs
from studio.model.build import BuildResult

MODEL_NAME = "builder.model_name"
MODEL_ADD_OUTPUT = "builder.model_add_output"

MODEL_ERROR = "builder.model"


def _rename_model() -> None:
    name = str(st.session_state.get(state.widget_key(MODEL_NAME), ""))
    actions.apply_edit(
        lambda spec: edits.set_model_name(spec, name),
        MODEL_ERROR,
        _("Renamed the model to '{name}'").format(name=name.strip()),
    )


def _move(kind: str, position: int, offset: int) -> None:
    def edit(spec: GraphSpec) -> GraphSpec:
        if kind == "inputs":
            return wiring.set_model_inputs(spec, wiring.move_in_list(spec.inputs, position, offset))
        return wiring.set_outputs(spec, wiring.move_in_list(spec.outputs, position, offset))

    actions.apply_edit(edit, MODEL_ERROR, _("Reordered the model inputs") if kind == "inputs" else _("Reordered the model outputs"))


def _remove_output(ref: str) -> None:
    actions.apply_edit(lambda spec: wiring.toggle_output(spec, ref), MODEL_ERROR, _("'{ref}' is no longer a model output").format(ref=ref))


def _add_output() -> None:
    ref = st.session_state.get(state.widget_key(MODEL_ADD_OUTPUT))
    if ref:
        actions.apply_edit(lambda spec: wiring.toggle_output(spec, ref), MODEL_ERROR, _("'{ref}' is now a model output").format(ref=ref))


def _ordered_list(kind: str, refs: list[str]) -> None:
    if not refs:
        st.caption(_("No model inputs yet.") if kind == "inputs" else _("No model outputs yet."))
        return
    for position, ref in enumerate(refs):
        cols = st.columns([6, 1, 1, 1] if kind == "outputs" else [6, 1, 1], vertical_alignment="center")
        cols[0].markdown(f"{position + 1}. `{ref}`")
        cols[1].button(
            "↑",
            key=f"builder.model_{kind}_up_{position}",
            on_click=_move,
            args=(kind, position, -1),
            disabled=position == 0,
            help=_("Move up"),
        )
        cols[2].button(
            "↓",
            key=f"builder.model_{kind}_down_{position}",
            on_click=_move,
            args=(kind, position, 1),
            disabled=position == len(refs) - 1,
            help=_("Move down"),
        )
        if kind == "outputs":
            cols[3].button(
                "✕", key=f"builder.model_outputs_remove_{position}", on_click=_remove_output, args=(ref,), help=_("No longer an output")
            )


def render_model_panel(spec: GraphSpec, result: BuildResult) -> None:
    """Name, inputs and outputs of the whole model."""
    cols = st.columns([3, 1], vertical_alignment="bottom")
    cols[0].text_input(_("Model name"), value=spec.name, key=state.widget_key(MODEL_NAME))
    cols[1].button(_("Rename"), key="builder.model_rename", on_click=_rename_model, width="stretch")
    st.markdown(_("**Inputs** (in the order the model takes its data)"))
    _ordered_list("inputs", list(spec.inputs))
    st.markdown(_("**Outputs** (in the order the model returns them)"))
    _ordered_list("outputs", list(spec.outputs))
    candidates = [ref for ref in tensor_refs(spec, result) if ref not in spec.outputs]
    if candidates:
        cols = st.columns([3, 1], vertical_alignment="bottom")
        cols[0].selectbox(
            _("Add an output"),
            candidates,
            index=None,
            key=state.widget_key(MODEL_ADD_OUTPUT),
            placeholder=_("Choose a node"),
        )
        cols[1].button(_("Add"), key="builder.model_add_output_button", on_click=_add_output, width="stretch")
    message = state.error_for(MODEL_ERROR)
    if message:
        st.error(md(message), icon=":material/error:")
    with st.expander(_("Limits of this app")):
        active = limits()
        for field_name, (label, variable) in LIMIT_LABELS.items():
            st.markdown(
                _("- {limit}: **{value}** (`{variable}`)").format(
                    limit=_(label), value=f"{getattr(active, field_name):,}", variable=variable
                )
            )

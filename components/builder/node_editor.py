"""The node editor: everything about the selected node (parameters, wiring, output, name, deletion)."""

from __future__ import annotations

import json

import streamlit as st

from components import actions, state
from components.builder.param_form import collect_config, render_param_widgets, show_errors
from components.cache import application_layer_names
from components.project import read_project
from components.text import code, md
from studio.catalog import types as catalog
from studio.catalog.table import group_label
from studio.graph import blocks as block_edits
from studio.graph import deletion, edits, wiring
from studio.graph.shapes import shapes_text
from studio.graph.spec import GraphSpec, SpecError
from studio.i18n import N_, _, ngettext
from studio.model.analysis import node_problems, output_count, ref_label, tensor_refs
from studio.model.build import BuildResult

DELETE_LABELS = {
    "refuse": N_("Only if no other node uses it"),
    "cascade": N_("With every node downstream of it"),
    "rewire": N_("Reconnect its users to its input"),
}


def _key(call_id: str, name: str) -> str:
    return state.widget_key(f"builder.edit.{call_id}.{name}")


def _param_prefix(call_id: str) -> str:
    return f"builder.edit.{call_id}.param"


# --- callbacks ----------------------------------------------------------------------------------


def _apply_params(call_id: str, layer_id: str, type_name: str) -> None:
    form_key = _key(call_id, "params_form")
    layer = state.current_spec().layer(layer_id)
    if layer is None:
        state.set_error(form_key, _("Layer '{layer}' no longer exists.").format(layer=layer_id))
        return
    config, errors = collect_config(type_name, layer.config, _param_prefix(call_id))
    if show_errors(errors, form_key):
        return
    trainable = bool(st.session_state.get(_key(call_id, "trainable"), layer.trainable))
    if config == layer.config and trainable == layer.trainable:
        state.notify(_("'{layer}' already has these parameters.").format(layer=layer_id), "info")
        return
    actions.apply_edit(
        lambda spec: edits.set_trainable(edits.set_params(spec, layer_id, config), layer_id, trainable),
        form_key,
        _("Set parameters of '{layer}'").format(layer=layer_id),
        select=call_id,
    )


def _apply_inputs(call_id: str) -> None:
    refs = list(st.session_state.get(_key(call_id, "inputs"), []))
    actions.apply_edit(
        lambda spec: wiring.set_inputs(spec, call_id, refs),
        _key(call_id, "wiring"),
        _("Wired '{node}'").format(node=call_id),
        select=call_id,
    )


def _move_input(call_id: str, position: int, offset: int) -> None:
    actions.apply_edit(
        lambda spec: wiring.move_input(spec, call_id, position, offset),
        _key(call_id, "wiring"),
        _("Reordered the inputs of '{node}'").format(node=call_id),
        select=call_id,
    )


def _toggle_output(call_id: str, ref: str) -> None:
    actions.apply_edit(
        lambda spec: wiring.toggle_output(spec, ref),
        _key(call_id, "outputs"),
        _("Toggled model output '{ref}'").format(ref=ref),
        select=call_id,
    )


def _rename(call_id: str) -> None:
    new_id = str(st.session_state.get(_key(call_id, "new_id"), "")).strip()
    actions.apply_edit(
        lambda spec: edits.rename(spec, call_id, new_id),
        _key(call_id, "rename"),
        _("Renamed '{node}' to '{new_id}'").format(node=call_id, new_id=new_id),
        select=new_id,
    )


def _rename_layer(call_id: str, layer_id: str) -> None:
    new_id = str(st.session_state.get(_key(call_id, "new_layer_id"), "")).strip()
    actions.apply_edit(
        lambda spec: edits.rename_layer(spec, layer_id, new_id),
        _key(call_id, "rename"),
        _("Renamed layer '{layer}' to '{new_id}'").format(layer=layer_id, new_id=new_id),
        select=call_id,
    )


def _delete(call_id: str) -> None:
    mode = st.session_state.get(_key(call_id, "delete_mode"), "refuse")
    actions.apply_edit(
        lambda spec: deletion.delete_node(spec, call_id, mode),
        _key(call_id, "delete"),
        _("Deleted '{node}'").format(node=call_id),
    )


def delete_layer_callback(layer_id: str) -> None:
    """Callback: delete a layer that no node calls."""
    actions.apply_edit(
        lambda spec: deletion.delete_layer(spec, layer_id),
        "builder.problems",
        _("Deleted layer '{layer}'").format(layer=layer_id),
    )


def _apply_application(call_id: str, layer_id: str) -> None:
    outputs = list(st.session_state.get(_key(call_id, "app_outputs"), []))
    frozen = list(st.session_state.get(_key(call_id, "app_frozen"), []))
    expose = bool(st.session_state.get(_key(call_id, "app_expose"), False))
    actions.apply_edit(
        lambda spec: block_edits.set_application_outputs(spec, layer_id, outputs, frozen, expose_all=expose),
        _key(call_id, "application"),
        _("Chose the exposed and frozen layers of '{layer}'").format(layer=layer_id),
        select=call_id,
    )


def _apply_nested_json(call_id: str, layer_id: str) -> None:
    text = st.session_state.get(_key(call_id, "nested_json"), "")
    error_key = _key(call_id, "nested")
    try:
        nested = read_project(text, _("the nested model of '{layer}'").format(layer=layer_id))
    except (ValueError, SpecError) as error:
        state.set_error(error_key, actions.error_text(error))
        return
    actions.apply_edit(
        lambda spec: block_edits.replace_nested_model(spec, layer_id, nested),
        error_key,
        _("Edited nested model '{layer}'").format(layer=layer_id),
        select=call_id,
    )


def _open_nested(call_id: str, layer_id: str) -> None:
    layer = state.current_spec().layer(layer_id)
    from studio.graph.checks import nested_spec

    nested = nested_spec(layer.config) if layer is not None else None
    if nested is None:
        state.set_error(_key(call_id, "nested"), _("'{layer}' holds no valid nested spec to open.").format(layer=layer_id))
        return
    actions.apply_edit(
        lambda _spec: nested,
        _key(call_id, "nested"),
        _("Opened nested model '{layer}' (undo to come back)").format(layer=layer_id),
    )


# --- drawing ------------------------------------------------------------------------------------


def _layer_type_info(type_name: str) -> catalog.LayerType | None:
    try:
        return catalog.get_layer_type(type_name)
    except KeyError:
        return None


def _header(spec: GraphSpec, result: BuildResult, call_id: str) -> None:
    call = spec.call(call_id)
    layer = spec.layer(call.layer)
    info = result.nodes.get(call_id)
    st.markdown(f"#### {md(call_id)}")
    info_type = _layer_type_info(layer.type) if layer is not None else None
    if info_type is not None:
        group = group_label(info_type.group)
    else:
        group = group_label("Models") if layer is not None and layer.type == "Model" else _("unknown type")
    parts = [f"`{layer.type if layer else '?'}` ({group})"]
    if info is not None:
        parts.append(_("output `{shape}`").format(shape=shapes_text(info.output_shapes)))
        parts.append(
            _("{params} params ({trainable} trainable)").format(params=f"{info.params or 0:,}", trainable=f"{info.trainable_params or 0:,}")
        )
    st.caption(" · ".join(parts))
    if info_type is not None:
        st.caption(info_type.summary)
    sharing = [other.id for other in spec.calls_of(call.layer)]
    if len(sharing) > 1:
        st.info(
            _("Layer **{layer}** is shared by {nodes}: its parameters are edited for every call.").format(
                layer=md(call.layer), nodes=md(", ".join(sharing))
            ),
            icon=":material/link:",
        )
    for message in node_problems(result, spec, call_id):
        st.error(md(message), icon=":material/error:")


def _parameters(spec: GraphSpec, call_id: str) -> None:
    layer = spec.layer_of(call_id)
    if layer is None or layer.type == "Model":
        return
    if _layer_type_info(layer.type) is None:
        st.warning(
            _(
                "'{type}' is not a layer type this app knows, so its parameters cannot be edited here; "
                "delete this node and add a supported layer instead."
            ).format(type=md(layer.type)),
            icon=":material/help:",
        )
        return
    form_key = _key(call_id, "params_form")
    with st.form(_key(call_id, "form"), border=True):
        st.markdown(_("**Parameters**"))
        actions.show_error(form_key)
        render_param_widgets(layer.type, layer.config, _param_prefix(call_id))
        if layer.type != "Input":
            st.checkbox(_("Trainable (training updates its weights)"), value=layer.trainable, key=_key(call_id, "trainable"))
        st.form_submit_button(
            _("Apply parameters"),
            type="primary",
            on_click=_apply_params,
            args=(call_id, layer.id, layer.type),
            width="stretch",
        )


def _application(spec: GraphSpec, call_id: str) -> None:
    layer = spec.layer_of(call_id)
    if layer is None or layer.type not in catalog.APPLICATION_TYPES:
        return
    with st.container(border=True):
        st.markdown(_("**Inner layers: exposed outputs and frozen layers**"))
        try:
            names = application_layer_names(layer.type, json.dumps(layer.config, sort_keys=True))
        except Exception as error:  # noqa: BLE001 - a bad config: Keras says why, on this node
            st.error(_("The inner layers cannot be listed with this configuration: {reason}").format(reason=md(actions.error_text(error))))
            return
        current_outputs = [name for name in layer.config.get("outputs") or [] if name in names]
        current_frozen = [name for name in layer.config.get("frozen") or [] if name in names]
        with st.form(_key(call_id, "app_form"), border=False):
            st.multiselect(
                _("Expose these inner layers as outputs (in order; none = the network's own output)"),
                names,
                default=current_outputs,
                key=_key(call_id, "app_outputs"),
            )
            st.multiselect(
                _("Freeze these inner layers (trainable = False)"), names, default=current_frozen, key=_key(call_id, "app_frozen")
            )
            st.checkbox(_("Make every exposed tensor a model output"), value=False, key=_key(call_id, "app_expose"))
            st.form_submit_button(_("Apply inner layers"), on_click=_apply_application, args=(call_id, layer.id), width="stretch")
        actions.show_error(_key(call_id, "application"))


def _nested(spec: GraphSpec, result: BuildResult, call_id: str) -> None:
    layer = spec.layer_of(call_id)
    if layer is None or layer.type != "Model":
        return
    inner = layer.config.get("spec") if isinstance(layer.config.get("spec"), dict) else {}
    with st.container(border=True):
        st.markdown(_("**Nested model {name}**").format(name=code(inner.get("name", "?"))))
        count = len(inner.get("calls", []))
        st.caption(
            ngettext(
                "{count} node · inputs: {inputs} · outputs: {outputs}", "{count} nodes · inputs: {inputs} · outputs: {outputs}", count
            ).format(
                count=f"{count:,}",
                inputs=md(", ".join(inner.get("inputs", [])) or "-"),
                outputs=md(", ".join(inner.get("outputs", [])) or "-"),
            )
        )
        st.button(
            _("Open it on its own in the builder (undo comes back here)"),
            key=_key(call_id, "open_nested"),
            on_click=_open_nested,
            args=(call_id, layer.id),
            width="stretch",
        )
        with st.expander(_("Edit the nested spec (JSON)")):
            st.text_area(
                _("Nested spec"),
                value=json.dumps(inner, indent=2),
                height=220,
                key=_key(call_id, "nested_json"),
                label_visibility="collapsed",
            )
            st.button(_("Apply nested spec"), key=_key(call_id, "apply_nested"), on_click=_apply_nested_json, args=(call_id, layer.id))
        actions.show_error(_key(call_id, "nested"))


def _wiring(spec: GraphSpec, result: BuildResult, call_id: str) -> None:
    call = spec.call(call_id)
    layer = spec.layer(call.layer)
    if layer is not None and layer.type == "Input":
        return
    with st.container(border=True):
        st.markdown(_("**Inputs** (order matters: Concatenate, Subtract, Dot ...)"))
        options = tensor_refs(spec, result, exclude=None)
        options += [ref for ref in call.inputs if ref not in options]
        with st.form(_key(call_id, "wiring_form"), border=False):
            st.multiselect(
                _("Inputs, in the order chosen"),
                options,
                default=list(dict.fromkeys(call.inputs)),
                key=_key(call_id, "inputs"),
                format_func=lambda ref: ref_label(spec, result, ref),
                placeholder=_("Choose input nodes"),
            )
            st.form_submit_button(_("Apply wiring"), on_click=_apply_inputs, args=(call_id,), width="stretch")
        if len(call.inputs) > 1:
            for position, ref in enumerate(call.inputs):
                cols = st.columns([6, 1, 1], vertical_alignment="center")
                cols[0].markdown(f"{position + 1}. `{ref}`")
                cols[1].button(
                    "↑",
                    key=_key(call_id, f"up_{position}"),
                    on_click=_move_input,
                    args=(call_id, position, -1),
                    disabled=position == 0,
                    help=_("Move up"),
                )
                cols[2].button(
                    "↓",
                    key=_key(call_id, f"down_{position}"),
                    on_click=_move_input,
                    args=(call_id, position, 1),
                    disabled=position == len(call.inputs) - 1,
                    help=_("Move down"),
                )
        actions.show_error(_key(call_id, "wiring"))


def _outputs(spec: GraphSpec, result: BuildResult, call_id: str) -> None:
    count = output_count(spec, result, call_id)
    refs = [call_id if index == 0 else f"{call_id}:{index}" for index in range(min(count, 40))]
    for ref in refs:
        label = _("Model output") if count == 1 else _("`{ref}` is a model output").format(ref=ref)
        st.checkbox(label, value=ref in spec.outputs, key=_key(call_id, f"output_{ref}"), on_change=_toggle_output, args=(call_id, ref))
    actions.show_error(_key(call_id, "outputs"))


def _rename_and_delete(spec: GraphSpec, call_id: str) -> None:
    call = spec.call(call_id)
    with st.container(border=True):
        st.markdown(_("**Rename**"))
        cols = st.columns([3, 1], vertical_alignment="bottom")
        cols[0].text_input(_("New id"), value=call_id, key=_key(call_id, "new_id"))
        cols[1].button(_("Rename"), key=_key(call_id, "rename_button"), on_click=_rename, args=(call_id,), width="stretch")
        if call.layer != call_id:
            cols = st.columns([3, 1], vertical_alignment="bottom")
            cols[0].text_input(_("Layer id (shared by its calls)"), value=call.layer, key=_key(call_id, "new_layer_id"))
            cols[1].button(
                _("Rename layer"),
                key=_key(call_id, "rename_layer_button"),
                on_click=_rename_layer,
                args=(call_id, call.layer),
                width="stretch",
            )
        actions.show_error(_key(call_id, "rename"))
    with st.container(border=True):
        users = spec.consumers(call_id)
        st.markdown(_("**Delete**"))
        if users:
            st.caption(_("Used by: {nodes}").format(nodes=md(", ".join(users))))
            st.radio(
                _("How"),
                list(DELETE_LABELS),
                format_func=lambda mode: _(DELETE_LABELS[mode]),
                key=_key(call_id, "delete_mode"),
                label_visibility="collapsed",
            )
        st.button(_("Delete node"), key=_key(call_id, "delete_button"), on_click=_delete, args=(call_id,), icon=":material/delete:")
        actions.show_error(_key(call_id, "delete"))


def render_node_editor(spec: GraphSpec, result: BuildResult) -> None:
    """The editor for the selected node, with a picker to choose another node."""
    if not spec.calls:
        st.info(_("No nodes yet: add one in the **Add** tab."), icon=":material/info:")
        return
    ids = [call.id for call in spec.calls]
    selected = st.session_state.get(state.SELECTED)
    if selected not in ids:
        selected = ids[-1]
        state.select(selected)  # the canvas shows the node the editor shows
    pick_key = state.widget_key(f"builder.edit.pick.{selected}")
    st.selectbox(
        _("Node"),
        ids,
        index=ids.index(selected),
        key=pick_key,
        on_change=lambda: state.select(st.session_state.get(pick_key)),
        format_func=lambda node: (
            f"{node} · {spec.layer_of(node).type if spec.layer_of(node) else '?'}" + ("  ⚠" if node_problems(result, spec, node) else "")
        ),
    )
    _header(spec, result, selected)
    _parameters(spec, selected)
    _application(spec, selected)
    _nested(spec, result, selected)
    _wiring(spec, result, selected)
    _outputs(spec, result, selected)
    _rename_and_delete(spec, selected)

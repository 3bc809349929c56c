"""The Add panel: a layer from the searchable, grouped palette; another call of a shared layer; a nested
model (a preset or an uploaded spec); a pretrained application with chosen outputs and frozen layers."""

from __future__ import annotations

import json

import streamlit as st

from components import actions, state
from components.builder.param_form import collect_config, render_param_widgets, show_errors
from components.cache import application_layer_names
from components.layout import lazy_tabs
from components.project import read_project
from components.state import widget_key as wk
from components.text import md
from studio.catalog import types as catalog
from studio.catalog.table import group_label
from studio.catalog.values import parse_literal
from studio.graph import blocks as block_edits
from studio.graph import edits, naming
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import GraphSpec, SpecError
from studio.i18n import N_, _
from studio.limits import limits
from studio.model.analysis import ref_label, tensor_refs
from studio.model.build import BuildResult

ADD_ERROR = "builder.add"
SHARED_ERROR = "builder.shared"
NESTED_ERROR = "builder.nested"
APPLICATION_ERROR = "builder.app"
# Widget keys of this panel (spec-content widgets take `wk(KEY)`, new after every edit).
ADD_AS_OUTPUT = "builder.add_as_output"
ADD_ID = "builder.add_id"
ADD_INPUTS = "builder.add_inputs"
ADD_TYPE = "builder.add_type"
APP_AS_OUTPUT = "builder.app_as_output"
APP_FROZEN = "builder.app_frozen"
APP_ID = "builder.app_id"
APP_INCLUDE_TOP = "builder.app_include_top"
APP_INPUT_SHAPE = "builder.app_input_shape"
APP_INPUTS = "builder.app_inputs"
APP_OUTPUTS = "builder.app_outputs"
APP_TYPE = "builder.app_type"
APP_WEIGHTS = "builder.app_weights"
NESTED_AS_OUTPUT = "builder.nested_as_output"
NESTED_ID = "builder.nested_id"
NESTED_INPUTS = "builder.nested_inputs"
NESTED_PRESET = "builder.nested_preset"
NESTED_SOURCE = "builder.nested_source"
NESTED_UPLOAD = "builder.nested_upload"
SHARED_AS_OUTPUT = "builder.shared_as_output"
SHARED_ID = "builder.shared_id"
SHARED_INPUTS = "builder.shared_inputs"
SHARED_LAYER = "builder.shared_layer"
_BLOCK_GROUPS = ("Applications", "Models")
NESTED_SOURCES = {"Preset": N_("Preset"), "Spec file": N_("Spec file")}  # stored value -> shown label


def _default_inputs(spec: GraphSpec, options: list[str], count: int = 1) -> list[str]:
    """The selected node (or the last one) as the natural input of what is added next."""
    selected = st.session_state.get(state.SELECTED)
    if selected in options:
        return [selected]
    return options[-count:] if options else []


def _new_node_id(spec: GraphSpec) -> str | None:
    return spec.calls[-1].id if spec.calls else None


def _typed_id(key: str) -> str | None:
    return str(st.session_state.get(key) or "").strip() or None


# --- a layer ------------------------------------------------------------------------------------


def palette_types() -> list[str]:
    """Layer types offered by the palette, in palette order (applications and nested models have their own tabs)."""
    return [name for group, names in catalog.palette_groups().items() if group not in _BLOCK_GROUPS for name in names]


def _add_layer(layer_type: str) -> None:
    prefix = f"builder.add_param.{layer_type}"
    config, errors = collect_config(layer_type, catalog.default_config(layer_type), prefix)
    if show_errors(errors, ADD_ERROR):
        return
    node_id = _typed_id(wk(ADD_ID))
    inputs = [] if layer_type == "Input" else list(st.session_state.get(wk(ADD_INPUTS), []))
    as_output = bool(st.session_state.get(wk(ADD_AS_OUTPUT), True))
    added = actions.apply_edit(
        lambda spec: edits.add_layer(spec, layer_type, inputs, node_id, config, as_output),
        ADD_ERROR,
        _("Added {layer_type} '{node}'").format(layer_type=layer_type, node=node_id or naming.default_id(state.current_spec(), layer_type)),
        select=_new_node_id,
    )
    if added and layer_type == "Input":
        st.session_state[ADD_TYPE] = "Dense"  # what usually follows an Input


def _arity_text(info: catalog.LayerType) -> str:
    """'1', '2+', '2-3': how many inputs a type takes."""
    if info.max_inputs is None:
        return f"{info.min_inputs}+"
    if info.max_inputs == info.min_inputs:
        return str(info.min_inputs)
    return f"{info.min_inputs}-{info.max_inputs}"


def _layer_tab(spec: GraphSpec, result: BuildResult) -> None:
    groups = [group for group in catalog.palette_groups() if group not in _BLOCK_GROUPS]
    group = st.pills(_("Group"), groups, key="builder.add_group", label_visibility="collapsed", format_func=group_label)
    query = st.text_input(
        _("Search layers"),
        key="builder.add_filter",
        placeholder=_("Search: conv, pool, lstm, merge, dropout ..."),
        label_visibility="collapsed",
        icon=":material/search:",
    )
    offered = palette_types()
    if query:
        found = set(catalog.search_types(query))
        offered = [name for name in offered if name in found]
    if group:
        offered = [name for name in offered if catalog.LAYER_TYPES[name].group == group]
    if not offered:
        if group:
            text = _("No layer type matches '{query}' in {group}.").format(query=md(query), group=group_label(group))
        else:
            text = _("No layer type matches '{query}'.").format(query=md(query))
        st.warning(text, icon=":material/search_off:")
        return
    if st.session_state.get(ADD_TYPE) not in offered:
        st.session_state.pop(ADD_TYPE, None)
    natural = "Dense" if spec.calls and "Dense" in offered else offered[0]  # after the Input, a Dense is the usual next step
    index = 0 if ADD_TYPE in st.session_state else offered.index(natural)  # a stored choice wins
    layer_type = st.selectbox(
        _("Layer type"),
        offered,
        index=index,
        key=ADD_TYPE,
        format_func=lambda name: f"{name}  ·  {group_label(catalog.LAYER_TYPES[name].group)}",
    )
    info = catalog.LAYER_TYPES[layer_type]
    st.caption(info.summary)
    with st.form("builder.add_form", border=False):
        st.text_input(_("Id (optional)"), key=wk(ADD_ID), placeholder=naming.default_id(spec, layer_type))
        if layer_type != "Input":
            options = tensor_refs(spec, result)
            st.multiselect(
                _("Inputs, in order ({arity})").format(arity=_arity_text(info)),
                options,
                default=_default_inputs(spec, options),
                key=wk(ADD_INPUTS),
                format_func=lambda ref: ref_label(spec, result, ref),
                placeholder=_("Choose the node(s) it takes"),
            )
        render_param_widgets(layer_type, catalog.default_config(layer_type), f"builder.add_param.{layer_type}")
        if layer_type != "Input":
            st.checkbox(_("Make it a model output (replacing the outputs it takes as inputs)"), value=True, key=wk(ADD_AS_OUTPUT))
        st.form_submit_button(
            _("Add {layer_type}").format(layer_type=layer_type),
            type="primary",
            on_click=_add_layer,
            args=(layer_type,),
            width="stretch",
            icon=":material/add:",
        )
    actions.show_error(ADD_ERROR)


# --- a shared layer -----------------------------------------------------------------------------


def _call_again() -> None:
    layer_id = st.session_state.get(wk(SHARED_LAYER))
    inputs = list(st.session_state.get(wk(SHARED_INPUTS), []))
    node_id = _typed_id(wk(SHARED_ID))
    as_output = bool(st.session_state.get(wk(SHARED_AS_OUTPUT), True))
    if not layer_id:
        state.set_error(SHARED_ERROR, _("Choose the layer to call again."))
        return
    actions.apply_edit(
        lambda spec: edits.call_again(spec, layer_id, inputs, node_id, as_output),
        SHARED_ERROR,
        _("Called layer '{layer}' again").format(layer=layer_id),
        select=_new_node_id,
    )


def _shared_tab(spec: GraphSpec, result: BuildResult) -> None:
    st.caption(_("A shared layer is one layer (one set of weights) called on several inputs, like the tutorial's shared Embedding."))
    layers = [layer.id for layer in spec.layers if layer.type != "Input"]
    if not layers:
        st.info(_("Add a layer first; then it can be called again here."), icon=":material/info:")
        return
    selected = spec.layer_of(st.session_state.get(state.SELECTED) or "")
    index = layers.index(selected.id) if selected is not None and selected.id in layers else 0
    st.selectbox(
        _("Layer to call again"),
        layers,
        index=index,
        key=wk(SHARED_LAYER),
        format_func=lambda layer_id: f"{layer_id} · {spec.layer(layer_id).type}",
    )
    options = tensor_refs(spec, result)
    st.multiselect(
        _("Inputs of the new call, in order"),
        options,
        key=wk(SHARED_INPUTS),
        format_func=lambda ref: ref_label(spec, result, ref),
        placeholder=_("Choose the node(s) it takes"),
    )
    st.text_input(_("Id of the new call (optional)"), key=wk(SHARED_ID), placeholder=_("e.g. {example}").format(example="feat2"))
    st.checkbox(_("Make it a model output"), value=True, key=wk(SHARED_AS_OUTPUT))
    st.button(
        _("Call the layer again"), key="builder.shared_add", on_click=_call_again, type="primary", width="stretch", icon=":material/link:"
    )
    actions.show_error(SHARED_ERROR)


# --- a nested model -----------------------------------------------------------------------------


def _insert_nested() -> None:
    source = st.session_state.get(wk(NESTED_SOURCE), "Preset")
    try:
        if source == "Preset":
            nested = load_preset(st.session_state.get(wk(NESTED_PRESET)) or "encoder")
        else:
            uploaded = st.session_state.get(wk(NESTED_UPLOAD))
            if uploaded is None:
                state.set_error(NESTED_ERROR, _("Choose a spec file (.json) to insert."))
                return
            nested = read_project(uploaded.getvalue(), uploaded.name)
    except (ValueError, SpecError) as error:
        state.set_error(NESTED_ERROR, actions.error_text(error))
        return
    inputs = list(st.session_state.get(wk(NESTED_INPUTS), []))
    node_id = _typed_id(wk(NESTED_ID))
    as_output = bool(st.session_state.get(wk(NESTED_AS_OUTPUT), True))
    actions.apply_edit(
        lambda spec: block_edits.add_nested_model(spec, nested, inputs, node_id, as_output),
        NESTED_ERROR,
        _("Inserted nested model '{name}'").format(name=node_id or nested.name),
        select=_new_node_id,
    )


def _nested_tab(spec: GraphSpec, result: BuildResult) -> None:
    st.caption(_("A whole model used as one layer, as the tutorial's autoencoder uses its encoder and decoder."))
    source = st.radio(
        _("From"), list(NESTED_SOURCES), horizontal=True, key=wk(NESTED_SOURCE), format_func=lambda name: _(NESTED_SOURCES[name])
    )
    if source == "Preset":
        names = preset_names()
        st.selectbox(_("Preset"), names, index=names.index("encoder") if "encoder" in names else 0, key=wk(NESTED_PRESET))
    else:
        st.file_uploader(_("Spec file (.json)"), type=["json"], key=wk(NESTED_UPLOAD), max_upload_size=limits().max_upload_mb)
    options = tensor_refs(spec, result)
    st.multiselect(
        _("Inputs, in order"),
        options,
        default=_default_inputs(spec, options),
        key=wk(NESTED_INPUTS),
        format_func=lambda ref: ref_label(spec, result, ref),
        placeholder=_("Choose the node(s) it takes"),
    )
    st.text_input(_("Id (optional)"), key=wk(NESTED_ID), placeholder=_("the nested model's name"))
    st.checkbox(_("Make it a model output"), value=True, key=wk(NESTED_AS_OUTPUT))
    st.button(
        _("Insert nested model"),
        key="builder.nested_add",
        on_click=_insert_nested,
        type="primary",
        width="stretch",
        icon=":material/account_tree:",
    )
    actions.show_error(NESTED_ERROR)


# --- an application -----------------------------------------------------------------------------


def _application_config() -> dict:
    """The application config the tab's widgets describe (ValueError for an unreadable input shape)."""
    config = {
        "weights": st.session_state.get(wk(APP_WEIGHTS)),
        "include_top": bool(st.session_state.get(wk(APP_INCLUDE_TOP), True)),
    }
    shape_text = str(st.session_state.get(wk(APP_INPUT_SHAPE)) or "").strip()
    if shape_text:
        try:
            shape = parse_literal(shape_text)
        except ValueError as error:
            raise ValueError(
                _("`input_shape` must be a shape such as 224, 224, 3. Received: {text}").format(text=repr(shape_text))
            ) from error
        config["input_shape"] = shape if isinstance(shape, list) else [shape]
    return config


def _insert_application() -> None:
    application = st.session_state.get(wk(APP_TYPE))
    try:
        config = _application_config()
    except ValueError as error:
        state.set_error(APPLICATION_ERROR, str(error))
        return
    inputs = list(st.session_state.get(wk(APP_INPUTS), []))
    outputs = list(st.session_state.get(wk(APP_OUTPUTS), []))
    frozen = list(st.session_state.get(wk(APP_FROZEN), []))
    node_id = _typed_id(wk(APP_ID))
    as_output = bool(st.session_state.get(wk(APP_AS_OUTPUT), True))
    actions.apply_edit(
        lambda spec: block_edits.add_application(spec, application, inputs, outputs, frozen, config, node_id, as_output),
        APPLICATION_ERROR,
        _("Inserted {network}").format(network=application),
        select=_new_node_id,
    )


def _application_tab(spec: GraphSpec, result: BuildResult) -> None:
    st.caption(_("A network from keras.applications as one block; pick which inner layers become outputs and which are frozen."))
    applications = sorted(catalog.APPLICATION_TYPES, key=list(catalog.palette_groups()["Applications"]).index)
    application = st.selectbox(_("Network"), applications, key=wk(APP_TYPE))
    st.checkbox(_("Include the classifier layers (include_top)"), value=True, key=wk(APP_INCLUDE_TOP))
    st.selectbox(
        _("Weights"),
        [None, "imagenet"],
        key=wk(APP_WEIGHTS),
        format_func=lambda weights: _("Random initialisation (no download)") if weights is None else _("ImageNet (downloaded once)"),
        help=_("ImageNet weights are downloaded once (VGG16: 528 MB); without internet use random weights."),
    )
    st.text_input(
        _("Input shape (optional)"),
        key=wk(APP_INPUT_SHAPE),
        placeholder="224, 224, 3",
        help=_("Only without the classifier may the shape differ from the network's own."),
    )
    try:
        config = _application_config()
        with st.spinner(_("Listing the layers of {network} ...").format(network=application)):
            names = application_layer_names(application, json.dumps({**config, "weights": None}, sort_keys=True))
    except Exception as error:  # noqa: BLE001 - Keras refuses this configuration: say why, here
        st.error(
            _("{network} cannot be made with these settings: {reason}").format(network=application, reason=md(actions.error_text(error))),
            icon=":material/error:",
        )
        names = []
    options = tensor_refs(spec, result)
    st.multiselect(
        _("Inputs (none: it starts the graph with its own input)"),
        options,
        key=wk(APP_INPUTS),
        format_func=lambda ref: ref_label(spec, result, ref),
    )
    st.multiselect(
        _("Expose these inner layers as outputs, in order (none: its usual output)"),
        names,
        key=wk(APP_OUTPUTS),
        placeholder=_("e.g. {example}").format(example="block3_pool, block4_pool"),
    )
    st.multiselect(
        _("Freeze these inner layers"), names, key=wk(APP_FROZEN), placeholder=_("e.g. {example}").format(example="block1_conv1")
    )
    st.text_input(_("Id (optional)"), key=wk(APP_ID), placeholder=naming.default_id(spec, application))
    st.checkbox(_("Make every exposed tensor a model output"), value=True, key=wk(APP_AS_OUTPUT))
    st.button(
        _("Insert {network}").format(network=application),
        key="builder.app_add",
        on_click=_insert_application,
        type="primary",
        width="stretch",
        icon=":material/deployed_code:",
    )
    actions.show_error(APPLICATION_ERROR)


def render_add_panel(spec: GraphSpec, result: BuildResult) -> None:
    """The four ways to add to the graph, as tabs."""
    ways = {  # translated tab labels: code that opens a tab sets the translated label (e.g. _("Layer"))
        _("Layer"): lambda: _layer_tab(spec, result),
        _("Shared layer"): lambda: _shared_tab(spec, result),
        _("Nested model"): lambda: _nested_tab(spec, result),
        _("Application"): lambda: _application_tab(spec, result),
    }
    lazy_tabs(list(ways), ways, state.ADD_TAB)

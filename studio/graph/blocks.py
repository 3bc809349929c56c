"""Pure edits that insert whole blocks: nested models (a spec used as a layer), pretrained applications, a node
inserted on an edge, a duplicate of a node.

Same contract as `studio.graph.edits`: a new spec, or an EditError saying why not. No Streamlit here.
"""

from __future__ import annotations

from collections.abc import Sequence

from studio.catalog import table
from studio.graph import wiring
from studio.graph.checks import nested_spec
from studio.graph.edits import (
    EditError,
    add_layer,
    append_node,
    check_new_id,
    check_refs_exist,
    follow_outputs,
    require_call,
    require_layer,
    require_type,
    sync_source,
)
from studio.graph.naming import snake_case, unique_id
from studio.graph.spec import CallSpec, GraphSpec, LayerSpec, is_valid_id, make_ref, split_ref
from studio.i18n import _


def add_nested_model(
    spec: GraphSpec, nested: GraphSpec, inputs: Sequence[str] = (), node_id: str | None = None, as_output: bool = True
) -> GraphSpec:
    """A whole model (another spec) used as one layer, called on `inputs`."""
    if not isinstance(nested, GraphSpec):
        raise EditError(_("A nested model must be a graph spec. Received: {kind}").format(kind=type(nested).__name__))
    if not nested.inputs or not nested.outputs:
        message = _("The nested model '{name}' needs at least one input and one output to be used as a layer.")
        raise EditError(message.format(name=nested.name))
    new = spec.copy()
    node_id = node_id.strip() if node_id else unique_id(new, snake_case(nested.name) if not is_valid_id(nested.name) else nested.name)
    check_new_id(new, node_id)
    inputs = list(inputs)
    check_refs_exist(new, inputs, _("Node '{node}'").format(node=node_id))
    if len(inputs) > len(nested.inputs):
        message = _("Node '{node}': the nested model '{name}' takes {maximum} input(s). Received {count}.")
        raise EditError(message.format(node=node_id, name=nested.name, maximum=len(nested.inputs), count=len(inputs)))
    inner = nested.model_dict()
    inner.pop("format", None)
    new.layers.append(LayerSpec(node_id, "Model", {"spec": inner}))
    new.calls.append(CallSpec(node_id, node_id, inputs))
    follow_outputs(spec, new, as_output)
    return new


def replace_nested_model(spec: GraphSpec, layer_id: str, nested: GraphSpec) -> GraphSpec:
    """Swap the graph inside a nested-model layer (its calls keep their wiring)."""
    layer = require_layer(spec, layer_id)
    if layer.type != "Model":
        raise EditError(_("Layer '{layer}' is a {type}, not a nested model.").format(layer=layer_id, type=layer.type))
    new = spec.copy()
    inner = nested.model_dict()
    inner.pop("format", None)
    new.layer(layer_id).config = {"spec": inner}
    return new


def add_application(
    spec: GraphSpec,
    application: str,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] | None = None,
    frozen: Sequence[str] = (),
    config: dict | None = None,
    node_id: str | None = None,
    as_output: bool = True,
) -> GraphSpec:
    """A pretrained network (VGG16, ResNet50 ...) as a block; `outputs` picks the inner layers it exposes.

    Without inputs it starts the graph on its own input (and becomes a model input). Unless `as_output` is false,
    every tensor it exposes becomes a model output (see :func:`studio.graph.edits.follow_outputs`).
    """
    type_name = require_type(application)
    if type_name not in table.APPLICATION_TYPES:
        message = _("'{type}' is not an application. Expected one of: {valid}.")
        raise EditError(message.format(type=application, valid=", ".join(sorted(table.APPLICATION_TYPES))))
    new = spec.copy()
    merged = table.default_config(type_name)
    merged.update(config or {})
    if outputs:
        merged["outputs"] = list(outputs)
    if frozen:
        merged["frozen"] = list(frozen)
    inputs = list(inputs)
    node_id = append_node(new, type_name, merged, inputs, node_id)
    sync_source(new, node_id)
    follow_outputs(spec, new, as_output)
    return new


def set_application_outputs(
    spec: GraphSpec, layer_id: str, outputs: Sequence[str], frozen: Sequence[str], expose_all: bool = False
) -> GraphSpec:
    """Choose which inner layers of an application are exposed (in order) and which are frozen."""
    layer = require_layer(spec, layer_id)
    if layer.type not in table.APPLICATION_TYPES:
        raise EditError(_("Layer '{layer}' is a {type}, not an application.").format(layer=layer_id, type=layer.type))
    new = spec.copy()
    config = new.layer(layer_id).config
    for key, value in (("outputs", list(outputs)), ("frozen", list(frozen))):
        if value:
            config[key] = value
        else:
            config.pop(key, None)
    count = max(len(outputs), 1)
    for call in new.calls_of(layer_id):
        kept = [ref for ref in new.outputs if split_ref(ref)[0] != call.id or split_ref(ref)[1] < count]
        if expose_all:
            kept = [ref for ref in kept if split_ref(ref)[0] != call.id] + [make_ref(call.id, index) for index in range(count)]
        new.outputs = kept
        for other in new.calls:
            stale = [ref for ref in other.inputs if split_ref(ref)[0] == call.id and split_ref(ref)[1] >= count]
            if stale:
                message = _("Node '{node}' uses {refs}, which would no longer exist with {count} exposed output(s); rewire it first.")
                raise EditError(message.format(node=other.id, refs=", ".join(stale), count=count))
    return new


def insert_on_edge(
    spec: GraphSpec, target: str, position: int, layer_type: str, config: dict | None = None, node_id: str | None = None
) -> GraphSpec:
    """A new layer placed on the edge into input `position` of `target`: the edge's tensor feeds it, it feeds `target`."""
    call = require_call(spec, target)
    if not 0 <= int(position) < len(call.inputs):
        message = _("Node '{node}' has {count} input(s); there is no edge into input {position}.")
        raise EditError(message.format(node=target, count=len(call.inputs), position=int(position) + 1))
    with_node = add_layer(spec, layer_type, [call.inputs[int(position)]], node_id, config, as_output=False)
    refs = list(call.inputs)
    refs[int(position)] = with_node.calls[-1].id
    return wiring.set_inputs(with_node, target, refs)


def duplicate_node(spec: GraphSpec, call_id: str, node_id: str | None = None) -> GraphSpec:
    """A copy of a node: a new layer (own weights) of the same type and config, called on the same inputs."""
    call = require_call(spec, call_id)
    layer = require_layer(spec, call.layer)
    config = dict(layer.config)
    if layer.type == "Input":
        new = add_layer(spec, "Input", [], node_id, config)
    elif layer.type == "Model":
        new = add_nested_model(spec, nested_spec(config), call.inputs, node_id)
    elif layer.type in table.APPLICATION_TYPES:
        outputs, frozen = config.pop("outputs", None), config.pop("frozen", ())
        new = add_application(spec, layer.type, call.inputs, outputs, frozen, config, node_id)
    else:
        new = add_layer(spec, layer.type, call.inputs, node_id, config)
    new.layers[-1].trainable = layer.trainable
    return new

"""The edit engine: pure edits of a GraphSpec, each returning a new spec or raising EditError saying why not.

Every change of a spec goes through here: the forms call these functions, the canvas sends intents that
:mod:`studio.graph.intents` maps onto them, undo restores specs they made. Limits (nodes, parameters)
are the app's business and are checked in its action layer, not here. Node ids are call ids; a call
and the layer it applies share an id unless the layer is shared. Whole blocks (nested models,
applications) are in :mod:`studio.graph.blocks`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from studio.catalog import table
from studio.graph.checks import input_arity, is_source, nested_spec
from studio.graph.naming import default_id, unique_id, used_ids
from studio.graph.spec import CallSpec, GraphSpec, LayerSpec, is_valid_id, make_ref, split_ref
from studio.i18n import _


class EditError(ValueError):
    """An edit that cannot be made; the message names the node, what was expected and what was received."""


class NodeInUseError(EditError):
    """A delete refused because other nodes use the node; the caller may offer cascade or rewire instead."""


# --- checks -------------------------------------------------------------------------------------


def check_new_id(spec: GraphSpec, node_id: str, allowed: Iterable[str] = ()) -> None:
    """Raise EditError unless `node_id` is a valid id that no other layer or call uses (ids in `allowed` excepted)."""
    if not is_valid_id(node_id):
        message = _("Id {id} is not valid: it must start with a letter or '_' and use only letters, digits, '_', '.', '-'.")
        raise EditError(message.format(id=repr(node_id)))
    if node_id in used_ids(spec) - set(allowed):
        raise EditError(_("Id '{id}' is already used by another node or layer; choose another id.").format(id=node_id))


def require_call(spec: GraphSpec, call_id: str) -> CallSpec:
    call = spec.call(call_id)
    if call is None:
        known = ", ".join(call.id for call in spec.calls) or _("(none)")
        raise EditError(_("There is no node '{node}'. Nodes: {known}.").format(node=call_id, known=known))
    return call


def require_layer(spec: GraphSpec, layer_id: str) -> LayerSpec:
    """The layer with this id; EditError if there is none."""
    layer = spec.layer(layer_id)
    if layer is None:
        raise EditError(_("There is no layer '{layer}'.").format(layer=layer_id))
    return layer


def _check_json(value: object, what: str) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        message = _("{what} must be plain JSON data (numbers, strings, lists, objects). Received: {value}")
        message = message.format(what=what, value=repr(value))
        raise EditError(message) from error


def check_refs_exist(spec: GraphSpec, refs: Sequence[str], where: str) -> None:
    """Raise EditError naming `where` when a ref is not the id (or 'id:k') of a node of the spec."""
    for ref in refs:
        if not isinstance(ref, str) or spec.call(split_ref(ref)[0]) is None:
            message = _("{where}: input {ref} does not exist; expected the id of a node in this graph.")
            raise EditError(message.format(where=where, ref=repr(ref)))


def require_type(layer_type: str) -> str:
    """The catalogue name of a layer type (aliases accepted); EditError listing the valid ones otherwise."""
    try:
        return table.require_type(str(layer_type))
    except KeyError as error:
        message = _("Unknown layer type '{type}'. Expected one of: {valid}.").format(type=layer_type, valid=", ".join(table.TYPE_NAMES))
        raise EditError(message) from error


def check_arity(spec: GraphSpec, layer_id: str, count: int, node: str) -> None:
    """Raise EditError when a call of this layer cannot take `count` inputs."""
    minimum, maximum = input_arity(spec, layer_id)
    layer = spec.layer(layer_id)
    if maximum == 0 and count:
        message = _("Node '{node}': {type} starts the graph and takes no inputs. Received {count}.")
        raise EditError(message.format(node=node, type=layer.type, count=count))
    if maximum is not None and count > maximum:
        message = _("Node '{node}': {type} takes at most {maximum} input(s). Received {count}.")
        raise EditError(message.format(node=node, type=layer.type, maximum=maximum, count=count))


def output_refs_of(spec: GraphSpec, call_id: str) -> list[str]:
    """Every tensor a node produces, as refs: one for a layer, one per output of a nested model or an exposed application layer."""
    layer = spec.layer_of(call_id)
    count = 1
    if layer is not None and layer.type == "Model":
        nested = nested_spec(layer.config)
        count = max(len(nested.outputs), 1) if nested is not None else 1
    elif layer is not None and layer.type in table.APPLICATION_TYPES:
        count = max(len(layer.config.get("outputs") or []), 1)
    return [make_ref(call_id, index) for index in range(count)]


def graph_ends(spec: GraphSpec) -> list[str]:
    """The tensors no node uses (Inputs aside), in graph order: a model's outputs unless the user pins or unpins one."""
    used = {make_ref(*split_ref(ref)) for call in spec.calls for ref in call.inputs}
    ends = []
    for call in spec.calls:
        layer = spec.layer(call.layer)
        if layer is None or layer.type != "Input":
            ends += [ref for ref in output_refs_of(spec, call.id) if ref not in used]
    return ends


def follow_outputs(before: GraphSpec, after: GraphSpec, as_output: bool = True) -> None:
    """In place on `after`, the rule for outputs ("outputs are the graph's ends unless pinned"): an end that an edit
    starts using stops being an output; a tensor that becomes an end (new, or its users deleted) becomes one.

    An output that something uses is *pinned* and stays; an end left out of the outputs is *unpinned* and stays out
    (see :func:`studio.graph.wiring.toggle_output`). With ``as_output=False`` (a node added "not as a model output")
    the outputs stay exactly as they were.
    """
    if not as_output:
        return
    ends_before, ends_after = set(graph_ends(before)), graph_ends(after)
    outputs = [ref for ref in after.outputs if not (ref in ends_before and ref not in ends_after)]
    for ref in ends_after:
        is_new = before.call(split_ref(ref)[0]) is None
        if ref not in outputs and (is_new or ref not in ends_before):
            outputs.append(ref)
    after.outputs = outputs


def outputs_change(before: GraphSpec, after: GraphSpec) -> str | None:
    """What an edit did to the model's outputs, in words ("Outputs now: dense_2 (was dense_1)"), or None when unchanged."""
    if before.outputs == after.outputs or not {call.id for call in before.calls} & {call.id for call in after.calls}:
        return None  # unchanged, or another model altogether (a preset or a file opened)
    now = ", ".join(after.outputs) or _("none")
    was = ", ".join(before.outputs) or _("none")
    return _("Outputs now: {now} (was {was}).").format(now=now, was=was)


def sync_source(spec: GraphSpec, call_id: str) -> None:
    """In place: keep a non-Input source (an application on its own input) listed among the model inputs, and only then."""
    layer = spec.layer_of(call_id)
    if layer is None or layer.type == "Input":
        return
    if is_source(spec, call_id) and call_id not in spec.inputs:
        spec.inputs.append(call_id)
    elif not is_source(spec, call_id) and call_id in spec.inputs:
        spec.inputs.remove(call_id)


# --- adding -------------------------------------------------------------------------------------


def add_layer(
    spec: GraphSpec,
    layer_type: str,
    inputs: Sequence[str] = (),
    node_id: str | None = None,
    config: dict | None = None,
    as_output: bool = True,
) -> GraphSpec:
    """A new layer and its call on `inputs` (in order); an Input also becomes a model input.

    Outputs follow :func:`follow_outputs`: the new node becomes an output unless `as_output` is false, and the outputs
    it consumes stop being outputs (unless pinned).
    """
    type_name = require_type(layer_type)
    if type_name == "Model":
        raise EditError(_("A nested model is added with 'Insert a nested model', from a preset or a spec file."))
    if type_name in table.APPLICATION_TYPES:
        message = _("{type} is an application: add it as an application, which picks its outputs and frozen layers.")
        raise EditError(message.format(type=type_name))
    new = spec.copy()
    merged = table.default_config(type_name)
    merged.update(config or {})
    node_id = append_node(new, type_name, merged, inputs, node_id)
    if type_name == "Input":
        new.inputs.append(node_id)
    follow_outputs(spec, new, as_output)
    return new


def append_node(new: GraphSpec, type_name: str, config: dict, inputs: Sequence[str], node_id: str | None) -> str:
    """Append a layer and its one call to `new` (a copy being edited), checking id, config, inputs and arity."""
    node_id = node_id.strip() if node_id else default_id(new, type_name)
    check_new_id(new, node_id)
    _check_json(config, _("The config of '{node}'").format(node=node_id))
    inputs = list(inputs)
    check_refs_exist(new, inputs, _("Node '{node}'").format(node=node_id))
    new.layers.append(LayerSpec(node_id, type_name, config))
    new.calls.append(CallSpec(node_id, node_id, inputs))
    check_arity(new, node_id, len(inputs), node_id)
    return node_id


def call_again(spec: GraphSpec, layer_id: str, inputs: Sequence[str], node_id: str | None = None, as_output: bool = True) -> GraphSpec:
    """A new call of an existing layer (a shared layer: one set of weights, several calls)."""
    layer = require_layer(spec, layer_id)
    if layer.type == "Input":
        raise EditError(_("'{layer}' is an Input: an Input is one tensor and cannot be called again.").format(layer=layer_id))
    new = spec.copy()
    node_id = node_id.strip() if node_id else unique_id(new, layer_id)
    check_new_id(new, node_id)
    inputs = list(inputs)
    check_refs_exist(new, inputs, _("Node '{node}'").format(node=node_id))
    minimum = input_arity(new, layer_id)[0]
    if len(inputs) < max(minimum, 1):
        message = _("Node '{node}': a new call of '{layer}' needs its input(s); choose at least {count}.")
        raise EditError(message.format(node=node_id, layer=layer_id, count=max(minimum, 1)))
    new.calls.append(CallSpec(node_id, layer_id, inputs))
    check_arity(new, layer_id, len(inputs), node_id)
    follow_outputs(spec, new, as_output)
    return new


# --- changing -----------------------------------------------------------------------------------


def set_params(spec: GraphSpec, layer_id: str, config: dict) -> GraphSpec:
    """Replace a layer's config (Keras checks the values when the graph is rebuilt)."""
    layer = require_layer(spec, layer_id)
    if not isinstance(config, dict):
        message = _("The config of '{node}' must be an object of parameters. Received: {value}")
        raise EditError(message.format(node=layer_id, value=repr(config)))
    _check_json(config, _("The config of '{node}'").format(node=layer_id))
    if layer.type == "Model" and nested_spec(config) is None:
        raise EditError(_("The config of nested model '{node}' must hold a valid spec under 'spec'.").format(node=layer_id))
    new = spec.copy()
    new.layer(layer_id).config = json.loads(json.dumps(config))
    return new


def set_param(spec: GraphSpec, layer_id: str, name: str, value: object) -> GraphSpec:
    """Set one parameter of a layer (None removes it, so Keras's default applies)."""
    config = dict(require_layer(spec, layer_id).config)
    if value is None:
        config.pop(name, None)
    else:
        config[name] = value
    return set_params(spec, layer_id, config)


def set_trainable(spec: GraphSpec, layer_id: str, trainable: bool) -> GraphSpec:
    """Freeze or unfreeze a layer's weights."""
    require_layer(spec, layer_id)
    new = spec.copy()
    new.layer(layer_id).trainable = bool(trainable)
    return new


def set_model_name(spec: GraphSpec, name: str) -> GraphSpec:
    """Rename the model itself."""
    if not isinstance(name, str) or not name.strip():
        raise EditError(_("The model name must be a non-empty text. Received: {value}").format(value=repr(name)))
    new = spec.copy()
    new.name = name.strip()
    return new


def _rename_ref(ref: str, old: str, new_id: str) -> str:
    call_id, index = split_ref(ref)
    return make_ref(new_id, index) if call_id == old else ref


def rename(spec: GraphSpec, old: str, new_id: str) -> GraphSpec:
    """Rename a node (and its layer when they share the id and the layer is not shared); every reference follows."""
    new_id = (new_id or "").strip()
    call = spec.call(old)
    layer = spec.layer(old)
    if call is None and layer is None:
        raise EditError(_("There is no node or layer '{node}' to rename.").format(node=old))
    if new_id == old:
        return spec.copy()
    rename_layer = layer is not None and (call is None or (call.layer == old and len(spec.calls_of(old)) == 1))
    check_new_id(spec, new_id)
    new = spec.copy()
    if call is not None:
        new.call(old).id = new_id
        for other in new.calls:
            other.inputs = [_rename_ref(ref, old, new_id) for ref in other.inputs]
        new.inputs = [_rename_ref(ref, old, new_id) for ref in new.inputs]
        new.outputs = [_rename_ref(ref, old, new_id) for ref in new.outputs]
        positions = new.layout.get("positions") or {}
        if old in positions:  # the node keeps its place on the canvas
            positions[new_id] = positions.pop(old)
    if rename_layer:
        new.layer(old).id = new_id
        for other in new.calls:
            if other.layer == old:
                other.layer = new_id
    return new


def rename_layer(spec: GraphSpec, old: str, new_id: str) -> GraphSpec:
    """Rename a layer only (its calls keep their ids); for shared layers."""
    require_layer(spec, old)
    new_id = (new_id or "").strip()
    if new_id == old:
        return spec.copy()
    allowed = [old] if spec.call(old) is None else []
    check_new_id(spec, new_id, allowed)
    new = spec.copy()
    new.layer(old).id = new_id
    for call in new.calls:
        if call.layer == old:
            call.layer = new_id
    return new


def empty_spec(name: str = "my_model") -> GraphSpec:
    """A graph with nothing in it yet."""
    return GraphSpec(name=name)

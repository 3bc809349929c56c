"""Pure edit operations on a GraphSpec: each returns a new spec or raises a ValueError saying why not.

No Streamlit here (so every edit is unit-tested); the pages wrap these in `components.actions`.
Node ids are call ids; a call and the layer it applies share an id unless the layer is shared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

from components.settings import Limits, describe
from studio.catalog import types as catalog
from studio.graph.checks import ancestors, descendants, input_arity, is_source, nested_spec
from studio.graph.spec import CallSpec, GraphSpec, LayerSpec, is_valid_id, make_ref, split_ref


class EditError(ValueError):
    """An edit that cannot be made; the message names the node, what was expected and what was received."""


class LimitError(EditError):
    """An edit that would take the graph past one of the app's limits."""


DELETE_MODES = ("refuse", "cascade", "rewire")


# --- ids ----------------------------------------------------------------------------------------


def snake_case(name: str) -> str:
    """Keras's own layer naming: 'MaxPooling2D' -> 'max_pooling2d', 'Conv2DTranspose' -> 'conv2d_transpose'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower() or "node"


def used_ids(spec: GraphSpec) -> set[str]:
    """Every layer and call id in the spec."""
    return {layer.id for layer in spec.layers} | {call.id for call in spec.calls}


def unique_id(spec: GraphSpec, base: str) -> str:
    """`base`, or `base_1`, `base_2` ... whichever is free first (as Keras names layers)."""
    base = re.sub(r"[^A-Za-z0-9_.\-]", "_", base.strip()) or "node"
    if not re.match(r"[A-Za-z_]", base):
        base = f"n_{base}"
    taken = used_ids(spec)
    if base not in taken:
        return base
    number = 1
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def default_id(spec: GraphSpec, layer_type: str) -> str:
    """The id Keras would give a new layer of this type ('dense', 'dense_1', ...)."""
    if layer_type == "Input":
        return unique_id(spec, "input")
    if layer_type in catalog.APPLICATION_TYPES:
        return unique_id(spec, layer_type.lower())  # as Keras: vgg16, resnet50, mobilenetv2
    return unique_id(spec, snake_case(layer_type))


def _check_new_id(spec: GraphSpec, node_id: str, allowed: Iterable[str] = ()) -> None:
    if not is_valid_id(node_id):
        raise EditError(
            f"Id {node_id!r} is not valid: it must start with a letter or '_' and use only letters, digits, '_', '.', '-'."
        )
    if node_id in used_ids(spec) - set(allowed):
        raise EditError(f"Id '{node_id}' is already used by another node or layer; choose another id.")


# --- checks -------------------------------------------------------------------------------------


def _call(spec: GraphSpec, call_id: str) -> CallSpec:
    call = spec.call(call_id)
    if call is None:
        known = ", ".join(call.id for call in spec.calls) or "(none)"
        raise EditError(f"There is no node '{call_id}'. Nodes: {known}.")
    return call


def _layer(spec: GraphSpec, layer_id: str) -> LayerSpec:
    layer = spec.layer(layer_id)
    if layer is None:
        raise EditError(f"There is no layer '{layer_id}'.")
    return layer


def _check_json(value: object, what: str) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise EditError(f"{what} must be plain JSON data (numbers, strings, lists, objects). Received: {value!r}") from error


def _check_refs_exist(spec: GraphSpec, refs: Sequence[str], where: str) -> None:
    for ref in refs:
        if not isinstance(ref, str) or spec.call(split_ref(ref)[0]) is None:
            raise EditError(f"{where}: input {ref!r} does not exist; expected the id of a node in this graph.")


def _type_info(layer_type: str) -> catalog.LayerType:
    try:
        return catalog.get_layer_type(layer_type)
    except KeyError as error:
        raise EditError(f"Unknown layer type '{layer_type}'. Expected one of: {', '.join(catalog.LAYER_TYPES)}.") from error


def _check_arity(spec: GraphSpec, layer_id: str, count: int, node: str) -> None:
    minimum, maximum = input_arity(spec, layer_id)
    layer = spec.layer(layer_id)
    if maximum == 0 and count:
        raise EditError(f"Node '{node}': {layer.type} starts the graph and takes no inputs. Received {count}.")
    if maximum is not None and count > maximum:
        raise EditError(f"Node '{node}': {layer.type} takes at most {maximum} input(s). Received {count}.")


def _replace_consumed_outputs(spec: GraphSpec, inputs: Sequence[str], new_refs: Sequence[str]) -> None:
    """Outputs fed into the new node stop being outputs; the new node's refs become outputs."""
    consumed = {split_ref(ref)[0] for ref in inputs}
    spec.outputs = [ref for ref in spec.outputs if split_ref(ref)[0] not in consumed]
    spec.outputs += [ref for ref in new_refs if ref not in spec.outputs]


def _sync_source(spec: GraphSpec, call_id: str) -> None:
    """Keep a non-Input source (an application on its own input) listed among the model inputs, and only then."""
    layer = spec.layer_of(call_id)
    if layer is None or layer.type == "Input":
        return
    if is_source(spec, call_id) and call_id not in spec.inputs:
        spec.inputs.append(call_id)
    elif not is_source(spec, call_id) and call_id in spec.inputs:
        spec.inputs.remove(call_id)


def count_nodes(spec: GraphSpec) -> int:
    """Calls in the graph, nested models' calls included."""
    total = len(spec.calls)
    for layer in spec.layers:
        if layer.type == "Model":
            inner = nested_spec(layer.config)
            if inner is not None:
                total += count_nodes(inner)
    return total


def check_limits(spec: GraphSpec, limits: Limits) -> None:
    """Raise LimitError when the graph has more nodes than allowed (parameters are checked after building)."""
    nodes = count_nodes(spec)
    if nodes > limits.max_nodes:
        raise LimitError(f"The graph would have {nodes:,} nodes; the limit is {describe('max_nodes', limits.max_nodes)}.")


def check_params(params: int, limits: Limits) -> None:
    """Raise LimitError when a model has more parameters than allowed."""
    if params > limits.max_params:
        raise LimitError(f"The model would have {params:,} parameters; the limit is {describe('max_params', limits.max_params)}.")


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

    With `as_output`, the new node becomes a model output and the outputs it consumes stop being outputs.
    """
    info = _type_info(layer_type)
    if info.name == "Model":
        raise EditError("A nested model is added with 'Insert a nested model', from a preset or a spec file.")
    if info.name in catalog.APPLICATION_TYPES:
        from studio.graph.blocks import add_application

        return add_application(spec, info.name, inputs=inputs, node_id=node_id, config=config, as_output=as_output)
    new = spec.copy()
    merged = catalog.default_config(info.name)
    merged.update(config or {})
    node_id = append_node(new, info.name, merged, inputs, node_id)
    if info.name == "Input":
        new.inputs.append(node_id)
    elif as_output:
        _replace_consumed_outputs(new, inputs, [node_id])
    return new



def append_node(new: GraphSpec, type_name: str, config: dict, inputs: Sequence[str], node_id: str | None) -> str:
    """Append a layer and its one call to `new` (a copy being edited), checking id, config, inputs and arity."""
    node_id = node_id.strip() if node_id else default_id(new, type_name)
    _check_new_id(new, node_id)
    _check_json(config, f"The config of '{node_id}'")
    inputs = list(inputs)
    _check_refs_exist(new, inputs, f"Node '{node_id}'")
    new.layers.append(LayerSpec(node_id, type_name, config))
    new.calls.append(CallSpec(node_id, node_id, inputs))
    _check_arity(new, node_id, len(inputs), node_id)
    return node_id


def call_again(
    spec: GraphSpec, layer_id: str, inputs: Sequence[str], node_id: str | None = None, as_output: bool = True
) -> GraphSpec:
    """A new call of an existing layer (a shared layer: one set of weights, several calls)."""
    layer = _layer(spec, layer_id)
    if layer.type == "Input":
        raise EditError(f"'{layer_id}' is an Input: an Input is one tensor and cannot be called again.")
    new = spec.copy()
    node_id = node_id.strip() if node_id else unique_id(new, layer_id)
    _check_new_id(new, node_id)
    inputs = list(inputs)
    _check_refs_exist(new, inputs, f"Node '{node_id}'")
    minimum, _ = input_arity(new, layer_id)
    if len(inputs) < max(minimum, 1):
        raise EditError(f"Node '{node_id}': a new call of '{layer_id}' needs its input(s); choose at least {max(minimum, 1)}.")
    new.calls.append(CallSpec(node_id, layer_id, inputs))
    _check_arity(new, layer_id, len(inputs), node_id)
    if as_output:
        _replace_consumed_outputs(new, inputs, [node_id])
    return new


# --- changing -----------------------------------------------------------------------------------


def set_params(spec: GraphSpec, layer_id: str, config: dict) -> GraphSpec:
    """Replace a layer's config (Keras checks the values when the graph is rebuilt)."""
    layer = _layer(spec, layer_id)
    if not isinstance(config, dict):
        raise EditError(f"The config of '{layer_id}' must be an object of parameters. Received: {config!r}")
    _check_json(config, f"The config of '{layer_id}'")
    if layer.type == "Model" and nested_spec(config) is None:
        raise EditError(f"The config of nested model '{layer_id}' must hold a valid spec under 'spec'.")
    new = spec.copy()
    new.layer(layer_id).config = json.loads(json.dumps(config))
    return new


def set_param(spec: GraphSpec, layer_id: str, name: str, value: object) -> GraphSpec:
    """Set one parameter of a layer (None removes it, so Keras's default applies)."""
    config = dict(_layer(spec, layer_id).config)
    if value is None:
        config.pop(name, None)
    else:
        config[name] = value
    return set_params(spec, layer_id, config)


def set_trainable(spec: GraphSpec, layer_id: str, trainable: bool) -> GraphSpec:
    """Freeze or unfreeze a layer's weights."""
    _layer(spec, layer_id)
    new = spec.copy()
    new.layer(layer_id).trainable = bool(trainable)
    return new


def set_model_name(spec: GraphSpec, name: str) -> GraphSpec:
    """Rename the model itself."""
    if not isinstance(name, str) or not name.strip():
        raise EditError(f"The model name must be a non-empty text. Received: {name!r}")
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
        raise EditError(f"There is no node or layer '{old}' to rename.")
    if new_id == old:
        return spec.copy()
    rename_layer = layer is not None and (call is None or (call.layer == old and len(spec.calls_of(old)) == 1))
    _check_new_id(spec, new_id)
    new = spec.copy()
    if call is not None:
        new.call(old).id = new_id
        for other in new.calls:
            other.inputs = [_rename_ref(ref, old, new_id) for ref in other.inputs]
        new.inputs = [_rename_ref(ref, old, new_id) for ref in new.inputs]
        new.outputs = [_rename_ref(ref, old, new_id) for ref in new.outputs]
    if rename_layer:
        new.layer(old).id = new_id
        for other in new.calls:
            if other.layer == old:
                other.layer = new_id
    return new


def rename_layer(spec: GraphSpec, old: str, new_id: str) -> GraphSpec:
    """Rename a layer only (its calls keep their ids); for shared layers."""
    _layer(spec, old)
    new_id = (new_id or "").strip()
    if new_id == old:
        return spec.copy()
    allowed = [old] if spec.call(old) is None else []
    _check_new_id(spec, new_id, allowed)
    new = spec.copy()
    new.layer(old).id = new_id
    for call in new.calls:
        if call.layer == old:
            call.layer = new_id
    return new


def set_inputs(spec: GraphSpec, call_id: str, refs: Sequence[str]) -> GraphSpec:
    """Wire a node to `refs`, in order (order matters for Concatenate, Subtract, Dot ...)."""
    call = _call(spec, call_id)
    layer = spec.layer(call.layer)
    refs = list(refs)
    if layer is not None and layer.type == "Input" and refs:
        raise EditError(f"Node '{call_id}' is an Input: it starts the graph and takes no inputs.")
    for ref in refs:
        source = split_ref(ref)[0] if isinstance(ref, str) else ref
        if source == call_id:
            raise EditError(f"Node '{call_id}' cannot take its own output: a layer wired to itself makes a cycle.")
    _check_refs_exist(spec, refs, f"Node '{call_id}'")
    for ref in refs:
        upstream = ancestors(spec, split_ref(ref)[0])
        if call_id in upstream:
            raise EditError(
                f"Wiring '{ref}' into '{call_id}' would make a cycle: '{ref}' already depends on '{call_id}'."
            )
    if layer is not None:
        _check_arity(spec, layer.id, len(refs), call_id)
    new = spec.copy()
    new.call(call_id).inputs = refs
    _sync_source(new, call_id)
    return new


def move_input(spec: GraphSpec, call_id: str, position: int, offset: int) -> GraphSpec:
    """Move one input of a node up (offset -1) or down (+1) in its ordered input list."""
    refs = list(_call(spec, call_id).inputs)
    target = position + offset
    if not 0 <= position < len(refs) or not 0 <= target < len(refs):
        raise EditError(f"Node '{call_id}' has {len(refs)} input(s); cannot move input {position + 1} by {offset}.")
    refs[position], refs[target] = refs[target], refs[position]
    return set_inputs(spec, call_id, refs)


def set_outputs(spec: GraphSpec, refs: Sequence[str]) -> GraphSpec:
    """The model's outputs, in order."""
    refs = list(refs)
    _check_refs_exist(spec, refs, "Model outputs")
    duplicates = sorted({ref for ref in refs if refs.count(ref) > 1})
    if duplicates:
        raise EditError(f"Model outputs list {', '.join(duplicates)} more than once; each output is listed once.")
    new = spec.copy()
    new.outputs = refs
    return new


def toggle_output(spec: GraphSpec, ref: str) -> GraphSpec:
    """Make a node a model output, or stop it being one."""
    if ref in spec.outputs:
        return set_outputs(spec, [other for other in spec.outputs if other != ref])
    return set_outputs(spec, [*spec.outputs, ref])


def set_model_inputs(spec: GraphSpec, refs: Sequence[str]) -> GraphSpec:
    """The model's inputs, in order; each must start the graph (an Input, or an application on its own input)."""
    refs = list(refs)
    _check_refs_exist(spec, refs, "Model inputs")
    for ref in refs:
        if not is_source(spec, ref):
            raise EditError(f"'{ref}' cannot be a model input: only an Input node (or an application on its own input) can.")
    missing = [call.id for call in spec.calls if is_source(spec, call.id) and call.id not in refs]
    if missing:
        raise EditError(f"{', '.join(missing)} start(s) the graph and must be listed among the model inputs (or deleted).")
    new = spec.copy()
    new.inputs = refs
    return new


def move_in_list(items: Sequence[str], position: int, offset: int) -> list[str]:
    """A copy of `items` with one item moved by `offset` places."""
    items = list(items)
    target = position + offset
    if not 0 <= position < len(items) or not 0 <= target < len(items):
        raise EditError(f"Cannot move item {position + 1} of {len(items)} by {offset}.")
    items[position], items[target] = items[target], items[position]
    return items


# --- deleting -----------------------------------------------------------------------------------


def delete_node(spec: GraphSpec, call_id: str, mode: str = "refuse") -> GraphSpec:
    """Delete a node. While others use it: 'refuse' (say who), 'cascade' (delete them too) or 'rewire' (connect them to its input)."""
    call = _call(spec, call_id)
    if mode not in DELETE_MODES:
        raise EditError(f"Unknown delete mode {mode!r}; expected one of {', '.join(DELETE_MODES)}.")
    users = spec.consumers(call_id)
    new = spec.copy()
    doomed = {call_id}
    if users and mode == "refuse":
        raise EditError(
            f"Cannot delete '{call_id}': {', '.join(users)} {'uses' if len(users) == 1 else 'use'} its output. "
            "Delete or rewire them first, or choose to delete it with everything downstream, or to reconnect them to its input."
        )
    if mode == "cascade":
        doomed |= set(descendants(spec, call_id))
    elif mode == "rewire" and (users or any(split_ref(ref)[0] == call_id for ref in spec.outputs)):
        if len(call.inputs) != 1:
            raise EditError(
                f"Cannot reconnect around '{call_id}': it has {len(call.inputs)} inputs, "
                "and only a node with exactly one input can be bypassed."
            )
        replacement = call.inputs[0]
        for other in new.calls:
            if any(split_ref(ref)[0] == call_id and split_ref(ref)[1] > 0 for ref in other.inputs):
                raise EditError(f"Cannot reconnect '{other.id}': it uses a second output of '{call_id}', which its input cannot replace.")
            other.inputs = [replacement if split_ref(ref)[0] == call_id else ref for ref in other.inputs]
        outputs = []
        for ref in new.outputs:
            swapped = replacement if split_ref(ref)[0] == call_id else ref
            if swapped not in outputs:
                outputs.append(swapped)
        new.outputs = outputs
    removed_layers = {new.call(doomed_id).layer for doomed_id in doomed}
    new.calls = [other for other in new.calls if other.id not in doomed]
    new.inputs = [ref for ref in new.inputs if split_ref(ref)[0] not in doomed]
    new.outputs = [ref for ref in new.outputs if split_ref(ref)[0] not in doomed]
    new.layers = [layer for layer in new.layers if layer.id not in removed_layers or new.calls_of(layer.id)]
    return new


def delete_layer(spec: GraphSpec, layer_id: str) -> GraphSpec:
    """Delete a layer that no node calls."""
    _layer(spec, layer_id)
    calls = [call.id for call in spec.calls_of(layer_id)]
    if calls:
        raise EditError(f"Cannot delete layer '{layer_id}': nodes {', '.join(calls)} call it; delete those nodes instead.")
    new = spec.copy()
    new.layers = [layer for layer in new.layers if layer.id != layer_id]
    return new


def empty_spec(name: str = "my_model") -> GraphSpec:
    """A graph with nothing in it yet."""
    return GraphSpec(name=name)

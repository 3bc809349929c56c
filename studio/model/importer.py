"""``keras.Model`` (Functional or Sequential, or a saved ``.keras`` / ``.h5`` file) -> graph spec.

The importer walks Keras's own graph: from the model's output tensors back to its input tensors
through ``tensor._keras_history`` (operation, node index, tensor index), exactly the nodes Keras's
``Functional`` keeps for this model (a layer used by other models too has nodes that are not ours).
Each node becomes a call; each operation a layer (a shared layer is one layer with several calls),
each Functional or Sequential used as a layer a nested ``Model`` layer with its own spec.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import keras
from keras.src.backend.common.masking import get_keras_mask

from studio.catalog import types as catalog
from studio.graph.spec import CallSpec, GraphSpec, LayerSpec, SpecError, is_valid_id, make_ref
from studio.i18n import _
from studio.model.loading import MODEL_FILE_SUFFIXES, load_model_file

# Keys of a full spec dict that a nested spec leaves out.
_NESTED_DROPPED_KEYS = ("format", "description", "section")


def _node_key(node: object) -> int:
    """A hashable identity for a Keras node (nodes do not define equality)."""
    return id(node)


class _GraphWalk:
    """The nodes of one model, from its input tensors to its output tensors, with their data inputs."""

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        self.nodes: dict[int, object] = {}
        self.parents: dict[int, list[object]] = {}
        self.input_tensors: dict[int, list] = {}
        for tensor in model.inputs:
            if not self._producer(tensor).is_input:
                message = _(
                    "Model '{model}' takes the output of layer '{layer}' as a model input; expected every model input to be a keras.Input"
                )
                raise SpecError(message.format(model=model.name, layer=tensor._keras_history[0].name))
        for tensor in [*model.outputs, *model.inputs]:
            self._visit(self._producer(tensor))

    def _producer(self, tensor: object) -> object:
        operation, node_index = tensor._keras_history[:2]
        if operation is None:
            message = _("Model '{model}': tensor '{tensor}' has no Keras history; expected the output of a layer")
            raise SpecError(message.format(model=self.model.name, tensor=tensor.name))
        return operation._inbound_nodes[node_index]

    def _visit(self, start: object) -> None:
        pending = [start]
        while pending:
            node = pending.pop()
            if _node_key(node) in self.nodes:
                continue
            self.nodes[_node_key(node)] = node
            tensors = [] if node.is_input else self._data_tensors(node)
            self.input_tensors[_node_key(node)] = tensors
            parents = []
            for tensor in tensors:
                parent = self._producer(tensor)
                parents.append(parent)
                pending.append(parent)
            self.parents[_node_key(node)] = parents

    def _data_tensors(self, node: object) -> list:
        """The tensors a call takes, in order; masks and the training flag are left to the rebuilt model."""
        operation = node.operation
        if not isinstance(operation, keras.layers.Layer):
            message = _(
                "Operation '{operation}' of model '{model}' is a raw keras.ops call ({kind}), which the studio cannot import; "
                "expected layers only (a layer such as layers.Add or layers.Multiply instead of `+` or `*`)"
            )
            raise SpecError(message.format(operation=operation.name, model=self.model.name, kind=type(operation).__name__))
        tensors = []
        for value in keras.tree.flatten(node.arguments.args):
            if isinstance(value, keras.KerasTensor):
                tensors.append(value)
            elif value is not None:
                message = _(
                    "Layer '{layer}' of model '{model}' is called with a non-tensor argument {value}; "
                    "the studio can only express calls on tensors"
                )
                raise SpecError(message.format(layer=operation.name, model=self.model.name, value=repr(value)))
        # Keras fills `mask` / `query_mask`... from the masks its inputs carry (Embedding(mask_zero=True)); a model
        # loaded from a file passes the same masks explicitly. A rebuilt model recreates them by itself, so a mask
        # is left out when the inputs carry one. Any other tensor passed by keyword cannot be expressed.
        inputs_carry_masks = any(get_keras_mask(tensor) is not None for tensor in tensors)
        for keyword, value in node.arguments.kwargs.items():
            has_tensor = any(isinstance(item, keras.KerasTensor) for item in keras.tree.flatten(value))
            is_mask = keyword == "mask" or keyword.endswith("_mask")
            if not has_tensor or (is_mask and inputs_carry_masks):
                continue
            message = _(
                "Layer '{layer}' of model '{model}' is called with the tensor keyword argument `{keyword}`; "
                "the studio can only pass tensors positionally (as the layer's inputs)"
            )
            raise SpecError(message.format(layer=operation.name, model=self.model.name, keyword=keyword))
        return tensors

    def ordered_nodes(self) -> list[object]:
        """Nodes in dependency order: inputs first (in the model's order), then breadth-first by call order."""
        waiting = {key: len({_node_key(parent) for parent in parents}) for key, parents in self.parents.items()}
        ready = deque(self._producer(tensor) for tensor in self.model.inputs)
        order: list[object] = []
        seen: set[int] = set()
        while ready:
            node = ready.popleft()
            if _node_key(node) in seen:
                continue
            seen.add(_node_key(node))
            order.append(node)
            for child in self._children(node):
                waiting[_node_key(child)] -= 1
                if waiting[_node_key(child)] == 0:
                    ready.append(child)
        if len(order) != len(self.nodes):
            stranded = sorted({node.operation.name for key, node in self.nodes.items() if key not in seen})
            message = _(
                "Model '{model}': layers {layers} do not descend from the model's inputs; "
                "expected every layer to be computed from keras.Input tensors"
            )
            raise SpecError(message.format(model=self.model.name, layers=", ".join(stranded)))
        return order

    def _children(self, node: object) -> list[object]:
        """The nodes of this model that take an output of `node`, in the order they were created."""
        children = []
        for candidate in node.operation._outbound_nodes:
            key = _node_key(candidate)
            if key not in self.nodes or any(_node_key(child) == key for child in children):
                continue
            if any(parent is node for parent in self.parents[key]):
                children.append(candidate)
        return children


def _unsupported(layer: object, model_name: str, reason: str) -> SpecError:
    """`reason` is in the current language already."""
    message = _("Layer '{layer}' of model '{model}' is a {kind}, which the studio cannot import ({reason})")
    return SpecError(message.format(layer=layer.name, model=model_name, kind=type(layer).__name__, reason=reason))


def _is_functional(model: object) -> bool:
    """Whether a model is a graph of layers (Functional or Sequential), not a subclassed model."""
    from keras.src.models.functional import Functional

    return isinstance(model, (Functional, keras.Sequential))


def _nested_layer(model: keras.Model, outer_name: str, owners: dict[int, keras.Model]) -> LayerSpec:
    if not _is_functional(model):
        raise _unsupported(model, outer_name, _("a subclassed model; only Functional and Sequential models can be imported"))
    data = _import(model, owners).to_dict()
    for key in _NESTED_DROPPED_KEYS:
        data.pop(key, None)
    return LayerSpec(id=model.name, type="Model", config={"spec": data}, trainable=bool(model.trainable))


def _config_from_layer(layer: object) -> tuple[str, dict]:
    """``catalog.config_from_layer``, retried on an unbuilt copy when the layer's build state gets in the way.

    A built wrapper (Bidirectional, TimeDistributed) serialises its inner layers with a ``build_config``
    that a freshly created layer lacks, so the catalogue's exactness check fails on it.
    """
    try:
        return catalog.config_from_layer(layer)
    except ValueError:
        if not layer.built:
            raise
        unbuilt = type(layer).from_config(_without_build_config(layer.get_config()))
        return catalog.config_from_layer(unbuilt)


def _without_build_config(value: object) -> object:
    """A serialised config with every ``build_config`` removed, so that deserialising it gives unbuilt layers."""
    if isinstance(value, dict):
        return {key: _without_build_config(item) for key, item in value.items() if key != "build_config"}
    if isinstance(value, list):
        return [_without_build_config(item) for item in value]
    return value


def _layer_spec(layer: object, model: keras.Model, owners: dict[int, keras.Model]) -> LayerSpec:
    """The spec entry of one Keras layer (or nested model) of `model`."""
    model_name = model.name
    owner = owners.setdefault(id(layer), model)
    if owner is not model:
        message = _(
            "Layer '{layer}' is used both in model '{owner}' and in model '{model}'; the studio shares a layer only within one "
            "model (a nested model is rebuilt with its own weights), so the weights would no longer be shared"
        )
        raise SpecError(message.format(layer=layer.name, owner=owner.name, model=model_name))
    if not is_valid_id(layer.name):
        message = _(
            "Layer '{layer}' of model '{model}' has a name the studio cannot use as an id; "
            "expected letters, digits, '_', '.' or '-', starting with a letter or '_'"
        )
        raise SpecError(message.format(layer=layer.name, model=model_name))
    if isinstance(layer, keras.Model):
        return _nested_layer(layer, model_name, owners)
    try:
        catalog.get_layer_type(type(layer).__name__)
    except KeyError:
        raise _unsupported(layer, model_name, _("not in the catalogue")) from None
    try:
        type_name, config = _config_from_layer(layer)
    except ValueError as error:
        message = _("Layer '{layer}' of model '{model}' cannot be imported: {error}")
        raise SpecError(message.format(layer=layer.name, model=model_name, error=error)) from error
    config = _shortened_config(type_name, config, layer)
    trainable = True if type_name == "Input" else bool(layer.trainable)
    return LayerSpec(id=layer.name, type=type_name, config=config, trainable=trainable)


def _uniform_tuple_value(value: object) -> int | None:
    """``[3, 3]`` -> 3 (the form the tutorial writes); None when the items differ or are not ints."""
    if isinstance(value, list) and len(value) > 1 and all(type(item) is int and item == value[0] for item in value):
        return value[0]
    return None


def _comparable(layer: object) -> dict:
    """A layer's config without `trainable`, which the spec keeps on the layer entry."""
    return {key: value for key, value in layer.get_config().items() if key != "trainable"}


def _shortened_config(type_name: str, config: dict, layer: object) -> dict:
    """Write ``kernel_size: [3, 3]`` as ``kernel_size: 3`` where Keras makes the same layer of both."""
    params = {param.name: param for param in catalog.get_layer_type(type_name).params}
    shortened = dict(config)
    for key, value in config.items():
        param = params.get(key)
        if param is not None and param.kind == "layer" and isinstance(value, dict):
            inner_layer = layer.forward_layer if isinstance(layer, keras.layers.Bidirectional) else layer.layer
            shortened[key] = {**value, "config": _shortened_config(value["type"], value.get("config", {}), inner_layer)}
            continue
        scalar = _uniform_tuple_value(value)
        if param is None or param.kind != "int_or_tuple" or scalar is None:
            continue
        trial = {**shortened, key: scalar}
        try:
            same = _comparable(catalog.create_layer(type_name, trial, layer.name)) == _comparable(layer)
        except (ValueError, TypeError):
            same = False
        if same:
            shortened = trial
    return shortened


def _call_ids(nodes: list[object], layer_ids: set[str]) -> dict[int, str]:
    """Call id of every node: the layer id for a layer's first call, ``{layer_id}_{k}`` for the k-th further one."""
    by_layer: dict[int, list[object]] = {}
    for node in nodes:
        by_layer.setdefault(id(node.operation), []).append(node)
    taken = set(layer_ids)
    call_ids: dict[int, str] = {}
    for layer_nodes in by_layer.values():
        layer_nodes.sort(key=lambda node: node.operation._inbound_nodes.index(node))
        call_ids[_node_key(layer_nodes[0])] = layer_nodes[0].operation.name
    for layer_nodes in by_layer.values():
        layer_id = layer_nodes[0].operation.name
        suffix = 0
        for node in layer_nodes[1:]:
            suffix += 1
            while f"{layer_id}_{suffix}" in taken:
                suffix += 1
            call_ids[_node_key(node)] = f"{layer_id}_{suffix}"
            taken.add(call_ids[_node_key(node)])
    return call_ids


def spec_from_model(model: keras.Model) -> GraphSpec:
    """A Functional or Sequential model -> its graph spec (nested models included); SpecError names what cannot be imported."""
    return _import(model, {})


def _import(model: keras.Model, owners: dict[int, keras.Model]) -> GraphSpec:
    """Import one model; `owners` maps every layer met so far (by identity) to the model it belongs to."""
    if not isinstance(model, keras.Model):
        raise SpecError(_("Expected a keras.Model to import. Received: {kind}").format(kind=type(model).__name__))
    if not _is_functional(model):
        message = _(
            "Model '{model}' is a subclassed {kind}; only Functional and Sequential models can be imported "
            "(their layer graph is known without running Python code)"
        )
        raise SpecError(message.format(model=model.name, kind=type(model).__name__))
    try:
        model.inputs  # noqa: B018 - a Sequential without an input shape raises here
    except AttributeError as error:
        message = _(
            "Sequential model '{model}' has no input shape yet; expected a model built with keras.Input(shape=...) "
            "or model.build(input_shape)"
        )
        raise SpecError(message.format(model=model.name)) from error
    walk = _GraphWalk(model)
    nodes = walk.ordered_nodes()
    layers: list[LayerSpec] = []
    seen_layers: dict[int, str] = {}
    for node in nodes:
        operation = node.operation
        if id(operation) in seen_layers:
            continue
        layer = _layer_spec(operation, model, owners)
        seen_layers[id(operation)] = layer.id
        layers.append(layer)
    call_ids = _call_ids(nodes, {layer.id for layer in layers})

    def reference(tensor: object) -> str:
        operation, node_index, tensor_index = tensor._keras_history
        return make_ref(call_ids[_node_key(operation._inbound_nodes[node_index])], tensor_index)

    calls = [
        CallSpec(
            id=call_ids[_node_key(node)],
            layer=node.operation.name,
            inputs=[reference(tensor) for tensor in walk.input_tensors[_node_key(node)]],
        )
        for node in nodes
    ]
    return GraphSpec(
        name=model.name,
        layers=layers,
        calls=calls,
        inputs=[reference(tensor) for tensor in model.inputs],
        outputs=[reference(tensor) for tensor in model.outputs],
    )


def import_model_file(path: str | Path, source: str | None = None) -> GraphSpec:
    """Load a ``.keras`` / ``.h5`` file (within the limits, see :mod:`studio.model.loading`) and convert its model to a spec."""
    model = load_model_file(path, source)
    spec = spec_from_model(model)
    spec.description = _("Imported from {source}").format(source=source or Path(path).name)
    return spec


__all__ = ["MODEL_FILE_SUFFIXES", "import_model_file", "load_model_file", "spec_from_model"]

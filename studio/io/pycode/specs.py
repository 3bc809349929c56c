"""A model read from code -> its graph spec: the nodes between its inputs and outputs, one layer entry per
layer object (a shared layer is one layer with several calls), nested models as ``Model`` layers, and
applications with the inner outputs the code uses.

Ids: a layer's id is its Keras name; a call's id is its layer's id, except for the calls of a layer called
several times, which take the variable their result is assigned to (``feat1 = shared(x1)``) when that is
free, else ``<layer>_1``, ``<layer>_2`` ... as the importer names them.
"""

from __future__ import annotations

import ast
from typing import Any

import studio.io.pycode.kerasapi as kerasapi
from studio.graph.checks import check_structure, count_nodes
from studio.graph.spec import CallSpec, GraphSpec, LayerSpec, is_valid_id, make_ref
from studio.i18n import _
from studio.io.pycode.values import (
    DEFAULT_OUTPUT,
    INPUT_LAYER,
    AppObj,
    CodeError,
    LayerObj,
    ModelObj,
    Node,
    Tensor,
)

MAX_MODEL_NESTING = 16
_NESTED_DROPPED_KEYS = ("format", "description", "section")


def _at(line: int | None) -> ast.AST:
    """A position-only node for errors about a model as a whole."""
    node = ast.Pass()
    node.lineno, node.col_offset = line or 1, 0
    return node


def app_wrapper(model: ModelObj) -> AppObj | None:
    """The application a model only re-exposes (``keras.Model(base.input, [base.get_layer(n).output ...])``), else None."""
    if len(model.inputs) != 1:
        return None
    source = model.inputs[0].node
    if source.kind != "source" or model.inputs[0].inner != INPUT_LAYER:
        return None
    if not all(tensor.node is source for tensor in model.outputs):
        return None
    return source.layer


def _inner_names(app: AppObj, inners: list[str], line: int | None) -> list[str]:
    """Inner layer names for the `outputs` config; `app.output` is named by the application's last layer."""
    if DEFAULT_OUTPUT in inners:
        last = kerasapi.application_layer_names(app.type_name, app.config, _at(line))[-1]
        inners = [last if inner == DEFAULT_OUTPUT else inner for inner in inners]
    unique: list[str] = []
    for inner in inners:
        if inner not in unique:
            unique.append(inner)
    return unique


def _app_config(app: AppObj, inners: list[str], line: int | None) -> dict:
    """An application's spec config: its constructor arguments, `outputs` (unless only its own output) and `frozen`."""
    config = dict(app.config)
    if inners and inners != [DEFAULT_OUTPUT]:
        config["outputs"] = _inner_names(app, inners, line)
    if app.frozen:
        config["frozen"] = list(app.frozen)
    return config


class SpecBuilder:
    """Builds (and caches) the spec of every model of one reading."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.specs: dict[int, GraphSpec] = {}
        self.failed: dict[int, CodeError] = {}
        self.building: list[int] = []
        self.covered: set[int] = set()  # ids of every node some model's spec holds

    def spec(self, model: ModelObj) -> GraphSpec:
        """The model's spec (CodeError at the model's line when it cannot be made)."""
        key = id(model)
        if key in self.failed:
            raise self.failed[key]
        if key not in self.specs:
            if key in self.building or len(self.building) >= MAX_MODEL_NESTING:
                raise CodeError(
                    _at(model.line),
                    _("model '{model_id}' nests models more than {MAX_MODEL_NESTING} deep (or inside itself)").format(
                        model_id=model.id, MAX_MODEL_NESTING=MAX_MODEL_NESTING
                    ),
                )
            self.building.append(key)
            try:
                self.specs[key] = self._build(model)
            except CodeError as error:
                self.failed[key] = error
                raise
            finally:
                self.building.pop()
        return self.specs[key].copy()

    def _nodes(self, model: ModelObj) -> list[Node]:
        """The nodes from the model's inputs to its outputs; an output that needs another input is an error."""
        input_nodes: list[Node] = []
        for tensor in model.inputs:
            is_app_input = tensor.node.kind == "source" and tensor.inner == INPUT_LAYER
            if tensor.node.kind != "input" and not is_app_input:
                raise CodeError(
                    _at(model.line),
                    _(
                        "the inputs of model '{model_id}' must be keras.Input tensors (or an application's "
                        ".input). Received the output of '{layer_id}' (line {node_line})"
                    ).format(model_id=model.id, layer_id=tensor.node.layer.id, node_line=tensor.node.line),
                )
            if tensor.node in input_nodes:
                raise CodeError(
                    _at(model.line),
                    _("model '{model_id}' lists the input '{layer_id}' twice").format(model_id=model.id, layer_id=tensor.node.layer.id),
                )
            input_nodes.append(tensor.node)
        seen: dict[int, Node] = {id(node): node for node in input_nodes}
        pending = [tensor.node for tensor in model.outputs]
        while pending:
            node = pending.pop()
            if id(node) in seen:
                continue
            if node.kind in ("input", "source"):
                raise CodeError(
                    _at(model.line),
                    _(
                        "an output of model '{model_id}' depends on the input '{layer_id}' (line {node_line}), "
                        "which is not among the model's inputs"
                    ).format(model_id=model.id, layer_id=node.layer.id, node_line=node.line),
                )
            seen[id(node)] = node
            pending.extend(tensor.node for tensor in node.inputs)
        self.covered.update(seen)
        return sorted(seen.values(), key=lambda node: node.seq)

    def _build(self, model: ModelObj) -> GraphSpec:
        self.reader.materialize(model)
        nodes = self._nodes(model)
        objects: dict[int, Any] = {}
        for node in nodes:
            objects.setdefault(id(node.layer), node.layer)
        used_inners = self._used_inners(model, nodes)
        layers = [self._layer(obj, used_inners, model) for obj in objects.values()]
        by_id: dict[str, Any] = {}
        for obj, layer in zip(objects.values(), layers, strict=True):
            if layer.id in by_id:
                other = by_id[layer.id]
                raise CodeError(
                    _at(obj.line),
                    _(
                        "two layers of model '{model_id}' are named '{layer_id}' (lines {other_line} and "
                        "{obj_line}); Keras needs every layer name in a model to be unique"
                    ).format(model_id=model.id, layer_id=layer.id, other_line=other.line, obj_line=obj.line),
                )
            by_id[layer.id] = obj
        call_ids = self._call_ids(nodes, objects)
        indices = {
            id(obj): self._inner_indices(obj, used_inners.get(id(obj), []), model) for obj in objects.values() if isinstance(obj, AppObj)
        }

        def reference(tensor: Tensor) -> str:
            """A tensor as a spec reference: 'call' or 'call:index'."""
            if tensor.node.kind == "source":
                return make_ref(call_ids[id(tensor.node)], indices[id(tensor.node.layer)][tensor.inner])
            return make_ref(call_ids[id(tensor.node)], tensor.index)

        calls = [CallSpec(call_ids[id(node)], node.layer.id, [reference(tensor) for tensor in node.inputs]) for node in nodes]
        spec = GraphSpec(
            name=model.id,
            layers=layers,
            calls=calls,
            inputs=[call_ids[id(tensor.node)] for tensor in model.inputs],
            outputs=[reference(tensor) for tensor in model.outputs],
        )
        problems = check_structure(spec)
        if problems:
            details = "; ".join(problem.text() for problem in problems)
            raise CodeError(
                _at(model.line), _("model '{model_id}' is not a valid graph: {details}").format(model_id=model.id, details=details)
            )
        if count_nodes(spec) > self.reader.max_nodes:
            raise self.reader.too_many_nodes(_at(model.line))
        return spec

    def _used_inners(self, model: ModelObj, nodes: list[Node]) -> dict[int, list[str]]:
        """For each application used on its own input: the inner outputs this model uses, in the order the code mentions them."""
        found: dict[int, list[str]] = {}
        tensors = [*model.outputs, *(tensor for node in nodes for tensor in node.inputs)]
        for tensor in tensors:
            if tensor.node.kind == "source":
                inners = found.setdefault(id(tensor.node.layer), [])
                if tensor.inner not in inners:
                    inners.append(tensor.inner)
        for key, inners in found.items():
            app = next(tensor.node.layer for tensor in tensors if id(tensor.node.layer) == key)
            inners.sort(key=lambda inner, app=app: app.mentions.get(inner, 0))
        return found

    def _inner_indices(self, app: AppObj, inners: list[str], model: ModelObj) -> dict[str, int]:
        """Output index of every inner output (`app.input` as a model input is the call itself)."""
        if not inners or inners == [DEFAULT_OUTPUT]:
            return {DEFAULT_OUTPUT: 0, INPUT_LAYER: 0}
        names = _inner_names(app, inners, model.line)
        indices = {inner: names.index(_inner_names(app, [inner], model.line)[0]) for inner in inners}
        indices.setdefault(INPUT_LAYER, 0)
        return indices

    def _layer(self, obj: Any, used_inners: dict[int, list[str]], model: ModelObj) -> LayerSpec:
        """The spec entry of one layer object, model or application."""
        if isinstance(obj, LayerObj):
            return LayerSpec(obj.id, obj.type_name, dict(obj.config), obj.trainable)
        if isinstance(obj, AppObj):
            if obj.source is not None and any(node.kind == "call" for node in obj.nodes) and id(obj) in used_inners:
                raise CodeError(
                    _at(obj.line),
                    _("application '{obj_id}' is used both on its own input and called on a tensor in one model").format(obj_id=obj.id),
                )
            config = _app_config(obj, used_inners.get(id(obj), []), model.line)
            return LayerSpec(obj.id, obj.type_name, config, obj.trainable)
        if not is_valid_id(obj.id):
            raise CodeError(
                _at(obj.line),
                _(
                    "model '{obj_id}' is used as a layer, so its name must be a valid layer name (letters, "
                    "digits, '_', '.', '-', starting with a letter or '_')"
                ).format(obj_id=obj.id),
            )
        app = app_wrapper(obj)
        if app is not None:
            config = _app_config(app, [tensor.inner for tensor in obj.outputs], obj.line)
            return LayerSpec(obj.id, app.type_name, config, obj.trainable and app.trainable)
        nested = self.spec(obj).to_dict()
        for key in _NESTED_DROPPED_KEYS:
            nested.pop(key, None)
        return LayerSpec(obj.id, "Model", {"spec": nested}, obj.trainable)

    def _call_ids(self, nodes: list[Node], objects: dict[int, Any]) -> dict[int, str]:
        """Call id of every node (see the module docstring)."""
        by_object: dict[int, list[Node]] = {}
        for node in nodes:
            by_object.setdefault(id(node.layer), []).append(node)
        taken = {obj.id for obj in objects.values()}
        call_ids: dict[int, str] = {}
        for key, object_nodes in by_object.items():
            if len(object_nodes) == 1:
                call_ids[id(object_nodes[0])] = objects[key].id
        used = set(call_ids.values())
        for key, object_nodes in by_object.items():
            if len(object_nodes) == 1:
                continue
            layer_id = objects[key].id
            for node in object_nodes:
                candidate = node.variable
                if candidate and is_valid_id(candidate) and candidate not in taken and candidate not in used:
                    call_ids[id(node)] = candidate
                elif layer_id not in used:
                    call_ids[id(node)] = layer_id
                else:
                    suffix = 1
                    while f"{layer_id}_{suffix}" in taken or f"{layer_id}_{suffix}" in used:
                        suffix += 1
                    call_ids[id(node)] = f"{layer_id}_{suffix}"
                used.add(call_ids[id(node)])
        return call_ids

"""Calls and attributes of graph objects: a layer called on tensors, a model's ``.input``/``.layers``/``.get_layer``,
an application's inner outputs, ``model.compile``/``fit`` recorded, and the Keras names a call can mean."""

from __future__ import annotations

import ast
from typing import Any

import studio.io.pycode.kerasapi as kerasapi
from studio.catalog import table
from studio.catalog import types as catalog
from studio.i18n import _
from studio.io.pycode.construct import KerasCall
from studio.io.pycode.expressions import contains_graph
from studio.io.pycode.values import (
    DEFAULT_OUTPUT,
    INPUT_LAYER,
    AppLayer,
    AppObj,
    CodeError,
    KerasRef,
    LayerObj,
    ModelObj,
    Node,
    Opaque,
    SequentialObj,
    Tensor,
    describe,
)

# Model methods whose line is skipped (listed as skipped): they do not change the graph.
SKIPPED_METHODS = frozenset(
    {
        "summary",
        "evaluate",
        "predict",
        "predict_on_batch",
        "save",
        "save_weights",
        "load_weights",
        "to_json",
        "get_config",
        "count_params",
        "export",
        "test_on_batch",
        "train_on_batch",
        "build",
    }
)
_COMPILE = ("optimizer", "loss", "loss_weights", "metrics")
_FIT = ("x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data", "shuffle")
_RECURRENT_STATES = {"LSTM": 2, "GRU": 1, "SimpleRNN": 1}


class MethodRef:
    """A method of a graph object, looked up but not yet called (``model.compile``, ``base.get_layer``)."""

    def __init__(self, owner: Any, name: str) -> None:
        self.owner = owner
        self.name = name


class Recorded:
    """The value of a call the parser used (compile, fit, add): its line is not listed as skipped."""


def output_count(layer: Any) -> int:
    """How many tensors one call of this layer gives (recurrent layers with return_state, models with several outputs)."""
    if isinstance(layer, ModelObj):
        return len(layer.outputs)
    if not isinstance(layer, LayerObj):
        return 1
    config = layer.config
    if layer.type_name in _RECURRENT_STATES and config.get("return_state"):
        return 1 + _RECURRENT_STATES[layer.type_name]
    inner = config.get("layer") if layer.type_name == "Bidirectional" else None
    if isinstance(inner, dict) and inner.get("type") in _RECURRENT_STATES and inner.get("config", {}).get("return_state"):
        return 1 + 2 * _RECURRENT_STATES[inner["type"]]
    return 1


class GraphOps:
    """Mixin of the reader: what calling and looking into layers, models and applications gives."""

    def call_keras(self, ref: KerasRef, args: list, kwargs: dict, node: ast.Call) -> Any:
        """A call of a Keras name: a constructor, a functional helper, or something skipped or refused."""
        kind = kerasapi.kind(ref.path)
        last = ref.path.rsplit(".", 1)[-1]
        if kind == "input":
            return self.make_input(args, kwargs, node)
        if kind == "input_layer":
            arguments = self._arguments("keras.layers.InputLayer", args, kwargs, node, "layers.InputLayer")
            return self.make_input_layer_object(arguments, node)
        if kind == "layer":
            return self.make_layer(catalog.canonical_type(last), args, kwargs, node)
        if kind == "helper":
            return self._helper(kerasapi.HELPERS[last], ref.path, args, kwargs, node)
        if kind == "model":
            return self.make_model(args, kwargs, node)
        if kind == "sequential":
            return self.make_sequential(args, kwargs, node)
        if kind == "application":
            return self.make_application(last, args, kwargs, node)
        if kind == "lambda":
            raise CodeError(
                node,
                _(
                    "layers.Lambda runs Python code, which the studio never does (and safe model loading "
                    "refuses it); use a catalogue layer such as layers.Activation, layers.Reshape or a merge "
                    "layer"
                ),
            )
        if kind == "unknown_layer":
            raise CodeError(
                node,
                _("layers.{last} is not in the studio's catalogue; supported layer types: {PLAIN_LAYERS}").format(
                    last=last, PLAIN_LAYERS=", ".join(table.PLAIN_LAYERS)
                ),
            )
        if kind == "unknown_application":
            raise CodeError(
                node,
                _("keras.applications.{last} is not offered; supported: {APPLICATION_TYPES}").format(
                    last=last, APPLICATION_TYPES=", ".join(sorted(catalog.APPLICATION_TYPES))
                ),
            )
        if kind == "missing":
            raise CodeError(node, _("`{ref_path}` does not exist in Keras").format(ref_path=ref.path))
        if kind in ("optimizer", "loss", "metric", "initializer", "regularizer", "constraint"):
            if contains_graph(args) or contains_graph(kwargs):
                raise CodeError(
                    node, _("`{ref_path}` called on a tensor is a raw computation the studio's graph cannot hold").format(ref_path=ref.path)
                )
            return KerasCall(ref.path, args, kwargs, node.lineno)
        if kind == "plot":
            return Opaque(node.lineno, f"`{ref.path}`")
        if contains_graph(args) or contains_graph(kwargs):
            raise CodeError(
                node,
                _(
                    "`{ref_path}` on a tensor, layer or model is not supported: the studio's graph holds "
                    "catalogue layers only (use layers.Add, layers.Concatenate ... instead of raw operations)"
                ).format(ref_path=ref.path),
            )
        return Opaque(node.lineno, f"`{ref.path}(...)`")

    def _helper(self, type_name: str, path: str, args: list, kwargs: dict, node: ast.Call) -> Any:
        """``layers.concatenate([a, b], axis=1)`` = ``layers.Concatenate(axis=1)([a, b])``."""
        arguments = self._arguments(path, args, kwargs, node, f"layers.{path.rsplit('.', 1)[-1]}")
        if "inputs" not in arguments:
            raise CodeError(node, _("layers.{rsplit} needs the list of tensors to merge").format(rsplit=path.rsplit(".", 1)[-1]))
        inputs = arguments.pop("inputs")
        layer = self.make_layer(type_name, [], arguments, node)
        return self.call_layer(layer, [inputs], {}, node)

    # --- calling a layer, model or application on tensors ---------------------------------------

    def call_layer(self, layer: Any, args: list, kwargs: dict, node: ast.AST) -> Any:
        """A layer (or model, or application) applied to tensors: a new node; its output tensor(s)."""
        kwargs = dict(kwargs)
        if "training" in kwargs:
            kwargs.pop("training")
            message = f"`training=` in the call of '{layer.id}' is left out: the studio's graph has no per-call arguments"
            self.note(node, "assumption", message)
        if "inputs" in kwargs and not args:
            args = [kwargs.pop("inputs")]
        if isinstance(layer, LayerObj) and layer.type_name == "MultiHeadAttention":
            args = list(args)
            for key in ("query", "value", "key"):
                if key in kwargs:
                    args.append(kwargs.pop(key))
        if kwargs:
            raise CodeError(
                node,
                _("call arguments other than the input tensors are not supported. Received: {kwargs}").format(
                    kwargs=", ".join(sorted(kwargs))
                ),
            )
        if args and all(isinstance(arg, Opaque) for arg in args):
            return Opaque(getattr(node, "lineno", None), _("'{layer_id}' applied to data (a prediction)").format(layer_id=layer.id))
        if isinstance(layer, SequentialObj):
            self.materialize(layer)
        tensors = self._call_inputs(layer, args, node)
        if isinstance(layer, LayerObj):
            minimum, maximum = table.type_arity(layer.type_name)
            count = len(tensors)
            if count < minimum or (maximum is not None and count > maximum):
                expected = f"exactly {minimum}" if minimum == maximum else f"{minimum} to {maximum}" if maximum else f"at least {minimum}"
                raise CodeError(
                    node,
                    _("{type_name} '{layer_id}' takes {expected} input tensor(s). Received: {count}").format(
                        type_name=layer.type_name, layer_id=layer.id, expected=expected, count=count
                    ),
                )
        created = self.new_node(layer, tensors, node, "call", output_count(layer))
        layer.nodes.append(created)
        if created.outputs == 1:
            return Tensor(created)
        return [Tensor(created, index) for index in range(created.outputs)]

    def _call_inputs(self, layer: Any, args: list, node: ast.AST) -> list[Tensor]:
        """The input tensors of a call, checked against what the layer takes."""
        if isinstance(layer, LayerObj) and layer.type_name == "Input":
            raise CodeError(
                node, _("'{layer_id}' is an Input layer; it starts the graph and is not called on tensors").format(layer_id=layer.id)
            )
        merge = isinstance(layer, LayerObj) and catalog.get_layer_type(layer.type_name).group == "Merge"
        if not args:
            raise CodeError(node, _("{layer} is called without an input tensor").format(layer=describe(layer)))
        if merge:
            if len(args) != 1 or not isinstance(args[0], (list, tuple)):
                example = f"{layer.type_name.lower()}([a, b])"
                raise CodeError(
                    node,
                    _("{type_name} takes one list of tensors, e.g. {example}. Received: {args}").format(
                        type_name=layer.type_name, example=example, args=describe(args[0])
                    ),
                )
            items = list(args[0])
        elif isinstance(layer, ModelObj) and len(args) == 1 and isinstance(args[0], (list, tuple, dict)):
            items = self._model_inputs(layer, args[0], node)
        else:
            items = list(args)
            if len(items) == 1 and isinstance(items[0], (list, tuple)):
                raise CodeError(
                    node,
                    _("{layer} takes one tensor, not a list of {items_count}; merge them first (layers.concatenate)").format(
                        layer=describe(layer), items_count=len(items[0])
                    ),
                )
        for item in items:
            if not isinstance(item, Tensor):
                raise CodeError(
                    node, _("{layer} must be called on tensors. Received: {item}").format(layer=describe(layer), item=describe(item))
                )
        if isinstance(layer, ModelObj) and len(items) != len(layer.inputs):
            raise CodeError(
                node,
                _("model '{layer_id}' takes {inputs_count} input(s). Received: {items_count}").format(
                    layer_id=layer.id, inputs_count=len(layer.inputs), items_count=len(items)
                ),
            )
        if isinstance(layer, AppObj) and len(items) != 1:
            raise CodeError(
                node,
                _("{type_name} '{layer_id}' takes one input tensor. Received: {items_count}").format(
                    type_name=layer.type_name, layer_id=layer.id, items_count=len(items)
                ),
            )
        return items

    def _model_inputs(self, model: ModelObj, value: Any, node: ast.AST) -> list:
        """The inputs of a model call given as a list, or as a dict keyed by the model's input names."""
        if not isinstance(value, dict):
            return list(value)
        names = [tensor.node.layer.id for tensor in model.inputs]
        if set(value) != set(names):
            raise CodeError(
                node,
                _("model '{model_id}' takes inputs named {names}. Received: {map}").format(
                    model_id=model.id, names=", ".join(names), map=", ".join(map(str, value))
                ),
            )
        return [value[name] for name in names]

    def new_node(self, layer: Any, inputs: list[Tensor], node: ast.AST | None, kind: str, outputs: int = 1) -> Node:
        """Record a node, refusing to go past the node limit."""
        self.node_count += 1
        if self.node_count > self.max_nodes:
            raise self.too_many_nodes(node)
        created = Node(self.next_seq(), layer, list(inputs), getattr(node, "lineno", None), kind, outputs)
        self.all_nodes.append(created)
        return created

    def source_node(self, app: AppObj, node: ast.AST) -> Node:
        """The node of an application on its own input (made on first use of ``app.input`` / inner outputs)."""
        if app.source is None:
            app.source = self.new_node(app, [], node, "source")
        return app.source

    def app_tensor(self, app: AppObj, inner: str, node: ast.AST) -> Tensor:
        """An inner output of an application (``app.output``, ``app.get_layer(name).output``, ``app.input``)."""
        app.mentions.setdefault(inner, self.next_seq())
        return Tensor(self.source_node(app, node), inner=inner)

    # --- attributes -----------------------------------------------------------------------------

    def graph_attribute(self, base: Any, name: str, node: ast.AST) -> Any:
        """``x.name`` for a layer, model, application, inner layer or tensor."""
        if isinstance(base, ModelObj):
            return self._model_attribute(base, name, node)
        if isinstance(base, AppObj):
            return self._app_attribute(base, name, node)
        if isinstance(base, AppLayer):
            if name == "output":
                return self.app_tensor(base.app, base.name, node)
            if name == "name":
                return base.name
            if name == "trainable":
                return base.name not in base.app.frozen
            raise CodeError(
                node, _("`{name}` of an application's inner layer is not supported; `.output` and `.trainable` are").format(name=name)
            )
        if isinstance(base, LayerObj):
            if name in ("output", "input"):
                if len(base.nodes) != 1:
                    count = len(base.nodes)
                    raise CodeError(
                        node,
                        _("'{base_id}' is called {count} times, so `.{name}` is ambiguous; use the tensor variable").format(
                            base_id=base.id, count=count, name=name
                        ),
                    )
                return Tensor(base.nodes[0]) if name == "output" else base.nodes[0].inputs[0]
            if name == "name":
                return base.id
            if name == "trainable":
                return base.trainable
            if name in SKIPPED_METHODS:
                return MethodRef(base, name)
            raise CodeError(node, _("`{name}` of a layer is not supported; `.output`, `.name` and `.trainable` are").format(name=name))
        if isinstance(base, Tensor):
            raise CodeError(
                node,
                _("`.{name}` of a tensor needs Keras to compute it (shapes are computed after parsing); write the value itself").format(
                    name=name
                ),
            )
        if isinstance(base, (MethodRef, KerasCall)):
            raise CodeError(node, _("`.{name}` of {base} is not supported").format(name=name, base=describe(base)))
        raise CodeError(node, _("{base} has no attribute the parser reads (`.{name}`)").format(base=describe(base), name=name))

    def _model_attribute(self, model: ModelObj, name: str, node: ast.AST) -> Any:
        if name in ("input", "inputs", "output", "outputs"):
            self.materialize(model)
            tensors = model.inputs if name.startswith("input") else model.outputs
            return tensors[0] if name in ("input", "output") and len(tensors) == 1 else list(tensors)
        if name == "layers":
            return self._model_layers(model, node)
        if name == "name":
            return model.id
        if name == "trainable":
            return model.trainable
        if name in ("get_layer", "compile", "fit", "add", *SKIPPED_METHODS):
            return MethodRef(model, name)
        raise CodeError(
            node, _("`model.{name}` is not supported; .input(s), .output(s), .layers, .get_layer, .compile, .fit are").format(name=name)
        )

    def _model_layers(self, model: ModelObj, node: ast.AST) -> list:
        """``model.layers``: a Sequential's; a functional model's only when its layers form one chain (Keras's order is then certain)."""
        if isinstance(model, SequentialObj):
            self.materialize(model)
            return [item for item in model.items if not (isinstance(item, Tensor) or getattr(item, "type_name", "") == "Input")]
        order = self.model_nodes(model, node)
        if any(len(graph_node.inputs) > 1 for graph_node in order) or len(model.inputs) != 1 or len(model.outputs) != 1:
            raise CodeError(
                node,
                _("model '{model_id}' branches, so the order of model.layers is Keras's own; use model.get_layer(name)").format(
                    model_id=model.id
                ),
            )
        layers: list = []
        for graph_node in order:
            if all(graph_node.layer is not known for known in layers):
                layers.append(graph_node.layer)
        return layers

    def _app_attribute(self, app: AppObj, name: str, node: ast.AST) -> Any:
        if name in ("input", "inputs"):
            tensor = self.app_tensor(app, INPUT_LAYER, node)
            return tensor if name == "input" else [tensor]
        if name in ("output", "outputs"):
            tensor = self.app_tensor(app, DEFAULT_OUTPUT, node)
            return tensor if name == "output" else [tensor]
        if name == "layers":
            return [AppLayer(app, inner) for inner in kerasapi.application_layer_names(app.type_name, app.config, node)]
        if name == "name":
            return app.id
        if name == "trainable":
            return app.trainable
        if name in ("get_layer", *SKIPPED_METHODS):
            return MethodRef(app, name)
        raise CodeError(node, _("`.{name}` of an application is not supported; .input, .output, .layers, .get_layer are").format(name=name))

    # --- methods --------------------------------------------------------------------------------

    def method_call(self, callee: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        """``model.get_layer(...)``, ``model.compile(...)``, ``model.fit(...)``, ``model.add(...)``, or a skipped method."""
        if not isinstance(callee, MethodRef):
            return NotImplemented
        owner, name = callee.owner, callee.name
        if name == "get_layer":
            return self._get_layer(owner, args, kwargs, node)
        if name in ("compile", "fit"):
            names = _COMPILE if name == "compile" else _FIT
            if len(args) > len(names):
                raise CodeError(
                    node, _("model.{name} takes at most {names_count} positional arguments here").format(name=name, names_count=len(names))
                )
            recorded = {**dict(zip(names, args, strict=False)), **kwargs, "__line__": node.lineno}
            setattr(owner, f"{name}_args", recorded)
            return Recorded()
        if name == "add" and isinstance(owner, SequentialObj):
            if len(args) != 1 or kwargs:
                raise CodeError(node, _("Sequential.add takes one layer"))
            self.sequential_add(owner, args[0], node)
            return Recorded()
        if name == "load_weights":
            self.note(node, "skipped", _("weights are not loaded: the graph is read from the code only"))
        return Opaque(node.lineno, f"`.{name}(...)`")

    def _get_layer(self, owner: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        arguments = dict(zip(("name", "index"), args, strict=False))
        arguments.update(kwargs)
        name, index = arguments.get("name"), arguments.get("index")
        if isinstance(owner, AppObj):
            names = kerasapi.application_layer_names(owner.type_name, owner.config, node)
            if isinstance(index, int) and name is None:
                if not -len(names) <= index < len(names):
                    raise CodeError(
                        node,
                        _("{type_name} has {names_count} layers; index {index} is out of range").format(
                            type_name=owner.type_name, names_count=len(names), index=index
                        ),
                    )
                return AppLayer(owner, names[index])
            if name not in names:
                raise CodeError(
                    node,
                    _("{type_name} has no layer named {name!r}; its layers include {names}, ..., {names_2}").format(
                        type_name=owner.type_name, name=name, names=", ".join(names[1:6]), names_2=names[-1]
                    ),
                )
            return AppLayer(owner, name)
        if isinstance(owner, ModelObj):
            if index is not None and name is None:
                layers = self._model_layers(owner, node)
                if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                    raise CodeError(
                        node,
                        _("model '{owner_id}' has {layers_count} layers; index {index!r} is out of range").format(
                            owner_id=owner.id, layers_count=len(layers), index=index
                        ),
                    )
                return layers[index]
            layers = {graph_node.layer.id: graph_node.layer for graph_node in self.model_nodes(owner, node)}
            if name not in layers:
                raise CodeError(
                    node,
                    _("model '{owner_id}' has no layer named {name!r}; its layers: {layers}").format(
                        owner_id=owner.id, name=name, layers=", ".join(layers)
                    ),
                )
            return layers[name]
        raise CodeError(node, _("get_layer of {owner} is not supported").format(owner=describe(owner)))

    def model_nodes(self, model: ModelObj, node: ast.AST) -> list[Node]:
        """The nodes between a model's inputs and outputs, in creation order."""
        self.materialize(model)
        seen: dict[int, Node] = {}
        pending = [tensor.node for tensor in [*model.outputs, *model.inputs]]
        while pending:
            current = pending.pop()
            if id(current) in seen:
                continue
            seen[id(current)] = current
            pending.extend(tensor.node for tensor in current.inputs)
        return sorted(seen.values(), key=lambda graph_node: graph_node.seq)

    def set_attribute(self, target: Any, name: str, value: Any, node: ast.AST) -> None:
        """``layer.trainable = False`` (layers, models, applications, an application's inner layers) and ``model.name = ...``."""
        if name == "name" and isinstance(target, ModelObj) and isinstance(value, str) and value.strip():
            if target.nodes:
                raise CodeError(
                    node, _("model '{target_id}' is renamed after it was used as a layer; name it first").format(target_id=target.id)
                )
            target.id = value
            return
        if name != "trainable":
            raise CodeError(
                node,
                _("setting `.{name}` is not supported; the parser reads `.trainable = True/False` (and a model's .name)").format(name=name),
            )
        if not isinstance(value, bool):
            raise CodeError(node, _("`.trainable` must be True or False. Received: {value}").format(value=describe(value)))
        if isinstance(target, LayerObj) and target.type_name == "Input":
            return  # an Input has no weights; the spec keeps it trainable, as the importer does
        if isinstance(target, (LayerObj, ModelObj, AppObj)):
            target.trainable = value
        elif isinstance(target, AppLayer):
            frozen = target.app.frozen
            if not value and target.name not in frozen:
                frozen.append(target.name)
            elif value and target.name in frozen:
                frozen.remove(target.name)
        else:
            raise CodeError(node, _("`.trainable` of {target} is not supported").format(target=describe(target)))

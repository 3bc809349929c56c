"""Constructors read from code: keras.Input, layers.X(...), keras.applications.X(...), keras.Model, keras.Sequential.

Positional arguments take the parameter names of the Keras signature; the values must be constants and
are checked by the catalogue (the same checks the forms make).
"""

from __future__ import annotations

import ast
from typing import Any

import studio.io.pycode.kerasapi as kerasapi
from studio.graph.spec import is_valid_id
from studio.i18n import _
from studio.io.pycode.values import (
    AppObj,
    CodeError,
    KerasRef,
    LayerObj,
    ModelObj,
    Opaque,
    SequentialObj,
    Tensor,
    describe,
)

_KERAS_OBJECT_KINDS = ("initializer", "regularizer", "constraint")


class KerasCall:
    """A call of a Keras object constructor the parser keeps as data (optimizers, losses, initializers ...)."""

    def __init__(self, path: str, args: list, kwargs: dict, line: int | None) -> None:
        self.path = path
        self.args = args
        self.kwargs = kwargs
        self.line = line


class Constructors:
    """Mixin of the reader: makes layer, input, application and model objects from their constructor calls."""

    def to_json(self, value: Any, node: ast.AST, what: str) -> Any:
        """A constructor argument as JSON data (tuples -> lists); tensors, data and unknown objects are errors."""
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (list, tuple)):
            return [self.to_json(item, node, what) for item in value]
        if isinstance(value, dict):
            return {str(key): self.to_json(item, node, what) for key, item in value.items()}
        if isinstance(value, Opaque):
            raise CodeError(
                node,
                _("{what} comes from {value}, which the parser does not compute; write the value itself").format(
                    what=what, value=describe(value)
                ),
            )
        if isinstance(value, KerasRef) and kerasapi.kind(value.path) == "activation":
            return value.path.rsplit(".", 1)[-1]
        if isinstance(value, KerasCall) and kerasapi.kind(value.path) in _KERAS_OBJECT_KINDS:
            return self._object_config(value, node, what)
        if isinstance(value, KerasRef) and kerasapi.kind(value.path) in _KERAS_OBJECT_KINDS:
            return {"class_name": kerasapi.class_name(value.path), "config": {}}
        raise CodeError(
            node,
            _("{what} must be a constant (number, string, tuple, list, dict or None). Received: {value}").format(
                what=what, value=describe(value)
            ),
        )

    def _object_config(self, call: KerasCall, node: ast.AST, what: str) -> dict:
        """``keras.regularizers.l2(0.01)`` -> ``{"class_name": "L2", "config": {"l2": 0.01}}`` (how Keras serialises it)."""
        names = kerasapi.positional_names(call.path)
        if len(call.args) > len(names):
            raise CodeError(
                node,
                _("{what}: `{call_path}` takes at most {names_count} positional argument(s)").format(
                    what=what, call_path=call.path, names_count=len(names)
                ),
            )
        config = {name: self.to_json(value, node, what) for name, value in zip(names, call.args, strict=False)}
        config.update({key: self.to_json(value, node, what) for key, value in call.kwargs.items()})
        return {"class_name": kerasapi.class_name(call.path), "config": config}

    def _arguments(self, path: str, args: list, kwargs: dict, node: ast.AST, label: str) -> dict[str, Any]:
        """Positional and keyword arguments of a Keras constructor as one {parameter: value} dict."""
        names = kerasapi.positional_names(path)
        if len(args) > len(names):
            shown = ", ".join(names) or "none"
            raise CodeError(
                node,
                _("{label} takes at most {names_count} positional argument(s) ({shown}). Received: {args_count}").format(
                    label=label, names_count=len(names), shown=shown, args_count=len(args)
                ),
            )
        arguments = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key in arguments:
                raise CodeError(node, _("{label} got two values for `{key}` (one positional, one by keyword)").format(label=label, key=key))
            arguments[key] = value
        return arguments

    def _layer_name(self, arguments: dict, node: ast.AST, prefix: str) -> tuple[str, bool]:
        """The layer's id: its `name=` (checked), else the name Keras would give it."""
        if "name" not in arguments or arguments["name"] is None:
            arguments.pop("name", None)
            return self.auto_name(prefix), False
        name = arguments.pop("name")
        if isinstance(name, Opaque):
            raise CodeError(node, _("the name comes from {name}; write it as a string").format(name=describe(name)))
        if not isinstance(name, str) or not is_valid_id(name):
            raise CodeError(
                node,
                _(
                    "the layer name must start with a letter or '_' and use only letters, digits, '_', '.', '-'. Received: name={name!r}"
                ).format(name=name),
            )
        return name, True

    def make_layer(self, type_name: str, args: list, kwargs: dict, node: ast.AST) -> LayerObj:
        """``layers.Dense(32, activation="relu")`` -> a layer object (not yet called)."""
        path = kerasapi.layer_path(type_name)
        arguments = self._arguments(path, args, kwargs, node, f"layers.{type_name}")
        layer_id, explicit = self._layer_name(arguments, node, kerasapi.auto_prefix(type_name))
        input_shape = arguments.pop("input_shape", None)
        if "batch_input_shape" in arguments:
            raise CodeError(node, _("`batch_input_shape` is Keras 2; start the model with keras.Input(shape=...) instead"))
        config = {}
        for key, value in arguments.items():
            if isinstance(value, LayerObj) and key == "layer":
                config[key] = _wrapped(value, layer_id)
            else:
                config[key] = self.to_json(value, node, _("`{key}` of {type_name}").format(key=key, type_name=type_name))
        kerasapi.check_config(type_name, config, node, layer_id)
        layer = LayerObj(type_name, config, layer_id, getattr(node, "lineno", None), self.next_seq(), explicit_name=explicit)
        if input_shape is not None:
            layer.input_shape = self.to_json(input_shape, node, _("`input_shape` of {type_name}").format(type_name=type_name))
        return layer

    def _input_config(self, arguments: dict, node: ast.AST) -> dict:
        """The Input config of keras.Input / layers.InputLayer arguments (batch_shape -> shape + batch_size)."""
        if "tensor" in arguments or "input_tensor" in arguments:
            raise CodeError(node, _("an Input made from an existing tensor (`tensor=`) is not supported; give its shape"))
        if "input_shape" in arguments and "shape" not in arguments:
            arguments["shape"] = arguments.pop("input_shape")
        config = {key: self.to_json(value, node, _("`{key}` of Input").format(key=key)) for key, value in arguments.items()}
        batch_shape = config.pop("batch_shape", None)
        if batch_shape is not None and "shape" not in config:
            if not isinstance(batch_shape, list) or not batch_shape:
                raise CodeError(
                    node, _("`batch_shape` must be a tuple such as (None, 784). Received: {batch_shape!r}").format(batch_shape=batch_shape)
                )
            config["shape"] = batch_shape[1:]
            if batch_shape[0] is not None:
                config["batch_size"] = batch_shape[0]
        for key in ("dtype", "sparse", "ragged", "batch_size", "optional"):
            if key in config and config[key] is None:
                del config[key]
        if "shape" not in config:
            raise CodeError(node, _("keras.Input needs a shape, e.g. keras.Input(shape=(784,))"))
        return config

    def make_input(self, args: list, kwargs: dict, node: ast.AST) -> Tensor:
        """``keras.Input(shape=(784,), name="img")`` -> the tensor of a new Input node."""
        arguments = self._arguments("keras.Input", args, kwargs, node, "keras.Input")
        layer = self.make_input_layer_object(arguments, node)
        return Tensor(self.new_node(layer, [], node, "input"))

    def make_input_layer_object(self, arguments: dict, node: ast.AST) -> LayerObj:
        """The Input layer object of keras.Input / layers.InputLayer arguments (named as Keras names it)."""
        layer_id, explicit = self._layer_name(arguments, node, "input_layer")
        config = self._input_config(arguments, node)
        kerasapi.check_config("Input", config, node, layer_id)
        return LayerObj("Input", config, layer_id, getattr(node, "lineno", None), self.next_seq(), explicit_name=explicit)

    def make_application(self, type_name: str, args: list, kwargs: dict, node: ast.AST) -> AppObj:
        """``keras.applications.VGG16(...)``: ImageNet weights (the default) become weights=None, with a note."""
        path = kerasapi.layer_path(type_name)
        arguments = self._arguments(path, args, kwargs, node, f"keras.applications.{type_name}")
        if arguments.get("input_tensor") is not None:
            raise CodeError(
                node,
                _("{type_name}(input_tensor=...) is not supported; call the application on the tensor instead: base(img)").format(
                    type_name=type_name
                ),
            )
        arguments.pop("input_tensor", None)
        name = arguments.pop("name", None)
        default = "weights" not in arguments
        weights = arguments.pop("weights", "imagenet")
        config = {
            key: self.to_json(value, node, _("`{key}` of {type_name}").format(key=key, type_name=type_name))
            for key, value in arguments.items()
        }
        if weights == "imagenet":
            which = _("ImageNet weights (Keras's default)") if default else _("ImageNet weights")
            self.note(
                node,
                "assumption",
                _(
                    "{type_name}: {which} become weights=None, random initialisation (nothing is downloaded "
                    "while reading); choose 'imagenet' in the node's form where they can be downloaded"
                ).format(type_name=type_name, which=which),
            )
        elif weights is not None:
            raise CodeError(
                node,
                _("{type_name}: `weights` must be None or 'imagenet' (a weights file is not loaded). Received: {weights!r}").format(
                    type_name=type_name, weights=weights
                ),
            )
        config = {"weights": None, **config}
        if name is None:
            app_id = kerasapi.application_default_name(type_name, config)
        elif isinstance(name, str) and is_valid_id(name):
            app_id = name
        else:
            raise CodeError(node, _("the application name must be a valid layer name. Received: name={name!r}").format(name=name))
        kerasapi.check_config(type_name, config, node, app_id)
        self.auto_name("input_layer")  # the application makes its own Input, which takes the next Keras input name
        return AppObj(type_name, config, app_id, getattr(node, "lineno", None), self.next_seq())

    def make_model(self, args: list, kwargs: dict, node: ast.AST) -> ModelObj:
        """``keras.Model(inputs=..., outputs=..., name=...)`` -> a model object (its spec is built at the end)."""
        arguments = self._arguments("keras.Model", [], kwargs, node, "keras.Model")
        for key, value in zip(("inputs", "outputs"), args, strict=False):
            if key in arguments:
                raise CodeError(node, _("keras.Model got two values for `{key}`").format(key=key))
            arguments[key] = value
        if len(args) > 2:
            raise CodeError(node, _("keras.Model takes inputs and outputs (and name=). Received more positional arguments"))
        if "inputs" not in arguments or "outputs" not in arguments:
            raise CodeError(
                node,
                _(
                    "keras.Model needs inputs= and outputs= (subclassed models are not supported: the graph "
                    "must be known without running code)"
                ),
            )
        unknown = set(arguments) - {"inputs", "outputs", "name", "trainable"}
        if unknown:
            raise CodeError(
                node,
                _("keras.Model does not take {unknown} here; expected inputs, outputs, name").format(unknown=", ".join(sorted(unknown))),
            )
        name = arguments.get("name")
        model = ModelObj(self._model_name(name, node, "functional"), getattr(node, "lineno", None), self.next_seq())
        model.inputs, _keys = self._tensors(arguments["inputs"], node, "inputs")
        model.outputs, model.output_keys = self._tensors(arguments["outputs"], node, "outputs")
        if arguments.get("trainable") is False:
            model.trainable = False
        self.models.append(model)
        return model

    def _model_name(self, name: Any, node: ast.AST, prefix: str) -> str:
        if name is None:
            return self.auto_name(prefix)
        if not isinstance(name, str) or not name.strip():
            raise CodeError(node, _("the model name must be a non-empty string. Received: {name}").format(name=describe(name)))
        return name

    def _tensors(self, value: Any, node: ast.AST, what: str) -> tuple[list[Tensor], list[str] | None]:
        """A model's inputs or outputs: one tensor, a list/tuple or a dict of tensors (the dict's keys kept)."""
        keys = None
        if isinstance(value, dict):
            keys = [str(key) for key in value]
            items = list(value.values())
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            items = [value]
        for item in items:
            if not isinstance(item, Tensor):
                raise CodeError(node, _("the model's {what} must be tensors. Received: {item}").format(what=what, item=describe(item)))
        if not items:
            raise CodeError(node, _("the model has no {what}").format(what=what))
        return items, keys

    def make_sequential(self, args: list, kwargs: dict, node: ast.AST) -> SequentialObj:
        """``keras.Sequential([keras.Input(...), layers.Dense(...), ...], name=...)``."""
        arguments = self._arguments("keras.Sequential", args, kwargs, node, "keras.Sequential")
        unknown = set(arguments) - {"layers", "name", "trainable"}
        if unknown:
            raise CodeError(
                node,
                _("keras.Sequential does not take {unknown} here; expected layers and name").format(unknown=", ".join(sorted(unknown))),
            )
        items = arguments.get("layers") or []
        if not isinstance(items, (list, tuple)):
            raise CodeError(node, _("keras.Sequential takes a list of layers. Received: {items}").format(items=describe(items)))
        model = SequentialObj(self._model_name(arguments.get("name"), node, "sequential"), getattr(node, "lineno", None), self.next_seq())
        model.ast_node = node
        for item in items:
            self.sequential_add(model, item, node)
        if arguments.get("trainable") is False:
            model.trainable = False
        self.models.append(model)
        return model

    def sequential_add(self, model: SequentialObj, item: Any, node: ast.AST) -> None:
        """``model.add(layer)`` (or one item of the Sequential's list)."""
        if model.built:
            raise CodeError(
                node, _("layers are added to Sequential '{model_id}' after it was used; add them all first").format(model_id=model.id)
            )
        is_input = isinstance(item, Tensor) and item.node.kind == "input"
        is_input = is_input or isinstance(item, LayerObj) and item.type_name == "Input" and not item.nodes
        if is_input and model.items:
            raise CodeError(node, _("an Input can only be the first item of Sequential '{model_id}'").format(model_id=model.id))
        if not is_input and not isinstance(item, (LayerObj, ModelObj, AppObj)):
            raise CodeError(node, _("a Sequential holds layers (and an Input first). Received: {item}").format(item=describe(item)))
        model.items.append(item)

    def materialize(self, model: ModelObj) -> ModelObj:
        """Give a Sequential its input and output tensors by calling its layers in a chain (once)."""
        if not isinstance(model, SequentialObj) or model.built:
            return model
        node = getattr(model, "ast_node", None)
        items = list(model.items)
        first = items[0] if items else None
        if isinstance(first, Tensor):
            tensor = first
            items.pop(0)
        elif isinstance(first, LayerObj) and first.type_name == "Input":
            tensor = Tensor(self.new_node(first, [], node, "input"))
            items.pop(0)
        elif isinstance(first, LayerObj) and first.input_shape is not None:
            layer = self.make_input_layer_object({"shape": first.input_shape}, node)
            tensor = Tensor(self.new_node(layer, [], node, "input"))
            self.note(
                node,
                "assumption",
                _("Sequential '{model_id}': `input_shape=` of its first layer becomes an Input '{layer_id}'").format(
                    model_id=model.id, layer_id=layer.id
                ),
            )
        else:
            raise CodeError(
                node, _("Sequential '{model_id}' has no input shape: start its list with keras.Input(shape=...)").format(model_id=model.id)
            )
        model.built = True
        self.auto_name("functional")  # a Sequential with an input builds a functional model, as Keras counts it
        model.inputs = [tensor]
        for item in items:
            result = self.call_layer(item, [tensor], {}, node)
            if not isinstance(result, Tensor):
                raise CodeError(node, _("{item} gives several outputs, which a Sequential cannot chain").format(item=describe(item)))
            tensor = result
        model.outputs = [tensor]
        return model


def _wrapped(inner: LayerObj, outer_id: str) -> dict:
    """The ``layer`` config of Bidirectional / TimeDistributed: the inner layer's type, config and (given) name."""
    data: dict[str, Any] = {"type": inner.type_name, "config": dict(inner.config)}
    if inner.explicit_name and inner.id != f"{outer_id}_inner":
        data["name"] = inner.id
    return data

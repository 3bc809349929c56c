"""Which Keras name a piece of code means, whatever the import spelling, and how constructor arguments map
onto the catalogue (positional arguments by the Keras signature, values checked by ``coerce_config``)."""

from __future__ import annotations

import ast
import functools
import inspect
from typing import Any

import keras

from studio.catalog import types as catalog
from studio.catalog.params import ACTIVATIONS
from studio.graph.naming import snake_case
from studio.i18n import _
from studio.io.pycode.values import CodeError, KerasRef

# Module spellings that mean Keras itself.
_KERAS_PREFIXES = ("tensorflow.python.keras", "tensorflow.keras", "tf_keras", "keras")
# Functional helpers: ``layers.concatenate([a, b])`` is ``layers.Concatenate()([a, b])``.
HELPERS = {
    "concatenate": "Concatenate",
    "add": "Add",
    "subtract": "Subtract",
    "multiply": "Multiply",
    "average": "Average",
    "maximum": "Maximum",
    "minimum": "Minimum",
    "dot": "Dot",
}
_ALIASED = {
    "keras.models.Model": "keras.Model",
    "keras.models.Sequential": "keras.Sequential",
    "keras.layers.Input": "keras.Input",
    "keras.engine.input_layer.Input": "keras.Input",
    "keras.utils.vis_utils.plot_model": "keras.utils.plot_model",
}
_OBJECT_MODULES = {
    "optimizers": "optimizer",
    "losses": "loss",
    "metrics": "metric",
    "initializers": "initializer",
    "regularizers": "regularizer",
    "constraints": "constraint",
}
_PLOT_NAMES = frozenset({"plot_model", "model_to_dot"})
SUPPORTED_SUMMARY = (
    "keras.Input, layers.X(...)(tensor) for the catalogue's layer types, shared layer objects, keras.Model, "
    "keras.Sequential, keras.applications, layers.concatenate/add/..., model.compile/fit, constants and functions without loops"
)


def module_path(module: str) -> str:
    """The canonical path of an imported module: 'tensorflow.keras.layers' -> 'keras.layers', 'tensorflow' stays."""
    for prefix in _KERAS_PREFIXES:
        if module == prefix or module.startswith(prefix + "."):
            return "keras" + module[len(prefix) :]
    return module


def canonical(path: str) -> str:
    """The canonical spelling of a Keras path ('keras.models.Model' -> 'keras.Model', 'tensorflow.keras' -> 'keras')."""
    path = module_path(path)
    if path.startswith("tensorflow.") and path.split(".")[1] == "keras":
        path = "keras" + path[len("tensorflow.keras") :]
    path = _ALIASED.get(path, path)
    parts = path.split(".")
    if len(parts) >= 3 and parts[:2] == ["keras", "applications"] and parts[-1] in catalog.APPLICATION_TYPES:
        return f"keras.applications.{parts[-1]}"
    return path


def is_keras(path: str) -> bool:
    """Whether a canonical path is inside Keras (tensorflow's other modules are not)."""
    return path == "keras" or path.startswith("keras.")


@functools.lru_cache(maxsize=512)
def _keras_object(path: str) -> Any:
    """The real Keras object behind a canonical path (our own Keras, looked up by attribute; nothing of the user runs)."""
    target: Any = keras
    for part in path.split(".")[1:]:
        if part.startswith("_"):
            return None
        target = getattr(target, part, None)
        if target is None:
            return None
    return target


def exists(path: str) -> bool:
    """Whether a canonical Keras path names something in Keras."""
    return is_keras(path) and _keras_object(path) is not None


def kind(path: str) -> str:
    """What a canonical path means to the parser: 'input', 'layer', 'helper', 'model', 'sequential', 'application', ..."""
    if path == "keras.Input":
        return "input"
    if path == "keras.Model":
        return "model"
    if path == "keras.Sequential":
        return "sequential"
    parts = path.split(".")
    last = parts[-1]
    if parts[:2] == ["keras", "layers"] and len(parts) == 3:
        if last == "InputLayer":
            return "input_layer"
        if last == "Lambda":
            return "lambda"
        if last in HELPERS:
            return "helper"
        if catalog.canonical_type(last) in catalog.LAYER_TYPES and catalog.canonical_type(last) not in ("Model", "Input"):
            return "layer"
        return "unknown_layer" if exists(path) else "missing"
    if path.startswith("keras.applications.") and last[:1].isupper():
        return "application" if last in catalog.APPLICATION_TYPES else ("unknown_application" if exists(path) else "missing")
    if len(parts) == 3 and parts[:2] == ["keras", "utils"] and last in _PLOT_NAMES:
        return "plot"
    if len(parts) == 3 and parts[1] in _OBJECT_MODULES:
        return _OBJECT_MODULES[parts[1]] if exists(path) else "missing"
    if len(parts) == 3 and parts[1] == "activations":
        return "activation"
    if path.startswith("keras.ops."):
        return "ops"
    if path.startswith("tensorflow.nn.") and last in ACTIVATIONS:
        return "activation"
    if path.startswith("tensorflow.") or path.startswith("keras.backend."):
        return "ops"
    return "other"


def ref(path: str) -> KerasRef:
    """A KerasRef with the canonical path."""
    return KerasRef(canonical(path))


def attribute(value: KerasRef, name: str, node: ast.AST) -> KerasRef:
    """``keras.layers`` + ``Dense`` -> ``keras.layers.Dense`` (a missing Keras name is an error at `node`)."""
    if name.startswith("_"):
        raise CodeError(
            node, _("attribute `{name}` is not supported: the parser does not follow private or special names").format(name=name)
        )
    path = canonical(f"{value.path}.{name}")
    if is_keras(path) and path != "keras" and not exists(path) and kind(path) not in ("missing",):
        raise CodeError(node, _("`{path}` does not exist in Keras {version}").format(path=path, version=keras.__version__))
    return KerasRef(path)


@functools.lru_cache(maxsize=256)
def positional_names(path: str) -> tuple[str, ...]:
    """Parameter names that positional arguments fill, in the Keras signature's order (classes: of ``__init__``)."""
    target = _keras_object(path)
    if target is None:
        return ()
    function = target.__init__ if inspect.isclass(target) else target
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return ()
    if inspect.isclass(target) and parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    names = []
    for parameter in parameters:
        if parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            break
        names.append(parameter.name)
    return tuple(names)


def layer_path(type_name: str) -> str:
    """The Keras path of a catalogue type's constructor."""
    if type_name == "Input":
        return "keras.Input"
    if type_name in catalog.APPLICATION_TYPES:
        return f"keras.applications.{type_name}"
    return f"keras.layers.{type_name}"


def class_name(path: str) -> str:
    """The class (or function) name behind a Keras path ('keras.regularizers.l2' -> 'L2')."""
    target = _keras_object(path)
    return getattr(target, "__name__", path.rsplit(".", 1)[-1])


def auto_prefix(type_name: str) -> str:
    """The prefix Keras names an unnamed layer of this type with ('Dense' -> 'dense', 'Input' -> 'input_layer')."""
    if type_name == "Input":
        return "input_layer"
    return snake_case(type_name)


def application_default_name(type_name: str, config: dict) -> str:
    """The name Keras gives an application without `name=` ('vgg16'; MobileNetV2: 'mobilenetv2_1.00_224')."""
    if type_name != "MobileNetV2":
        return type_name.lower()
    alpha = config.get("alpha", 1.0)
    shape = config.get("input_shape")
    rows = shape[0] if isinstance(shape, list) and shape and shape[0] in (96, 128, 160, 192, 224) else 224
    try:
        return f"mobilenetv2_{float(alpha):0.2f}_{rows}"
    except (TypeError, ValueError):
        return "mobilenetv2"


def check_config(type_name: str, config: dict, node: ast.AST, label: str) -> None:
    """Validate a config with the catalogue (the same checks as the forms); a refusal is an error at `node`."""
    try:
        catalog.coerce_config(type_name, config, label)
    except (ValueError, TypeError, KeyError) as error:
        text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        raise CodeError(node, f"{type_name} '{label}': {text}") from None


@functools.lru_cache(maxsize=16)
def _inner_layer_names(type_name: str, config_json: str) -> tuple[str, ...]:
    """Inner layer names of an application, built once without allocating its weights."""
    import json

    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope

    config = json.loads(config_json)
    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    try:
        with StatelessScope(initialize_variables=False):
            return tuple(catalog.application_layer_names(type_name, config))
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)


def application_layer_names(type_name: str, config: dict, node: ast.AST) -> tuple[str, ...]:
    """Inner layer names of an application with this config (cached); an impossible config is an error at `node`."""
    import json

    try:
        return _inner_layer_names(type_name, json.dumps(config, sort_keys=True))
    except (ValueError, TypeError) as error:
        raise CodeError(node, f"{type_name}: {error}") from None

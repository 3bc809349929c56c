"""The parts of generated model code: variable names, Keras's own layer names, constructor calls, output counts."""

from __future__ import annotations

import ast
import builtins
import inspect
import keyword
import re
from dataclasses import dataclass, field

import keras

import studio.io.codegen.syntax as py
from studio.catalog import types as catalog
from studio.graph.checks import nested_spec
from studio.graph.naming import snake_case
from studio.graph.spec import GraphSpec, LayerSpec, split_ref
from studio.io.codegen.layout import Function

STYLES = ("studio", "tutorial")
_RESERVED = frozenset({*keyword.kwlist, *dir(builtins), "keras", "layers", "model"})
# Optional first parameters written positionally, as the tutorial does (MaxPool2D(3), UpSampling2D(3)).
_POSITIONAL_WHEN_FIRST = frozenset({"pool_size", "size", "padding", "cropping"})
_STATE_TENSORS = {"LSTM": 2, "GRU": 1, "SimpleRNN": 1}
_OBJECT_SUFFIXES = ("", "_outputs", "_model", "_layer", "_base")


def identifier(text: str) -> str:
    """A spec id as a plain Python name (``conv.1-a`` -> ``conv_1_a``; a builtin or keyword gets a trailing ``_``)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text) or "node"
    if name[0].isdigit():
        name = f"_{name}"
    return f"{name}_" if name in _RESERVED else name


class Names:
    """Variable names of one scope: unique, never reserved."""

    def __init__(self, reserved: set[str] | frozenset[str] = frozenset()) -> None:
        self.taken = set(reserved)

    def is_free(self, name: str) -> bool:
        """Whether a name is still unused in this scope."""
        return name not in self.taken and name not in _RESERVED

    def claim(self, *candidates: str) -> str:
        """The first free candidate, or the first one with the smallest free numeric suffix."""
        for candidate in candidates:
            if self.is_free(candidate):
                self.taken.add(candidate)
                return candidate
        base, number = candidates[0], 2
        while not self.is_free(f"{base}_{number}"):
            number += 1
        self.taken.add(f"{base}_{number}")
        return f"{base}_{number}"


class KerasNames:
    """The names Keras gives unnamed objects in a fresh process ('dense', 'dense_1' ...): one counter per prefix."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def next_name(self, prefix: str) -> str:
        """What the next unnamed object with this prefix will be called."""
        count = self.counts.get(prefix, 0)
        return prefix if count == 0 else f"{prefix}_{count}"

    def use(self, prefix: str) -> None:
        """An unnamed object with this prefix was made."""
        self.counts[prefix] = self.counts.get(prefix, 0) + 1


@dataclass
class Context:
    """What the whole file shares: its style, functions, nested models written so far and Keras's name counters."""

    style: str
    reserved: frozenset[str] = frozenset()
    functions: list[Function] = field(default_factory=list)
    function_names: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)  # tutorial style: variables of models and layer objects, file-wide
    keras_names: KerasNames = field(default_factory=KerasNames)
    uses_layers: bool = False


def accepted_keywords(type_name: str) -> set[str]:
    """The keyword arguments code may pass a catalogue type's constructor (its parameters, and `name`)."""
    layer_type = catalog.get_layer_type(type_name)
    names = {param.name for param in layer_type.params} | {"name"}
    if type_name in catalog.APPLICATION_TYPES:
        return (names - {"outputs", "frozen"}) | {"weights"}
    return names if type_name == "Input" else names | set(catalog.COMMON_KEYWORDS)


def _positional_names(type_name: str) -> list[str]:
    """Parameters written positionally: the leading required ones (or a tutorial-style first size, MaxPool2D(3))."""
    parameters = list(inspect.signature(getattr(keras.layers, type_name).__init__).parameters.values())[1:]
    names = []
    for position, parameter in enumerate(parameters):
        required = parameter.default is inspect.Parameter.empty
        if parameter.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
            break
        if not (required or (position == 0 and parameter.name in _POSITIONAL_WHEN_FIRST)):
            break
        names.append(parameter.name)
    return names


def _argument(type_name: str, key: str, value: object, outer_name: str) -> ast.expr:
    """One constructor argument, converted the way the catalogue converts it for Keras."""
    param = next((param for param in catalog.get_layer_type(type_name).params if param.name == key), None)
    if param is not None and param.kind == "layer" and isinstance(value, dict):
        inner_type = catalog.canonical_type(str(value.get("type", "")))
        inner_name = value.get("name") or f"{outer_name}_inner"
        return layer_constructor(inner_type, value.get("config", {}), inner_name)
    if param is not None and param.kind in ("shape", "int_list", "int_or_tuple"):
        value = py.tuples(value)
    return py.literal(value)


def layer_constructor(type_name: str, config: dict, name: str | None) -> ast.Call:
    """``layers.Dense(32, activation="relu", name="dense")`` (no ``name=`` when `name` is None)."""
    accepted = accepted_keywords(type_name)
    owner = f"layers.{type_name}"
    positional = _positional_names(type_name)
    arguments = []
    for key in positional:
        if key not in config:
            break
        arguments.append(_argument(type_name, key, config[key], name or ""))
    written = set(positional[: len(arguments)])
    keywords = [
        py.keyword_argument(key, _argument(type_name, key, value, name or ""), accepted, owner)
        for key, value in config.items()
        if key not in written
    ]
    if name is not None:
        keywords.append(py.keyword_argument("name", py.literal(name)))
    return py.call(py.attribute(py.name("layers"), type_name), arguments, keywords)


def application_constructor(type_name: str, config: dict, name: str | None) -> ast.Call:
    """``keras.applications.VGG16(weights=None, include_top=True)`` (``outputs`` / ``frozen`` are the studio's own keys)."""
    accepted = accepted_keywords(type_name)
    owner = f"keras.applications.{type_name}"
    keywords = [py.keyword_argument("weights", py.literal(config.get("weights")))]
    keywords += [
        py.keyword_argument(key, _argument(type_name, key, value, ""), accepted, owner)
        for key, value in config.items()
        if key not in ("weights", "outputs", "frozen")
    ]
    if name is not None:
        keywords.append(py.keyword_argument("name", py.literal(name)))
    return py.call(py.attribute(py.path("keras.applications"), type_name), [], keywords)


def one_or_list(expressions: list[ast.expr]) -> ast.expr:
    """A single expression, or a list of several (as ``keras.Model`` and the builder take them)."""
    return expressions[0] if len(expressions) == 1 else ast.List(elts=list(expressions), ctx=ast.Load())


def highest_indexes(spec: GraphSpec) -> dict[str, int]:
    """The highest output index the graph uses of each call (``conv:2`` -> 2)."""
    highest: dict[str, int] = {}
    for ref in [*(ref for call in spec.calls for ref in call.inputs), *spec.outputs]:
        call_id, index = split_ref(ref)
        highest[call_id] = max(highest.get(call_id, 0), index)
    return highest


def output_count(spec: GraphSpec, layer: LayerSpec, call_id: str, highest: dict[str, int] | None = None) -> int:
    """How many tensors a call gives (1 for a plain tensor; more means the variable holds a list)."""
    used = (highest if highest is not None else highest_indexes(spec)).get(call_id, 0)
    type_name = catalog.canonical_type(layer.type)
    if layer.type == "Model":
        nested = nested_spec(layer.config)
        count = len(nested.outputs) if nested else 1
    elif type_name in catalog.APPLICATION_TYPES:
        count = len(layer.config.get("outputs") or []) or 1
    elif type_name == "Bidirectional" and isinstance(layer.config.get("layer"), dict):
        inner = layer.config["layer"]
        inner_type = catalog.canonical_type(str(inner.get("type", "")))
        states = _STATE_TENSORS.get(inner_type, 0) if (inner.get("config") or {}).get("return_state") else 0
        count = 1 + 2 * states  # the output, then the forward and the backward states
    elif layer.config.get("return_state"):
        count = 1 + _STATE_TENSORS.get(type_name, 1)
    else:
        count = 1
    return max(count, used + 1)


def variable_names(spec: GraphSpec) -> set[str]:
    """Every variable name the studio style could give a node of this spec or of its nested specs."""
    names: set[str] = set()
    for item in [*spec.layers, *spec.calls]:
        names.update(f"{identifier(item.id)}{suffix}" for suffix in _OBJECT_SUFFIXES)
    for layer in spec.layers:
        nested = nested_spec(layer.config) if layer.type == "Model" else None
        if nested is not None:
            names |= variable_names(nested)
    return names


def is_application(layer: LayerSpec) -> bool:
    """Whether a layer is a keras.applications model."""
    return catalog.canonical_type(layer.type) in catalog.APPLICATION_TYPES


def default_looking(call_id: str, layer: LayerSpec) -> bool:
    """Whether an id reads like a name Keras would make up ('dense_2' for a Dense), rather than one a person chose."""
    prefix = "input_layer" if layer.type == "Input" else snake_case(catalog.canonical_type(layer.type))
    return re.fullmatch(rf"{re.escape(prefix)}(_\d+)?", call_id) is not None

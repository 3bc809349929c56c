"""Spec -> a runnable Python script in the tutorial's functional-API style that defines ``model``.

The script mirrors :mod:`studio.model.build` step by step (same layer names, same constructor arguments,
same creation order, same ``trainable`` settings), so running it gives the architecture the studio
builds: equal ``get_config()`` for every layer and an equal parameter count. Nested models become
``build_<id>()`` functions, applications a ``<id>_base`` model whose inner outputs are picked by name.
The text is laid out the way ``ruff format`` / ``black`` lay it out (88 columns, magic trailing commas).
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import math
import re
import textwrap
from dataclasses import dataclass, field

import keras

from studio.catalog import types as catalog
from studio.graph.checks import check_structure, is_source, nested_spec, topological_order
from studio.graph.spec import GraphSpec, LayerSpec, SpecError, split_ref
from studio.model.names import KERAS_NAME_RULE, keras_model_name, needs_keras_name

LINE_LENGTH = 88
INDENT = "    "
_RESERVED = frozenset({*keyword.kwlist, *dir(builtins), "keras", "layers", "model"})
# Optional first parameters written positionally, as the tutorial does (MaxPool2D(3), UpSampling2D(3)).
_POSITIONAL_WHEN_FIRST = frozenset({"pool_size", "size", "padding", "cropping"})


# --- expressions and their layout ---------------------------------------------------------------


@dataclass
class _Keyword:
    """``name=value`` inside a call."""

    name: str
    value: _Expression


@dataclass
class _Bracketed:
    """``prefix(item, item, ...)``, ``[item, ...]``, ``(item,)``: a comma-separated group in brackets."""

    prefix: str | _Bracketed
    opening: str
    items: list[_Expression] = field(default_factory=list)
    closing: str = ""
    one_tuple: bool = False


_Expression = str | _Keyword | _Bracketed


def _flat(expression: _Expression) -> str:
    """The expression on one line."""
    if isinstance(expression, str):
        return expression
    if isinstance(expression, _Keyword):
        return f"{expression.name}={_flat(expression.value)}"
    prefix = _flat(expression.prefix)
    inner = ", ".join(_flat(item) for item in expression.items)
    if expression.one_tuple and len(expression.items) == 1:
        inner += ","
    return f"{prefix}{expression.opening}{inner}{expression.closing}"


def _layout(expression: _Expression, indent: str, head: str = "", tail: str = "") -> list[str]:
    """Lines of ``head + expression + tail``: one line when it fits, else brackets exploded one item per line."""
    line = f"{indent}{head}{_flat(expression)}{tail}"
    if len(line) <= LINE_LENGTH or isinstance(expression, str):
        return [line]
    if isinstance(expression, _Keyword):
        return _layout(expression.value, indent, f"{head}{expression.name}=", tail)
    if not expression.items:
        if isinstance(expression.prefix, _Bracketed):
            lines = _layout(expression.prefix, indent, head)
            lines[-1] += f"{expression.opening}{expression.closing}{tail}"
            return lines
        return [line]
    if not (isinstance(expression.prefix, _Bracketed) and expression.prefix.items):
        return _exploded(expression, indent, head, tail)
    # A constructor called on tensors: the constructor's arguments go one per line first, then the call's.
    lines = _exploded(expression.prefix, indent, head, "")
    arguments = ", ".join(_flat(item) for item in expression.items)
    closing_line = f"{lines[-1]}{expression.opening}{arguments}{expression.closing}{tail}"
    if len(closing_line) <= LINE_LENGTH:
        return [*lines[:-1], closing_line]
    call = _Bracketed(expression.prefix.closing, expression.opening, expression.items, expression.closing)
    return [*lines[:-1], *_exploded(call, indent, "", tail)]


def _exploded(expression: _Bracketed, indent: str, head: str, tail: str) -> list[str]:
    """A bracketed group with one item per line and a magic trailing comma (ruff format keeps it so)."""
    lines = [f"{indent}{head}{_flat(expression.prefix)}{expression.opening}"]
    for item in expression.items:
        lines += _layout(item, indent + INDENT, "", ",")
    lines.append(f"{indent}{expression.closing}{tail}")
    return lines


def _string(text: str) -> str:
    """A string literal quoted the way ruff format quotes it (double quotes unless that needs more escapes)."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    escaped = []
    for character in text:
        if character == "\\":
            escaped.append("\\\\")
        elif character == quote:
            escaped.append("\\" + quote)
        elif character in "\n\r\t":
            escaped.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[character])
        elif ord(character) < 32 or ord(character) == 127:
            escaped.append(f"\\x{ord(character):02x}")
        else:
            escaped.append(character)
    return f"{quote}{''.join(escaped)}{quote}"


def _literal(value: object) -> _Expression:
    """A JSON-like value as a Python literal expression (tuples stay tuples)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f'float("{value}")'
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, tuple):
        return _Bracketed("", "(", [_literal(item) for item in value], ")", one_tuple=True)
    if isinstance(value, list):
        return _Bracketed("", "[", [_literal(item) for item in value], "]")
    if isinstance(value, dict):
        return _Bracketed("", "{", [f"{_flat(_literal(str(key)))}: {_flat(_literal(item))}" for key, item in value.items()], "}")
    raise SpecError(f"Cannot write {value!r} ({type(value).__name__}) as Python; expected JSON data (numbers, strings, lists, objects)")


def _tuples(value: object) -> object:
    """Lists -> tuples, recursively (what the catalogue passes Keras for shapes and sizes)."""
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(item) for item in value)
    return value


# --- names ----------------------------------------------------------------------------------------


def _identifier(text: str) -> str:
    """A spec id as a Python identifier (``conv.1-a`` -> ``conv_1_a``)."""
    name = re.sub(r"\W", "_", text) or "node"
    if name[0].isdigit():
        name = f"_{name}"
    return f"{name}_" if name in _RESERVED else name


class _Names:
    """Variable names of one scope (the script's top level or one ``build_...`` function): unique, never reserved."""

    def __init__(self, reserved: set[str]) -> None:
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


# --- the generator --------------------------------------------------------------------------------


def _keras_class(type_name: str) -> type:
    """The Keras class behind a catalogue layer type."""
    return getattr(keras.layers, type_name)


def _positional_names(type_name: str) -> list[str]:
    """Parameters written positionally: the leading required ones (or a tutorial-style first size, MaxPool2D(3))."""
    parameters = list(inspect.signature(_keras_class(type_name).__init__).parameters.values())[1:]
    names = []
    for position, parameter in enumerate(parameters):
        required = parameter.default is inspect.Parameter.empty
        if parameter.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
            break
        if not (required or (position == 0 and parameter.name in _POSITIONAL_WHEN_FIRST)):
            break
        names.append(parameter.name)
    return names


def _argument_value(type_name: str, key: str, value: object, outer_name: str) -> _Expression:
    """One constructor argument as Python, converted the way the catalogue converts it for Keras."""
    layer_type = catalog.get_layer_type(type_name)
    param = next((param for param in layer_type.params if param.name == key), None)
    if param is not None and param.kind == "layer" and isinstance(value, dict):
        inner_type = catalog.canonical_type(str(value.get("type", "")))
        inner_name = value.get("name") or f"{outer_name}_inner"
        return _layer_constructor(inner_type, value.get("config", {}), inner_name)
    if param is not None and param.kind in ("shape", "int_list", "int_or_tuple"):
        value = _tuples(value)
    return _literal(value)


def _layer_constructor(type_name: str, config: dict, name: str) -> _Bracketed:
    """``layers.Dense(32, activation="relu", name="dense")``."""
    positional = _positional_names(type_name)
    arguments: list[_Expression] = []
    for key in positional:
        if key not in config:
            break
        arguments.append(_argument_value(type_name, key, config[key], name))
    written = set(positional[: len(arguments)])
    arguments += [_Keyword(key, _argument_value(type_name, key, value, name)) for key, value in config.items() if key not in written]
    arguments.append(_Keyword("name", _string(name)))
    return _Bracketed(f"layers.{type_name}", "(", arguments, ")")


def _application_constructor(type_name: str, config: dict) -> _Bracketed:
    """``keras.applications.VGG16(weights=None, include_top=True)`` (``outputs`` / ``frozen`` are the studio's own keys)."""
    arguments: list[_Expression] = [_Keyword("weights", _literal(config.get("weights")))]
    for key, value in config.items():
        if key not in ("weights", "outputs", "frozen"):
            arguments.append(_Keyword(key, _argument_value(type_name, key, value, "")))
    return _Bracketed(f"keras.applications.{type_name}", "(", arguments, ")")


def _one_or_list(expressions: list[_Expression]) -> _Expression:
    """A single expression, or a list of several (as ``keras.Model`` and the builder take them)."""
    return expressions[0] if len(expressions) == 1 else _Bracketed("", "[", list(expressions), "]")


def _output_count(spec: GraphSpec, layer: LayerSpec, call_id: str) -> int:
    """How many tensors a call gives (1 for a plain tensor; more means the variable holds a list)."""
    highest = max((split_ref(ref)[1] for call in spec.calls for ref in call.inputs if split_ref(ref)[0] == call_id), default=0)
    highest = max([highest, *(split_ref(ref)[1] for ref in spec.outputs if split_ref(ref)[0] == call_id)])
    if layer.type == "Model":
        nested = nested_spec(layer.config)
        count = len(nested.outputs) if nested else 1
    elif catalog.canonical_type(layer.type) in catalog.APPLICATION_TYPES:
        count = len(layer.config.get("outputs") or []) or 1
    elif layer.config.get("return_state"):
        count = 3 if catalog.canonical_type(layer.type) == "LSTM" else 2
    else:
        count = 1
    return max(count, highest + 1)


_OBJECT_SUFFIXES = ("", "_outputs", "_model", "_layer", "_base")


def _variable_names(spec: GraphSpec) -> set[str]:
    """Every variable name the script could give a node of this spec or of its nested specs."""
    names: set[str] = set()
    for item in [*spec.layers, *spec.calls]:
        names.update(f"{_identifier(item.id)}{suffix}" for suffix in _OBJECT_SUFFIXES)
    for layer in spec.layers:
        nested = nested_spec(layer.config) if layer.type == "Model" else None
        if nested is not None:
            names |= _variable_names(nested)
    return names


@dataclass
class _Function:
    """The ``build_<id>()`` function of a nested model."""

    name: str
    lines: list[str]


class _Generator:
    """Writes the statements of one spec (the script body, or a nested model's function body)."""

    def __init__(self, spec: GraphSpec, indent: str, functions: list[_Function], function_names: set[str]) -> None:
        self.spec = spec
        self.indent = indent
        self.functions = functions
        self.function_names = function_names
        self.names = _Names(function_names)
        self.lines: list[str] = []
        self.call_variables: dict[str, str] = {}
        self.output_counts: dict[str, int] = {}
        self.layer_variables: dict[str, str] = {}
        self.source_inputs: dict[str, str] = {}
        self.uses_layers = False

    # naming

    def _name_calls(self, order: list[str]) -> None:
        """Give every call its variable first, so that tensors get the plain names and layer objects the suffixed ones."""
        for call_id in order:
            call = self.spec.call(call_id)
            layer = self.spec.layer(call.layer)
            count = _output_count(self.spec, layer, call_id)
            self.output_counts[call_id] = count
            base = _identifier(call_id)
            self.call_variables[call_id] = self.names.claim(f"{base}_outputs" if count > 1 else base)

    def _needs_object(self, layer: LayerSpec) -> bool:
        """Whether a layer gets its own variable (used more than once, frozen, a model or an application)."""
        return (
            layer.type == "Model"
            or catalog.canonical_type(layer.type) in catalog.APPLICATION_TYPES
            or len(self.spec.calls_of(layer.id)) > 1
            or not layer.trainable
        )

    def _object_variable(self, layer: LayerSpec, suffix: str) -> str:
        """The variable of a layer object: its id, or its id with `suffix` when a call already has that name."""
        base = _identifier(layer.id)
        return self.names.claim(base, f"{base}_{suffix}")

    def reference(self, ref: str) -> str:
        """The Python expression of a tensor reference ``call`` / ``call:2``."""
        call_id, index = split_ref(ref)
        variable = self.call_variables[call_id]
        return f"{variable}[{index}]" if self.output_counts[call_id] > 1 else variable

    # statements

    def emit(self, target: str, expression: _Expression) -> None:
        """Append ``target = expression``, laid out to fit."""
        self.lines += _layout(expression, self.indent, f"{target} = ")

    def _emit_input(self, layer: LayerSpec, call_id: str) -> None:
        """``img = keras.Input(shape=(784,), name="img")`` (what ``catalog.create_input`` makes)."""
        arguments: list[_Expression] = []
        if "shape" in layer.config:
            arguments.append(_Keyword("shape", _literal(_tuples(layer.config["shape"]))))
        for key, value in layer.config.items():
            if key != "shape":
                arguments.append(_Keyword(key, _argument_value("Input", key, value, layer.id)))
        arguments.append(_Keyword("name", _string(layer.id)))
        self.emit(self.call_variables[call_id], _Bracketed("keras.Input", "(", arguments, ")"))

    def _create_object(self, layer: LayerSpec, type_name: str) -> str:
        """Create a layer's object once (at its first call, as the builder does) and return its variable."""
        if layer.id in self.layer_variables:
            return self.layer_variables[layer.id]
        if layer.type == "Model":
            variable = self._object_variable(layer, "model")
            function = self._nested_function(layer)
            self.emit(variable, f"{function}()")
        elif type_name in catalog.APPLICATION_TYPES:
            variable = self._create_application(layer, type_name)
        else:
            variable = self._object_variable(layer, "layer")
            self.uses_layers = True
            self.emit(variable, _layer_constructor(type_name, layer.config, layer.id))
        if not layer.trainable:
            self.lines.append(f"{self.indent}{variable}.trainable = False")
        self.layer_variables[layer.id] = variable
        return variable

    def _create_application(self, layer: LayerSpec, type_name: str) -> str:
        """The application as ``<id>_base`` (plus, when called on a tensor, the wrapping model the catalogue makes)."""
        base = self.names.claim(f"{_identifier(layer.id)}_base")
        self.emit(base, _application_constructor(type_name, layer.config))
        for inner_name in layer.config.get("frozen") or []:
            self.lines.append(f"{self.indent}{base}.get_layer({_string(inner_name)}).trainable = False")
        self.source_inputs[layer.id] = f"{base}.input"
        if is_source(self.spec, self.spec.calls_of(layer.id)[0].id):
            return base
        variable = self._object_variable(layer, "model")
        model = _Bracketed(
            "keras.Model",
            "(",
            [
                _Keyword("inputs", f"{base}.input"),
                _Keyword("outputs", _one_or_list(self._application_outputs(layer, base))),
                _Keyword("name", _string(layer.id)),
            ],
            ")",
        )
        self.emit(variable, model)
        return variable

    def _application_outputs(self, layer: LayerSpec, base: str) -> list[_Expression]:
        """The exposed inner outputs (``outputs`` config), or the application's own output."""
        names = layer.config.get("outputs") or []
        if not names:
            return [f"{base}.output"]
        # The input layer's auto-generated name depends on what the process built before: use `.input`.
        return [f"{base}.input" if name == "input_layer" else f"{base}.get_layer({_string(name)}).output" for name in names]

    def _nested_function(self, layer: LayerSpec) -> str:
        """Write the ``build_<id>()`` function of a nested model and return its name."""
        nested = nested_spec(layer.config)
        if nested is None:
            raise SpecError("the nested model's `spec` is missing or not a valid spec", node=layer.id)
        nested = nested.copy()
        nested.name = layer.id  # the builder names a nested model after its layer
        name = _Names(self.function_names | _variable_names(self.spec)).claim(f"build_{_identifier(layer.id)}")
        self.function_names.add(name)
        generator = _Generator(nested, INDENT, self.functions, self.function_names)
        generator.write_body()
        self.uses_layers = self.uses_layers or generator.uses_layers
        docstring = f'{INDENT}"""The nested model {_string(layer.id)}, used as a layer."""'
        self.functions.append(_Function(name, [f"def {name}():", docstring, *generator.lines, *generator.model_lines("return ")]))
        return name

    def _emit_call(self, call_id: str) -> None:
        """The statement(s) of one call, made the way ``build._Builder.run_call`` makes it."""
        call = self.spec.call(call_id)
        layer = self.spec.layer(call.layer)
        target = self.call_variables[call_id]
        if layer.type == "Input":
            self._emit_input(layer, call_id)
            return
        type_name = "Model" if layer.type == "Model" else catalog.canonical_type(layer.type)
        if type_name in catalog.APPLICATION_TYPES and is_source(self.spec, call_id):
            base = self._create_object(layer, type_name)
            self.emit(target, _one_or_list(self._application_outputs(layer, base)))
            return
        arguments = [self.reference(ref) for ref in call.inputs]
        group = "Models" if type_name == "Model" else catalog.get_layer_type(type_name).group
        if group == "Merge" or (group == "Models" and len(arguments) > 1):
            call_arguments: list[_Expression] = [_Bracketed("", "[", list(arguments), "]")]
        else:
            call_arguments = list(arguments)
        if self._needs_object(layer):
            callee: str | _Bracketed = self._create_object(layer, type_name)
        else:
            self.uses_layers = True
            callee = _layer_constructor(type_name, layer.config, layer.id)
        self.emit(target, _Bracketed(callee, "(", call_arguments, ")"))

    def write_body(self) -> None:
        """Write every call in the builder's order."""
        # A layer that is never called is simply left out; every other structural problem stops the script.
        problems = [problem for problem in check_structure(self.spec) if problem.kind != "unused_layer"]
        if problems:
            raise SpecError(problems)
        order, _ = topological_order(self.spec)
        self._name_calls(order)
        for call_id in order:
            self._emit_call(call_id)

    def _outputs_expression(self) -> _Expression:
        """The model's outputs; every output of one call, in order, is that call's list variable itself."""
        call_ids = {split_ref(ref)[0] for ref in self.spec.outputs}
        if len(self.spec.outputs) > 1 and len(call_ids) == 1:
            call_id = call_ids.pop()
            count = self.output_counts[call_id]
            if [split_ref(ref)[1] for ref in self.spec.outputs] == list(range(count)):
                return self.call_variables[call_id]
        return _one_or_list([self.reference(ref) for ref in self.spec.outputs])

    def model_lines(self, target: str) -> list[str]:
        """``model = keras.Model(inputs=..., outputs=..., name=...)`` (or ``return keras.Model(...)``)."""
        inputs: list[_Expression] = []
        for ref in self.spec.inputs:
            layer = self.spec.layer_of(ref)
            inputs.append(self.source_inputs[layer.id] if layer.type != "Input" else self.reference(ref))
        arguments = [
            _Keyword("inputs", _one_or_list(inputs)),
            _Keyword("outputs", self._outputs_expression()),
            _Keyword("name", _string(self.spec.name)),
        ]
        expression = _Bracketed("keras.Model", "(", arguments, ")")
        return _layout(expression, self.indent, target)


def _header(spec: GraphSpec) -> list[str]:
    """The comment block at the top of the script."""
    title = " ".join(spec.name.split())
    lines = [f"# Generated by Keras Functional Studio from the spec {_string(title)}."]
    if spec.section.strip():
        lines.append(f"# Tutorial section: {' '.join(spec.section.split())}.")
    if spec.description.strip():
        lines += [f"# {line}" for line in textwrap.wrap(" ".join(spec.description.split()), LINE_LENGTH - 2)]
    lines.append("# Running it builds `model`: the same layers, configs and parameter count as the studio.")
    if needs_keras_name(spec.name):
        note = (
            f"Note: {KERAS_NAME_RULE}; rename it before training, e.g. model.name = {_string(keras_model_name(spec.name))} "
            f"(what the studio's training and saved files use for {_string(spec.name)})."
        )
        lines += [f"# {line}" for line in textwrap.wrap(note, LINE_LENGTH - 2)]
    return lines


def generate_code(spec: GraphSpec) -> str:
    """A runnable functional-API script that builds the spec's architecture as ``model``; SpecError if the spec is broken."""
    functions: list[_Function] = []
    generator = _Generator(spec, "", functions, set())
    generator.write_body()
    main = [*generator.lines, *generator.model_lines("model = ")]
    lines = [*_header(spec), "import keras"]
    if generator.uses_layers:
        lines.append("from keras import layers")
    for function in functions:
        lines += ["", "", *function.lines]
    lines += ["", "", *main] if functions else ["", *main]
    return "\n".join(lines) + "\n"

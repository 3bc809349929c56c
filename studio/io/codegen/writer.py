"""Spec -> the statements that build it, mirroring :mod:`studio.model.build` step by step (same layer names,
constructor arguments, creation order and ``trainable`` settings), so the code builds what the studio builds.

Two styles. "studio": every layer named, variables named after the ids, nested models as ``build_<id>()``
functions. "tutorial": short variable names (``inputs``, ``h1``, ``h2``, ``outputs``), ``name=`` only where an
id is not the name Keras gives the layer anyway, nested models written out before the model that uses them.
"""

from __future__ import annotations

import ast
from collections import Counter

import studio.io.codegen.syntax as py
from studio.catalog import types as catalog
from studio.graph.checks import is_source, nested_spec, topological_order
from studio.graph.naming import snake_case
from studio.graph.spec import GraphSpec, LayerSpec, SpecError, split_ref
from studio.i18n import _
from studio.io.codegen.layout import Blank, Function, quote
from studio.io.codegen.parts import (
    Context,
    Names,
    accepted_keywords,
    application_constructor,
    default_looking,
    highest_indexes,
    identifier,
    is_application,
    layer_constructor,
    one_or_list,
    output_count,
    variable_names,
)

MODEL_KEYWORDS = ("inputs", "outputs", "name", "trainable")


def _trainable_off(variable: ast.expr) -> ast.Assign:
    """``variable.trainable = False``."""
    return py.assign(py.attribute(variable, "trainable", store=True), py.literal(False))


def _get_layer(base: str, inner_name: str) -> ast.Call:
    """``base.get_layer("inner_name")``."""
    return py.call(py.attribute(py.name(base), "get_layer"), [py.literal(inner_name)])


class Writer:
    """Writes the statements of one spec: the file's model, or a nested model (a function body or a block)."""

    def __init__(self, spec: GraphSpec, context: Context, names: Names, nested: bool = False) -> None:
        self.spec = spec
        self.context = context
        self.tutorial = context.style == "tutorial"
        self.names = names
        self.nested = nested
        self.layers = {layer.id: layer for layer in spec.layers}
        self.calls = {call.id: call for call in spec.calls}
        self.call_counts = Counter(call.layer for call in spec.calls)
        self.highest = highest_indexes(spec)
        self.output_calls = list(dict.fromkeys(split_ref(ref)[0] for ref in spec.outputs))
        order, _unused = topological_order(spec)
        if len(order) != len(spec.calls):
            raise SpecError(_("the graph has a cycle; expected every node to come after its inputs"))
        self.order = order
        self.body: list = []
        self.prelude: list = []  # tutorial style: the nested models, written before this model
        self.call_variables: dict[str, str] = {}
        self.output_counts: dict[str, int] = {}
        self.layer_variables: dict[str, str] = {}
        self.source_inputs: dict[str, ast.expr] = {}

    # --- names ------------------------------------------------------------------------------------------

    def _tutorial_variable(self, call_id: str, count: int, hidden: list[int]) -> list[str]:
        """Candidates for a tensor's variable in the tutorial's manner: inputs, h1, h2 ..., outputs."""
        layer = self.layers[self.calls[call_id].layer]
        base = identifier(call_id)
        output_calls = self.output_calls
        prefix = f"{identifier(self.spec.name)}_" if self.nested else ""
        if layer.type == "Input":
            if len(self.spec.inputs) == 1:
                return [f"{prefix}input" if self.nested else "inputs"]
            return [base if "input" in base.lower() else f"{base}_input"]
        if self.call_counts[layer.id] > 1:  # the parser names a shared layer's calls after their variables
            return [f"{base}_outputs" if count > 1 else base]
        if output_calls == [call_id]:
            return [f"{prefix}output{'s' if count > 1 else ''}" if self.nested else "outputs"]
        named_object = call_id == layer.id and self._needs_object(layer)  # the layer's variable takes the id
        if call_id in output_calls or not (default_looking(call_id, layer) or named_object):
            return [f"{base}_outputs" if count > 1 else base]
        hidden[0] += 1
        return [f"h{hidden[0]}"]

    def _name_calls(self) -> None:
        """Give every call its variable first, so that tensors get the plain names and layer objects the others."""
        hidden = [0]
        shared = [call_id for call_id in self.order if self.call_counts[self.calls[call_id].layer] > 1]
        rest = [call_id for call_id in self.order if self.call_counts[self.calls[call_id].layer] == 1]
        # Tutorial style: a shared layer's calls claim their ids first, so that h1, h2 ... never take one of them.
        for call_id in shared + rest if self.tutorial else self.order:
            layer = self.layers[self.calls[call_id].layer]
            count = output_count(self.spec, layer, call_id, self.highest)
            self.output_counts[call_id] = count
            if self.tutorial:
                self.call_variables[call_id] = self.names.claim(*self._tutorial_variable(call_id, count, hidden))
            else:
                base = identifier(call_id)
                self.call_variables[call_id] = self.names.claim(f"{base}_outputs" if count > 1 else base)

    def _object_variable(self, layer: LayerSpec, suffix: str) -> str:
        """The variable of a layer object: its id, or its id with `suffix` when a tensor already has that name."""
        base = identifier(layer.id)
        variable = self.names.claim(base, f"{base}_{suffix}")
        self.context.objects.add(variable)
        return variable

    def _keras_name(self, layer_id: str, prefix: str) -> str | None:
        """The ``name=`` to write: None in the tutorial style when Keras gives the layer that name by itself."""
        if self.tutorial and layer_id == self.context.keras_names.next_name(prefix):
            self.context.keras_names.use(prefix)
            return None
        return layer_id

    def reference(self, ref: str) -> ast.expr:
        """The expression of a tensor reference ``call`` / ``call:2``."""
        call_id, index = split_ref(ref)
        variable = py.name(self.call_variables[call_id])
        if self.output_counts[call_id] > 1:
            return ast.Subscript(value=variable, slice=py.literal(index), ctx=ast.Load())
        return variable

    # --- statements -------------------------------------------------------------------------------------

    def emit(self, variable: str, value: ast.expr) -> None:
        """Append ``variable = value``."""
        self.body.append(py.assign(variable, value))

    def _needs_object(self, layer: LayerSpec) -> bool:
        """Whether a layer gets its own variable (used more than once, frozen, a model or an application)."""
        return layer.type == "Model" or is_application(layer) or self.call_counts[layer.id] > 1 or not layer.trainable

    def _emit_input(self, layer: LayerSpec, call_id: str) -> None:
        """``img = keras.Input(shape=(784,), name="img")`` (what ``catalog.create_input`` makes)."""
        accepted = accepted_keywords("Input")
        keywords = []
        if "shape" in layer.config:
            keywords.append(py.keyword_argument("shape", py.literal(py.tuples(layer.config["shape"]))))
        keywords += [
            py.keyword_argument(key, py.literal(py.tuples(value) if key == "shape" else value), accepted, "keras.Input")
            for key, value in layer.config.items()
            if key != "shape"
        ]
        name = self._keras_name(layer.id, "input_layer")
        if name is not None:
            keywords.append(py.keyword_argument("name", py.literal(name)))
        self.emit(self.call_variables[call_id], py.call("keras.Input", [], keywords))

    def _create_object(self, layer: LayerSpec, type_name: str) -> str:
        """Create a layer's object once (at its first call, as the builder does) and return its variable."""
        if layer.id in self.layer_variables:
            return self.layer_variables[layer.id]
        if layer.type == "Model":
            variable = self._nested_model(layer)
        elif type_name in catalog.APPLICATION_TYPES:
            variable = self._create_application(layer, type_name)
        else:
            variable = self._object_variable(layer, "layer")
            self.context.uses_layers = True
            self.emit(variable, layer_constructor(type_name, layer.config, self._keras_name(layer.id, snake_case(type_name))))
        if not layer.trainable and layer.type != "Model":
            self.body.append(_trainable_off(py.name(variable)))
        self.layer_variables[layer.id] = variable
        return variable

    def _create_application(self, layer: LayerSpec, type_name: str) -> str:
        """The application as ``<id>_base`` (plus, when called on a tensor, the wrapping model the catalogue makes)."""
        source = is_source(self.spec, self.spec.calls_of(layer.id)[0].id)
        if source:  # its own graph stays flat, so its name is the layer's id (Keras's default needs none in the tutorial style)
            default = self.tutorial and layer.id == type_name.lower()
            base = self._object_variable(layer, "base") if self.tutorial else self.names.claim(f"{identifier(layer.id)}_base")
            name = None if default else layer.id
        else:
            base = self.names.claim(f"{identifier(layer.id)}_base")
            name = None
        self.context.keras_names.use("input_layer")  # the application makes its own Input, named by Keras
        self.emit(base, application_constructor(type_name, layer.config, name))
        for inner_name in layer.config.get("frozen") or []:
            self.body.append(_trainable_off(_get_layer(base, inner_name)))
        self.source_inputs[layer.id] = py.attribute(py.name(base), "input")
        if source:
            return base
        variable = self._object_variable(layer, "model")
        keywords = [
            py.keyword_argument("inputs", py.attribute(py.name(base), "input"), MODEL_KEYWORDS),
            py.keyword_argument("outputs", one_or_list(self._application_outputs(layer, base)), MODEL_KEYWORDS),
            py.keyword_argument("name", py.literal(layer.id), MODEL_KEYWORDS),
        ]
        self.emit(variable, py.call("keras.Model", [], keywords))
        return variable

    def _application_outputs(self, layer: LayerSpec, base: str) -> list[ast.expr]:
        """The exposed inner outputs (``outputs`` config), or the application's own output."""
        names = layer.config.get("outputs") or []
        if not names:
            return [py.attribute(py.name(base), "output")]
        # The input layer's auto-generated name depends on what the process built before: use `.input`.
        return [
            py.attribute(py.name(base), "input") if name == "input_layer" else py.attribute(_get_layer(base, name), "output")
            for name in names
        ]

    def _nested_model(self, layer: LayerSpec) -> str:
        """A nested model's variable: ``<id>_model = build_<id>()`` (studio), or its block written before this model (tutorial)."""
        nested = nested_spec(layer.config)
        if nested is None:
            raise SpecError(_("the nested model's `spec` is missing or not a valid spec"), node=layer.id)
        nested = nested.copy()
        nested.name = layer.id  # the builder names a nested model after its layer
        if self.tutorial:
            variable = self._object_variable(layer, "model")
            writer = Writer(nested, self.context, Names(self.context.objects | self.context.reserved), nested=True)
            writer.write()
            self.prelude += [*writer.prelude, *writer.body, *writer.model_statements(variable)]
            if not layer.trainable:
                self.prelude.append(_trainable_off(py.name(variable)))
            self.prelude.append(Blank())
            return variable
        variable = self._object_variable(layer, "model")
        function = Names(self.context.function_names | variable_names(self.spec)).claim(f"build_{identifier(layer.id)}")
        self.context.function_names.add(function)
        writer = Writer(nested, self.context, Names(self.context.function_names))
        writer.write()
        body = [*writer.body, *writer.model_statements(None)]
        docstring = f"The nested model {quote(layer.id)}, used as a layer."
        self.context.functions.append(Function(function, [], docstring, body))
        self.emit(variable, py.call(py.name(function)))
        if not layer.trainable:
            self.body.append(_trainable_off(py.name(variable)))
        return variable

    def _emit_call(self, call_id: str) -> None:
        """The statement(s) of one call, made the way ``build._Builder.run_call`` makes it."""
        call = self.calls[call_id]
        layer = self.layers[call.layer]
        target = self.call_variables[call_id]
        if layer.type == "Input":
            self._emit_input(layer, call_id)
            return
        type_name = "Model" if layer.type == "Model" else catalog.canonical_type(layer.type)
        if type_name in catalog.APPLICATION_TYPES and is_source(self.spec, call_id):
            base = self._create_object(layer, type_name)
            self.emit(target, one_or_list(self._application_outputs(layer, base)))
            return
        arguments = [self.reference(ref) for ref in call.inputs]
        group = "Models" if type_name == "Model" else catalog.get_layer_type(type_name).group
        if group == "Merge" or (group == "Models" and len(arguments) > 1):
            arguments = [ast.List(elts=arguments, ctx=ast.Load())]
        if self._needs_object(layer):
            callee: ast.expr = py.name(self._create_object(layer, type_name))
        else:
            self.context.uses_layers = True
            callee = layer_constructor(type_name, layer.config, self._keras_name(layer.id, snake_case(type_name)))
        self.emit(target, py.call(callee, arguments))

    def write(self) -> None:
        """Write every call in the builder's order (tutorial style: the nested models first, in order of use)."""
        self._name_calls()
        if self.tutorial:
            for call_id in self.order:
                layer = self.layers[self.calls[call_id].layer]
                if layer.type == "Model":
                    self._create_object(layer, "Model")
        for call_id in self.order:
            self._emit_call(call_id)

    def _outputs_expression(self) -> ast.expr:
        """The model's outputs; every output of one call, in order, is that call's list variable itself."""
        call_ids = {split_ref(ref)[0] for ref in self.spec.outputs}
        if len(self.spec.outputs) > 1 and len(call_ids) == 1:
            call_id = call_ids.pop()
            if [split_ref(ref)[1] for ref in self.spec.outputs] == list(range(self.output_counts[call_id])):
                return py.name(self.call_variables[call_id])
        return one_or_list([self.reference(ref) for ref in self.spec.outputs])

    def model_call(self) -> ast.Call:
        """``keras.Model(inputs=..., outputs=..., name=...)``."""
        inputs = []
        for ref in self.spec.inputs:
            layer = self.layers[self.calls[split_ref(ref)[0]].layer]
            inputs.append(self.source_inputs[layer.id] if layer.type != "Input" else self.reference(ref))
        keywords = [
            py.keyword_argument("inputs", one_or_list(inputs), MODEL_KEYWORDS),
            py.keyword_argument("outputs", self._outputs_expression(), MODEL_KEYWORDS),
            py.keyword_argument("name", py.literal(self.spec.name), MODEL_KEYWORDS),
        ]
        return py.call("keras.Model", [], keywords)

    def model_statements(self, variable: str | None) -> list[ast.stmt]:
        """``variable = keras.Model(...)``, or ``return keras.Model(...)`` when `variable` is None."""
        if variable is None:
            return [ast.Return(value=self.model_call())]
        return [py.assign(variable, self.model_call())]

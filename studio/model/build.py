"""Spec -> ``keras.Model``: calls each layer on symbolic tensors in topological order, collecting
every problem on the node that caused it."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import keras

from studio.catalog import types as catalog
from studio.graph.checks import check_structure, is_source, nested_spec, topological_order
from studio.graph.shapes import shapes_text
from studio.graph.spec import GraphSpec, Problem, SpecError, split_ref
from studio.i18n import _


@dataclass
class NodeInfo:
    """What building one call gave: its output shapes and its layer's parameter count."""

    call_id: str
    layer_id: str
    layer_type: str
    output_shapes: list[tuple] = field(default_factory=list)
    params: int | None = None
    trainable_params: int | None = None


@dataclass
class BuildResult:
    """The outcome of building a spec: the model (None on failure), per-node info and problems."""

    spec: GraphSpec
    model: keras.Model | None
    nodes: dict[str, NodeInfo]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """True when the model was built without any problem."""
        return self.model is not None and not self.problems

    def problems_for(self, node_id: str) -> list[Problem]:
        """The problems attached to one call or layer."""
        return [problem for problem in self.problems if problem.node == node_id]


def spec_key(spec: GraphSpec) -> str:
    """A content hash of a spec, for caching built models."""
    return hashlib.sha256(json.dumps(spec.model_dict(), ensure_ascii=False).encode("utf-8")).hexdigest()


def error_text(error: BaseException, max_chars: int = 1200, max_lines: int | None = None) -> str:
    """An exception as one message: its text (or its type's name), at most ``max_lines`` non-blank lines and ``max_chars``."""
    text = str(error).strip() or type(error).__name__
    if max_lines is not None:
        text = " ".join([line for line in text.splitlines() if line.strip()][:max_lines])
    return text if len(text) <= max_chars else text[:max_chars] + " ..."


def as_list(outputs: Any) -> list:
    """A model's or layer's outputs as a list, whether Keras gave one tensor, a list, a tuple or a dict."""
    if isinstance(outputs, (list, tuple)):
        return list(outputs)
    if isinstance(outputs, dict):
        return list(outputs.values())
    return [outputs]


class _Builder:
    """Holds the state of one build: Keras layer objects by layer id and tensors by call id."""

    def __init__(self, spec: GraphSpec) -> None:
        self.spec = spec
        self.layers: dict[str, Any] = {}
        self.failed_layers: set[str] = set()
        self.tensors: dict[str, list] = {}
        self.source_tensors: dict[str, list] = {}
        self.nodes: dict[str, NodeInfo] = {}
        self.problems: list[Problem] = []

    def keras_layer(self, layer_id: str) -> Any | None:
        """Create a layer once (a shared layer is one object); a creation failure is a node problem."""
        if layer_id in self.layers or layer_id in self.failed_layers:
            return self.layers.get(layer_id)
        layer = self.spec.layer(layer_id)
        try:
            if layer.type == "Model":
                created = build_model(nested_spec(layer.config), name=layer_id)
            else:
                created = catalog.create_layer(catalog.canonical_type(layer.type), layer.config, name=layer_id)
        except SpecError as error:
            self.failed_layers.add(layer_id)
            inner = "; ".join(problem.text() for problem in error.problems)
            self.problems.append(Problem(layer_id, "nested_model", _("the nested model does not build: {problems}").format(problems=inner)))
            return None
        except Exception as error:  # noqa: BLE001 - any Keras constructor error becomes a node message
            self.failed_layers.add(layer_id)
            self.problems.append(Problem(layer_id, "bad_parameter", error_text(error)))
            return None
        if not layer.trainable:
            created.trainable = False
        self.layers[layer_id] = created
        return created

    def input_tensors(self, refs: list[str], consumer: str | None) -> list | None:
        """The tensors a call (or, for ``consumer=None``, the model) takes; None when one is missing."""
        tensors = []
        for ref in refs:
            call_id, index = split_ref(ref)
            produced = self.tensors.get(call_id)
            if produced is None:
                return None
            if index >= len(produced):
                if consumer:
                    message = _("input '{ref}' asks for output {index} of '{node}', which has {count} output(s)")
                else:
                    message = _("model output '{ref}' asks for output {index} of '{node}', which has {count} output(s)")
                message = message.format(ref=ref, index=index, node=call_id, count=len(produced))
                self.problems.append(Problem(consumer, "dangling_input", message))
                return None
            tensors.append(produced[index])
        return tensors

    def run_call(self, call_id: str) -> None:
        """Make one call's tensors from its inputs' tensors."""
        call = self.spec.call(call_id)
        layer_spec = self.spec.layer(call.layer)
        if layer_spec.type == "Input":
            try:
                tensor = catalog.create_input(layer_spec.config, name=layer_spec.id)
            except Exception as error:  # noqa: BLE001 - a bad Input config is a node message
                self.problems.append(Problem(call_id, "bad_parameter", _("Input: {keras_error}").format(keras_error=error_text(error))))
                return
            self.source_tensors[call_id] = [tensor]
            self._record(call_id, [tensor], None)
            return
        layer = self.keras_layer(layer_spec.id)
        if layer is None:
            return
        if is_source(self.spec, call_id):  # an application on its own input: keep its graph flat
            self.source_tensors[call_id] = list(layer.inputs)
            self._record(call_id, list(layer.outputs), layer)
            return
        tensors = self.input_tensors(call.inputs, call_id)
        if tensors is None:
            return
        try:
            outputs = self._apply(layer, layer_spec.type, tensors)
        except Exception as error:  # noqa: BLE001 - Keras's own shape/type message, kept on this node
            received = shapes_text([tensor.shape for tensor in tensors], limit=None)
            message = _("{type} cannot take {received}: {keras_error}")
            message = message.format(type=layer_spec.type, received=received, keras_error=error_text(error))
            self.problems.append(Problem(call_id, "shape", message))
            return
        self._record(call_id, as_list(outputs), layer)

    def _apply(self, layer: Any, layer_type: str, tensors: list) -> Any:
        group = "Models" if layer_type == "Model" else catalog.get_layer_type(catalog.canonical_type(layer_type)).group
        if group == "Merge" or (group == "Models" and len(tensors) > 1):
            return layer(tensors)
        return layer(*tensors)

    def _record(self, call_id: str, outputs: list, layer: Any | None) -> None:
        call = self.spec.call(call_id)
        self.tensors[call_id] = outputs
        info = NodeInfo(call_id, call.layer, self.spec.layer(call.layer).type, [tuple(tensor.shape) for tensor in outputs])
        if layer is not None:
            info.params = int(layer.count_params())
            info.trainable_params = count_weights(layer.trainable_weights)
        else:
            info.params = info.trainable_params = 0
        self.nodes[call_id] = info

    def model(self) -> keras.Model | None:
        """Assemble the functional model from the inputs and outputs, if every piece was built."""
        inputs = [tensor for ref in self.spec.inputs for tensor in self.source_tensors.get(ref, [])]
        outputs = self.input_tensors(self.spec.outputs, None)
        if self.problems or outputs is None or len(inputs) < len(self.spec.inputs):
            return None
        try:
            return keras.Model(
                inputs=inputs[0] if len(inputs) == 1 else inputs,
                outputs=outputs[0] if len(outputs) == 1 else outputs,
                name=self.spec.name,
            )
        except Exception as error:  # noqa: BLE001 - e.g. a disconnected graph; Keras says why
            message = _("Keras cannot assemble the model: {keras_error}")
            self.problems.append(Problem(None, "invalid", message.format(keras_error=error_text(error))))
            return None


def count_weights(weights: list) -> int:
    """Number of scalars in a list of Keras variables."""
    return int(sum(math.prod(int(dimension) for dimension in weight.shape) for weight in weights))


def analyze(spec: GraphSpec) -> BuildResult:
    """Build what can be built and collect every problem; never raises for a bad spec."""
    problems = check_structure(spec)
    builder = _Builder(spec)
    builder.problems = list(problems)
    if any(problem.kind == "duplicate_id" for problem in problems):
        return BuildResult(spec, None, builder.nodes, builder.problems)
    order = topological_order(spec)[0]
    blocked = {problem.node for problem in problems if problem.kind in ("dangling_input", "bad_arity", "missing_input", "cycle")}
    unknown_layers = {problem.node for problem in problems if problem.kind in ("unknown_type", "bad_parameter")}
    for layer in spec.layers:  # create every layer first, so each bad parameter is reported, wired or not
        if layer.type != "Input" and layer.id not in unknown_layers and spec.calls_of(layer.id):
            builder.keras_layer(layer.id)
    for call_id in order:
        call = spec.call(call_id)
        if call_id in blocked or call.layer in unknown_layers or spec.layer(call.layer) is None:
            continue
        builder.run_call(call_id)
    model = builder.model()
    return BuildResult(spec, model, builder.nodes, builder.problems)


def build_model(spec: GraphSpec | None, name: str | None = None) -> keras.Model:
    """Build a spec into a ``keras.Model``, or raise :class:`SpecError` listing every problem."""
    if spec is None:
        raise SpecError(_("the nested model has no valid `spec` in its config"))
    if name is not None and name != spec.name:
        spec = spec.copy()
        spec.name = name
    result = analyze(spec)
    if not result.ok:
        raise SpecError(result.problems or [Problem(None, "invalid", _("the model could not be built"))])
    return result.model

"""Does generated code say the graph it was made from? Parse it back (:func:`studio.io.pycode.parse_code`, never
run) and compare the graphs: layers (type, config, trainable), calls and their wiring, inputs and outputs."""

from __future__ import annotations

from typing import Any

from studio.graph.checks import nested_spec
from studio.graph.spec import GraphSpec
from studio.io.pycode import parse_code
from studio.model.names import keras_model_name


def graph_form(spec: GraphSpec) -> dict[str, Any]:
    """What makes the graph: its layers, calls, inputs and outputs by id, and its model name as Keras can train it.

    Left out: the description, tutorial section and canvas layout (nothing builds from them), a nested spec's own
    name (the builder names a nested model after its layer), and the difference between a name and its trainable
    spelling ('mnist model' and 'mnist_model'), which tutorial-style code renames before training.
    """
    layers = {}
    for layer in spec.layers:
        config = dict(layer.config)
        nested = nested_spec(config) if layer.type == "Model" else None
        if nested is not None:
            config["spec"] = {key: value for key, value in graph_form(nested).items() if key != "name"}
        layers[layer.id] = (layer.type, config, layer.trainable)
    return {
        "name": keras_model_name(spec.name),
        "layers": layers,
        "calls": {call.id: (call.layer, list(call.inputs)) for call in spec.calls},
        "inputs": list(spec.inputs),
        "outputs": list(spec.outputs),
    }


def parse_back_problem(spec: GraphSpec, code: str) -> str | None:
    """None when the code parses back to the spec's graph; else what went wrong or differs, in a sentence."""
    result = parse_code(code, filename="<generated>")
    if result.errors:
        return "the parser reports " + "; ".join(problem.text() for problem in result.errors[:3])
    parsed = result.default_model
    if parsed is None:
        return "the parser finds no model in it"
    mine, theirs = graph_form(spec), graph_form(parsed.spec)
    differing = [key for key in mine if mine[key] != theirs[key]]
    return f"it parses to a different graph ({', '.join(differing)} differ)" if differing else None

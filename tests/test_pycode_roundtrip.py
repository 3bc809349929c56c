"""Round trip: spec -> generated code (studio.io.codegen) -> parser -> the same spec (ids, configs, wiring, outputs),
for every preset, every catalogue type, and random valid specs built from the catalogue (hypothesis)."""

from __future__ import annotations

import builtins
import copy
import keyword
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.catalog import types as catalog
from studio.catalog.table import APPLICATION_TYPES, PLAIN_LAYERS, RECURRENT_TYPES, TYPE_NAMES, default_config, type_arity
from studio.graph.checks import check_structure
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import CallSpec, GraphSpec, LayerSpec, spec_from_dict
from studio.io.codegen import generate_code
from studio.io.pycode import parse_code


def normalized(spec: GraphSpec) -> dict:
    """What must survive the round trip: name, layers (type, config, trainable) and calls by id, ordered inputs and outputs."""
    layers = {}
    for layer in spec.layers:
        config = copy.deepcopy(layer.config)
        if layer.type == "Model":
            config["spec"] = normalized(spec_from_dict(config["spec"]))
        layers[layer.id] = (layer.type, config, layer.trainable)
    return {
        "name": spec.name,
        "layers": layers,
        "calls": {call.id: (call.layer, list(call.inputs)) for call in spec.calls},
        "inputs": list(spec.inputs),
        "outputs": list(spec.outputs),
    }


def round_trip(spec: GraphSpec) -> GraphSpec:
    code = generate_code(spec)
    result = parse_code(code, filename="<generated>")
    assert not result.errors, [problem.text() for problem in result.errors] + [code]
    return result.default_model.spec


@pytest.mark.parametrize("key", preset_names())
def test_every_preset_survives_code_and_back(key: str) -> None:
    spec = load_preset(key)
    assert normalized(round_trip(spec)) == normalized(spec)


def _inner_spec(name: str) -> dict:
    return {
        "name": name,
        "layers": [{"id": "features", "type": "Input", "config": {"shape": [6]}}, {"id": "score", "type": "Dense", "config": {"units": 2}}],
        "calls": [{"id": "features", "layer": "features", "inputs": []}, {"id": "score", "layer": "score", "inputs": ["features"]}],
        "inputs": ["features"],
        "outputs": ["score"],
    }


def spec_with(type_name: str, layer_id: str = "node") -> GraphSpec:
    """The smallest spec using one layer of `type_name` on as many Inputs as it needs."""
    if type_name == "Input":
        layer = LayerSpec("data", "Input", {"shape": [8]})
        return GraphSpec("one_input", [layer], [CallSpec("data", "data", [])], ["data"], ["data"])
    minimum, _ = (1, 1) if type_name == "Model" else type_arity(type_name)
    count = max(minimum, 1)
    shape = [224, 224, 3] if type_name in APPLICATION_TYPES else [8, 4]
    inputs = [LayerSpec(f"in{index}", "Input", {"shape": shape}) for index in range(count)]
    config = {"spec": _inner_spec(layer_id)} if type_name == "Model" else default_config(type_name)
    layers = [*inputs, LayerSpec(layer_id, type_name, config)]
    calls = [*(CallSpec(layer.id, layer.id, []) for layer in inputs), CallSpec(layer_id, layer_id, [layer.id for layer in inputs])]
    return GraphSpec(f"with_{type_name.lower()}", layers, calls, [layer.id for layer in inputs], [layer_id])


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_every_catalogue_type_survives_code_and_back(type_name: str) -> None:
    spec = spec_with(type_name, "backbone" if type_name in APPLICATION_TYPES else "node")
    assert normalized(round_trip(spec)) == normalized(spec)


@pytest.mark.parametrize("type_name", sorted(APPLICATION_TYPES))
def test_every_application_on_its_own_input_survives_code_and_back(type_name: str) -> None:
    """Feature extraction: the application starts the graph. Its id is the name Keras gives it."""
    config = default_config(type_name)
    layer_id = "mobilenetv2_1.00_224" if type_name == "MobileNetV2" else type_name.lower()
    spec = GraphSpec("extractor", [LayerSpec(layer_id, type_name, config)], [CallSpec(layer_id, layer_id, [])], [layer_id], [layer_id])
    assert normalized(round_trip(spec)) == normalized(spec)


def test_an_application_on_its_own_input_keeps_an_id_of_its_own() -> None:
    spec = GraphSpec("extractor", [LayerSpec("backbone", "VGG16", default_config("VGG16"))],
                     [CallSpec("backbone", "backbone", [])], ["backbone"], ["backbone"])
    assert normalized(round_trip(spec)) == normalized(spec)


# --- random valid specs built from the catalogue ---------------------------------------------------

_SINGLE_INPUT = [name for name in PLAIN_LAYERS if type_arity(name) == (1, 1)]
_EXTRA_KINDS = ("choice", "bool", "int", "float")
_IDS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,8}", fullmatch=True).filter(lambda text: not text.startswith("call_"))
# A shared layer's calls take their variables' names, so its id must be a plain Python name (codegen keeps it as the variable).
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TAKEN_NAMES = frozenset({*keyword.kwlist, *dir(builtins), "keras", "layers", "model"})


def _extra(draw: st.DrawFn, type_name: str, config: dict) -> dict:
    """The starter config, maybe with one more parameter the catalogue accepts."""
    layer_type = catalog.get_layer_type(type_name)
    optional = [param for param in layer_type.params if param.kind in _EXTRA_KINDS and param.name not in config]
    if type_name not in RECURRENT_TYPES:
        optional = [param for param in optional if param.name != "return_state"]
    if not optional or not draw(st.booleans()):
        return config
    param = draw(st.sampled_from(optional))
    if param.kind == "choice":
        value = draw(st.sampled_from(list(param.choices)))
    elif param.kind == "bool":
        value = draw(st.booleans())
    elif param.kind == "int":
        value = draw(st.integers(1, 9))
    else:
        value = draw(st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False))
    candidate = {**config, param.name: value}
    try:
        catalog.coerce_config(type_name, candidate, "candidate")
    except (ValueError, TypeError):
        return config
    return candidate


@st.composite
def random_specs(draw: st.DrawFn) -> GraphSpec:
    """A structurally valid spec: Inputs, then layers (some shared, some frozen, maybe a nested model) wired to earlier tensors."""
    ids = draw(st.lists(_IDS, min_size=12, max_size=12, unique_by=str.lower))
    layers: list[LayerSpec] = []
    calls: list[CallSpec] = []
    refs: list[str] = []
    single_call_layers: list[LayerSpec] = []
    for _ in range(draw(st.integers(1, 2))):
        layer = LayerSpec(ids.pop(), "Input", {"shape": draw(st.sampled_from([[8], [None], [6, 4], [5, 5, 2]]))})
        layers.append(layer)
        calls.append(CallSpec(layer.id, layer.id, []))
        refs.append(layer.id)
    for step in range(draw(st.integers(1, 6))):
        choice = draw(st.sampled_from(["layer", "layer", "layer", "merge", "shared", "nested"]))
        if choice == "shared" and single_call_layers:
            layer = draw(st.sampled_from(single_call_layers))
            single_call_layers.remove(layer)
            call = CallSpec(f"call_{step}", layer.id, [draw(st.sampled_from(refs))])
        elif choice == "merge" and len(refs) >= 2:
            type_name = draw(st.sampled_from(["Concatenate", "Add", "Multiply", "Average", "Maximum", "Minimum", "Subtract", "Dot"]))
            count = 2 if type_name in ("Subtract", "Dot") else draw(st.integers(2, min(3, len(refs))))
            layer = LayerSpec(ids.pop(), type_name, default_config(type_name))
            call = CallSpec(layer.id, layer.id, draw(st.lists(st.sampled_from(refs), min_size=count, max_size=count)))
        elif choice == "nested":
            layer_id = ids.pop()
            layer = LayerSpec(layer_id, "Model", {"spec": _inner_spec(layer_id)}, trainable=draw(st.booleans()))
            call = CallSpec(layer_id, layer_id, [draw(st.sampled_from(refs))])
        else:
            type_name = draw(st.sampled_from(_SINGLE_INPUT))
            layer = LayerSpec(ids.pop(), type_name, _extra(draw, type_name, default_config(type_name)), trainable=draw(st.booleans()))
            call = CallSpec(layer.id, layer.id, [draw(st.sampled_from(refs))])
            plain = _PLAIN_NAME.fullmatch(layer.id) and layer.id not in _TAKEN_NAMES
            if plain and type_name not in ("Bidirectional", "TimeDistributed") and not layer.config.get("return_state"):
                single_call_layers.append(layer)
        if all(existing.id != layer.id for existing in layers):
            layers.append(layer)
        calls.append(call)
        refs.append(call.id)
        if layer.config.get("return_state"):
            refs.append(f"{call.id}:1")
    consumed = {ref for call in calls for ref in call.inputs}
    outputs = [ref for ref in refs[len([c for c in calls if not c.inputs]):] if ref not in consumed] or [refs[-1]]
    inputs = [call.id for call in calls if not call.inputs]
    name = draw(st.text(min_size=1, max_size=10).filter(lambda text: text.strip() != ""))
    spec = GraphSpec(name, layers, calls, inputs, outputs)
    assert check_structure(spec) == [], check_structure(spec)
    return spec


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")  # Keras seeds its layers with `random`
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_specs())
def test_random_catalogue_specs_survive_code_and_back(spec: GraphSpec) -> None:
    assert normalized(round_trip(spec)) == normalized(spec)

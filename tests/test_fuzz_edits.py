"""Fuzzing the edit engine: any sequence of intents, sensible or hostile, either edits the spec or is refused with
EditError; nothing else escapes, the spec given is never changed, and every result survives spec -> JSON -> spec."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.graph.checks import check_structure
from studio.graph.edits import EditError
from studio.graph.intents import INTENT_KINDS, apply_intent
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import spec_from_json

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "x" * 300,
        "__import__('os')",
        "a\nb",
        "dense:-1",
        "dense:99",
        "dense:x",
        "💥",
        "../../etc",
        "None",
        "\x00",
    ]
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**12), st.floats(allow_nan=True), HOSTILE_TEXT)
TYPES = st.sampled_from(["Dense", "Input", "Concatenate", "Add", "VGG16", "Model", "Lambda", "LSTM", "Dropout", "dense"])
FIELDS = (
    "layer_type",
    "inputs",
    "node_id",
    "config",
    "as_output",
    "spec",
    "source",
    "target",
    "source_output",
    "slot",
    "edges",
    "nodes",
    "mode",
    "node",
    "positions",
    "params",
    "edge",
    "position",
)


@st.composite
def intents(draw, spec):
    """One intent: a real kind (or a made-up one) with fields drawn from the spec's own ids and from hostile values."""
    ids = [call.id for call in spec.calls] or ["nothing"]
    ref = st.one_of(st.sampled_from(ids), st.sampled_from(ids).map(lambda call_id: f"{call_id}:1"), HOSTILE_TEXT)
    edge = st.builds(lambda call_id, position: f"{call_id}/{position}", st.sampled_from(ids), st.integers(-1, 4))
    values = {
        "layer_type": st.one_of(TYPES, SCALARS),
        "inputs": st.one_of(st.lists(ref, max_size=3), SCALARS),
        "node_id": st.one_of(st.none(), HOSTILE_TEXT, st.sampled_from(ids)),
        "config": st.one_of(st.none(), st.dictionaries(st.sampled_from(["units", "rate", "shape", "bogus"]), SCALARS, max_size=2), SCALARS),
        "spec": st.one_of(st.none(), st.just(load_preset("mnist_mlp").to_dict()), st.dictionaries(HOSTILE_TEXT, SCALARS, max_size=2)),
        "source": ref,
        "target": ref,
        "node": ref,
        "source_output": st.one_of(st.integers(-1, 30), SCALARS),
        "slot": st.one_of(st.integers(-2, 5), SCALARS),
        "edges": st.one_of(st.lists(st.one_of(edge, HOSTILE_TEXT), max_size=3), SCALARS),
        "nodes": st.one_of(st.lists(ref, max_size=3), SCALARS),
        "mode": st.one_of(st.sampled_from(["refuse", "cascade", "rewire"]), SCALARS),
    }
    kind = draw(st.one_of(st.sampled_from(INTENT_KINDS), HOSTILE_TEXT))
    chosen = draw(st.lists(st.sampled_from(FIELDS), max_size=6, unique=True))
    intent = {"kind": kind}
    for name in chosen:
        intent[name] = draw(values.get(name, SCALARS))
    return intent


@settings(
    max_examples=int(os.environ.get("KFS_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_any_intent_sequence_edits_or_is_refused_and_nothing_else_escapes(data) -> None:
    spec = load_preset(data.draw(st.sampled_from([key for key in preset_names() if key != "vgg16_features"])))
    for _ in range(data.draw(st.integers(1, 8))):
        intent = data.draw(intents(spec))
        before = spec.to_json()
        try:
            edited = apply_intent(spec, intent)
        except EditError:
            assert spec.to_json() == before
            continue
        assert spec.to_json() == before, f"{intent} changed the spec it was given"
        assert spec_from_json(edited.to_json()).to_dict() == edited.to_dict()
        check_structure(edited)  # the structural checks never raise on what the engine makes
        spec = edited

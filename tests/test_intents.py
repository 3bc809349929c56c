"""The one edit engine: every intent the canvas sends gives the same spec (or the same refusal) as the forms' edit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from studio.graph import blocks, deletion, edits, wiring
from studio.graph.edits import EditError, NodeInUseError, empty_spec
from studio.graph.intents import apply_intent
from studio.graph.layout import ROW_HEIGHT, layout_positions
from studio.graph.presets import load_preset
from studio.graph.spec import GraphSpec

FormEdit = Callable[[GraphSpec], GraphSpec]

# (preset, the intent the canvas sends, the edit the forms make for the same request)
SAME_REQUEST: list[tuple[str, dict, FormEdit]] = [
    ("mnist_mlp", {"kind": "add_node", "layer_type": "Dense", "inputs": ["dense_2"]},
     lambda spec: edits.add_layer(spec, "Dense", ["dense_2"])),
    ("mnist_mlp", {"kind": "add_node", "layer_type": "Dropout", "inputs": ["dense"], "as_output": False},
     lambda spec: edits.add_layer(spec, "Dropout", ["dense"], as_output=False)),
    ("mnist_mlp", {"kind": "add_node", "layer_type": "Input"}, lambda spec: edits.add_layer(spec, "Input")),
    ("mnist_mlp", {"kind": "add_node", "layer_type": "MaxPool2D"}, lambda spec: edits.add_layer(spec, "MaxPooling2D")),
    ("vgg16_features", {"kind": "add_node", "layer_type": "ResNet50"}, lambda spec: blocks.add_application(spec, "ResNet50")),
    ("mnist_mlp", {"kind": "add_node", "layer_type": "VGG16"}, lambda spec: blocks.add_application(spec, "VGG16")),
    ("mnist_mlp", {"kind": "add_node", "layer_type": "Model", "inputs": ["img"], "spec": load_preset("mnist_mlp").to_dict()},
     lambda spec: blocks.add_nested_model(spec, load_preset("mnist_mlp"), ["img"])),
    ("multi_io", {"kind": "connect", "source": "title", "target": "concatenate"},
     lambda spec: wiring.set_inputs(spec, "concatenate", ["lstm_1", "lstm", "tag", "title"])),
    ("multi_io", {"kind": "connect", "source": "title", "target": "concatenate", "slot": 0},
     lambda spec: wiring.set_inputs(spec, "concatenate", ["title", "lstm_1", "lstm", "tag"])),
    ("multi_io", {"kind": "disconnect", "edges": ["concatenate/0", "concatenate/2"]},
     lambda spec: wiring.set_inputs(spec, "concatenate", ["lstm"])),
    ("mnist_mlp", {"kind": "delete", "nodes": ["dense_1"]}, lambda spec: deletion.delete_node(spec, "dense_1")),
    ("mnist_mlp", {"kind": "delete", "nodes": ["dense_1"], "mode": "cascade"},
     lambda spec: deletion.delete_node(spec, "dense_1", "cascade")),
    ("mnist_mlp", {"kind": "delete", "nodes": ["dense_1"], "mode": "rewire"},
     lambda spec: deletion.delete_node(spec, "dense_1", "rewire")),
    ("mnist_mlp", {"kind": "delete", "nodes": ["dense_2"]}, lambda spec: deletion.delete_node(spec, "dense_2")),
    ("shared_embedding", {"kind": "share", "node": "feat1", "inputs": ["input2"]},
     lambda spec: edits.call_again(spec, "share_embedding", ["input2"])),
    ("mnist_mlp", {"kind": "share", "node": "dense_1"}, lambda spec: edits.call_again(spec, "dense_1", [])),
    ("mnist_mlp", {"kind": "share", "node": "img", "inputs": ["dense"]}, lambda spec: edits.call_again(spec, "img", ["dense"])),
    ("mnist_mlp", {"kind": "toggle_output", "node": "dense_1"}, lambda spec: wiring.toggle_output(spec, "dense_1")),
    ("vgg16_features", {"kind": "toggle_output", "node": "vgg16:3"}, lambda spec: wiring.toggle_output(spec, "vgg16:3")),
    ("mnist_mlp", {"kind": "connect", "source": "dense_2", "target": "dense"},
     lambda spec: wiring.set_inputs(spec, "dense", ["img", "dense_2"])),
    ("multi_io", {"kind": "connect", "source": "lstm", "target": "body"}, lambda spec: wiring.set_inputs(spec, "body", ["lstm"])),
    # an edge dropped on an occupied slot replaces the one there
    ("multi_io", {"kind": "connect", "source": "title", "target": "concatenate", "slot": 1, "replace": True},
     lambda spec: wiring.set_inputs(spec, "concatenate", ["lstm_1", "title", "tag"])),
    ("mnist_mlp", {"kind": "connect", "source": "img", "target": "dense_1", "slot": 0, "replace": True},
     lambda spec: wiring.set_inputs(spec, "dense_1", ["img"])),
    # a node dropped on an edge: the forms' two steps (add it on the edge's source, then rewire the target)
    ("multi_io", {"kind": "insert", "edge": "lstm/0", "layer_type": "Dropout"},
     lambda spec: wiring.set_inputs(edits.add_layer(spec, "Dropout", ["embedding"], as_output=False), "lstm", ["dropout"])),
    ("multi_io", {"kind": "insert", "edge": "concatenate/2", "layer_type": "Dense", "config": {"units": 8}},
     lambda spec: wiring.set_inputs(
         edits.add_layer(spec, "Dense", ["tag"], None, {"units": 8}, as_output=False), "concatenate", ["lstm_1", "lstm", "dense"])),
    # key parameters edited on the node, the node editor's one-parameter edit
    ("mnist_mlp", {"kind": "set_param", "node": "dense_1", "name": "units", "value": 128},
     lambda spec: edits.set_param(spec, "dense_1", "units", 128)),
    ("shared_embedding", {"kind": "set_param", "node": "feat2", "name": "output_dim", "value": 8},
     lambda spec: edits.set_param(spec, "share_embedding", "output_dim", 8)),
    ("mnist_mlp", {"kind": "set_param", "node": "dense", "name": "activation", "value": None},
     lambda spec: edits.set_params(spec, "dense", {"units": 32})),
    ("mnist_mlp", {"kind": "duplicate", "node": "dense_1"},
     lambda spec: edits.add_layer(spec, "Dense", ["dense"], None, {"units": 64, "activation": "relu"})),
    ("vgg16_features", {"kind": "duplicate", "node": "vgg16"}, lambda spec: blocks.duplicate_node(spec, "vgg16")),
    ("mnist_mlp", {"kind": "add_node", "layer_type": "Model", "inputs": ["dense_2"], "preset": "mnist_mlp"},
     lambda spec: blocks.add_nested_model(spec, load_preset("mnist_mlp"), ["dense_2"])),
]


def _outcome(edit: Callable[[], GraphSpec]) -> dict | tuple[str, str]:
    try:
        return edit().to_dict()
    except EditError as error:
        return type(error).__name__, str(error)


IDS = [f"{key}-{intent['kind']}-{number}" for number, (key, intent, _) in enumerate(SAME_REQUEST)]


@pytest.mark.parametrize(("key", "intent", "form_edit"), SAME_REQUEST, ids=IDS)
def test_the_same_intent_gives_the_same_spec_from_either_view(key: str, intent: dict, form_edit: FormEdit) -> None:
    spec = load_preset(key)
    from_canvas = _outcome(lambda: apply_intent(spec, intent))
    from_forms = _outcome(lambda: form_edit(spec))
    assert from_canvas == from_forms
    assert spec.to_dict() == load_preset(key).to_dict(), "an edit must never change the spec it was given"


def test_an_application_added_on_its_own_input_becomes_a_model_input_with_keras_ids() -> None:
    spec = apply_intent(load_preset("mnist_mlp"), {"kind": "add_node", "layer_type": "ResNet50"})
    assert spec.inputs == ["img", "resnet50"]
    spec = apply_intent(spec, {"kind": "add_node", "layer_type": "MobileNetV2"})
    assert spec.inputs == ["img", "resnet50", "mobilenetv2"]


def test_deleting_a_used_node_is_refused_naming_its_users_then_cascade_or_rewire() -> None:
    spec = load_preset("multi_io")
    with pytest.raises(NodeInUseError, match="Cannot delete 'lstm': concatenate uses its output"):
        apply_intent(spec, {"kind": "delete", "nodes": ["lstm"]})
    cascaded = apply_intent(spec, {"kind": "delete", "nodes": ["lstm"], "mode": "cascade"})
    assert cascaded.call("concatenate") is None and cascaded.outputs == ["embedding", "lstm_1"]  # the graph's new ends
    rewired = apply_intent(load_preset("mnist_mlp"), {"kind": "delete", "nodes": ["dense_1"], "mode": "rewire"})
    assert rewired.call("dense_2").inputs == ["dense"]


def test_deleting_a_node_together_with_its_users_needs_no_choice() -> None:
    spec = apply_intent(load_preset("mnist_mlp"), {"kind": "delete", "nodes": ["dense_1", "dense_2"]})
    assert [call.id for call in spec.calls] == ["img", "dense"] and spec.outputs == ["dense"]


def test_a_shared_call_needs_its_inputs() -> None:
    with pytest.raises(EditError, match="needs its input"):
        apply_intent(load_preset("mnist_mlp"), {"kind": "share", "node": "dense_1"})
    shared = apply_intent(load_preset("mnist_mlp"), {"kind": "share", "node": "dense_1", "inputs": ["dense_1"]})
    assert shared.calls[-1].layer == "dense_1" and shared.calls[-1].inputs == ["dense_1"]


@pytest.mark.parametrize(
    ("intent", "message"),
    [
        ({"kind": "connect", "source": "dense", "target": "dense"}, "cannot take its own output"),
        ({"kind": "connect", "source": "dense_2", "target": "dense"}, r"cycle: dense → dense_1 → dense_2 → dense"),
        ({"kind": "connect", "source": "img", "target": "dense_1"}, "takes at most 1 input"),
        ({"kind": "connect", "source": "nowhere", "target": "dense"}, "no node 'nowhere'"),
        ({"kind": "connect", "source": "img", "target": "dense", "slot": 5}, "slot 6 does not exist"),
        ({"kind": "disconnect", "edges": ["dense/7"]}, "no edge 'dense/7'"),
        ({"kind": "add_node", "layer_type": "Lambda"}, "Unknown layer type 'Lambda'"),
        ({"kind": "add_node", "layer_type": "Model", "spec": {"layers": 3}}, "needs its graph under 'spec'"),
        ({"kind": "add_node", "layer_type": "Dense", "inputs": "img"}, "must be a list of node ids"),
        ({"kind": "delete", "nodes": ["dense"], "mode": "explode"}, "Unknown delete mode"),
        ({"kind": "explode"}, "Unknown edit 'explode'"),
        ({"kind": "toggle_output"}, "needs 'node'"),
        ("not an intent", "must be an object"),
    ],
)
def test_bad_intents_are_refused_with_a_clear_message(intent: object, message: str) -> None:
    spec = load_preset("mnist_mlp")
    with pytest.raises(EditError, match=message):
        apply_intent(spec, intent)  # type: ignore[arg-type]
    assert spec.to_dict() == load_preset("mnist_mlp").to_dict()


def test_view_only_intents_change_the_layout_never_the_model() -> None:
    spec = load_preset("mnist_mlp")
    moved = apply_intent(spec, {"kind": "move", "positions": {"dense": [1, 2]}})
    assert moved.model_dict() == spec.model_dict()
    assert moved.layout["positions"]["dense"] == [1, 2] and set(moved.layout["positions"]) == {"img", "dense", "dense_1", "dense_2"}
    across = apply_intent(moved, {"kind": "layout", "direction": "LR"})
    assert across.model_dict() == spec.model_dict() and across.layout == {"direction": "LR"}
    with pytest.raises(EditError, match="'TB' \\(top-down\\) or 'LR'"):
        apply_intent(spec, {"kind": "layout", "direction": "diagonal"})


def test_outputs_are_the_graph_ends_unless_pinned() -> None:
    """The MLP wired by hand, as on the canvas (drop, then connect), ends with one output, not three."""
    spec = apply_intent(empty_spec(), {"kind": "add_node", "layer_type": "Input"})
    for source in ("input", "dense", "dense_1"):
        spec = apply_intent(spec, {"kind": "add_node", "layer_type": "Dense"})  # dropped on the empty canvas: an end
        spec = apply_intent(spec, {"kind": "connect", "source": source, "target": spec.calls[-1].id})
    assert [call.inputs for call in spec.calls] == [[], ["input"], ["dense"], ["dense_1"]]
    assert spec.outputs == ["dense_2"]
    pinned = wiring.toggle_output(spec, "dense")  # pin an inner node: it stays an output through later edits
    pinned = apply_intent(pinned, {"kind": "add_node", "layer_type": "Dense", "inputs": ["dense"]})
    assert pinned.outputs == ["dense_2", "dense", "dense_3"]
    unpinned = wiring.toggle_output(pinned, "dense_3")  # unpin an end: it stays out
    unpinned = apply_intent(unpinned, {"kind": "set_param", "node": "dense_3", "name": "units", "value": 3})
    assert unpinned.outputs == ["dense_2", "dense"]
    disconnected = apply_intent(spec, {"kind": "disconnect", "edges": ["dense_2/0"]})  # dense_1 is an end now
    assert disconnected.outputs == ["dense_2", "dense_1"]
    assert edits.outputs_change(spec, disconnected) == "Outputs now: dense_2, dense_1 (was dense_2)."
    assert edits.outputs_change(spec, spec) is None


def test_a_node_dropped_on_an_edge_or_the_canvas_is_placed_there() -> None:
    spec = load_preset("multi_io")
    inserted = apply_intent(spec, {"kind": "insert", "edge": "priority/0", "layer_type": "Dropout"})
    assert inserted.call("priority").inputs == ["dropout"] and inserted.call("dropout").inputs == ["concatenate"]
    assert inserted.outputs == spec.outputs and inserted.layout == {}  # nothing placed by hand: all laid out again
    dropped = apply_intent(spec, {"kind": "add_node", "layer_type": "Dense", "position": [100, 900]})
    assert dropped.layout["positions"]["dense"] == [100, 900]
    assert len(dropped.layout["positions"]) == len(dropped.calls)  # the others are kept where they were drawn
    before = layout_positions(dropped)
    inserted = apply_intent(dropped, {"kind": "insert", "edge": "priority/0", "layer_type": "Dropout"})
    after = layout_positions(inserted)
    assert after["dropout"] == before["priority"] and after["priority"][1] == before["priority"][1] + ROW_HEIGHT
    assert after["lstm"] == before["lstm"]  # above the edge, nothing moves
    with pytest.raises(EditError, match="no edge 'priority/1'"):
        apply_intent(spec, {"kind": "insert", "edge": "priority/1", "layer_type": "Dropout"})
    with pytest.raises(EditError, match="Unknown layer type 'Lambda'"):
        apply_intent(spec, {"kind": "insert", "edge": "priority/0", "layer_type": "Lambda"})

"""Pure tests of the builder's edit operations, value parsing, display analysis, limits and project reading."""

from __future__ import annotations

import json

import pytest

from components import actions
from components.actions import LimitError
from components.project import read_project
from studio.catalog import types as catalog
from studio.catalog.values import format_value, parse_literal, parse_param_text
from studio.graph import blocks as block_edits
from studio.graph import deletion, edits, naming, wiring
from studio.graph.checks import count_nodes
from studio.graph.edits import EditError
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import GraphSpec, spec_from_json
from studio.limits import Limits, limits
from studio.model.analysis import analyze_for_display, param_counts, summary_rows, tensor_refs
from studio.model.build import analyze


def mnist_by_edits() -> GraphSpec:
    spec = edits.empty_spec("mnist model")
    spec = edits.add_layer(spec, "Input", node_id="img", config={"shape": [784]})
    spec = edits.add_layer(spec, "Dense", ["img"], config={"units": 32, "activation": "relu"})
    spec = edits.add_layer(spec, "Dense", ["dense"], config={"units": 64, "activation": "relu"})
    return edits.add_layer(spec, "Dense", ["dense_1"], config={"units": 10, "activation": "softmax"})


# --- adding -------------------------------------------------------------------------------------


def test_mnist_by_edits_matches_the_tutorial():
    spec = mnist_by_edits()
    assert [call.id for call in spec.calls] == ["img", "dense", "dense_1", "dense_2"]
    assert spec.inputs == ["img"] and spec.outputs == ["dense_2"]
    result = analyze(spec)
    assert result.ok and result.model.count_params() == 27_882
    assert spec.to_dict()["layers"] == load_preset("mnist_mlp").to_dict()["layers"]


def test_ids_follow_keras_naming():
    spec = edits.empty_spec()
    for layer_type in ("Conv2D", "MaxPooling2D", "Conv2DTranspose", "GlobalMaxPooling2D", "UpSampling2D", "LSTM"):
        assert naming.default_id(spec, layer_type) == naming.snake_case(layer_type)
    assert naming.snake_case("MaxPooling2D") == "max_pooling2d"
    assert naming.snake_case("Conv2DTranspose") == "conv2d_transpose"
    assert naming.default_id(spec, "VGG16") == "vgg16" and naming.default_id(spec, "ResNet50") == "resnet50"
    spec = edits.add_layer(spec, "Input", config={"shape": [4]})
    assert spec.calls[0].id == "input"
    spec = edits.add_layer(spec, "Dense", ["input"])
    spec = edits.add_layer(spec, "Dense", ["dense"])
    assert [call.id for call in spec.calls] == ["input", "dense", "dense_1"]


def test_edits_never_mutate_their_argument():
    spec = mnist_by_edits()
    before = spec.to_json()
    edits.add_layer(spec, "Dropout", ["dense"])
    edits.rename(spec, "dense", "hidden")
    deletion.delete_node(spec, "dense_2")
    edits.set_params(spec, "dense", {"units": 3})
    assert spec.to_json() == before


def test_add_layer_refuses_clearly():
    spec = mnist_by_edits()
    with pytest.raises(EditError, match="Unknown layer type 'Dens'"):
        edits.add_layer(spec, "Dens", ["img"])
    with pytest.raises(EditError, match="already used"):
        edits.add_layer(spec, "Dense", ["img"], node_id="dense")
    with pytest.raises(EditError, match="not valid"):
        edits.add_layer(spec, "Dense", ["img"], node_id="2 bad")
    with pytest.raises(EditError, match="input 'nowhere' does not exist"):
        edits.add_layer(spec, "Dense", ["nowhere"])
    with pytest.raises(EditError, match="takes at most 1 input"):
        edits.add_layer(spec, "Dense", ["img", "dense"])
    with pytest.raises(EditError, match="plain JSON"):
        edits.add_layer(spec, "Dense", ["img"], config={"units": object()})


def test_add_replaces_consumed_outputs_and_keeps_other_heads():
    spec = mnist_by_edits()
    spec = edits.add_layer(spec, "Dense", ["dense_1"], node_id="second_head", config={"units": 2})
    assert spec.outputs == ["dense_2", "second_head"]
    spec = edits.add_layer(spec, "Concatenate", ["dense_2", "second_head"])
    assert spec.outputs == ["concatenate"]
    spec = edits.add_layer(spec, "Dropout", ["concatenate"], as_output=False)
    assert spec.outputs == ["concatenate"]


def test_shared_layer_call_again():
    spec = edits.empty_spec()
    spec = edits.add_layer(spec, "Input", node_id="input1", config={"shape": [None], "dtype": "int32"})
    spec = edits.add_layer(spec, "Input", node_id="input2", config={"shape": [None], "dtype": "int32"})
    spec = edits.add_layer(spec, "Embedding", ["input1"], node_id="share_embedding", config={"input_dim": 100, "output_dim": 64})
    spec = edits.call_again(spec, "share_embedding", ["input2"], node_id="feat2")
    assert [call.layer for call in spec.calls_of("share_embedding")] == ["share_embedding", "share_embedding"]
    assert spec.outputs == ["share_embedding", "feat2"]
    result = analyze(spec)
    assert result.ok and result.model.count_params() == 6_400
    with pytest.raises(EditError, match="Input is one tensor"):
        edits.call_again(spec, "input1", ["input2"])
    with pytest.raises(EditError, match="needs its input"):
        edits.call_again(spec, "share_embedding", [])


def test_nested_models_build_the_autoencoder():
    spec = edits.empty_spec("autoencoder")
    spec = edits.add_layer(spec, "Input", node_id="img", config={"shape": [28, 28, 1]})
    spec = block_edits.add_nested_model(spec, load_preset("encoder"), ["img"])
    spec = block_edits.add_nested_model(spec, load_preset("decoder"), ["encoder"])
    assert spec.outputs == ["decoder"]
    result = analyze(spec)
    assert result.ok and result.model.count_params() == 28_241
    with pytest.raises(EditError, match="takes 1 input"):
        block_edits.add_nested_model(spec, load_preset("decoder"), ["img", "encoder"])


def test_application_with_chosen_outputs_and_frozen_layers():
    spec = block_edits.add_application(
        edits.empty_spec(), "VGG16", outputs=["block1_pool", "block2_pool"], frozen=["block1_conv1"],
        config={"include_top": False, "input_shape": [64, 64, 3]},
    )
    assert spec.inputs == ["vgg16"] and spec.outputs == ["vgg16", "vgg16:1"]
    result = analyze_for_display(spec)
    assert result.ok, result.problems
    assert result.nodes["vgg16"].output_shapes == [(None, 32, 32, 64), (None, 16, 16, 128)]
    frozen_params = 3 * 3 * 3 * 64 + 64
    assert result.nodes["vgg16"].params - result.nodes["vgg16"].trainable_params == frozen_params
    fewer = block_edits.set_application_outputs(spec, "vgg16", ["block1_pool"], [])
    assert fewer.outputs == ["vgg16"] and "frozen" not in fewer.layer("vgg16").config


def test_rename_updates_every_reference():
    spec = edits.add_layer(mnist_by_edits(), "Add", ["dense_2", "dense_2"], node_id="sum")
    renamed = edits.rename(spec, "dense_2", "probabilities")
    assert renamed.call("sum").inputs == ["probabilities", "probabilities"]
    assert renamed.layer("probabilities") is not None and renamed.call("probabilities").layer == "probabilities"
    img = edits.rename(spec, "img", "image")
    assert img.inputs == ["image"] and img.call("dense").inputs == ["image"]
    with pytest.raises(EditError, match="already used"):
        edits.rename(spec, "dense", "dense_1")


def test_rename_a_shared_call_keeps_the_layer():
    spec = load_preset("shared_embedding")
    renamed = edits.rename(spec, "feat1", "title_features")
    assert renamed.call("title_features").layer == "share_embedding"
    assert renamed.outputs == ["title_features", "feat2"]
    layer_renamed = edits.rename_layer(spec, "share_embedding", "embedding")
    assert {call.layer for call in layer_renamed.calls_of("embedding")} == {"embedding"}


def test_delete_refuses_naming_the_users_then_cascades_or_rewires():
    spec = mnist_by_edits()
    with pytest.raises(EditError, match=r"Cannot delete 'dense': dense_1 uses its output"):
        deletion.delete_node(spec, "dense")
    cascaded = deletion.delete_node(spec, "dense", "cascade")
    assert [call.id for call in cascaded.calls] == ["img"] and cascaded.outputs == []
    assert [layer.id for layer in cascaded.layers] == ["img"]
    rewired = deletion.delete_node(spec, "dense_1", "rewire")
    assert rewired.call("dense_2").inputs == ["dense"]
    assert analyze(rewired).ok
    last = deletion.delete_node(spec, "dense_2")
    assert last.outputs == ["dense_1"] and last.layer("dense_2") is None  # the graph's new end is an output (honest outputs)


def test_delete_one_call_of_a_shared_layer_keeps_the_layer():
    spec = deletion.delete_node(load_preset("shared_embedding"), "feat2")
    assert spec.layer("share_embedding") is not None and spec.outputs == ["feat1"]


def test_rewire_needs_exactly_one_input():
    spec = edits.add_layer(mnist_by_edits(), "Concatenate", ["dense", "dense_1"], node_id="both")
    spec = edits.add_layer(spec, "Dense", ["both"], node_id="head")
    with pytest.raises(EditError, match="only a node with exactly one input"):
        deletion.delete_node(spec, "both", "rewire")


def test_wiring_refuses_self_cycles_and_wrong_arity():
    spec = mnist_by_edits()
    with pytest.raises(EditError, match="cannot take its own output"):
        wiring.set_inputs(spec, "dense", ["dense"])
    with pytest.raises(EditError, match="would make a cycle"):
        wiring.set_inputs(spec, "dense", ["dense_2"])
    with pytest.raises(EditError, match="is an Input"):
        wiring.set_inputs(spec, "img", ["dense"])
    with pytest.raises(EditError, match="at most 1 input"):
        wiring.set_inputs(spec, "dense_2", ["dense", "dense_1"])
    assert wiring.set_inputs(spec, "dense_2", ["dense"]).call("dense_2").inputs == ["dense"]


def test_input_order_is_kept_and_can_be_moved():
    spec = edits.add_layer(mnist_by_edits(), "Concatenate", ["dense_1", "dense"], node_id="both")
    assert spec.call("both").inputs == ["dense_1", "dense"]
    moved = wiring.move_input(spec, "both", 1, -1)
    assert moved.call("both").inputs == ["dense", "dense_1"]
    with pytest.raises(EditError, match="cannot move"):
        wiring.move_input(spec, "both", 0, -1)


def test_outputs_and_model_inputs():
    spec = mnist_by_edits()
    spec = wiring.toggle_output(spec, "dense")
    assert spec.outputs == ["dense_2", "dense"]
    assert wiring.toggle_output(spec, "dense").outputs == ["dense_2"]
    with pytest.raises(EditError, match="more than once"):
        wiring.set_outputs(spec, ["dense", "dense"])
    with pytest.raises(EditError, match="only an Input node"):
        wiring.set_model_inputs(spec, ["dense"])
    with pytest.raises(EditError, match="must be listed"):
        wiring.set_model_inputs(spec, [])
    assert wiring.move_in_list(["a", "b", "c"], 2, -1) == ["a", "c", "b"]


def test_params_name_and_trainable():
    spec = mnist_by_edits()
    changed = edits.set_param(spec, "dense", "units", 0)
    result = analyze(changed)
    assert not result.ok and any("positive integer" in problem.message for problem in result.problems_for("dense"))
    assert "activation" not in edits.set_param(spec, "dense", "activation", None).layer("dense").config
    assert edits.set_trainable(spec, "dense", False).layer("dense").trainable is False
    assert edits.set_model_name(spec, " digits ").name == "digits"
    with pytest.raises(EditError, match="non-empty"):
        edits.set_model_name(spec, "  ")
    with pytest.raises(EditError, match="no layer 'ghost'"):
        edits.set_params(spec, "ghost", {})


def test_limits_name_the_limit_and_its_value():
    small = Limits(max_nodes=3, max_params=1000)
    with pytest.raises(LimitError, match=r"4 nodes; the limit is max nodes per graph = 3 \(set KFS_MAX_NODES"):
        actions.check_limits(mnist_by_edits(), small)
    with pytest.raises(LimitError, match=r"27,882 parameters; the limit is max parameters per model = 1,000"):
        actions.check_params(27_882, small)
    nested = load_preset("autoencoder")
    assert count_nodes(nested) == 3 + 7 + 7


def test_limits_from_environment(monkeypatch):
    monkeypatch.setenv("KFS_MAX_NODES", "12")
    monkeypatch.setenv("KFS_MAX_PARAMS", "nonsense")
    active = limits()
    assert active.max_nodes == 12 and active.max_params == Limits().max_params


# --- values -------------------------------------------------------------------------------------


def _param(type_name: str, name: str) -> catalog.Param:
    return catalog.get_layer_type(type_name).param(name)


@pytest.mark.parametrize(
    ("type_name", "name", "text", "expected"),
    [
        ("Input", "shape", "784", [784]),
        ("Input", "shape", "(28, 28, 1)", [28, 28, 1]),
        ("Input", "shape", "[None]", [None]),
        ("Input", "shape", "None, 64", [None, 64]),
        ("Input", "shape", "(784,)", [784]),
        ("Conv2D", "kernel_size", "3", 3),
        ("Conv2D", "kernel_size", "3, 3", [3, 3]),
        ("Conv2D", "strides", "", None),
        ("Permute", "dims", "2, 1", [2, 1]),
        ("Dense", "kernel_initializer", "he_normal", "he_normal"),
        ("Dense", "kernel_regularizer", '{"class_name": "L2", "config": {"l2": 0.01}}', {"class_name": "L2", "config": {"l2": 0.01}}),
        ("Dropout", "seed", "7", 7),
        ("Bidirectional", "layer", '{"type": "LSTM", "config": {"units": 8}}', {"type": "LSTM", "config": {"units": 8}}),
    ],
)
def test_parse_param_text(type_name, name, text, expected):
    assert parse_param_text(type_name, _param(type_name, name), text) == expected


@pytest.mark.parametrize(
    ("type_name", "name", "text", "message"),
    [
        ("Input", "shape", "", "`shape` is required"),
        ("Input", "shape", "abc", "`shape` of Input must be a shape"),
        ("Input", "shape", "0, 3", "list of positive integers"),
        ("Conv2D", "kernel_size", "three", "integer or a tuple"),
        ("Conv2D", "kernel_size", "1.5", "integer or a list of integers"),
        ("Dropout", "seed", "x", "an integer"),
        ("Bidirectional", "layer", "[1]", "the wrapped layer"),
    ],
)
def test_parse_param_text_errors_name_the_parameter(type_name, name, text, message):
    with pytest.raises(ValueError, match=message):
        parse_param_text(type_name, _param(type_name, name), text)


def test_format_value_round_trips():
    shape = _param("Input", "shape")
    assert format_value(shape, [28, 28, 1]) == "28, 28, 1"
    assert parse_param_text("Input", shape, format_value(shape, [None, 64])) == [None, 64]
    assert format_value(_param("Dense", "kernel_initializer"), "glorot_uniform") == "glorot_uniform"
    assert parse_literal("(1, (2, 3))") == [1, [2, 3]]


# --- analysis for display -----------------------------------------------------------------------


@pytest.mark.parametrize("key", preset_names())
def test_display_analysis_matches_the_full_build(key):
    spec = load_preset(key)
    lazy, full = analyze_for_display(spec), analyze(spec)
    shapes = {call_id: (info.output_shapes, info.params, info.trainable_params) for call_id, info in lazy.nodes.items()}
    assert shapes == {call_id: (info.output_shapes, info.params, info.trainable_params) for call_id, info in full.nodes.items()}
    assert lazy.ok == full.ok and param_counts(lazy).total == full.model.count_params()


def test_summary_rows_count_a_shared_layer_once():
    spec = load_preset("shared_embedding")
    rows = summary_rows(spec, analyze_for_display(spec))
    params = {row["Layer (type)"]: row["Param #"] for row in rows}
    assert params["share_embedding → feat1 (Embedding)"] == 6_400
    assert params["share_embedding → feat2 (Embedding)"] == 0
    assert [row["Connected to"] for row in rows if "feat2" in row["Layer (type)"]] == ["input2[0][0]"]


def test_tensor_refs_list_every_exposed_output():
    spec = load_preset("vgg16_features")
    refs = tensor_refs(spec, analyze_for_display(spec))
    assert refs[:3] == ["vgg16", "vgg16:1", "vgg16:2"] and len(refs) == 23


def test_invalid_spec_is_analysed_without_raising():
    spec = edits.add_layer(mnist_by_edits(), "Add", ["dense", "dense_1"])
    result = analyze_for_display(spec)
    assert not result.ok
    assert result.problems_for("add") and "add" not in result.nodes


# --- project files ------------------------------------------------------------------------------


def test_read_project_round_trips_every_preset():
    for key in preset_names():
        spec = load_preset(key)
        assert read_project(spec.to_json().encode(), "x.json").to_json() == spec.to_json()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00bad", "not text"),
        (b"", "is empty"),
        (b"{not json", "Not valid JSON"),
        (b"[1, 2, 3]", "must be a JSON object"),
        (b'{"name": "m", "layers": 3}', "`layers` must be a list"),
        (b'{"name": "m", "weights": []}', "Unknown keys"),
    ],
)
def test_read_project_refuses_what_is_not_a_spec(data, message):
    with pytest.raises(ValueError, match=message):
        read_project(data, "upload.json")


def test_read_project_enforces_the_node_limit():
    calls = [{"id": "in", "layer": "in", "inputs": []}] + [{"id": f"d{i}", "layer": "d", "inputs": ["in"]} for i in range(10_000)]
    layers = [{"id": "in", "type": "Input", "config": {"shape": [4]}}, {"id": "d", "type": "Dense", "config": {"units": 1}}]
    huge = {"name": "huge", "layers": layers, "calls": calls, "inputs": ["in"], "outputs": ["d0"]}
    with pytest.raises(LimitError, match="10,001 nodes; the limit is max nodes per graph = 500"):
        read_project(json.dumps(huge), "paste")


def test_empty_spec_round_trips():
    spec = edits.empty_spec()
    assert spec_from_json(spec.to_json()).to_json() == spec.to_json()
    assert analyze_for_display(spec).problems  # "no outputs", reported, not raised

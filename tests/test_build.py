"""The builder: every preset reproduces the tutorial, and every bad spec names the node at fault."""

import keras
import pytest

from studio.graph.presets import load_preset
from studio.graph.spec import CallSpec, GraphSpec, LayerSpec, SpecError
from studio.model.build import analyze, as_list, build_model, error_text, spec_key

TUTORIAL_PARAMS = {
    "mnist_mlp": 27_882,
    "encoder": 18_672,
    "decoder": 9_569,
    "autoencoder": 28_241,
    "multi_io": 368_097,
    "shared_embedding": 6_400,
}


@pytest.mark.parametrize(("key", "params"), TUTORIAL_PARAMS.items())
def test_preset_builds_with_the_tutorials_parameter_count(key, params):
    model = build_model(load_preset(key))
    assert model.count_params() == params


def test_mnist_mlp_matches_the_tutorial_summary():
    model = build_model(load_preset("mnist_mlp"))
    assert model.name == "mnist model"
    assert [layer.name for layer in model.layers] == ["img", "dense", "dense_1", "dense_2"]
    assert [layer.count_params() for layer in model.layers] == [0, 25_120, 2_112, 650]
    assert model.layers[1].get_config()["activation"] == "relu"


def test_autoencoder_nests_the_encoder_and_decoder_models():
    model = build_model(load_preset("autoencoder"))
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert isinstance(encoder, keras.Model) and isinstance(decoder, keras.Model)
    assert (encoder.count_params(), decoder.count_params()) == (18_672, 9_569)
    assert tuple(model.output.shape) == (None, 28, 28, 1)
    assert encoder.get_layer("max_pooling2d").output.shape == (None, 8, 8, 32)


def test_multi_io_has_named_inputs_and_heads_in_the_tutorials_order():
    model = build_model(load_preset("multi_io"))
    assert [tensor.name for tensor in model.inputs] == ["body", "title", "tag"]
    assert model.output_names == ["priority", "department"]
    assert model.get_layer("concatenate").output.shape == (None, 172)


def test_shared_embedding_is_one_layer_called_twice():
    spec = load_preset("shared_embedding")
    result = analyze(spec)
    assert result.ok
    model = result.model
    embedding_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
    assert len(embedding_layers) == 1
    assert len(embedding_layers[0]._inbound_nodes) == 2
    assert result.nodes["feat1"].output_shapes == [(None, None, 64)]
    assert result.nodes["feat2"].params == 6_400


def test_vgg16_features_exposes_every_layer_as_an_output():
    model = build_model(load_preset("vgg16_features"))
    assert len(model.outputs) == 23
    assert model.count_params() == 138_357_544
    assert model.name == "feat_ext_model"
    assert tuple(model.outputs[0].shape) == (None, 224, 224, 3)
    assert tuple(model.outputs[-1].shape) == (None, 1000)


def test_node_info_gives_output_shape_and_params_of_every_call():
    result = analyze(load_preset("encoder"))
    assert result.nodes["conv2d"].output_shapes == [(None, 26, 26, 16)]
    assert result.nodes["conv2d"].params == 160
    assert result.nodes["image"].params == 0
    assert result.nodes["global_max_pooling2d"].output_shapes == [(None, 16)]


def test_spec_key_follows_content():
    first, second = load_preset("mnist_mlp"), load_preset("mnist_mlp")
    assert spec_key(first) == spec_key(second)
    second.layer("dense").config["units"] = 33
    assert spec_key(first) != spec_key(second)


def test_trainable_false_freezes_the_layer():
    spec = load_preset("mnist_mlp")
    spec.layer("dense").trainable = False
    result = analyze(spec)
    assert result.model.get_layer("dense").trainable is False
    assert result.nodes["dense"].trainable_params == 0


# --- bad specs: each raises SpecError naming the node -------------------------------------------


def mlp(**changes) -> GraphSpec:
    """The MNIST MLP preset with some edits applied by the test."""
    spec = load_preset("mnist_mlp")
    for key, value in changes.items():
        setattr(spec, key, value)
    return spec


def problems_of(spec: GraphSpec) -> list:
    with pytest.raises(SpecError) as caught:
        build_model(spec)
    return caught.value.problems


def test_unknown_layer_type_names_the_node_and_the_valid_types():
    spec = mlp()
    spec.layer("dense_1").type = "Danse"
    (problem,) = problems_of(spec)
    assert problem.node == "dense_1" and problem.kind == "unknown_type"
    assert "unknown layer type 'Danse'" in problem.message and "Dense" in problem.message


def test_bad_parameter_value_keeps_keras_message_on_the_node():
    spec = mlp()
    spec.layer("dense_1").config["units"] = -3
    problems = problems_of(spec)
    assert [problem.node for problem in problems] == ["dense_1"]
    assert "units" in problems[0].message


def test_shape_mismatch_is_reported_on_the_call_that_failed_and_others_still_build():
    spec = mlp()
    spec.layers.append(LayerSpec("conv", "Conv2D", {"filters": 4, "kernel_size": 3}))
    spec.calls.append(CallSpec("conv", "conv", ["dense"]))
    spec.outputs = ["dense_2", "conv"]
    result = analyze(spec)
    assert not result.ok
    (problem,) = result.problems
    assert problem.node == "conv" and problem.kind == "shape"
    assert "(None, 32)" in problem.message
    assert result.nodes["dense_2"].output_shapes == [(None, 10)]
    with pytest.raises(SpecError, match="Node 'conv'"):
        build_model(spec)


def test_merge_of_incompatible_shapes_names_the_merge_node():
    spec = load_preset("multi_io")
    spec.layer("concatenate").type = "Add"
    problems = problems_of(spec)
    assert [problem.node for problem in problems] == ["concatenate"]


def test_cycle_names_every_node_in_it():
    spec = mlp()
    spec.call("dense").inputs = ["img", "dense_2"]
    spec.layer("dense").type = "Concatenate"
    spec.layer("dense").config = {}
    problems = problems_of(spec)
    cycle = [problem for problem in problems if problem.kind == "cycle"]
    assert sorted(problem.node for problem in cycle) == ["dense", "dense_1", "dense_2"]
    assert "dense -> dense_1 -> dense_2 -> dense" in cycle[0].message


def test_layer_wired_to_itself():
    spec = mlp()
    spec.call("dense_1").inputs = ["dense_1"]
    problems = problems_of(spec)
    assert any(problem.node == "dense_1" and "wired to itself" in problem.message for problem in problems)


def test_dangling_input_names_the_missing_node():
    spec = mlp()
    spec.call("dense_2").inputs = ["dense_9"]
    problems = problems_of(spec)
    assert any(problem.node == "dense_2" and "'dense_9' does not exist" in problem.message for problem in problems)


def test_missing_input_says_how_many_were_expected():
    spec = mlp()
    spec.call("dense_1").inputs = []
    problems = problems_of(spec)
    problem = next(problem for problem in problems if problem.kind == "missing_input")
    assert problem.node == "dense_1" and "needs exactly 1 input(s). Received 0" in problem.message


def test_duplicate_ids_are_reported():
    spec = mlp()
    spec.layers.append(LayerSpec("dense", "Dense", {"units": 3}))
    spec.calls.append(CallSpec("dense", "dense", ["img"]))
    problems = problems_of(spec)
    assert {problem.kind for problem in problems if problem.node == "dense"} >= {"duplicate_id"}


def test_no_outputs():
    problems = problems_of(mlp(outputs=[]))
    assert any(problem.kind == "no_outputs" and "no outputs" in problem.message for problem in problems)


def test_output_that_does_not_depend_on_any_input():
    spec = mlp()
    spec.layers.append(LayerSpec("orphan", "Input", {"shape": [3]}))
    spec.calls.append(CallSpec("orphan", "orphan", []))
    spec.outputs = ["orphan"]
    problems = problems_of(spec)
    assert any(problem.node == "orphan" and problem.kind in ("bad_input", "unreachable_output") for problem in problems)
    spec.inputs = ["img", "orphan"]
    spec.outputs = ["dense_2", "dense_3"]
    spec.layers.append(LayerSpec("dense_3", "Dense", {"units": 2}))
    spec.layers.append(LayerSpec("floating", "Input", {"shape": [3]}))
    spec.calls.append(CallSpec("floating", "floating", []))
    spec.calls.append(CallSpec("dense_3", "dense_3", ["floating"]))
    problems = problems_of(spec)
    assert any(problem.node == "floating" and "not listed in the model's inputs" in problem.message for problem in problems)
    assert any(problem.node == "dense_3" and "does not depend on any model input" in problem.message for problem in problems)


def test_empty_graph():
    problems = problems_of(GraphSpec(name="empty"))
    assert [problem.kind for problem in problems] == ["no_outputs"]


def test_nested_model_problems_are_reported_on_the_nested_layer():
    spec = load_preset("autoencoder")
    spec.layer("encoder").config["spec"]["layers"][1]["config"]["kernel_size"] = 40
    problems = problems_of(spec)
    assert problems[0].node == "encoder"
    assert "conv2d" in problems[0].message


def test_every_problem_is_collected_not_just_the_first():
    spec = mlp()
    spec.layer("dense").config["units"] = "many"
    spec.layer("dense_2").type = "Nope"
    spec.outputs.append("ghost")
    problems = problems_of(spec)
    assert {"dense", "dense_2", "ghost"} <= {problem.node for problem in problems}


def test_reference_to_a_missing_output_index_is_reported_on_the_consumer():
    spec = mlp()
    spec.call("dense_1").inputs = ["dense:1"]
    problems = problems_of(spec)
    assert [problem.node for problem in problems] == ["dense_1"]
    assert "asks for output 1 of 'dense', which has 1 output(s)" in problems[0].message


def test_bad_parameter_downstream_of_a_failed_node_is_still_reported():
    spec = mlp()
    spec.call("dense_1").inputs = ["dense_1"]
    spec.layer("dense_2").config["units"] = 0
    nodes = {problem.node for problem in problems_of(spec)}
    assert {"dense_1", "dense_2"} <= nodes


def test_a_nested_model_that_no_node_calls_is_reported():
    spec = load_preset("autoencoder")
    spec.calls = [call for call in spec.calls if call.id != "decoder"]
    spec.outputs = ["encoder"]
    problems = problems_of(spec)
    assert [(problem.node, problem.kind) for problem in problems] == [("decoder", "unused_layer")]


def test_descendants_and_ancestors_follow_the_wiring():
    from studio.graph.checks import ancestors, descendants

    spec = load_preset("multi_io")
    assert descendants(spec, "title") == ["embedding_1", "lstm_1", "concatenate", "priority", "department"]
    assert descendants(spec, "priority") == []
    assert ancestors(spec, "lstm") == {"lstm", "embedding", "body"}


def test_error_text_is_the_message_shortened() -> None:
    assert error_text(ValueError("")) == "ValueError"  # no text: the type says what happened
    long = ValueError("x" * 2000)
    assert error_text(long) == "x" * 1200 + " ..." and error_text(long, max_chars=800) == "x" * 800 + " ..."
    traceback_like = ValueError("first\n\n  second\nthird\nfourth")
    assert error_text(traceback_like) == "first\n\n  second\nthird\nfourth"  # node messages keep their lines
    assert error_text(traceback_like, max_lines=2) == "first   second"  # a job's status line: the first lines, joined


def test_as_list_takes_every_shape_of_keras_outputs() -> None:
    assert as_list("t") == ["t"] and as_list(("a", "b")) == ["a", "b"] and as_list({"x": 1, "y": 2}) == [1, 2]


def test_a_shape_error_names_every_input_shape() -> None:
    tensors = [f"in{i}" for i in range(5)]
    spec = GraphSpec(
        name="five",
        layers=[LayerSpec(f"in{i}", "Input", {"shape": [i + 1, 2]}) for i in range(5)] + [LayerSpec("add", "Add", {})],
        calls=[CallSpec(f"in{i}", f"in{i}", []) for i in range(5)] + [CallSpec("add", "add", tensors)],
        inputs=tensors,
        outputs=["add"],
    )
    message = analyze(spec).problems_for("add")[0].message
    assert message.startswith("Add cannot take (None, 1, 2), (None, 2, 2), (None, 3, 2), (None, 4, 2), (None, 5, 2): ")

"""Importing Keras models (in memory and from .keras / .h5 files) into specs that rebuild them exactly."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import keras
import pytest
from keras import layers

from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import GraphSpec, SpecError, spec_from_json, split_ref
from studio.io.codegen import generate_code
from studio.model.build import build_model
from studio.model.importer import import_model_file, load_model_file, spec_from_model

EXACT_PRESETS = ("mnist_mlp", "encoder", "decoder", "autoencoder", "multi_io")


def _configs(model: keras.Model, prefix: str = "") -> dict:
    """JSON form of every layer's get_config by name; a nested model's layers under 'outer/inner'."""
    found = {}
    for layer in model.layers:
        found[prefix + layer.name] = json.loads(json.dumps(layer.get_config(), default=repr))
        if isinstance(layer, keras.Model):
            found.update(_configs(layer, prefix + layer.name + "/"))
    return found


def _assert_same_architecture(original: keras.Model, rebuilt: keras.Model) -> None:
    assert rebuilt.count_params() == original.count_params()
    expected, actual = _configs(original), _configs(rebuilt)
    for name, config in expected.items():
        assert name in actual, f"layer '{name}' is missing from the rebuilt model"
        assert actual[name] == config, f"layer '{name}' differs"


def _round_trip(model: keras.Model) -> GraphSpec:
    """model -> spec -> JSON -> spec -> model; the rebuilt model must match the original."""
    spec = spec_from_json(spec_from_model(model).to_json())
    _assert_same_architecture(model, build_model(spec))
    return spec


# --- models the studio did not make --------------------------------------------------------------


def residual_cnn() -> keras.Model:
    """A small residual CNN: the skip connection joins with layers.Add."""
    image = keras.Input(shape=(32, 32, 3), name="image")
    stem = layers.Conv2D(16, 3, padding="same", activation="relu")(image)
    branch = layers.Conv2D(16, 3, padding="same", activation="relu")(stem)
    branch = layers.BatchNormalization()(branch)
    branch = layers.Conv2D(16, (3, 3), padding="same")(branch)
    joined = layers.Activation("relu")(layers.Add()([stem, branch]))
    pooled = layers.GlobalAveragePooling2D()(layers.MaxPooling2D(2)(joined))
    return keras.Model(image, layers.Dense(10, activation="softmax")(pooled), name="residual_cnn")


def ensemble() -> keras.Model:
    """One small Functional model called on three branches, the three answers averaged."""
    member_input = keras.Input(shape=(16,))
    hidden = layers.Dense(8, activation="relu")(member_input)
    member = keras.Model(member_input, layers.Dense(1, activation="sigmoid")(hidden), name="member")
    features = keras.Input(shape=(16,), name="features")
    branches = [layers.Dropout(rate)(features) for rate in (0.1, 0.2, 0.3)]
    return keras.Model(features, layers.Average()([member(branch) for branch in branches]), name="ensemble")


def sequential() -> keras.Model:
    """A keras.Sequential stack."""
    return keras.Sequential(
        [keras.Input(shape=(20,)), layers.Dense(16, activation="relu"), layers.Dropout(0.5), layers.Dense(3, activation="softmax")],
        name="sequential_stack",
    )


def bidirectional_text(mask_zero: bool = False) -> keras.Model:
    """Embedding -> Bidirectional(LSTM) -> Dense, the usual text classifier."""
    words = keras.Input(shape=(None,), dtype="int32", name="words")
    embedded = layers.Embedding(500, 16, mask_zero=mask_zero)(words)
    encoded = layers.Bidirectional(layers.LSTM(8))(embedded)
    return keras.Model(words, layers.Dense(1, activation="sigmoid")(encoded), name="text_classifier")


MODELS: dict[str, Callable[[], keras.Model]] = {
    "residual_cnn": residual_cnn,
    "ensemble": ensemble,
    "sequential": sequential,
    "bidirectional_text": bidirectional_text,
}


@pytest.mark.parametrize("name", MODELS)
def test_round_trip_in_memory(name: str) -> None:
    _round_trip(MODELS[name]())


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("name", MODELS)
def test_round_trip_from_file(name: str, suffix: str, tmp_path: Path) -> None:
    original = MODELS[name]()
    path = tmp_path / f"{name}{suffix}"
    original.save(path)
    loaded = load_model_file(path)
    _assert_same_architecture(original, loaded)
    spec = import_model_file(path)
    assert spec.description == f"Imported from {path.name}"
    _assert_same_architecture(original, build_model(spec))


def test_residual_spec_wires_add_to_both_branches() -> None:
    spec = _round_trip(residual_cnn())
    add = next(call for call in spec.calls if spec.layer(call.layer).type == "Add")
    stem, branch = add.inputs
    assert spec.layer(stem).type == "Conv2D" and spec.layer(branch).type == "Conv2D"
    assert spec.layer(stem).config == {"filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"}
    assert spec.inputs == ["image"] and spec.calls[0].id == "image"


def test_ensemble_is_one_nested_model_called_three_times() -> None:
    spec = _round_trip(ensemble())
    nested = [layer for layer in spec.layers if layer.type == "Model"]
    assert [layer.id for layer in nested] == ["member"]
    assert set(nested[0].config) == {"spec"} and set(nested[0].config["spec"]) == {"name", "layers", "calls", "inputs", "outputs"}
    assert [call.id for call in spec.calls_of("member")] == ["member", "member_1", "member_2"]
    average = next(call for call in spec.calls if spec.layer(call.layer).type == "Average")
    assert average.inputs == ["member", "member_1", "member_2"]


def test_sequential_becomes_a_chain_from_its_input() -> None:
    model = sequential()
    spec = _round_trip(model)
    assert [layer.type for layer in spec.layers] == ["Input", "Dense", "Dropout", "Dense"]
    assert spec.layers[0].config == {"shape": [20]}
    for previous, call in zip(spec.calls, spec.calls[1:], strict=False):
        assert call.inputs == [previous.id]
    assert spec.name == "sequential_stack" and spec.outputs == [spec.calls[-1].id]


def test_sequential_built_from_an_input_shape() -> None:
    model = keras.Sequential([layers.Dense(4), layers.Dense(2)], name="late_built")
    model.build((None, 7))
    spec = _round_trip(model)
    assert spec.layers[0].type == "Input" and spec.layers[0].config == {"shape": [7]}


def test_bidirectional_keeps_its_inner_layer() -> None:
    spec = _round_trip(bidirectional_text())
    wrapper = next(layer for layer in spec.layers if layer.type == "Bidirectional")
    assert wrapper.config["layer"]["type"] == "LSTM" and wrapper.config["layer"]["config"] == {"units": 8}


def test_masking_ops_are_left_to_the_rebuilt_model(tmp_path: Path) -> None:
    """mask_zero adds a NotEqual op feeding the LSTM's `mask`: not a layer of the spec, recreated by Keras."""
    model = bidirectional_text(mask_zero=True)
    spec = _round_trip(model)
    assert [layer.type for layer in spec.layers] == ["Input", "Embedding", "Bidirectional", "Dense"]
    model.save(tmp_path / "masked.keras")
    _assert_same_architecture(model, build_model(import_model_file(tmp_path / "masked.keras")))


def test_masks_that_inputs_carry_are_implicit_but_an_explicit_mask_is_refused() -> None:
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    embedded = layers.Embedding(50, 8, mask_zero=True, name="embed")(tokens)
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="attention")(embedded, embedded)
    spec = _round_trip(keras.Model(tokens, layers.GlobalAveragePooling1D(name="pool")(attended), name="masked_attention"))
    assert spec.call("attention").inputs == ["embed", "embed"] and spec.call("pool").inputs == ["attention"]
    sequence, flags = keras.Input(shape=(5, 3), name="sequence"), keras.Input(shape=(5,), dtype="bool", name="flags")
    model = keras.Model([sequence, flags], layers.LSTM(4, name="rnn")(sequence, mask=flags), name="explicit_mask")
    with pytest.raises(SpecError, match=r"Layer 'rnn' of model 'explicit_mask' is called with the tensor keyword argument `mask`"):
        spec_from_model(model)


def test_imported_spec_generates_code_that_rebuilds_the_model() -> None:
    original = ensemble()
    namespace: dict = {}
    exec(compile(generate_code(spec_from_model(original)), "<generated>", "exec"), namespace)
    _assert_same_architecture(original, namespace["model"])


# --- shared layers and graph details ---------------------------------------------------------


def test_shared_layer_calls_are_named_after_the_layer() -> None:
    left, right, third = (keras.Input(shape=(4,), name=name) for name in ("left", "right", "third"))
    shared = layers.Dense(3, name="shared")
    other = layers.Dense(3, name="shared_1")  # takes the name the second call would get
    outputs = [shared(left), shared(right), other(third), shared(third)]
    spec = _round_trip(keras.Model([left, right, third], outputs, name="siamese"))
    assert [call.id for call in spec.calls_of("shared")] == ["shared", "shared_2", "shared_3"]
    assert spec.outputs == ["shared", "shared_2", "shared_1", "shared_3"]
    assert len([layer for layer in spec.layers if layer.id == "shared"]) == 1


def test_only_this_models_calls_of_a_layer_are_imported() -> None:
    dense = layers.Dense(2, name="reused")
    first_input, second_input = keras.Input(shape=(5,), name="first"), keras.Input(shape=(5,), name="second")
    keras.Model(first_input, dense(first_input), name="first_model")
    second = keras.Model(second_input, layers.Dense(1, name="head")(dense(second_input)), name="second_model")
    spec = _round_trip(second)
    assert [call.id for call in spec.calls] == ["second", "reused", "head"]
    assert spec.call("reused").inputs == ["second"]


def test_several_inputs_and_outputs_keep_their_order() -> None:
    spec = _round_trip(build_model(load_preset("multi_io")))
    assert spec.inputs == ["body", "title", "tag"] and spec.outputs == ["priority", "department"]
    assert spec.call("concatenate").inputs == ["lstm_1", "lstm", "tag"]


def test_multi_output_nested_model_is_referenced_by_index() -> None:
    inner_input = keras.Input(shape=(6,), name="inner_input")
    inner = keras.Model(inner_input, [layers.Dense(2, name="low")(inner_input), layers.Dense(3, name="high")(inner_input)], name="split")
    outer_input = keras.Input(shape=(6,), name="outer_input")
    low, high = inner(outer_input)
    merged = layers.Concatenate(name="merged")([high, low])
    spec = _round_trip(keras.Model(outer_input, merged, name="outer"))
    assert spec.call("merged").inputs == ["split:1", "split"]


def test_frozen_layers_stay_frozen() -> None:
    model = residual_cnn()
    frozen = next(layer for layer in model.layers if isinstance(layer, layers.BatchNormalization))
    frozen.trainable = False
    spec = _round_trip(model)
    assert spec.layer(frozen.name).trainable is False
    assert build_model(spec).get_layer(frozen.name).trainable is False


# --- what cannot be imported -------------------------------------------------------------------


def lambda_model() -> keras.Model:
    """A model with a Python Lambda layer (not in the catalogue; refused by safe loading)."""
    values = keras.Input(shape=(3,), name="values")
    return keras.Model(values, layers.Dense(1)(layers.Lambda(lambda tensor: tensor * 2, name="doubling")(values)), name="with_lambda")


def test_lambda_layer_in_memory_is_refused_by_name() -> None:
    message = r"Layer 'doubling' of model 'with_lambda' is a Lambda, which the studio cannot import \(not in the catalogue\)"
    with pytest.raises(SpecError, match=message):
        spec_from_model(lambda_model())


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_lambda_layer_in_a_file_is_refused_by_safe_loading(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"with_lambda{suffix}"
    lambda_model().save(path)
    with pytest.raises(SpecError, match=rf"Cannot import 'with_lambda{suffix}': layer 'doubling' is a Lambda"):
        import_model_file(path)


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        ("notes.keras", b"just some text", "it is not a .keras archive"),
        ("notes.h5", b"just some text", "it is not an HDF5 file"),
        ("notes.txt", b"just some text", "unsupported file type '.txt'"),
    ],
)
def test_a_file_that_is_not_a_model_is_refused(file_name: str, content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / file_name
    path.write_bytes(content)
    with pytest.raises(SpecError, match=rf"Cannot import '{file_name}': {message}.*expected a \.keras or \.h5 file saved by Keras"):
        import_model_file(path)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_truncated_file_is_refused(suffix: str, tmp_path: Path) -> None:
    whole = tmp_path / f"whole{suffix}"
    sequential().save(whole)
    data = whole.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SpecError, match=rf"Cannot import 'cut{suffix}': .*expected a \.keras or \.h5 file saved by Keras"):
        import_model_file(cut)


def test_a_zip_without_a_model_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "empty.keras"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("readme.txt", "no model here")
    with pytest.raises(SpecError, match=r"Cannot import 'empty.keras': Keras could not load it"):
        import_model_file(archive)
    with pytest.raises(SpecError, match=r"Cannot import 'absent.keras': the file does not exist"):
        import_model_file(tmp_path / "absent.keras")


def test_raw_ops_subclassed_models_and_unbuilt_sequentials_are_refused() -> None:
    numbers = keras.Input(shape=(4,), name="numbers")
    with pytest.raises(SpecError, match=r"Operation 'multiply' of model '\w+' is a raw keras\.ops call \(Multiply\)"):
        spec_from_model(keras.Model(numbers, layers.Dense(2, name="after_op")(numbers * 2.0)))

    class Custom(keras.Model):
        def call(self, inputs: object) -> object:
            return inputs

    with pytest.raises(SpecError, match=r"Model 'custom' is a subclassed Custom; only Functional and Sequential"):
        spec_from_model(Custom(name="custom"))
    with pytest.raises(SpecError, match=r"Sequential model 'unbuilt' has no input shape yet"):
        spec_from_model(keras.Sequential([layers.Dense(2)], name="unbuilt"))


def test_tensor_keyword_arguments_are_refused() -> None:
    query, key = keras.Input(shape=(4, 8), name="query"), keras.Input(shape=(4, 8), name="key")
    attention = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="attention")
    model = keras.Model([query, key], attention(query, query, key=key), name="attending")
    with pytest.raises(SpecError, match=r"Layer 'attention' of model 'attending' is called with the tensor keyword argument `key`"):
        spec_from_model(model)


def test_a_layer_shared_across_model_levels_is_refused() -> None:
    dense = layers.Dense(3, name="everywhere")
    inner_input = keras.Input(shape=(3,), name="inner_input")
    inner = keras.Model(inner_input, dense(inner_input), name="inner")
    outer_input = keras.Input(shape=(3,), name="outer_input")
    model = keras.Model(outer_input, dense(inner(outer_input)), name="outer")
    with pytest.raises(SpecError, match=r"Layer 'everywhere' is used both in model '\w+' and in model '\w+'"):
        spec_from_model(model)


# --- presets: spec -> build -> import -> spec ------------------------------------------------------


def _canonical(data: dict) -> dict:
    """A spec dict with call ids renamed '<layer>#<k>' and layers/calls keyed by id (order and call naming dropped)."""
    counts: dict[str, int] = {}
    names = {}
    for call in data["calls"]:
        names[call["id"]] = f"{call['layer']}#{counts.get(call['layer'], 0)}"
        counts[call["layer"]] = counts.get(call["layer"], 0) + 1

    def ref(text: str) -> str:
        call_id, index = split_ref(text)
        return f"{names[call_id]}:{index}"

    layers_by_id = {}
    for layer in data["layers"]:
        layer = dict(layer)
        if layer["type"] == "Model":
            layer["config"] = {**layer["config"], "spec": _canonical(layer["config"]["spec"])}
        layers_by_id[layer["id"]] = layer
    return {
        "name": data["name"],
        "layers": layers_by_id,
        "calls": {names[call["id"]]: [ref(item) for item in call["inputs"]] for call in data["calls"]},
        "inputs": [ref(item) for item in data["inputs"]],
        "outputs": [ref(item) for item in data["outputs"]],
    }


@pytest.mark.parametrize("key", [key for key in preset_names() if key != "vgg16_features"])
def test_preset_survives_build_and_import(key: str) -> None:
    preset = load_preset(key)
    imported = spec_from_model(build_model(preset))
    expected = preset.to_dict()
    expected.pop("description", None)
    expected.pop("section", None)
    assert _canonical(imported.to_dict()) == _canonical(expected)
    if key in EXACT_PRESETS:
        assert imported.to_dict() == expected


def test_shared_embedding_preset_differs_only_in_call_names_and_layer_order() -> None:
    imported = spec_from_model(build_model(load_preset("shared_embedding")))
    assert [call.id for call in imported.calls] == ["input1", "input2", "share_embedding", "share_embedding_1"]
    assert imported.outputs == ["share_embedding", "share_embedding_1"]


def test_vgg16_preset_comes_back_as_its_plain_layers() -> None:
    keras.backend.clear_session()  # VGG16 names its input from a process-wide counter: "input_layer" in a fresh session
    original = build_model(load_preset("vgg16_features"))
    spec = spec_from_model(original)
    assert "VGG16" not in {layer.type for layer in spec.layers}
    assert spec.inputs == ["input_layer"] and len(spec.outputs) == 23
    assert spec.outputs[:3] == ["input_layer", "block1_conv1", "block1_conv2"] and spec.outputs[-1] == "predictions"
    assert spec.layer("block1_conv1").config == {"filters": 64, "kernel_size": 3, "padding": "same", "activation": "relu"}
    rebuilt = build_model(spec)
    assert rebuilt.count_params() == 138_357_544
    _assert_same_architecture(original, rebuilt)

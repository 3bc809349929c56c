"""Tests of the layer catalogue: derivation, validation, layer creation and the importer's inverse."""

from __future__ import annotations

import json

import keras
import pytest

from studio.catalog import types as catalog
from studio.catalog.params import PARAM_KINDS
from studio.catalog.types import (
    APPLICATION_TYPES,
    LAYER_TYPES,
    application_layer_names,
    canonical_type,
    coerce_config,
    config_from_layer,
    create_input,
    create_layer,
    default_config,
    get_layer_type,
    palette_groups,
    search_types,
)

LISTED_TYPES = (
    "Input Dense Dropout Activation Flatten Reshape Permute RepeatVector Conv1D Conv2D Conv2DTranspose SeparableConv2D "
    "MaxPooling1D MaxPooling2D AveragePooling1D AveragePooling2D GlobalMaxPooling1D GlobalMaxPooling2D "
    "GlobalAveragePooling1D GlobalAveragePooling2D UpSampling2D ZeroPadding2D Cropping2D BatchNormalization "
    "LayerNormalization Rescaling Embedding SimpleRNN LSTM GRU Bidirectional TimeDistributed MultiHeadAttention "
    "Concatenate Add Subtract Multiply Average Maximum Minimum Dot VGG16 VGG19 ResNet50 MobileNetV2 Model"
).split()
GROUPS = {
    "Inputs", "Core", "Convolution", "Pooling", "Reshaping", "Normalization", "Recurrent", "Attention",
    "Merge", "Wrappers", "Applications", "Models",
}
PLAIN_TYPES = [name for name in LISTED_TYPES if name not in APPLICATION_TYPES and name not in ("Input", "Model")]

# Input shapes (without batch) a starter layer of each type can be called on; one entry per input.
SEQUENCE, IMAGE, VECTOR = (10, 8), (28, 28, 3), (16,)
CALL_SHAPES: dict[str, list[tuple]] = {
    **{name: [VECTOR] for name in ("Dense", "Dropout", "Activation", "RepeatVector", "BatchNormalization",
                                   "LayerNormalization", "Rescaling", "Flatten")},
    **{name: [SEQUENCE] for name in ("Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D",
                                     "GlobalAveragePooling1D", "SimpleRNN", "LSTM", "GRU", "Bidirectional",
                                     "TimeDistributed", "Permute")},
    **{name: [IMAGE] for name in ("Conv2D", "Conv2DTranspose", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D",
                                  "GlobalMaxPooling2D", "GlobalAveragePooling2D", "UpSampling2D", "ZeroPadding2D",
                                  "Cropping2D")},
    "Reshape": [(784,)],
    "Embedding": [(12,)],
    "MultiHeadAttention": [SEQUENCE, SEQUENCE],
    **{name: [VECTOR, VECTOR] for name in ("Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum",
                                           "Minimum", "Dot")},
}


def test_every_listed_type_is_catalogued_with_group_summary_and_help() -> None:
    assert list(LAYER_TYPES) == [name for group in palette_groups().values() for name in group]
    assert set(LAYER_TYPES) == set(LISTED_TYPES)
    assert "Lambda" not in LAYER_TYPES
    for layer_type in LAYER_TYPES.values():
        assert layer_type.group in GROUPS, layer_type.name
        assert layer_type.summary.strip(), layer_type.name
        for param in layer_type.params:
            assert param.help.strip() and "\n" not in param.help, (layer_type.name, param.name)
            assert param.kind in PARAM_KINDS, (layer_type.name, param.name, param.kind)
            assert (param.kind == "choice") == (param.choices is not None), (layer_type.name, param.name)
            json.dumps(param.default)
            assert param.name not in ("name", "kwargs", "lora_rank", "quantization_config")


def test_dense_units_is_required_and_activation_is_a_choice() -> None:
    dense = get_layer_type("Dense")
    units, activation = dense.param("units"), dense.param("activation")
    assert units.required and units.kind == "int"
    assert activation.kind == "choice" and "relu" in activation.choices and None in activation.choices
    assert not activation.required and activation.default is None
    assert get_layer_type("Conv2D").param("padding").choices == ("valid", "same")
    assert get_layer_type("Conv2D").param("kernel_size").kind == "int_or_tuple"
    assert get_layer_type("Reshape").param("target_shape").kind == "shape"
    assert get_layer_type("Permute").param("dims").kind == "int_list"
    assert get_layer_type("Bidirectional").param("layer").kind == "layer"
    assert get_layer_type("Input").param("dtype").default == "float32"
    assert get_layer_type("VGG16").param("weights").default is None
    assert get_layer_type("VGG16").param("weights").choices == (None, "imagenet")


def test_arity() -> None:
    arity = {name: (layer_type.min_inputs, layer_type.max_inputs) for name, layer_type in LAYER_TYPES.items()}
    assert arity["Input"] == (0, 0)
    assert arity["VGG16"][0] == 0
    assert arity["Dense"] == (1, 1)
    assert arity["Concatenate"] == (2, None) and arity["Add"] == (2, None)
    assert arity["Subtract"] == (2, 2) and arity["Dot"] == (2, 2)
    assert arity["MultiHeadAttention"] == (2, 3)


def test_aliases_map_to_canonical_names() -> None:
    assert canonical_type("MaxPool2D") == "MaxPooling2D"
    assert canonical_type("MaxPool1D") == "MaxPooling1D"
    assert canonical_type("AvgPool2D") == "AveragePooling2D"
    assert canonical_type("GlobalMaxPool2D") == "GlobalMaxPooling2D"
    assert canonical_type("GlobalAvgPool1D") == "GlobalAveragePooling1D"
    assert canonical_type("Convolution2D") == "Conv2D"
    assert canonical_type("InputLayer") == "Input"
    assert canonical_type("Dense") == "Dense"
    assert canonical_type("Nope") == "Nope"
    assert get_layer_type("MaxPool2D").name == "MaxPooling2D"


def test_unknown_type_raises_key_error_naming_valid_types() -> None:
    with pytest.raises(KeyError) as raised:
        get_layer_type("Nope")
    assert "Nope" in str(raised.value) and "Dense" in str(raised.value) and "Conv2D" in str(raised.value)


def test_palette_groups_and_search() -> None:
    groups = palette_groups()
    assert groups["Inputs"] == ["Input"]
    assert "Dot" in groups["Merge"] and groups["Applications"] == ["VGG16", "VGG19", "ResNet50", "MobileNetV2"]
    assert set(search_types("POOL")) >= {"MaxPooling2D", "GlobalAveragePooling1D"}
    assert "AveragePooling2D" in search_types("avgpool")
    assert "LSTM" in search_types("recurrent")
    assert search_types("") == list(LAYER_TYPES)


def test_default_configs() -> None:
    assert default_config("Dense") == {"units": 32}
    assert default_config("Conv2D") == {"filters": 16, "kernel_size": 3}
    assert default_config("Input") == {"shape": [784]}
    assert default_config("Bidirectional")["layer"]["type"] == "LSTM"
    assert default_config("VGG16") == {"weights": None, "include_top": True}
    assert default_config("Add") == {}
    config = default_config("Dense")
    config["units"] = 1
    assert default_config("Dense") == {"units": 32}
    for name in LAYER_TYPES:
        json.dumps(default_config(name))
        for param in get_layer_type(name).params:
            if param.required:
                assert param.name in default_config(name), (name, param.name)


@pytest.mark.parametrize("type_name", PLAIN_TYPES)
def test_default_config_creates_a_callable_layer(type_name: str) -> None:
    layer = create_layer(type_name, default_config(type_name), name=f"my_{type_name.lower()}")
    assert layer.name == f"my_{type_name.lower()}"
    dtype = "int32" if type_name == "Embedding" else "float32"
    inputs = [keras.Input(shape=shape, dtype=dtype) for shape in CALL_SHAPES[type_name]]
    if LAYER_TYPES[type_name].group == "Merge":
        output = layer(inputs)
    else:
        output = layer(*inputs)
    assert output.shape[0] is None


def test_create_input() -> None:
    tensor = create_input({"shape": [None, 8], "dtype": "int32"}, name="tokens")
    assert tuple(tensor.shape) == (None, None, 8) and tensor.dtype == "int32"
    assert tuple(create_input(default_config("Input"), name="pixels").shape) == (None, 784)
    with pytest.raises(ValueError, match="shape"):
        create_input({"shape": "784"}, name="bad")
    with pytest.raises(ValueError, match="dtype"):
        create_input({"shape": [3], "dtype": "complex7"}, name="bad")


def test_coerce_config_converts_json_to_constructor_kwargs() -> None:
    kwargs = coerce_config("Conv2D", {"filters": 4, "kernel_size": [3, 5], "strides": 2})
    assert kwargs == {"filters": 4, "kernel_size": (3, 5), "strides": 2}
    assert coerce_config("Cropping2D", {"cropping": [[1, 2], [3, 4]]}) == {"cropping": ((1, 2), (3, 4))}
    wrapped = coerce_config("TimeDistributed", {"layer": {"type": "Dense", "config": {"units": 8}}}, name="td")
    assert isinstance(wrapped["layer"], keras.layers.Dense) and wrapped["layer"].name == "td_inner"


def test_wrappers_name_their_inner_layers() -> None:
    bidirectional = create_layer("Bidirectional", default_config("Bidirectional"), name="bi")
    assert bidirectional.forward_layer.name == "forward_bi_inner"
    assert bidirectional.backward_layer.name == "backward_bi_inner"
    named = create_layer("TimeDistributed", {"layer": {"type": "Dense", "config": {"units": 2}, "name": "head"}}, name="td")
    assert named.layer.name == "head"


@pytest.mark.parametrize(
    ("type_name", "config", "expected"),
    [
        ("Dense", {"units": 32, "unitz": 3}, ["'unitz'", "Dense", "units", "activation"]),
        ("Dense", {"units": "abc"}, ["`units`", "positive integer", "'abc'"]),
        ("Dense", {"units": 0}, ["`units`", "positive integer"]),
        ("Dense", {"units": True}, ["`units`"]),
        ("Dense", {}, ["units", "Missing"]),
        ("Dense", {"units": 8, "activation": "relux"}, ["`activation`", "'relu'", "'relux'"]),
        ("Conv2D", {"filters": 8, "kernel_size": 3, "padding": "full"}, ["`padding`", "'valid'", "'full'"]),
        ("Conv2D", {"filters": 8, "kernel_size": "3"}, ["`kernel_size`", "integer"]),
        ("Dropout", {"rate": "half"}, ["`rate`", "number"]),
        ("Dropout", {"rate": 2.0}, ["rate", "2.0"]),
        ("Reshape", {"target_shape": [28, -1]}, ["`target_shape`"]),
        ("Permute", {"dims": 2}, ["`dims`", "list"]),
        ("Dense", {"units": 8, "use_bias": "yes"}, ["`use_bias`", "true or false"]),
        ("Dense", {"units": 8, "trainable": "no"}, ["`trainable`"]),
        ("Bidirectional", {"layer": {"type": "Dense", "config": {"units": 3}}}, ["`layer`", "LSTM", "'Dense'"]),
        ("Bidirectional", {"layer": "LSTM"}, ["`layer`", "config"]),
        ("TimeDistributed", {"layer": {"type": "Dense", "config": {"unitz": 3}}}, ["'unitz'", "Dense"]),
        ("VGG16", {"outputs": "fc2"}, ["`outputs`", "list"]),
        ("Add", {"axis": 1}, ["'axis'", "Add"]),
    ],
)
def test_bad_configs_raise_messages_naming_the_parameter(type_name: str, config: dict, expected: list[str]) -> None:
    with pytest.raises((ValueError, TypeError)) as raised:
        create_layer(type_name, config, name="node")
    for fragment in expected:
        assert fragment in str(raised.value), (fragment, str(raised.value))


def test_model_type_is_left_to_the_builder() -> None:
    assert get_layer_type("Model").group == "Models" and get_layer_type("Model").params == ()
    with pytest.raises(ValueError, match="builder"):
        create_layer("Model", {}, name="nested")


L = keras.layers
REPRESENTATIVE_LAYERS = [
    L.Dense(7, activation="relu", use_bias=False, kernel_initializer="he_normal", kernel_regularizer="l2", name="dense_x"),
    L.Dropout(0.3, noise_shape=(None, 1), seed=4, name="dropout_x"),
    L.Activation("gelu", name="activation_x"),
    L.Embedding(500, 12, mask_zero=True, embeddings_initializer=keras.initializers.RandomNormal(stddev=0.1), name="embedding_x"),
    L.Conv1D(6, 5, strides=2, padding="causal", activation="tanh", name="conv1d_x"),
    L.Conv2D(8, (3, 5), padding="same", dilation_rate=2, bias_initializer="ones", name="conv2d_x"),
    L.Conv2DTranspose(4, 3, strides=2, output_padding=1, name="conv2d_transpose_x"),
    L.SeparableConv2D(5, 3, depth_multiplier=2, pointwise_initializer="he_uniform", name="separable_x"),
    L.MaxPooling1D(3, name="max_pooling1d_x"),
    L.MaxPooling2D(pool_size=3, strides=1, padding="same", name="max_pooling2d_x"),
    L.AveragePooling1D(4, strides=2, name="average_pooling1d_x"),
    L.AveragePooling2D(2, data_format="channels_first", name="average_pooling2d_x"),
    L.GlobalMaxPooling1D(keepdims=True, name="global_max_pooling1d_x"),
    L.GlobalMaxPooling2D(name="global_max_pooling2d_x"),
    L.GlobalAveragePooling1D(keepdims=True, name="global_average_pooling1d_x"),
    L.GlobalAveragePooling2D(data_format="channels_first", name="global_average_pooling2d_x"),
    L.Flatten(name="flatten_x"),
    L.Reshape((4, 4, 1), name="reshape_x"),
    L.Permute((2, 1), name="permute_x"),
    L.RepeatVector(5, name="repeat_vector_x"),
    L.UpSampling2D((2, 3), interpolation="bilinear", name="up_sampling2d_x"),
    L.ZeroPadding2D(((1, 2), (3, 4)), name="zero_padding2d_x"),
    L.Cropping2D(((1, 1), (2, 2)), name="cropping2d_x"),
    L.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False, name="batch_normalization_x"),
    L.LayerNormalization(axis=[1, 2], scale=False, name="layer_normalization_x"),
    L.Rescaling(1 / 127.5, offset=-1.0, name="rescaling_x"),
    L.SimpleRNN(6, return_sequences=True, dropout=0.1, name="simple_rnn_x"),
    L.LSTM(9, return_sequences=True, recurrent_activation="hard_sigmoid", unit_forget_bias=False, name="lstm_x"),
    L.GRU(5, reset_after=False, go_backwards=True, name="gru_x"),
    L.Bidirectional(L.GRU(4, return_sequences=True, name="gru_inside"), merge_mode="sum", name="bidirectional_x"),
    L.TimeDistributed(L.Dense(3, activation="softmax"), name="time_distributed_x"),
    L.MultiHeadAttention(4, 8, value_dim=6, dropout=0.1, attention_axes=(1,), name="multi_head_attention_x"),
    L.Concatenate(axis=1, name="concatenate_x"),
    L.Add(name="add_x"),
    L.Subtract(name="subtract_x"),
    L.Multiply(name="multiply_x"),
    L.Average(name="average_x"),
    L.Maximum(name="maximum_x"),
    L.Minimum(name="minimum_x"),
    L.Dot(axes=(1, 1), normalize=True, name="dot_x"),
    L.Dense(3, dtype="float16", name="dense_half"),
]


def test_representatives_cover_every_plain_type() -> None:
    assert {type(layer).__name__ for layer in REPRESENTATIVE_LAYERS} == set(PLAIN_TYPES)


@pytest.mark.parametrize("layer", REPRESENTATIVE_LAYERS, ids=lambda layer: layer.name)
def test_config_from_layer_round_trips_get_config(layer: keras.layers.Layer) -> None:
    type_name, config = config_from_layer(layer)
    assert type_name == type(layer).__name__
    assert json.loads(json.dumps(config)) == config  # plain JSON data
    recreated = create_layer(type_name, config, name=layer.name)
    assert recreated.get_config() == layer.get_config()


def test_config_from_layer_is_minimal() -> None:
    assert config_from_layer(L.Dense(7, activation="relu", name="d")) == ("Dense", {"units": 7, "activation": "relu"})
    assert config_from_layer(L.MaxPool2D(pool_size=3, name="p")) == ("MaxPooling2D", {"pool_size": 3})
    assert config_from_layer(L.Conv2D(4, (3, 5), name="c")) == ("Conv2D", {"filters": 4, "kernel_size": [3, 5]})
    assert config_from_layer(L.Flatten(name="f")) == ("Flatten", {})
    assert config_from_layer(L.MultiHeadAttention(2, 4, name="m")) == ("MultiHeadAttention", {"num_heads": 2, "key_dim": 4})
    _, dense = config_from_layer(L.Dense(2, kernel_initializer="he_normal", name="h"))
    assert dense["kernel_initializer"]["class_name"] == "HeNormal"
    assert config_from_layer(L.Dense(2, dtype="float16", name="half"))[1] == {"units": 2, "dtype": "float16"}
    assert config_from_layer(L.Dense(2, trainable=False, name="frozen"))[1] == {"units": 2}
    _, wrapped = config_from_layer(create_layer("Bidirectional", default_config("Bidirectional"), name="bi"))
    assert wrapped == {"layer": {"type": "LSTM", "config": {"units": 32}}}
    _, wrapped = config_from_layer(next(layer for layer in REPRESENTATIVE_LAYERS if layer.name == "bidirectional_x"))
    assert wrapped["layer"] == {"type": "GRU", "config": {"units": 4, "return_sequences": True}, "name": "gru_inside"}


@pytest.mark.parametrize("type_name", PLAIN_TYPES)
def test_config_from_layer_of_a_starter_layer_is_its_default_config(type_name: str) -> None:
    layer = create_layer(type_name, default_config(type_name), name="starter")
    assert config_from_layer(layer) == (type_name, default_config(type_name))


def test_config_from_layer_handles_built_layers_and_inputs() -> None:
    inputs = keras.Input(shape=(6,), batch_size=4, dtype="int32", name="ids")
    embedded = L.Embedding(50, 8, name="embed")(inputs)
    model = keras.Model(inputs, L.LSTM(3, name="lstm")(embedded))
    assert config_from_layer(model.get_layer("ids")) == ("Input", {"shape": [6], "batch_size": 4, "dtype": "int32"})
    for layer in model.layers:
        type_name, config = config_from_layer(layer)
        assert create_layer(type_name, config, name=layer.name).get_config() == layer.get_config()
    sequence = keras.Input(shape=(5, 4))
    wrapped = L.TimeDistributed(L.Dense(2), name="td")(L.Bidirectional(L.LSTM(3, return_sequences=True), name="bi")(sequence))
    for layer in keras.Model(sequence, wrapped).layers[1:]:  # built wrappers carry their inner build_config
        type_name, config = config_from_layer(layer)
        assert create_layer(type_name, config, name=layer.name).get_config()["layer"]["config"] == layer.get_config()["layer"]["config"]
    recreated = create_input(config_from_layer(model.get_layer("ids"))[1], name="ids")
    assert recreated._keras_history.operation.get_config() == model.get_layer("ids").get_config()


def test_config_from_layer_rejects_lambda_and_nested_models() -> None:
    with pytest.raises(ValueError) as raised:
        config_from_layer(L.Lambda(lambda tensor: tensor * 2, name="doubler"))
    assert "doubler" in str(raised.value) and "Lambda" in str(raised.value) and "not in the catalogue" in str(raised.value)
    inputs = keras.Input(shape=(3,))
    nested = keras.Model(inputs, L.Dense(2)(inputs), name="inner_model")
    with pytest.raises(ValueError, match="inner_model.*nested model"):
        config_from_layer(nested)


@pytest.fixture(scope="module")
def vgg16_block() -> keras.Model:
    """The only VGG16 build of this file: small input, two inner outputs, first conv frozen."""
    config = {"input_shape": [32, 32, 3], "outputs": ["block1_conv1", "fc2"], "frozen": ["block1_conv1"]}
    return create_layer("VGG16", config, name="vgg")


def test_application_exposes_inner_outputs_and_freezes_layers(vgg16_block: keras.Model) -> None:
    assert vgg16_block.name == "vgg"
    assert len(vgg16_block.outputs) == 2
    assert tuple(vgg16_block.outputs[0].shape) == (None, 32, 32, 64)
    assert tuple(vgg16_block.outputs[1].shape) == (None, 4096)
    assert vgg16_block.get_layer("block1_conv1").trainable is False
    assert vgg16_block.get_layer("block1_conv2").trainable is True
    features, top = vgg16_block(keras.Input(shape=(32, 32, 3)))
    assert tuple(features.shape) == (None, 32, 32, 64) and tuple(top.shape) == (None, 4096)


SMALL_MOBILENET = {"input_shape": [32, 32, 3], "alpha": 0.35, "include_top": False, "weights": None}


def test_application_rejects_unknown_inner_layer_names() -> None:
    with pytest.raises(ValueError) as raised:
        create_layer("MobileNetV2", {**SMALL_MOBILENET, "frozen": ["block_99_conv"]}, name="mobile")
    assert "block_99_conv" in str(raised.value) and "Conv1" in str(raised.value)


def test_application_layer_names_are_cached() -> None:
    names = application_layer_names("MobileNetV2", SMALL_MOBILENET)
    assert names[0] == "input_layer" and "Conv1" in names and "out_relu" in names
    hits = catalog._application_layer_names.cache_info().hits
    assert application_layer_names("MobileNetV2", {**SMALL_MOBILENET, "classes": 3}) == names
    assert catalog._application_layer_names.cache_info().hits == hits + 1
    with pytest.raises(ValueError, match="not an application"):
        application_layer_names("Dense", {})


def test_imagenet_download_failure_is_a_clear_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from keras.src.utils import file_utils

    def offline(*args: object, **kwargs: object) -> str:
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "get_file", offline)
    config = {"input_shape": [96, 96, 3], "alpha": 0.35, "include_top": False, "weights": "imagenet"}
    with pytest.raises(ValueError) as raised:
        create_layer("MobileNetV2", config, name="mobile")
    message = str(raised.value)
    assert "ImageNet weights for MobileNetV2 could not be downloaded" in message
    assert "name resolution" in message and "weights=None" in message


def test_the_plain_table_names_every_keras_alias_of_its_layers() -> None:
    import keras

    from studio.catalog import table

    derived = {
        alias: name
        for name in table.PLAIN_LAYERS
        for alias in dir(keras.layers)
        if alias != name and getattr(keras.layers, alias) is getattr(keras.layers, name)
    }
    assert {alias: name for alias, name in table.ALIASES.items() if alias != "InputLayer"} == derived
    assert list(catalog.LAYER_TYPES) == list(table.TYPE_NAMES)
    for name, entry in catalog.LAYER_TYPES.items():
        assert (entry.min_inputs, entry.max_inputs) == table.type_arity(name)
        assert entry.group == table.GROUP_OF[name]

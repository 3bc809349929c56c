"""The Python-code parser, construct by construct: what it reads, the spec it gives, the notes it leaves and the
errors (with line and column) for what it refuses. The snippets are ours."""

from __future__ import annotations

import textwrap

import pytest

from studio.graph.checks import check_structure
from studio.io.pycode import ParseResult, parse_code


def parse(source: str) -> ParseResult:
    return parse_code(textwrap.dedent(source))


def only_model(source: str):
    result = parse(source)
    assert not result.errors, [problem.text() for problem in result.errors]
    assert check_structure(result.default_model.spec) == []
    return result.default_model


def layer_types(spec) -> dict[str, str]:
    return {layer.id: layer.type for layer in spec.layers}


def wiring(spec) -> dict[str, list[str]]:
    return {call.id: call.inputs for call in spec.calls}


# --- imports ---------------------------------------------------------------------------------------

MLP_BODY = """
inputs = {Input}(shape=(784,), name="pixels")
hidden = {Dense}(48, activation="relu")(inputs)
scores = {Dense}(10, activation="softmax", name="scores")(hidden)
net = {Model}(inputs=inputs, outputs=scores, name="mlp")
"""
IMPORT_SPELLINGS = {
    "import tensorflow as tf": ("tf.keras.Input", "tf.keras.layers.Dense", "tf.keras.Model"),
    "from tensorflow import keras": ("keras.Input", "keras.layers.Dense", "keras.Model"),
    "import tensorflow.keras as keras": ("keras.Input", "keras.layers.Dense", "keras.models.Model"),
    "from tensorflow import keras\nfrom tensorflow.keras import layers": ("keras.Input", "layers.Dense", "keras.Model"),
    "import keras": ("keras.layers.Input", "keras.layers.Dense", "keras.Model"),
    "from keras import layers, Input, Model": ("Input", "layers.Dense", "Model"),
    "from keras.layers import Dense, Input\nfrom keras.models import Model": ("Input", "Dense", "Model"),
    "from keras.layers import *\nfrom keras import Model": ("Input", "Dense", "Model"),
}


@pytest.mark.parametrize("header", list(IMPORT_SPELLINGS))
def test_every_usual_import_spelling_gives_the_same_spec(header: str) -> None:
    input_name, dense_name, model_name = IMPORT_SPELLINGS[header]
    model = only_model(header + MLP_BODY.format(Input=input_name, Dense=dense_name, Model=model_name))
    assert (model.name, model.variable) == ("mlp", "net")
    assert layer_types(model.spec) == {"pixels": "Input", "dense": "Dense", "scores": "Dense"}
    assert model.spec.layer("dense").config == {"units": 48, "activation": "relu"}
    assert wiring(model.spec) == {"pixels": [], "dense": ["pixels"], "scores": ["dense"]}
    assert (model.spec.inputs, model.spec.outputs) == (["pixels"], ["scores"])


def test_unnamed_layers_take_the_names_keras_would_give_them() -> None:
    model = only_model("""
        import keras
        from keras import layers
        a = keras.Input((4,))
        b = keras.Input((4,))
        x = layers.Dense(3)(a)
        y = layers.Dense(3)(b)
        z = layers.MaxPool1D()(layers.Reshape((3, 1))(x))
        model = keras.Model([a, b], [y, z])
    """)
    assert set(layer_types(model.spec)) == {"input_layer", "input_layer_1", "dense", "dense_1", "reshape", "max_pooling1d"}
    assert model.name == "functional"
    assert model.spec.layer("max_pooling1d").type == "MaxPooling1D"  # the alias becomes the catalogue's name


# --- layers, shared layers, nested models ----------------------------------------------------------


def test_a_layer_object_called_twice_is_one_shared_layer_with_two_calls() -> None:
    model = only_model("""
        import keras
        from keras import layers
        words_a = keras.Input(shape=(None,), dtype="int32", name="words_a")
        words_b = keras.Input(shape=(None,), dtype="int32", name="words_b")
        embed = layers.Embedding(500, 16)
        vectors_a = embed(words_a)
        vectors_b = embed(words_b)
    """)
    assert layer_types(model.spec) == {"words_a": "Input", "words_b": "Input", "embedding": "Embedding"}
    assert [(call.id, call.layer, call.inputs) for call in model.spec.calls if call.layer == "embedding"] == [
        ("vectors_a", "embedding", ["words_a"]),
        ("vectors_b", "embedding", ["words_b"]),
    ]
    assert model.spec.layer("words_a").config == {"shape": [None], "dtype": "int32"}


def test_a_snippet_without_keras_model_becomes_one_with_a_note() -> None:
    result = parse("""
        import keras
        shared = keras.layers.Dense(8)
        first = keras.Input((4,), name="first")
        second = keras.Input((4,), name="second")
        left = shared(first)
        right = shared(second)
    """)
    assert not result.errors
    model = result.default_model
    assert model.implicit and model.spec.inputs == ["first", "second"] and model.spec.outputs == ["left", "right"]
    assert any("outside any keras.Model" in note.message for note in result.notes)


ENCODER_DECODER = """
import keras
from keras import layers

code_size = 16
picture = keras.Input(shape=(28, 28, 1), name="picture")
x = layers.Conv2D(8, 3, activation="relu")(picture)
x = layers.GlobalMaxPooling2D()(x)
code = layers.Dense(code_size)(x)
encoder = keras.Model(picture, code, name="encoder")

code_in = keras.Input(shape=(code_size,), name="code_in")
y = layers.Dense(28 * 28)(code_in)
y = layers.Reshape((28, 28, 1))(y)
decoder = keras.Model(code_in, y, name="decoder")

image = keras.Input(shape=(28, 28, 1), name="image")
rebuilt = decoder(encoder(image))
autoencoder = keras.Model(image, rebuilt, name="autoencoder")
"""


def test_several_models_and_a_model_calling_others_as_layers() -> None:
    result = parse(ENCODER_DECODER)
    assert not result.errors
    assert [(model.name, model.variable) for model in result.models] == [
        ("encoder", "encoder"), ("decoder", "decoder"), ("autoencoder", "autoencoder"),
    ]
    outer = result.default_model.spec
    assert layer_types(outer) == {"image": "Input", "encoder": "Model", "decoder": "Model"}
    assert wiring(outer) == {"image": [], "encoder": ["image"], "decoder": ["encoder"]}
    nested = outer.layer("encoder").config["spec"]
    assert nested["name"] == "encoder" and "format" not in nested
    assert nested == {key: value for key, value in result.model("encoder").spec.to_dict().items() if key != "format"}
    assert result.model("decoder").spec.layer("dense_1").config == {"units": 784}  # 28 * 28; "dense" is the encoder's (as Keras counts)


def test_lists_and_dicts_of_inputs_and_outputs() -> None:
    model = only_model("""
        import keras
        from keras import layers
        a = keras.Input((3,), name="a")
        b = keras.Input((5,), name="b")
        both = layers.concatenate([a, b])
        model = keras.Model(inputs={"a": a, "b": b}, outputs={"low": layers.Dense(1, name="low")(both),
                                                              "high": layers.Dense(2, name="high")(both)})
    """)
    assert model.spec.inputs == ["a", "b"] and model.spec.outputs == ["low", "high"]


@pytest.mark.parametrize(
    ("helper", "type_name", "extra"),
    [("concatenate", "Concatenate", ", axis=1"), ("add", "Add", ""), ("subtract", "Subtract", ""), ("multiply", "Multiply", ""),
     ("average", "Average", ""), ("maximum", "Maximum", ""), ("minimum", "Minimum", ""), ("dot", "Dot", ", axes=1")],
)
def test_functional_helpers_are_merge_layers(helper: str, type_name: str, extra: str) -> None:
    model = only_model(f"""
        import keras
        from keras import layers
        a = keras.Input((4,), name="a")
        b = keras.Input((4,), name="b")
        merged = layers.{helper}([a, b]{extra}, name="merged")
        model = keras.Model([a, b], merged)
    """)
    assert model.spec.layer("merged").type == type_name
    assert wiring(model.spec)["merged"] == ["a", "b"]


def test_sequential_with_add_and_its_layers() -> None:
    result = parse("""
        import keras
        from keras import layers
        stack = keras.Sequential([keras.Input(shape=(20,)), layers.Dense(16, activation="relu")], name="stack")
        stack.add(layers.Dropout(0.25))
        stack.add(layers.Dense(1, activation="sigmoid"))
        top = stack.layers[-1].output
    """)
    assert not result.errors
    spec = result.default_model.spec
    assert [call.id for call in spec.calls] == ["input_layer", "dense", "dropout", "dense_1"]
    assert (spec.name, spec.inputs, spec.outputs) == ("stack", ["input_layer"], ["dense_1"])


def test_sequential_with_a_keras2_input_shape_gets_an_input_and_a_note() -> None:
    result = parse("""
        from keras.models import Sequential
        from keras.layers import Dense
        model = Sequential([Dense(8, input_shape=(3,)), Dense(1)])
    """)
    assert not result.errors
    assert result.default_model.spec.layer("input_layer").config == {"shape": [3]}
    assert any("input_shape" in note.message for note in result.notes)


def test_wrappers_recurrent_states_and_attention() -> None:
    model = only_model("""
        import keras
        from keras import layers
        steps = keras.Input(shape=(10, 8), name="steps")
        seq = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(steps)
        per_step = layers.TimeDistributed(layers.Dense(3))(seq)
        attended = layers.MultiHeadAttention(num_heads=2, key_dim=4)(query=per_step, value=per_step)
        out, hidden, cell = layers.LSTM(5, return_state=True, name="encoder_lstm")(attended)
        model = keras.Model(steps, [out, hidden, cell])
    """)
    spec = model.spec
    assert spec.layer("bidirectional").config == {"layer": {"type": "LSTM", "config": {"units": 4, "return_sequences": True}}}
    assert spec.layer("time_distributed").config["layer"] == {"type": "Dense", "config": {"units": 3}}
    assert wiring(spec)["multi_head_attention"] == ["time_distributed", "time_distributed"]
    assert spec.outputs == ["encoder_lstm", "encoder_lstm:1", "encoder_lstm:2"]


def test_module_constants_arithmetic_and_functions_with_parameters() -> None:
    model = only_model("""
        import keras
        from keras import layers

        width = 16
        shape = (28, 28, 1)

        def conv_block(x, filters, size=3):
            y = layers.Conv2D(filters, size, padding="same", activation="relu")(x)
            return layers.BatchNormalization()(y)

        image = keras.Input(shape=shape, name="image")
        x = conv_block(image, width)
        x = conv_block(x, width * 2, size=5)
        logits = layers.Dense(10 // 2 + 5)(layers.Flatten()(x))
        model = keras.Model(image, logits, name=f"blocks_{width}")
    """)
    assert model.name == "blocks_16"
    assert model.spec.layer("conv2d").config == {"filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"}
    assert model.spec.layer("conv2d_1").config["filters"] == 32 and model.spec.layer("conv2d_1").config["kernel_size"] == 5
    assert model.spec.layer("dense").config == {"units": 10}


def test_frozen_layers_and_a_loop_that_only_sets_trainable() -> None:
    result = parse("""
        import keras
        from keras import layers
        inputs = keras.Input((6,))
        first = layers.Dense(4, name="first")
        x = first(inputs)
        x = layers.Dense(2, name="second")(x)
        model = keras.Model(inputs, x)
        first.trainable = False
        for layer in model.layers:
            layer.trainable = False
    """)
    assert not result.errors
    assert [layer.trainable for layer in result.default_model.spec.layers] == [True, False, False]  # an Input stays trainable


# --- applications ----------------------------------------------------------------------------------


def test_an_application_feature_extractor_with_every_layer_output() -> None:
    result = parse("""
        from tensorflow import keras
        backbone = keras.applications.VGG16()
        every_output = [layer.output for layer in backbone.layers]
        extractor = keras.Model(inputs=backbone.input, outputs=every_output, name="extractor")
    """)
    assert not result.errors
    spec = result.default_model.spec
    assert [layer.id for layer in spec.layers] == ["vgg16"] and spec.inputs == ["vgg16"]
    config = spec.layer("vgg16").config
    assert config["weights"] is None and config["outputs"][:2] == ["input_layer", "block1_conv1"] and len(config["outputs"]) == 23
    assert spec.outputs[:3] == ["vgg16", "vgg16:1", "vgg16:2"] and spec.outputs[-1] == "vgg16:22"
    assert any("weights=None" in note.message and note.kind == "assumption" for note in result.notes)


def test_an_application_called_on_a_tensor_and_frozen_inner_layers() -> None:
    result = parse("""
        import keras
        from keras import layers
        base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(64, 64, 3), name="backbone")
        base.get_layer("block1_conv1").trainable = False
        picture = keras.Input(shape=(64, 64, 3), name="picture")
        features = base(picture, training=False)
        pooled = layers.GlobalAveragePooling2D()(features)
        model = keras.Model(picture, layers.Dense(5)(pooled))
    """)
    assert not result.errors
    layer = result.default_model.spec.layer("backbone")
    assert layer.type == "VGG16"
    assert layer.config == {"weights": None, "include_top": False, "input_shape": [64, 64, 3], "frozen": ["block1_conv1"]}
    assert any("training=" in note.message for note in result.notes)


def test_inner_outputs_by_get_layer_and_by_index_and_model_input() -> None:
    result = parse("""
        import keras
        from keras import layers
        vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
        pooled = layers.Flatten()(vgg.get_layer("block3_pool").output)
        early = vgg.layers[2].output
        model = keras.Model(vgg.input, [pooled, early])
    """)
    assert not result.errors
    spec = result.default_model.spec
    assert spec.layer("vgg16").config["outputs"] == ["block3_pool", "block1_conv2"]
    assert wiring(spec)["flatten"] == ["vgg16"] and spec.outputs == ["flatten", "vgg16:1"]


# --- compile / fit and skipped lines ---------------------------------------------------------------


def test_compile_and_fit_become_training_settings_and_other_lines_are_skipped() -> None:
    result = parse("""
        import numpy as np
        import keras
        from keras import layers
        title = keras.Input(shape=(None,), name="title")
        tags = keras.Input(shape=(6,), name="tags")
        words = layers.GlobalAveragePooling1D()(layers.Embedding(300, 8)(title))
        both = layers.concatenate([words, tags])
        urgent = layers.Dense(1, activation="sigmoid", name="urgent")(both)
        team = layers.Dense(3, activation="softmax", name="team")(both)
        model = keras.Model([title, tags], [urgent, team])
        model.summary()
        keras.utils.plot_model(model, "tickets.png")
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                      loss={"urgent": "binary_crossentropy", "team": keras.losses.CategoricalCrossentropy(from_logits=True)},
                      loss_weights=[1.0, 0.5], metrics=[["binary_accuracy"], ["acc"]])
        titles = np.random.randint(300, size=(64, 7))
        print("training")
        model.fit([titles, titles], [titles, titles], epochs=3, batch_size=16, validation_split=0.1)
    """)
    assert not result.errors
    assert result.default_model.training == {
        "optimizer": "Adam", "learning_rate": 0.01,
        "outputs": [
            {"name": "urgent", "loss": "binary_crossentropy", "loss_weight": 1.0, "metrics": ["binary_accuracy"]},
            {"name": "team", "loss": "categorical_crossentropy", "from_logits": True, "loss_weight": 0.5, "metrics": ["acc"]},
        ],
        "batch_size": 16, "epochs": 3, "validation_split": 0.1,
    }
    skipped = {note.line for note in result.notes if note.kind == "skipped"}
    assert {2, 12, 13, 17, 18} <= skipped  # numpy import, summary, plot_model, data, print


# --- what is refused, with line and column ---------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "line", "words"),
    [
        ("class Block(keras.layers.Layer):\n    pass\n", 3, "class definitions"),
        ("y = keras.layers.Lambda(lambda t: t)(x)\n", 3, "lambda"),
        ("y = keras.layers.Lambda(keras.activations.relu)(x)\n", 3, "Lambda runs Python code"),
        ("for size in (8, 4):\n    x = keras.layers.Dense(size)(x)\n", 3, "`for` loops are not supported"),
        ("while True:\n    x = keras.layers.Dense(2)(x)\n", 3, "`while` loops"),
        ("if x is not None:\n    x = keras.layers.Dense(2)(x)\n", 3, "`if` statements are not supported"),
        ("y = keras.layers.Dense(2)(x) if big else x\n", 3, "conditional expressions"),
        ("y = keras.layers.Conv3D(2, 3)(x)\n", 3, "not in the studio's catalogue"),
        ("y = keras.layers.Dense(units=0)(x)\n", 3, "`units` of Dense must be a positive integer"),
        ("y = keras.layers.Dense(2, colour='red')(x)\n", 3, "Unknown parameter 'colour'"),
        ("y = x * 2\n", 3, "raw operation"),
        ("y = keras.ops.relu(x)\n", 3, "raw operations"),
        ("y = x.shape[1]\n", 3, "needs Keras to compute it"),
        ("try:\n    y = x\nexcept Exception:\n    pass\n", 3, "`try` blocks"),
    ],
)
def test_unsupported_constructs_get_a_message_with_line_and_column(snippet: str, line: int, words: str) -> None:
    result = parse_code("import keras\nx = keras.Input((4,))\n" + snippet)
    assert result.errors, "expected an error"
    problem = result.errors[0]
    assert problem.line == line and problem.column is not None
    assert words in problem.message
    assert problem.excerpt("import keras\nx = keras.Input((4,))\n" + snippet).splitlines()[0].startswith(f"{line:>4} | ")


def test_a_failed_line_does_not_cascade_into_more_errors() -> None:
    result = parse("""
        import keras
        x = keras.Input((4,))
        y = keras.layers.Lambda(lambda t: t)(x)
        z = keras.layers.Dense(2)(y)
        model = keras.Model(x, z)
    """)
    assert [problem.line for problem in result.errors] == [4]
    assert result.models == []


def test_the_model_is_chosen_by_keras_name_or_variable() -> None:
    result = parse(ENCODER_DECODER)
    assert result.model("decoder").name == "decoder"
    assert result.model(None).name == "autoencoder"
    with pytest.raises(KeyError, match="models found: encoder"):
        result.model("nothing")


def test_tensors_left_outside_the_models_make_one_more_model() -> None:
    result = parse("""
        import keras
        a = keras.Input((4,), name="a")
        model = keras.Model(a, keras.layers.Dense(2, name="head")(a), name="first")
        shared = keras.layers.Dense(3, name="shared")
        b = keras.Input((4,), name="b")
        left, right = shared(a), shared(b)
        scores = model.predict(data)
    """)
    assert not result.errors
    assert [(model.name, model.implicit) for model in result.models] == [("first", False), ("model", True)]
    assert result.default_model.spec.inputs == ["a", "b"] and result.default_model.spec.outputs == ["left", "right"]

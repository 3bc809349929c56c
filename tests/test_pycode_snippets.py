"""Snippets in the style of the Keras functional-API guide (written by us): each is parsed, and the model its
spec builds is compared with the model Keras builds when the snippet is run here (our own code, in the test
only): same layers, configs, wiring and parameter count. The parser itself never runs anything."""

from __future__ import annotations

import textwrap

import keras
import pytest

from studio.io.pycode import parse_code
from studio.model.analysis import analyze_for_display, param_counts
from studio.model.build import build_model

RESIDUAL = """
import keras
from keras import layers

picture = keras.Input(shape=(32, 32, 3), name="picture")
x = layers.Conv2D(16, 3, activation="relu")(picture)
stem = layers.MaxPooling2D(2)(x)

x = layers.Conv2D(16, 3, padding="same", activation="relu")(stem)
x = layers.Conv2D(16, 3, padding="same")(x)
merged = layers.add([x, stem])
x = layers.Activation("relu")(merged)

x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.3)(x)
classes = layers.Dense(5, activation="softmax", name="classes")(x)
model = keras.Model(picture, classes, name="small_resnet")
"""

TICKETS = """
import keras
from keras import layers

vocabulary = 500
teams = 3

subject = keras.Input(shape=(None,), name="subject")
message = keras.Input(shape=(None,), name="message")
labels = keras.Input(shape=(8,), name="labels")
subject_vectors = layers.Embedding(vocabulary, 16)(subject)
message_vectors = layers.Embedding(vocabulary, 16)(message)
subject_summary = layers.GRU(12)(subject_vectors)
message_summary = layers.LSTM(20)(message_vectors)
joined = layers.concatenate([subject_summary, message_summary, labels])
urgency = layers.Dense(1, activation="sigmoid", name="urgency")(joined)
team = layers.Dense(teams, activation="softmax", name="team")(joined)
model = keras.Model(inputs=[subject, message, labels], outputs=[urgency, team], name="tickets")
model.compile(optimizer="rmsprop", loss=["binary_crossentropy", "categorical_crossentropy"], loss_weights=[1.0, 0.3])
"""

SIAMESE = """
import keras
from keras import layers

left = keras.Input(shape=(40,), name="left")
right = keras.Input(shape=(40,), name="right")
shared_dense = layers.Dense(24, activation="relu")
left_code = shared_dense(left)
right_code = shared_dense(right)
difference = layers.subtract([left_code, right_code])
same = layers.Dense(1, activation="sigmoid", name="same")(difference)
model = keras.Model([left, right], same, name="siamese")
"""

MODEL_IN_MODEL = """
import keras
from keras import layers

def make_scorer():
    features = keras.Input(shape=(12,), name="features")
    hidden = layers.Dense(6, activation="tanh")(features)
    return keras.Model(features, layers.Dense(1)(hidden), name="scorer")

scorer = make_scorer()
first = keras.Input(shape=(12,), name="first")
second = keras.Input(shape=(12,), name="second")
scores = layers.concatenate([scorer(first), scorer(second)])
model = keras.Model([first, second], layers.Activation("softmax")(scores), name="ranker")
"""

VGG16_FEATURES = """
import tensorflow as tf

backbone = tf.keras.applications.VGG16()
outputs_of_every_layer = [layer.output for layer in backbone.layers]
extractor = tf.keras.Model(inputs=backbone.input, outputs=outputs_of_every_layer, name="extractor")
"""


def run_snippet(source: str) -> keras.Model:
    """Our own snippet, run by Keras in the test (fresh name counters, as in a new process)."""
    keras.backend.clear_session()
    namespace: dict = {}
    exec(compile(textwrap.dedent(source), "<snippet>", "exec"), namespace)  # noqa: S102 - our own test snippet, never user code
    return namespace["model"]


def layer_configs(model: keras.Model) -> dict[str, tuple[str, dict]]:
    return {layer.name: (type(layer).__name__, layer.get_config()) for layer in model.layers}


@pytest.mark.parametrize("source", [RESIDUAL, TICKETS, SIAMESE, MODEL_IN_MODEL], ids=["residual", "tickets", "siamese", "model_in_model"])
def test_the_parsed_spec_builds_the_model_keras_builds_from_the_same_code(source: str) -> None:
    result = parse_code(source)
    assert not result.errors, [problem.text() for problem in result.errors]
    ran = run_snippet(source)
    built = build_model(result.model("model").spec)
    assert built.name == ran.name
    assert built.count_params() == ran.count_params()
    assert layer_configs(built) == layer_configs(ran)
    assert [tuple(tensor.shape) for tensor in built.outputs] == [tuple(tensor.shape) for tensor in ran.outputs]


def test_the_residual_merge_and_the_shared_dense_are_wired_as_in_keras() -> None:
    spec = parse_code(RESIDUAL).default_model.spec
    assert spec.call("add").inputs == ["conv2d_2", "max_pooling2d"]
    siamese = parse_code(SIAMESE).default_model.spec
    assert [(call.id, call.layer) for call in siamese.calls if call.layer == "dense"] == [("left_code", "dense"), ("right_code", "dense")]
    ranker = parse_code(MODEL_IN_MODEL).default_model.spec
    assert [(call.id, call.inputs) for call in ranker.calls if call.layer == "scorer"] == [("scorer", ["first"]), ("scorer_1", ["second"])]


def test_the_ticket_classifier_keeps_its_compile_settings() -> None:
    model = parse_code(TICKETS).default_model
    assert model.training == {
        "optimizer": "rmsprop",
        "outputs": [
            {"name": "urgency", "loss": "binary_crossentropy", "loss_weight": 1.0},
            {"name": "team", "loss": "categorical_crossentropy", "loss_weight": 0.3},
        ],
    }


def test_the_vgg16_feature_extractor_has_the_tutorials_numbers() -> None:
    result = parse_code(VGG16_FEATURES)
    assert not result.errors
    spec = result.default_model.spec
    assert len(spec.outputs) == 23  # every layer of VGG16, its input included
    analysis = analyze_for_display(spec)
    assert analysis.ok, analysis.problems
    assert param_counts(analysis).total == 138_357_544

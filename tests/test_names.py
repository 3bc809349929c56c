"""The one model-name rule (studio.model.names): what it renames is what Keras 3 on TensorFlow cannot run, and
every place that names a model for Keras (training job, saved files, training script, code export) follows it."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from studio.graph.presets import load_preset
from studio.io import model_files
from studio.io.codegen import generate_code
from studio.model.build import build_model
from studio.model.names import KERAS_NAME_RULE, keras_model_name, needs_keras_name
from studio.training.script import training_script

RENAMED = {"mnist model": "mnist_model", "_private": "model_private", "-dash": "model-dash", "modèle": "mod_le", "": "model"}
KEPT = ("mnist_model", "ok-name_1.2", ".dot", "Model3")


@pytest.mark.parametrize(("name", "expected"), RENAMED.items())
def test_names_keras_cannot_run_are_renamed(name: str, expected: str) -> None:
    assert keras_model_name(name) == expected and needs_keras_name(name)


@pytest.mark.parametrize("name", KEPT)
def test_names_keras_can_run_are_kept(name: str) -> None:
    assert keras_model_name(name) == name and not needs_keras_name(name)


def _fits(name: str) -> bool:
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs), name=name)
    model.compile(optimizer="sgd", loss="mean_squared_error")
    try:
        model.fit(np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    except ValueError as error:
        assert "scope name" in str(error)
        return False
    return True


def test_the_rule_matches_what_keras_refuses() -> None:
    # If a Keras upgrade starts to accept these names, the workaround (and this module) can go.
    refused = [name for name in RENAMED if name and not _fits(name)]
    assert refused == [name for name in RENAMED if name]
    assert all(_fits(keras_model_name(name)) for name in RENAMED)
    assert all(_fits(name) for name in KEPT)


def test_saved_files_the_script_and_the_code_export_use_the_same_name() -> None:
    spec = load_preset("mnist_mlp")
    spec.name = "_private"  # passed the code export's old check (letters and _ only), yet Keras refuses it
    model, note = model_files.traceable(build_model(spec))
    assert model.name == "model_private" and KERAS_NAME_RULE in note
    script = training_script(spec, dataset_key="mnist")
    assert 'name="model_private"' in script and "Model name: 'model_private', not '_private'" in script
    header = "\n".join(line.removeprefix("# ") for line in generate_code(spec).splitlines() if line.startswith("#"))
    assert 'model.name = "model_private"' in " ".join(header.split())
    assert 'name="_private"' in generate_code(spec)  # the export keeps the user's name and says how to train it


def test_a_name_keras_accepts_gets_no_note() -> None:
    spec = load_preset("mnist_mlp")
    spec.name = "mnist_model"
    assert "Note:" not in generate_code(spec)
    assert "Model name:" not in training_script(spec, dataset_key="mnist")
    assert model_files.traceable(build_model(spec))[1] is None

"""The one model-name rule (studio.model.names): what it renames is what Keras 3 on TensorFlow cannot run, and
every place that names a model for Keras (training job, saved files, training script, code export) follows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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


_FIT_CHECK = """
import json, sys
import keras
import numpy as np


def fits(name):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs), name=name)
    model.compile(optimizer="sgd", loss="mean_squared_error")
    try:
        model.fit(np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    except ValueError as error:
        assert "scope name" in str(error), error
        return False
    return True


print(json.dumps({name: fits(name) for name in json.loads(sys.argv[1])}))
"""


def _fit_results(names: list[str]) -> dict[str, bool]:
    """Whether Keras can fit a model of each name; in a subprocess, since a refused fit leaves TensorFlow's name scope dirty."""
    completed = subprocess.run(
        [sys.executable, "-c", _FIT_CHECK, json.dumps(names)], capture_output=True, text=True, timeout=300, check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_rule_matches_what_keras_refuses() -> None:
    # If a Keras upgrade starts to accept these names, the workaround (and this module) can go.
    renamed = [name for name in RENAMED if name]
    results = _fit_results([*renamed, *(keras_model_name(name) for name in RENAMED), *KEPT])
    assert [name for name in renamed if not results[name]] == renamed
    assert all(results[keras_model_name(name)] for name in RENAMED)
    assert all(results[name] for name in KEPT)


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

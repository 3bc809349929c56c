"""Verified model files: every .keras and .h5 reloads in a fresh process with the live model's predictions."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from studio.graph.presets import load_preset
from studio.graph.spec import SpecError
from studio.io import model_files as export
from studio.model.build import build_model
from studio.model.names import keras_model_name
from studio.training.settings import compile_arguments, default_settings

PRESETS = ("mnist_mlp", "multi_io", "autoencoder")  # one output; two outputs; nested models


def _targets(model: keras.Model, count: int, seed: int = 1) -> list[np.ndarray]:
    """Random targets: class numbers for a softmax classifier with a sparse loss, else values shaped like each output."""
    rng = np.random.default_rng(seed)
    sparse = model.loss == "sparse_categorical_crossentropy"
    return [
        rng.integers(0, tensor.shape[-1], size=count) if sparse else rng.random((count, *tensor.shape[1:])).astype("float32")
        for tensor in model.outputs
    ]


def trained(key: str, rename: bool = True) -> keras.Model:
    """A preset compiled as the studio compiles it and fitted for a few steps (so the optimizer has state)."""
    spec = load_preset(key)
    model = build_model(spec)
    if rename:
        model.name = keras_model_name(model.name)
    model.compile(**compile_arguments(default_settings(spec), steps_per_execution=2))
    if rename:
        x = export.sample_inputs(model, 16)
        y = _targets(model, 16)
        model.fit(x[0] if len(x) == 1 else x, y[0] if len(y) == 1 else y, batch_size=4, epochs=1, verbose=0)
    return model


@pytest.mark.parametrize("key", PRESETS)
def test_both_files_reload_in_a_fresh_process_with_equal_predictions(key: str, tmp_path: Path) -> None:
    # mnist_mlp keeps the tutorial's name "mnist model", which Keras 3 cannot trace (not fitted for that reason).
    model = trained(key, rename=key != "mnist_mlp")
    iterations = int(model.optimizer.iterations.numpy())
    report = export.export_model_files(model, tmp_path, key, live=key != "autoencoder")
    assert report.ok, [check.describe() for check in report.files]
    assert [check.format for check in report.files] == ["keras", "h5"]
    for check in report.files:
        assert check.path.exists() and check.size_bytes > 1000
        assert check.compiled, check.warnings  # full loss names: even the .h5 reloads compiled
        assert check.max_abs_difference is not None and check.max_abs_difference <= export.ATOL
        assert check.warnings == []  # predict() works on the reloaded file too
        assert "predictions equal the live model's" in check.describe()
    # The live model was never touched: its optimizer state is intact (saving .h5 would have reset it).
    assert int(model.optimizer.iterations.numpy()) == iterations
    reloaded = keras.models.load_model(report.check("keras").path)
    assert int(reloaded.optimizer.iterations.numpy()) == iterations  # the .keras file carries the optimizer state
    if key == "mnist_mlp":
        assert any("'mnist model' is named 'mnist_model'" in note for note in report.notes)
        assert model.name == "mnist model" and reloaded.name == "mnist_model"  # the live model is not renamed
    if key == "autoencoder":
        assert any("mid-run" in note for note in report.notes)
        assert [layer.name for layer in reloaded.layers] == ["img", "encoder", "decoder"]  # still nested


def test_a_wrong_or_broken_file_is_reported_not_hidden(tmp_path: Path) -> None:
    model = trained("mnist_mlp")
    files = export.save_model_files(model, tmp_path, "model")
    inputs = export.sample_inputs(model)
    wrong = [output + 0.5 for output in export.predict(model, inputs)]
    broken = tmp_path / "broken.h5"
    broken.write_bytes(files["h5"].read_bytes()[:2000])
    checks = export.verify_model_files({"keras": files["keras"], "h5": broken}, inputs, wrong)
    assert checks[0].loaded and not checks[0].matches and not checks[0].ok
    assert "predictions differ" in checks[0].describe()
    assert not checks[1].loaded and "does NOT reload" in checks[1].describe()


def test_files_are_saved_keras_first_whatever_order_is_asked(tmp_path: Path) -> None:
    # Saving .h5 resets the saving model's optimizer: a .keras written after it would lose the optimizer state.
    model = trained("multi_io")
    iterations = int(model.optimizer.iterations.numpy())
    assert iterations > 0
    files = export.save_model_files(model, tmp_path, "model", ("h5", "keras"))
    assert list(files) == ["keras", "h5"]
    reloaded = keras.models.load_model(files["keras"])
    assert int(reloaded.optimizer.iterations.numpy()) == iterations


def test_an_unknown_file_format_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown model file format"):
        export.save_model_files(keras.Model(), "/nonexistent", "x", ("onnx",))


def test_sample_inputs_fit_embeddings_and_shapes() -> None:
    model = build_model(load_preset("multi_io"))
    body, title, tag = export.sample_inputs(model, count=3)
    assert body.shape == (3, 8) and title.shape == (3, 8) and tag.shape == (3, 12)
    assert body.max() < 2000 and body.max() > 1  # word ids below the Embedding's input_dim, not all zero


def test_round_trip_gives_equal_test_metrics() -> None:
    model = trained("autoencoder")
    x = export.sample_inputs(model, 16, seed=5)
    result = export.round_trip(model, x, x, fmt="h5")
    assert result.equal, (result.before, result.after)
    assert set(result.before) == {"loss", "mean_absolute_error"} and result.notes == []


def test_round_trip_of_a_model_named_like_the_tutorial() -> None:
    model = trained("mnist_mlp", rename=False)
    x = export.sample_inputs(model, 32)
    result = export.round_trip(model, x, [np.arange(32) % 10])
    assert result.equal and "accuracy" in result.before
    assert "mnist_model" in result.notes[0]


def test_round_trip_needs_a_compiled_model() -> None:
    with pytest.raises(ValueError, match="must be compiled"):
        export.round_trip(build_model(load_preset("mnist_mlp")), [], [])


def test_summary_text_is_keras_summary() -> None:
    text = export.summary_text(build_model(load_preset("mnist_mlp")))
    assert "Total params: 27,882" in text and "dense_2 (Dense)" in text and "Param #" in text


def test_project_file_round_trip() -> None:
    spec = load_preset("multi_io")
    settings = default_settings(spec)
    project = export.read_project(export.project_json(spec, settings, "tickets"))
    assert project.spec.to_dict() == spec.to_dict()
    assert project.settings == settings.to_dict()
    assert project.dataset == {"key": "tickets"}
    bare = export.read_project(spec.to_json())  # a plain spec file opens too
    assert bare.spec.to_dict() == spec.to_dict() and bare.settings is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "Not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"format": export.PROJECT_FORMAT, "spec": {"layers": 3}}), "`layers` must be a list"),
        (json.dumps({"format": export.PROJECT_FORMAT, "spec": {}, "settings": [1]}), "`settings` must be an object"),
    ],
)
def test_bad_project_files_say_why(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        export.read_project(text)

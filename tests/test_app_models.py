"""AppTest: the Models page refuses each bad upload with its own clear message (the session goes on), shows a
good one, opens it in the builder, draws feature maps of the trained model, and offers per-layer freezing."""

from __future__ import annotations

from pathlib import Path

import keras
import pytest
from shown_text import shown
from streamlit.testing.v1 import AppTest

from components import state
from components.training.jobs import job_registry
from studio.graph.presets import load_preset
from studio.model.build import build_model
from studio.model.upload import custom_classes, load_uploaded_model
from studio.training.job import TrainingRequest
from studio.training.settings import default_settings

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "models.py")
TIMEOUT = 300


def _custom_class_model() -> keras.Model:
    """A model with a registered custom layer; the registration is undone afterwards, as in a fresh app process."""

    @keras.saving.register_keras_serializable(package="mine")
    class Scale(keras.layers.Layer):
        def call(self, inputs):  # noqa: ANN001, ANN202 - Keras's signature
            return inputs * 3.0

    inputs = keras.Input((4,))
    return keras.Model(inputs, Scale(name="scale")(inputs)), Scale


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every kind of upload, built here: good files, a Lambda model, a custom class, truncated and fake files."""
    folder = tmp_path_factory.mktemp("uploads")
    good = build_model(load_preset("mnist_mlp"))
    inputs = keras.Input((4,))
    lambda_model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0, name="double")(inputs))
    custom, scale_class = _custom_class_model()
    for name, model in (("good", good), ("lambda", lambda_model), ("custom", custom)):
        for suffix in ("keras", "h5"):
            model.save(folder / f"{name}.{suffix}")  # saving a Lambda needs no safe_mode; loading it does
    registered = keras.saving.get_registered_name(scale_class)
    keras.saving.get_custom_objects().pop(registered)
    files = {path.name: path.read_bytes() for path in folder.iterdir()}
    files["truncated.keras"] = files["good.keras"][: len(files["good.keras"]) // 2]
    files["truncated.h5"] = files["good.h5"][: len(files["good.h5"]) // 2]
    files["notes.h5"] = b"these are my notes, not a model\n" * 10
    return files


def models_page(**session) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("mnist_mlp")
    for key, value in session.items():
        at.session_state[key] = value
    return at.run()


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="models.upload").set_value((name, data, "application/octet-stream"))
    return at.run()


BAD_UPLOADS = [
    ("lambda.keras", "contains a Lambda layer ('double'): Python code stored in the file"),
    ("lambda.h5", "contains a Lambda layer ('double')"),
    ("custom.keras", "uses a custom class: 'mine>Scale' (layer 'scale')"),
    ("custom.h5", "uses a custom class: 'mine>Scale' (layer 'scale')"),
    ("truncated.keras", "is truncated or damaged"),
    ("truncated.h5", "is truncated or damaged"),
    ("notes.h5", "is a text file, not a Keras model"),
]


def test_each_bad_upload_gets_its_message_and_the_session_goes_on(model_files: dict[str, bytes]) -> None:
    at = models_page()
    assert not at.exception
    for name, message in BAD_UPLOADS:
        at = upload(at, name, model_files[name])
        assert not at.exception, name
        assert len(at.error) == 1 and message in shown(at.error[0].value), (name, [error.value for error in at.error])
        assert "models.open_in_builder" not in {button.key for button in at.button}
    at = upload(at, "good.h5", model_files["good.h5"])  # the same session still works
    assert not at.exception and not at.error
    assert "Total params: 27,882" in at.code[0].value
    assert len(at.get("graphviz_chart")) == 1


def test_too_large_and_empty_files_are_refused_before_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFS_MAX_MODEL_MB", "1")
    assert load_uploaded_model("big.keras", b"\0" * (2 * 1024 * 1024)).error == (
        "'big.keras' is 2.0 MB; the limit is max model file size (MB) = 1 (set KFS_MAX_MODEL_MB to change it)."
    )
    assert load_uploaded_model("empty.h5", b"").kind == "empty"
    assert load_uploaded_model("model.onnx", b"x").kind == "wrong_type"


def test_custom_classes_are_found_in_both_config_forms() -> None:
    keras_form = {"class_name": "Scale", "registered_name": "mine>Scale", "module": None, "config": {"name": "scale"}}
    h5_form = {"class_name": "mine>Scale", "config": {"name": "scale"}}
    builtin = {"class_name": "Dense", "registered_name": None, "module": "keras.layers", "config": {"name": "dense"}}
    assert custom_classes({"layers": [keras_form, builtin]}) == [("mine>Scale", "scale")]
    assert custom_classes([h5_form]) == [("mine>Scale", "scale")]
    assert custom_classes([builtin]) == []


def test_a_good_upload_opens_in_the_builder(model_files: dict[str, bytes]) -> None:
    at = upload(models_page(), "good.keras", model_files["good.keras"])
    assert not at.exception
    at.button(key="models.open_in_builder").click().run()
    assert not at.exception
    spec = at.session_state[state.SPEC]
    assert [layer.type for layer in spec.layers] == ["Input", "Dense", "Dense", "Dense"]
    assert at.session_state[state.SPEC_SOURCE] == "file good.keras"


@pytest.fixture(scope="module")
def trained_job():
    """A finished one-epoch MNIST run in the process-wide job registry."""
    spec = load_preset("mnist_mlp")
    settings = default_settings(spec)
    settings.epochs = 1
    job = job_registry().submit(TrainingRequest(spec, settings, dataset_key="mnist", prefer_offline=True, max_train_samples=256))
    assert job.done.wait(TIMEOUT) and job.model is not None, job.describe()
    return job


def test_feature_maps_of_the_trained_model_on_a_mnist_digit(trained_job, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_OFFLINE", "1")
    at = models_page(**{"train.job_id": trained_job.id})
    assert not at.exception
    assert at.radio(key="models.fm.source").value == "trained"  # VGG16 is built only when asked for
    at.button(key="models.fm.run").click().run()
    assert not at.exception
    captions = [shown(caption.value) for caption in at.caption]
    assert any(text.startswith("dense (Dense) · output (32,)") for text in captions), captions
    assert any(text.startswith("dense_2 (Dense) · output (10,) · 10 units") for text in captions)
    assert len(at.get("plotly_chart")) == 3  # the three Dense layers as bar charts


def test_fine_tune_tab_offers_per_layer_freezing(trained_job) -> None:
    at = models_page(**{"train.job_id": trained_job.id})
    at.radio(key="models.ft.source").set_value("trained").run()
    frozen = next(widget for widget in at.multiselect if widget.key.startswith("models.ft.frozen."))
    assert frozen.options == ["dense", "dense_1", "dense_2"]
    frozen.set_value(["dense"]).run()
    assert not at.exception
    assert any(caption.value == "2,762 of 27,882 parameters will be trained." for caption in at.caption)

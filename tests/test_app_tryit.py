"""AppTest: "Try it" on the Models page (an uploaded model of each kind) and on the Train page after a short run.

The drawing pad is a components-v2 widget: a test draws by putting what the browser would send (the Fabric.js
objects and the PNG of the canvas as a data URL) into the pad's session key."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shown_text import shown
from streamlit.testing.v1 import AppTest

from components import state
from components.training.jobs import JOB_ID, job_registry
from components.tryit.images import pad_key
from studio.graph.presets import load_preset
from studio.model.build import build_model
from studio.training import datasets
from studio.training.job import TrainingRequest
from studio.training.settings import default_settings

ROOT = Path(__file__).resolve().parents[1]
MODELS = str(ROOT / "pages" / "models.py")
TRAIN = str(ROOT / "pages" / "training.py")
TIMEOUT = 300


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def canvas_value(image: np.ndarray, objects: int = 1) -> dict:
    """What streamlit-drawable-canvas sends back: the drawing's objects and the canvas as a PNG data URL."""
    url = "data:image/png;base64," + base64.b64encode(png(image)).decode("ascii")
    return {"drawing": {"raw": {"objects": [{"type": "path"}] * objects, "background": "#000000"}, "data": url}, "backgroundFit": None}


def a_one() -> np.ndarray:
    """A white "1" drawn off-centre on the black pad."""
    image = np.zeros((224, 224, 4), dtype=np.uint8)
    image[..., 3] = 255
    image[30:170, 140:158, :3] = 255
    return image


def blank() -> np.ndarray:
    image = np.zeros((224, 224, 4), dtype=np.uint8)
    image[..., 3] = 255
    return image


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("tryit")
    files = {}
    for preset in ("mnist_mlp", "autoencoder", "multi_io", "shared_embedding"):
        path = folder / f"{preset}.keras"
        build_model(load_preset(preset)).save(path)
        files[preset] = path.read_bytes()
    return files


def models_page(model_files: dict[str, bytes], preset: str) -> AppTest:
    at = AppTest.from_file(MODELS, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("mnist_mlp")
    at.run()
    at.file_uploader(key="models.upload").set_value((f"{preset}.keras", model_files[preset], "application/octet-stream"))
    at.run()
    assert not at.exception, at.exception
    return at


def image_captions(at: AppTest) -> list[str]:
    return [caption for element in at.get("image") for caption in element.captions]


def metric(at: AppTest, label: str) -> str:
    return next(str(item.value) for item in at.metric if item.label == label)


def test_models_page_classifier_draw_blank_and_bad_pictures(model_files) -> None:
    at = models_page(model_files, "mnist_mlp")
    assert at.radio(key="models.tryit.source.uploaded").value == "uploaded"
    assert any("Nothing is drawn yet: draw a digit on the black square." in info.value for info in at.info)
    assert not at.error
    key = "models.uploaded.classifier"
    at.session_state[pad_key(key)] = canvas_value(a_one())
    at.run()
    assert not at.exception and not at.error
    assert metric(at, "Prediction") in [str(digit) for digit in range(10)]
    assert any(shown(caption.value).startswith("The output layer ends in softmax") for caption in at.caption)
    bars = [chart for chart in at.get("plotly_chart") if '"probability"' in chart.proto.spec]
    assert len(bars) == 1 and '"tickformat":".0%"' in bars[0].proto.spec.replace(" ", "")
    assert "What the model sees (28x28)" in image_captions(at)

    at.session_state[pad_key(key)] = canvas_value(blank())  # strokes that left no ink (e.g. all erased)
    at.run()
    assert not at.exception and not at.error
    assert any("Nothing is drawn yet: draw a digit (or upload a picture of one)" in warning.value for warning in at.warning)

    at.radio(key=f"tryit.{key}.source").set_value("upload").run()
    for name, data, message in (
        ("notes.png", b"not a picture at all\n" * 30, "'notes.png' is not a picture that can be read"),
        ("huge.png", png(np.zeros((5000, 5000), dtype=np.uint8)), "5000x5000 pixels"),
    ):
        at.file_uploader(key=f"tryit.{key}.upload").set_value((name, data, "image/png")).run()
        assert not at.exception, name
        assert any(message in shown(error.value) for error in at.error), (name, [error.value for error in at.error])
    paper = np.full((120, 90), 240, dtype=np.uint8)
    paper[20:100, 40:52] = 20  # a dark "1" on light paper
    at.file_uploader(key=f"tryit.{key}.upload").set_value(("one.png", png(paper), "image/png")).run()
    assert not at.exception and not at.error
    assert metric(at, "Prediction") in [str(digit) for digit in range(10)]
    assert any("inverted to a white digit on black" in caption.value for caption in at.caption)


def test_models_page_autoencoder_shows_drawing_and_reconstruction(model_files) -> None:
    at = models_page(model_files, "autoencoder")
    at.session_state[pad_key("models.uploaded.autoencoder")] = canvas_value(a_one())
    at.run()
    assert not at.exception and not at.error
    assert {"Your drawing, as the model sees it", "The model's reconstruction"} <= set(image_captions(at))
    assert any(shown(caption.value).startswith("Mean squared difference between the two") for caption in at.caption)


def test_models_page_ticket_model_predicts_priority_and_department(model_files) -> None:
    at = models_page(model_files, "multi_io")
    key = "models.uploaded.tickets"
    at.text_input(key=f"tryit.{key}.title").set_value("Printer on fire").run()
    at.text_area(key=f"tryit.{key}.body").set_value("The printer in room 4 is on fire again, please send help").run()
    at.multiselect(key=f"tryit.{key}.tags").set_value([0, 3]).run()
    assert not at.exception and not at.error
    priority = metric(at, "Priority")
    assert priority.endswith("%") and 0 <= int(priority.rstrip("%")) <= 100
    assert metric(at, "Department").startswith("Department ")
    assert any("random word ids and random labels" in caption.value for caption in at.caption)
    assert at.multiselect(key=f"tryit.{key}.tags").options == [f"Tag {n}" for n in range(1, 13)]


def test_models_page_other_model_from_random_samples_and_typed_numbers(model_files) -> None:
    at = models_page(model_files, "shared_embedding")
    key = "models.uploaded.other"
    assert not at.exception and not at.error
    outputs = [shown(item.value) for item in at.markdown if shown(item.value).startswith("Output ")]
    assert len(outputs) == 2 and all("shape (8, 64)" in text for text in outputs), outputs
    at.radio(key=f"tryit.{key}.fill.0").set_value("typed").run()
    at.text_area(key=f"tryit.{key}.values.0").set_value("1 2 3").run()
    assert any("takes 8 numbers" in shown(error.value) for error in at.error)
    at.text_area(key=f"tryit.{key}.values.0").set_value("1 2 3 4 5 6 7 8").run()
    assert not at.exception and not at.error


def test_models_page_without_a_model_says_how_to_get_one() -> None:
    at = AppTest.from_file(MODELS, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("mnist_mlp")
    at.run()
    assert not at.exception
    assert any("to try it here" in info.value for info in at.info)


@pytest.fixture(scope="module")
def trained_jobs():
    """Short finished runs of the classifier and the ticket model."""
    jobs = {}
    for preset, key in (("mnist_mlp", "mnist"), ("multi_io", "tickets")):
        spec = load_preset(preset)
        settings = default_settings(spec)
        settings.epochs = 1
        jobs[preset] = job_registry().submit(TrainingRequest(spec, settings, dataset_key=key, prefer_offline=True, max_train_samples=128))
    for job in jobs.values():
        assert job.done.wait(TIMEOUT) and job.model is not None, job.describe()
    return jobs


def train_page(job, preset: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")
    at = AppTest.from_file(TRAIN, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset(preset)
    at.session_state[JOB_ID] = job.id
    at.run()
    assert not at.exception, at.exception
    return at


def test_train_page_classifier_after_training(trained_jobs, monkeypatch) -> None:
    at = train_page(trained_jobs["mnist_mlp"], "mnist_mlp", monkeypatch)
    assert any(header.value == "Try it" for header in at.subheader)
    at.session_state[pad_key("train.classifier")] = canvas_value(a_one())
    at.run()
    assert not at.exception and not at.error
    assert metric(at, "Prediction") in [str(digit) for digit in range(10)]


def test_train_page_ticket_model_after_training(trained_jobs, monkeypatch) -> None:
    at = train_page(trained_jobs["multi_io"], "multi_io", monkeypatch)
    at.text_input(key="tryit.train.tickets.title").set_value("Cannot log in").run()
    assert not at.exception and not at.error
    assert metric(at, "Priority").endswith("%")
    assert metric(at, "Department").startswith("Department ")


@pytest.mark.parametrize("preset", ["mnist_mlp", "multi_io"])
def test_try_it_in_chinese_shows_no_english_sentence(model_files, preset, monkeypatch) -> None:
    from studio.i18n import set_language
    from tests.i18n_text import english_left

    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")
    set_language("zh")  # AppTest calls the widgets' format_func in this thread, outside the session
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        at.query_params["lang"] = "zh"
        at.run()
        at.switch_page("pages/models.py").run()
        at.file_uploader(key="models.upload").set_value((f"{preset}.keras", model_files[preset], "application/octet-stream")).run()
        if preset == "mnist_mlp":
            at.session_state[pad_key("models.uploaded.classifier")] = canvas_value(a_one())
            at.run()
            assert metric(at, "预测") in [str(digit) for digit in range(10)]
        else:
            at.text_input(key="tryit.models.uploaded.tickets.title").set_value("打印机 着火了").run()
            assert metric(at, "部门").startswith("部门 ")
        assert not at.exception and not at.error
        left = english_left(at)
        assert not left, "\n".join(left)
    finally:
        set_language(None)

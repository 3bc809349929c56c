"""Text is text on every page: a model named ``**bold** ![img](http://x/y.png) <b>x</b> [link](http://e.com)``
(and run names, file names, error messages and layer ids that quote such text) is shown as written on the
Gallery, Builder (every view, the Summary included), Train, Export, Models and Runs pages, sidebar included:
no image, link, bold text, HTML tag or auto-linked address comes out of it. A Dense layer with
``units=10**30`` (beyond the browser's 2**53) opens in the node editor as text, without an exception."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import pytest
from shown_text import HOSTILE_NAME, check_page_shows_literally, markdown_strings, rendered, shown
from streamlit.testing.v1 import AppTest

from components import state
from components.training import jobs as training_jobs
from studio.graph.presets import load_preset
from studio.model.build import build_model
from studio.runs.store import RunStore
from studio.training import datasets
from studio.training.job import TrainingRequest
from studio.training.queue import JobRegistry
from studio.training.settings import default_settings

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 300
KERAS_NAME = "**bold** ![img](x.png) <b>x [link](e.com)"  # Keras refuses "/" in its own names


def hostile_spec(key: str = "mnist_mlp"):
    spec = load_preset(key)
    spec.name = HOSTILE_NAME
    return spec


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> JobRegistry:
    own = JobRegistry()
    monkeypatch.setattr(training_jobs, "job_registry", lambda: own)
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")
    yield own
    own.shutdown()


@pytest.fixture
def hostile_job(registry: JobRegistry):
    """A finished run whose spec has the hostile name (trained from a ready model: Keras refuses '/' in a model name)."""
    spec = hostile_spec()
    settings = default_settings(spec)
    settings.epochs = 1
    request = TrainingRequest(spec, settings, dataset_key="mnist", prefer_offline=True, max_train_samples=256)
    request.model = build_model(load_preset("mnist_mlp"))
    job = registry.submit(request)
    assert job.done.wait(TIMEOUT) and job.model is not None, job.describe()
    return job


def open_page(page: str, spec=None, **session) -> AppTest:
    """The app (sidebar and notices included) on one page, with the session seeded."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = spec if spec is not None else hostile_spec()
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    if page != "gallery":
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def test_gallery_and_sidebar() -> None:
    check_page_shows_literally(open_page("gallery"))


def test_builder_every_view_and_panel() -> None:
    at = open_page("builder")
    for view in ("Diagram", "Nodes", "Summary", "Code"):
        for panel in ("Node", "Add", "Model"):
            at.session_state[state.LEFT_TAB] = view
            at.session_state[state.RIGHT_TAB] = panel
            at.session_state[state.SELECTED] = "dense"
            at.run()
            assert not at.exception, (view, panel)
            check_page_shows_literally(at)


def test_builder_layer_ids_with_underscores_stay_as_written() -> None:
    spec = load_preset("mnist_mlp")
    spec_dict = spec.to_dict()
    text = json.dumps(spec_dict).replace('"dense_1"', '"_hidden_layer_"')
    from studio.graph.spec import spec_from_dict

    at = open_page("builder", spec=spec_from_dict(json.loads(text)))
    for view in ("Nodes", "Summary"):
        at.session_state[state.LEFT_TAB] = view
        at.session_state[state.RIGHT_TAB] = "Node"
        at.session_state[state.SELECTED] = "_hidden_layer_"
        at.run()
        sources = [source for _, source in markdown_strings(at) if "hidden" in source]
        assert sources, view
        assert not [source for source in sources if "<em>" in rendered(source)], f"an id read as italics in {view}: {sources}"
        assert any("_hidden_layer_" in shown(source) for source in sources)


def test_the_builder_shows_the_id_rules_with_their_underscores() -> None:
    at = open_page("builder", spec=load_preset("mnist_mlp"))
    at.session_state[state.RIGHT_TAB] = "Node"
    at.session_state[state.SELECTED] = "dense_1"
    at.run()
    revision = at.session_state[state.REVISION]
    at.text_input(key=f"builder.edit.dense_1.new_id@{revision}").set_value("1x")
    at.button(key=f"builder.edit.dense_1.rename_button@{revision}").click().run()
    messages = [shown(error.value) for error in at.error]
    assert any("it must start with a letter or '_' and use only letters, digits, '_', '.', '-'." in text for text in messages), messages


def test_train_page_before_and_after_a_run(hostile_job) -> None:
    check_page_shows_literally(open_page("training"))  # the name of a model that does not build, in its error
    after = open_page("training", spec=load_preset("mnist_mlp"), **{training_jobs.JOB_ID: hostile_job.id})
    check_page_shows_literally(after)  # "the run below trained an earlier version of the model ('...')"


def test_export_page(hostile_job) -> None:
    at = open_page("export", **{training_jobs.JOB_ID: hostile_job.id})
    check_page_shows_literally(at)
    assert any(hostile_job.run_id in source for _, source in markdown_strings(at)), "the run is named by its public run id"
    assert not any(hostile_job.id in source for _, source in markdown_strings(at))


def test_models_page_file_names_and_keras_names(tmp_path: Path) -> None:
    at = open_page("models")
    at.file_uploader(key="models.upload").set_value((f"{HOSTILE_NAME}.h5", b"not a model, just notes\n" * 10, "text/plain"))
    at.run()
    assert not at.exception and at.error, "the file is refused with a message that names it"
    check_page_shows_literally(at)
    inputs = keras.Input((4,), name="in_put")
    model = keras.Model(inputs, keras.layers.Dense(2, name="_out_")(inputs), name=KERAS_NAME)
    model.save(tmp_path / "good.keras")
    at.file_uploader(key="models.upload").set_value((f"{HOSTILE_NAME}.keras", (tmp_path / "good.keras").read_bytes(), "application/zip"))
    at.run()
    assert not at.exception
    check_page_shows_literally(at, KERAS_NAME)


def test_runs_page_names_errors_and_chart_legends(registry: JobRegistry) -> None:
    store = RunStore()
    ids = []
    for units in (32, 48):
        spec = hostile_spec()
        spec.layer("dense").config["units"] = units
        run_id = store.start_run(spec, {"epochs": 1}, {"key": "mnist", "name": HOSTILE_NAME})
        store.record_epoch(run_id, 1, {"loss": 0.5})
        store.finish_run(run_id, "failed", {}, f"Layer 'dense' of {HOSTILE_NAME} failed")
        ids.append(run_id)
    at = open_page("runs")
    at.multiselect(key="runs.pick").set_value(ids).run()
    assert not at.exception
    check_page_shows_literally(at)
    assert any(shown(error.value) == f"Layer 'dense' of {HOSTILE_NAME} failed" for error in at.error)
    legend = [trace["name"] for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]]
    assert legend and all("<b>" not in name and "&lt;b&gt;x&lt;/b&gt;" in name for name in legend), legend


def test_a_number_beyond_the_browsers_range_opens_in_the_node_editor_as_text() -> None:
    spec = load_preset("mnist_mlp")
    spec.layer("dense").config["units"] = 10**30
    at = open_page("builder", spec=spec)
    at.session_state[state.RIGHT_TAB] = "Node"
    at.session_state[state.SELECTED] = "dense"
    at.run()
    assert not at.exception, at.exception
    units = [widget for widget in at.text_input if widget.key and ".units@" in widget.key]
    assert units and units[0].value == str(10**30), "shown in a text field, digit for digit"
    assert not [widget for widget in at.number_input if widget.key and ".units@" in widget.key]
    units[0].set_value("12")
    next(button for button in at.button if button.label == "Apply parameters").click().run()
    assert not at.exception
    assert at.session_state[state.SPEC].layer("dense").config["units"] == 12, "the text is read back as a number"

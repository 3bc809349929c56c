"""AppTest drives the training page: no model, start, poll with at.run(), stop (twice), bad data, Train twice;
a run started here is recorded in the run history by its job."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components import state
from components.training.jobs import JOB_ID, job_registry
from studio.graph.presets import load_preset
from studio.runs.store import RunStore
from studio.training import datasets

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "training.py")
TIMEOUT = 120


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")


def page(spec_key: str | None = "mnist_mlp") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    if spec_key:
        at.session_state[state.SPEC] = load_preset(spec_key)
    return at.run()


def widget_key(elements, prefix: str) -> str:
    return next(element.key for element in elements if element.key and element.key.startswith(prefix))


def poll(at: AppTest, until, timeout: float = TIMEOUT) -> AppTest:
    """`run_every` never fires in AppTest: rerun the page the way the fragment would."""
    deadline = time.monotonic() + timeout
    while not until(at):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)
        at.run()
        assert not at.exception, at.exception
    return at


def test_without_a_model_the_page_says_so():
    at = page(None)
    assert not at.exception
    assert any("no model to train yet" in info.value for info in at.info)
    assert not at.button


def test_train_poll_stop_and_evaluate():
    at = page("mnist_mlp")
    assert not at.exception
    assert any("MNIST (offline sample)" in caption.value for caption in at.caption), "says which MNIST source is used"
    at.number_input(key=widget_key(at.number_input, "train.epochs")).set_value(30)
    at.number_input(key=widget_key(at.number_input, "train.batch_size")).set_value(16)
    at.button(key="train.start").click().run()
    assert not at.exception and any("Training started" in info.value for info in at.info)
    job = job_registry().get(at.session_state[JOB_ID])
    assert job is not None and job.request.settings.epochs == 30
    poll(at, lambda at: len(at.get("plotly_chart")) >= 2 and at.get("progress"))
    assert "Epoch" in at.get("progress")[0].proto.text or "..." in at.get("progress")[0].proto.text
    at.button(key="train.start").click().run()
    assert any("already going" in warning.value for warning in at.warning), "Train pressed twice"
    at.button(key="train.stop").click().run()
    assert any("Stopping after the current batch" in info.value for info in at.info)
    at.button(key="train.stop").click().run()
    assert any("Already stopping" in info.value or "Nothing to stop" in info.value for info in at.info), "Stop pressed twice"
    poll(at, lambda at: any("Stopped by the user" in warning.value for warning in at.warning))
    assert job.status == "stopped" and job.model is not None
    assert any(header.value == "Evaluation on the test set" for header in at.subheader), "evaluation after Stop"
    assert len(at.dataframe) >= 1 and len(at.get("plotly_chart")) >= 3, "metrics table, live charts and the confusion matrix"
    assert {button.label for button in at.get("download_button")} >= {"Download model.keras", "Download model.h5"}
    assert not at.error
    record = RunStore().get_run(job.run_id)  # the page gave the job a recorder: the run was closed before it showed as stopped
    assert record.status == "stopped" and record.epochs == len(job.log.epochs()) and sorted(record.model_files) == ["h5", "keras"]


def test_data_that_does_not_fit_is_refused_before_training():
    at = page("mnist_mlp")
    at.selectbox(key=widget_key(at.selectbox, "train.dataset")).set_value("tickets").run()
    assert not at.exception
    assert any("does not fit the model" in error.value and "(img)" in error.value for error in at.error)
    at.button(key="train.start").click().run()
    assert any("Cannot train" in error.value for error in at.error)
    assert JOB_ID not in at.session_state or job_registry().get(at.session_state[JOB_ID]) is None


def test_vgg16_explains_it_is_not_trained():
    at = page("vgg16_features")
    assert not at.exception
    assert any("feature extractor" in info.value for info in at.info)


def test_a_reload_finds_the_running_job_through_the_url():
    first = page("mnist_mlp")
    first.number_input(key=widget_key(first.number_input, "train.epochs")).set_value(30)
    first.button(key="train.start").click().run()
    job_id = first.session_state[JOB_ID]
    reloaded = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    reloaded.session_state[state.SPEC] = load_preset("mnist_mlp")
    for name in ("job", "key"):  # the tab's address: the job and its owner key (see tests/test_job_ownership.py)
        value = first.query_params[name]
        reloaded.query_params[name] = value[0] if isinstance(value, list) else value
    reloaded.run()
    assert not reloaded.exception
    assert reloaded.session_state[JOB_ID] == job_id, "the new session adopted the job from ?job="
    reloaded.button(key="train.stop").click().run()
    assert any("Stopping" in info.value or "Removed from the queue" in info.value for info in reloaded.info)
    job = job_registry().get(job_id)
    assert job.done.wait(TIMEOUT) and job.status == "stopped"

"""AppTest: the Export page offers verified .keras/.h5 downloads of this session's trained model (the bytes
reload with equal predictions), runs the round trip, and offers code, script, diagram, summary, history, project."""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from components import state
from components.training.jobs import job_registry
from studio.graph.presets import load_preset
from studio.io.model_files import predict, read_project, sample_inputs
from studio.training.job import TrainingRequest
from studio.training.settings import default_settings

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "export.py")
TIMEOUT = 300


@pytest.fixture(scope="module")
def trained_job(tmp_path_factory: pytest.TempPathFactory):
    """A finished one-epoch MNIST run in the process-wide job registry (as the Train page leaves it)."""
    spec = load_preset("mnist_mlp")
    settings = default_settings(spec)
    settings.epochs = 1
    request = TrainingRequest(spec, settings, dataset_key="mnist", prefer_offline=True, max_train_samples=512)
    job = job_registry().submit(request)
    assert job.done.wait(TIMEOUT) and job.model is not None, job.describe()
    return job


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The bytes behind every download button drawn, by file name (AppTest keeps them in a mock media store)."""
    captured: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def capture(self, path_or_data, mimetype, kind, filename=None):  # noqa: ANN001 - Streamlit's own signature
        if filename is not None and isinstance(path_or_data, (bytes, str)):
            captured[filename] = path_or_data.encode("utf-8") if isinstance(path_or_data, str) else path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", capture)
    return captured


def export_page(job=None, spec=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = spec if spec is not None else load_preset("mnist_mlp")
    if job is not None:
        at.session_state["train.job_id"] = job.id
    return at.run()


def test_without_a_trained_model_the_spec_downloads_are_there() -> None:
    at = export_page()
    assert not at.exception
    assert "No trained model in this session yet" in at.info[0].value
    keys = {button.key for button in at.download_button}
    assert {"export.code", "export.script", "export.project", "export.summary"} <= keys
    assert "export.download.h5" not in keys and "export.history" not in keys


def test_model_files_are_offered_only_after_the_fresh_process_check(trained_job, downloads: dict, tmp_path: Path) -> None:
    at = export_page(trained_job)
    assert not at.exception
    assert "export.download.h5" not in {button.key for button in at.download_button}
    at.button(key="export.prepare").click().run()
    assert not at.exception
    assert [message.value.split(":")[0] for message in at.success] == [".keras", ".h5"]
    assert all("predictions equal the live model's" in message.value for message in at.success)
    assert {"export.download.keras", "export.download.h5", "export.history"} <= {button.key for button in at.download_button}
    inputs = sample_inputs(trained_job.model, 4, seed=3)
    expected = predict(trained_job.model, inputs)[0]
    for suffix in ("keras", "h5"):
        path = tmp_path / f"downloaded.{suffix}"
        path.write_bytes(downloads[f"mnist_model.{suffix}"])
        reloaded = keras.models.load_model(path, safe_mode=True)
        np.testing.assert_allclose(predict(reloaded, inputs)[0], expected, atol=1e-5)
    history = downloads["mnist_model_history.csv"].decode().splitlines()
    assert history[0].startswith("epoch,") and len(history) == 2


def test_round_trip_shows_equal_metrics(trained_job) -> None:
    at = export_page(trained_job)
    at.button(key="export.round_trip").click().run()
    assert not at.exception
    assert any(message.value.startswith("Equal: the model loaded back from .keras") for message in at.success)
    table = at.dataframe[0].value
    assert list(table.columns) == ["trained model", "loaded back"] and "accuracy" in table.index
    assert np.allclose(table["trained model"], table["loaded back"])


def test_script_and_project_use_the_runs_settings(trained_job, downloads: dict) -> None:
    at = export_page(trained_job)
    assert not at.exception
    script = downloads["train_mnist_model.py"].decode()
    assert "EPOCHS = 1" in script and 'DATASET = "mnist"' in script
    project = read_project(downloads["mnist_model.project.json"])
    assert project.spec.to_dict() == load_preset("mnist_mlp").to_dict()
    assert project.settings["epochs"] == 1 and project.dataset == {"key": "mnist"}
    assert "Total params: 27,882" in downloads["mnist_model_summary.txt"].decode()
    if "export.diagram.png" in {button.key for button in at.download_button}:  # needs Graphviz
        assert downloads["mnist_model.png"].startswith(b"\x89PNG")
        assert b"<svg" in downloads["mnist_model.svg"]
    assert json.loads(downloads["mnist_model.project.json"])["format"] == "keras-functional-studio-project/1"


def test_files_can_be_had_mid_run(trained_job) -> None:
    spec = load_preset("mnist_mlp")
    settings = default_settings(spec)
    settings.epochs, settings.batch_size = 200, 8
    job = job_registry().submit(TrainingRequest(spec, settings, dataset_key="mnist", prefer_offline=True))
    try:
        deadline = time.monotonic() + TIMEOUT
        while not job.has_model() and time.monotonic() < deadline:  # mid-run, a copy comes from the training process
            time.sleep(0.2)
        at = export_page(job)
        assert "still training" in at.caption[0].value
        steps = len(job.log.snapshot().batches)
        at.button(key="export.prepare").click().run()
        assert not at.exception
        assert len(job.log.snapshot().batches) > steps  # the run went on while its files were saved and checked
        assert len(at.success) == 2 and {"export.download.keras", "export.download.h5"} <= {b.key for b in at.download_button}
        assert any("saved mid-run" in caption.value for caption in at.caption)
    finally:
        job.stop()
        job.done.wait(TIMEOUT)

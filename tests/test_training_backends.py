"""Training on each Keras backend in its worker process: JAX and TensorFlow runs end with the same things (live log,
evaluation, run record, model files that reload with TensorFlow in a fresh process and predict what the trained
model predicts), Stop and NaN detection work under JAX, "fastest" chooses by measurement (kept per model), and a
worker that dies fails its run with a message while the next run starts a new worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from studio.graph.presets import load_preset
from studio.io.model_files import verify_model_files
from studio.runs.recorder import RunRecorder
from studio.runs.store import RunStore
from studio.training import datasets
from studio.training.backends import FASTEST, JAX, TENSORFLOW, check_choice
from studio.training.calibration import CalibrationStore, Measurement, calibration_key
from studio.training.job import FAILED, FINISHED, RUNNING, STOPPED, TrainingJob, TrainingRequest
from studio.training.processes import WorkerSet, choose_backend
from studio.training.queue import JobRegistry
from studio.training.settings import SettingsError, default_settings

pytest.importorskip("jax", reason="the JAX backend needs jax (requirements.txt)")

WAIT_S = 240
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")


@pytest.fixture
def registry():
    registry = JobRegistry(workers=1, processes=True)
    yield registry
    registry.shutdown()


def request_for(preset: str, backend: str, dataset: str, epochs: int = 1, samples: int | None = 640, **changes) -> TrainingRequest:
    spec = load_preset(preset)
    settings = default_settings(spec)
    settings.epochs, settings.backend = epochs, backend
    for name, value in changes.items():
        setattr(settings, name, value)
    return TrainingRequest(spec, settings, dataset_key=dataset, prefer_offline=True, max_train_samples=samples)


def wait_until(condition, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


JAX_PREDICT = """
import json, sys, numpy as np, keras
model = keras.models.load_model(sys.argv[1], safe_mode=True)
arrays = np.load(sys.argv[2])
inputs = [arrays[f"x{i}"] for i in range(len(model.inputs))]
outputs = model(inputs[0] if len(inputs) == 1 else inputs, training=False)
outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
np.savez(sys.argv[3], *[np.asarray(o) for o in outputs])
print(keras.backend.backend())
"""


def _predict_under_jax(model_file: Path, inputs: list[np.ndarray], work: Path) -> list[np.ndarray]:
    """The trained model's outputs, computed by JAX in a fresh process (TensorFlow never imported there)."""
    np.savez(work / "x.npz", **{f"x{i}": array for i, array in enumerate(inputs)})
    environment = dict(os.environ, KERAS_BACKEND="jax")
    done = subprocess.run(
        [sys.executable, "-c", JAX_PREDICT, str(model_file), str(work / "x.npz"), str(work / "y.npz")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "jax", done.stderr[-2000:]
    result = np.load(work / "y.npz")
    return [result[f"arr_{i}"] for i in range(len(result.files))]


@pytest.mark.parametrize("backend", [JAX, TENSORFLOW])
def test_a_run_on_each_backend_is_recorded_and_its_files_reload_with_tensorflow(registry, backend, tmp_path):
    store = RunStore(tmp_path / "runs")
    request = request_for("mnist_mlp", backend, "mnist", epochs=2, steps_per_execution=4)
    request.observer = RunRecorder(store)
    job = registry.submit(request)
    assert job.done.wait(WAIT_S)
    assert job.status == FINISHED, job.describe()
    assert job.backend == backend and job.device == "cpu" and "compile settings" in job.backend_reason
    snapshot = job.snapshot()
    assert [record["epoch"] for record in snapshot.epochs] == [1, 2]
    assert [record["global_step"] for record in snapshot.batches] == [0, 4, 8, 12, 16], "step 0, then every group of 4 steps"
    assert snapshot.first_point_s is not None
    assert job.evaluation.num_samples > 0 and 0 <= job.evaluation.metrics["accuracy"] <= 1
    assert job.model is not None and job.steps_per_execution == 4

    [run] = store.list_runs()
    record = store.get_run(run.id)
    assert record.settings["backend_used"] == backend and record.settings["device"] == "cpu"
    assert record.status == "completed" and record.epochs == 2
    files = {path.suffix.lstrip("."): path for path in store.run_folder(run.id).glob("model.*")}
    assert set(files) == {"keras", "h5"}

    inputs = [np.random.default_rng(1).random((4, 784)).astype("float32")]
    reference = _predict_under_jax(files["keras"], inputs, tmp_path) if backend == JAX else [np.asarray(job.model(inputs[0]))]
    checks = verify_model_files(files, inputs, reference)  # TensorFlow, in a fresh process
    assert all(check.loaded and check.matches for check in checks), [check.message for check in checks]


def test_mid_run_a_copy_comes_from_the_jax_worker_and_stop_keeps_the_model(registry):
    job = registry.submit(request_for("mnist_mlp", JAX, "mnist", epochs=200, samples=None, steps_per_execution=1))
    wait_until(lambda: len(job.snapshot().batches) > 3)
    assert job.status == RUNNING and job.model is None and job.has_model()
    midway = job.current_model()  # saved by the worker between two step groups, loaded here by TensorFlow
    assert midway is not None and midway.count_params() == 27_882 and job.status == RUNNING
    job.stop()
    assert job.done.wait(WAIT_S)
    assert job.status == STOPPED and job.model is not None
    assert len(job.snapshot().epochs) < 200


def test_a_run_whose_numbers_break_under_jax_fails_with_the_nan_message(registry):
    request = request_for("mnist_mlp", JAX, "mnist", epochs=3, steps_per_execution=1, validation_split=0.0)
    x = np.full((64, 784), 3e38, np.float32)  # the first Dense layer overflows: inf - inf = NaN
    y = np.zeros(64, np.int64)
    request.dataset_key = None
    request.dataset = datasets.Dataset("huge", "huge values", "synthetic", [x], [y], [x[:8]], [y[:8]], ["img"], ["dense_2"])
    job = registry.submit(request)
    assert job.done.wait(WAIT_S)
    assert job.status == FAILED and "NaN" in job.error and "epoch 1" in job.error, job.describe()
    assert len(job.snapshot().epochs) <= 1


def test_fastest_uses_the_measurement_kept_for_the_model_and_says_why(tmp_path):
    request = request_for("autoencoder", FASTEST, "mnist_autoencoder", epochs=5)
    job = TrainingJob(request)
    store = CalibrationStore(tmp_path / "calibration.sqlite")
    key = calibration_key(request.spec, request.settings, "mnist_autoencoder/offline", request.max_train_samples)
    store.put(key, TENSORFLOW, Measurement(trace_s=2.0, step_s=0.08, cost_s=3.0, run_steps=50))
    store.put(key, JAX, Measurement(trace_s=3.0, step_s=0.21, cost_s=9.0, run_steps=50))
    choice = choose_backend(job, WorkerSet(), store)  # both kept: nothing is started or measured
    assert choice.backend == TENSORFLOW
    assert "TensorFlow 6.0 s against JAX 13.5 s" in choice.reason and "measured earlier" in choice.reason
    assert choice.measured == {TENSORFLOW: pytest.approx(6.0), JAX: pytest.approx(13.5)}

    request.settings.backend = JAX  # the user's choice wins, and says so
    assert choose_backend(TrainingJob(request), WorkerSet(), store).reason == "chosen in the compile settings"


def test_fastest_measures_both_backends_once_per_model_and_machine(tmp_path):
    workers = WorkerSet()
    try:
        request = request_for("shared_embedding", FASTEST, "shared_ints")
        store = CalibrationStore(tmp_path / "calibration.sqlite")
        first = choose_backend(TrainingJob(request), workers, store)
        assert first.backend in (TENSORFLOW, JAX) and "measured just now" in first.reason
        assert set(first.measured) == {TENSORFLOW, JAX} and all(seconds > 0 for seconds in first.measured.values())
        again = choose_backend(TrainingJob(request), workers, store)
        assert again.backend == first.backend and "measured earlier" in again.reason
        assert set(workers.running()) == {TENSORFLOW, JAX}
    finally:
        workers.close()


def test_a_worker_that_dies_fails_its_run_with_a_message_and_the_next_run_gets_a_new_one(registry):
    job = registry.submit(request_for("mnist_mlp", JAX, "mnist", epochs=200, samples=None, steps_per_execution=1))
    wait_until(lambda: len(job.snapshot().batches) > 3)
    pid = registry.backends_running()[JAX]["pid"]
    os.kill(pid, signal.SIGKILL)
    assert job.done.wait(WAIT_S)
    assert job.status == FAILED and "stopped unexpectedly" in job.error and "JAX" in job.error
    again = registry.submit(request_for("mnist_mlp", JAX, "mnist"))
    assert again.done.wait(WAIT_S)
    assert again.status == FINISHED, again.describe()
    assert registry.backends_running()[JAX]["pid"] != pid


def test_a_backend_choice_is_checked_with_a_clear_message():
    assert check_choice("fastest") is None and check_choice("jax") is None
    assert "not a backend" in check_choice("torch")
    settings = default_settings(load_preset("mnist_mlp"))
    settings.backend = "torch"
    with pytest.raises(SettingsError, match="backend"):
        settings.validate()

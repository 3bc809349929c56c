"""Training jobs: lifecycle, per-batch logs, stop mid-epoch keeps the model, failures, NaN loss and NaN
weights (with oneDNN on and off), reproducible seeds, the queue, the heartbeat and the clear_session guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from studio.graph.presets import load_preset
from studio.training import datasets
from studio.training.job import FAILED, FINISHED, QUEUED, RUNNING, STOPPED, TrainingJob, TrainingRequest, train_now
from studio.training.queue import JobRegistry
from studio.training.settings import default_settings

WAIT_S = 120


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")


@pytest.fixture
def registry():
    registry = JobRegistry(workers=1)  # these tests check one-at-a-time order; tests/test_training_pool.py checks a pool
    yield registry
    registry.shutdown()


def mnist_request(epochs: int = 1, batch_size: int = 64, steps: int = 0, samples: int | None = 1000, **changes) -> TrainingRequest:
    spec = load_preset("mnist_mlp")
    settings = default_settings(spec)
    settings.epochs, settings.batch_size, settings.steps_per_execution = epochs, batch_size, steps
    for name, value in changes.items():
        setattr(settings, name, value)
    return TrainingRequest(spec, settings, dataset_key="mnist", prefer_offline=True, max_train_samples=samples)


def wait_until(condition, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_job_runs_logs_every_step_group_and_evaluates(registry):
    job = registry.submit(mnist_request(epochs=2, steps=5))
    wait_until(lambda: len(job.snapshot().batches) > 2)
    assert job.status == RUNNING and registry.queue_position(job.id) == 0
    assert job.done.wait(WAIT_S)
    assert job.status == FINISHED, job.describe()
    snapshot = job.snapshot()
    trained = [record for record in snapshot.batches if record["global_step"] > 0]
    assert snapshot.batches[0]["step"] == 0 and "loss" in snapshot.batches[0], "a step-0 point with the initial loss"
    assert [record["step"] for record in trained[:3]] == [5, 10, 13], "one record per group of 5 steps (13 steps per epoch)"
    assert all("loss" in record and "accuracy" in record and record["wall"] > 0 for record in trained)
    assert [record["epoch"] for record in snapshot.epochs] == [1, 2]
    assert {"val_loss", "val_accuracy", "epoch_time_s"} <= set(snapshot.epochs[0])
    assert job.num_train_samples == 800 and job.steps_per_execution == 5
    evaluation = job.evaluation
    assert evaluation.num_samples == 1000 and 0 < evaluation.metrics["accuracy"] <= 1
    output = evaluation.outputs[0]
    assert output.kind == "classifier" and np.array(output.confusion).shape == (10, 10) and np.array(output.confusion).sum() == 1000
    wrong = [sample["true"] != sample["predicted"] for sample in output.samples]
    assert wrong == sorted(wrong, reverse=True), "wrong predictions come first"
    assert output.samples[0]["image"].shape == (28, 28)
    assert any("renamed 'mnist model'" in note for note in job.data_notes)
    assert snapshot.progress.phase == FINISHED


def test_stop_mid_epoch_keeps_the_model_and_stop_twice_says_so(registry):
    job = registry.submit(mnist_request(epochs=20, batch_size=16, steps=1, samples=None))
    wait_until(lambda: any(record["global_step"] >= 3 for record in job.snapshot().batches))
    assert "Stopping after the current batch" in job.stop()
    assert "Already stopping" in job.stop()
    assert job.done.wait(WAIT_S)
    assert job.status == STOPPED and job.message == "Stopped by the user"
    snapshot = job.snapshot()
    assert len(snapshot.epochs) < 20 and snapshot.batches[-1]["step"] < snapshot.progress.steps_per_epoch, "ended mid-epoch"
    assert job.model is not None and job.evaluation is not None
    assert job.model.predict(np.zeros((1, 784), np.float32), verbose=0).shape == (1, 10)
    assert "Nothing to stop" in job.stop()


def test_an_error_in_fit_is_reported_as_failed(monkeypatch):
    def broken_fit(self, *args, **kwargs):
        raise ValueError("Input 0 of layer 'dense' is incompatible with the layer")

    monkeypatch.setattr(keras.Model, "fit", broken_fit)
    job = train_now(mnist_request())
    assert job.status == FAILED
    assert job.error == "ValueError: Input 0 of layer 'dense' is incompatible with the layer"


def test_data_that_does_not_fit_fails_before_training_with_a_clear_message():
    request = mnist_request()
    request.dataset_key = "tickets"
    job = train_now(request)
    assert job.status == FAILED and "The model has 1 input(s) (img); the data" in job.error
    assert job.log.snapshot().batches == []


ROOT = Path(__file__).resolve().parents[1]

# The tutorial MLP on values so large that its first Dense layer overflows (inf - inf = NaN). With oneDNN
# (TensorFlow's default on AVX-512 CPUs) graph mode fuses MatMul+BiasAdd+ReLU and that ReLU maps NaN to 0,
# so the logged loss can stay finite while the weights are NaN: the job must fail either way.
_NAN_RUN = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from studio.graph.presets import load_preset
from studio.training.datasets import Dataset
from studio.training.job import TrainingRequest, train_now
from studio.training.settings import default_settings
from tensorflow.python.util import _pywrap_util_port

spec = load_preset("mnist_mlp")
settings = default_settings(spec)
settings.epochs, settings.steps_per_execution, settings.validation_split = 3, 1, 0.0
x = np.full((64, 784), 3e38, np.float32)
y = np.zeros(64, np.int64)
data = Dataset("huge", "huge values", "synthetic", [x], [y], [x[:8]], [y[:8]], ["img"], ["dense_2"])
job = train_now(TrainingRequest(spec, settings, dataset=data))
print(json.dumps({"status": job.status, "error": job.error, "epochs": len(job.log.epochs()),
                  "onednn": bool(_pywrap_util_port.IsMklEnabled())}))
"""


def _nan_run(onednn: str) -> subprocess.Popen:
    environment = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "STUDIO_OFFLINE": "1"}
    command = [sys.executable, "-c", _NAN_RUN, str(ROOT)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)


def test_a_nan_run_fails_with_onednn_on_and_off():
    """The flag is read when TensorFlow is imported, so each setting gets its own process."""
    processes = {flag: _nan_run(flag) for flag in ("1", "0")}
    for flag, process in processes.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        result = json.loads(out.strip().splitlines()[-1])
        assert result["status"] == FAILED, f"TF_ENABLE_ONEDNN_OPTS={flag}: {result}"
        assert "NaN" in result["error"] and "epoch 1" in result["error"], result
        assert result["epochs"] <= 1, result


class NanIntoMovingMean(keras.callbacks.Callback):
    """Puts NaN into a BatchNormalization layer's moving mean after the first step: training-mode batches use
    batch statistics, so the loss stays finite while the model (evaluated with moving statistics) is broken,
    the situation oneDNN's fused ReLU creates on some CPUs."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            layer = self.model.get_layer("batch_normalization")
            layer.moving_mean.assign(np.full(layer.moving_mean.shape, np.nan, np.float32))


def _mlp_with_batch_norm() -> keras.Model:
    inputs = keras.Input((784,), name="img")
    hidden = keras.layers.Dense(32, activation="relu", name="dense")(inputs)
    hidden = keras.layers.BatchNormalization(name="batch_normalization")(hidden)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="dense_2")(hidden), name="bn_mlp")


def test_non_finite_weights_stop_the_run_even_when_the_loss_stays_finite():
    request = mnist_request(epochs=3, batch_size=64, steps=1, samples=256)
    request.model = _mlp_with_batch_norm()
    request.callbacks.append(NanIntoMovingMean())
    job = train_now(request)
    losses = [record["loss"] for record in job.log.epochs()]
    assert losses and all(np.isfinite(losses)), "the logged loss never showed it"
    assert job.status == FAILED, job.describe()
    assert "weights of layer 'batch_normalization'" in job.error and "the end of epoch 1" in job.error, job.error
    assert len(losses) == 1, "stopped at the end of the first epoch"


def test_the_same_seed_gives_the_same_initial_weights_and_history():
    class InitialWeights(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.weights = [weight.copy() for weight in self.model.get_weights()]

    def run(seed: int, before: int) -> tuple[list[np.ndarray], list[dict]]:
        keras.utils.set_random_seed(before)  # whatever random state the process is in before the run ...
        keras.random.uniform((before,))  # ... and some random numbers drawn since
        request = mnist_request(epochs=2, steps=1, samples=300, seed=seed)
        initial = InitialWeights()
        request.callbacks.append(initial)
        job = train_now(request)
        assert job.status == FINISHED, job.describe()
        history = [{k: v for k, v in record.items() if k not in ("time", "wall", "epoch_time_s")} for record in job.log.epochs()]
        return initial.weights, history

    first, second, other = run(7, before=1), run(7, before=2), run(8, before=1)
    assert all(np.array_equal(a, b) for a, b in zip(first[0], second[0], strict=True)), "same seed: same initial weights"
    assert first[1] == second[1], "same seed and data: same history"
    assert not all(np.array_equal(a, b) for a, b in zip(first[0], other[0], strict=True)), "another seed: other weights"


def test_two_sessions_queue_one_at_a_time(registry):
    first = registry.submit(mnist_request(epochs=2, steps=1))
    second = registry.submit(mnist_request(epochs=1))
    assert second.status == QUEUED and registry.queue_position(second.id) == 1
    third = registry.submit(mnist_request(epochs=1))
    assert registry.queue_position(third.id) == 2
    assert "Removed from the queue" in third.stop()
    assert third.status == STOPPED and third.done.is_set()
    assert first.done.wait(WAIT_S) and second.done.wait(WAIT_S)
    assert first.status == second.status == FINISHED
    assert second.started >= first.finished, "the second job started only after the first had ended"
    assert third.started is None


def test_a_job_nobody_watches_is_stopped(registry):
    request = mnist_request(epochs=50, batch_size=16, steps=1, samples=None)
    request.heartbeat_timeout_s = 2.0
    job = registry.submit(request)
    assert job.done.wait(WAIT_S)
    assert job.status == STOPPED and "heartbeat" in job.message
    assert job.model is not None


def test_a_released_session_stops_its_job_unless_a_page_touches_it():
    job = TrainingJob(mnist_request())
    job.release_owner()
    assert job.abandoned(grace_s=10.0) is None, "a reload has a grace period to find the job"
    assert "session that started it closed" in job.abandoned(grace_s=0.0)
    job.touch()
    assert job.abandoned(grace_s=0.0) is None


class Gate(keras.callbacks.Callback):
    """Holds fit inside its third step group until the test lets it go (runs in the training thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0
        self.reached, self.release = threading.Event(), threading.Event()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.steps == 3:
            self.reached.set()
            assert self.release.wait(WAIT_S)


def test_clear_session_is_skipped_while_a_job_trains(registry):
    from keras.src.backend.common import global_state

    gate = Gate()
    request = mnist_request(epochs=2, batch_size=32, steps=1, samples=600)
    request.callbacks.append(gate)
    job = registry.submit(request)
    assert gate.reached.wait(WAIT_S), "fit reached its third step"
    tracker = global_state.GLOBAL_STATE_TRACKER
    try:
        assert job.status == RUNNING and job.snapshot().progress.phase == "training"
        keras.backend.clear_session()  # what Streamlit does after every script run; fit is held mid-epoch
        assert global_state.GLOBAL_STATE_TRACKER is tracker, "the call landed during fit and was skipped"
    finally:
        gate.release.set()
    assert job.done.wait(WAIT_S)
    assert job.status == FINISHED, job.describe()
    assert [record["epoch"] for record in job.log.epochs()] == [1, 2] and job.evaluation is not None
    assert keras.backend.clear_session.studio_guard
    wait_until(lambda: not registry.busy())
    keras.backend.clear_session()
    assert global_state.GLOBAL_STATE_TRACKER is not tracker, "with no job running, clear_session goes through again"


def test_early_stopping_and_best_checkpoint():
    request = mnist_request(epochs=4, samples=600, early_stopping=True, patience=1, best_checkpoint=True)
    job = train_now(request)
    assert job.status == FINISHED, job.describe()
    losses = [record["val_loss"] for record in job.log.epochs()]
    assert job.best_epoch == 1 + losses.index(min(losses))


def test_the_training_package_never_imports_the_run_history():
    """A job reports to the observer it is given; studio.training knows nothing of studio.runs."""
    import ast

    for path in sorted((ROOT / "studio" / "training").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
            assert not [name for name in names if name.startswith("studio.runs")], f"{path.name} imports {names}"

"""Training jobs: lifecycle, per-batch logs, stop mid-epoch keeps the model, failures, NaN loss, the queue,
the heartbeat and the clear_session guard."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from studio.graph.presets import load_preset
from studio.training import datasets
from studio.training.datasets import Dataset
from studio.training.job import FAILED, FINISHED, QUEUED, RUNNING, STOPPED, TrainingJob, TrainingRequest, train_now
from studio.training.queue import JobRegistry
from studio.training.settings import default_settings

WAIT_S = 120


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")


@pytest.fixture
def registry():
    registry = JobRegistry()
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


def test_a_nan_loss_stops_and_says_so():
    spec = load_preset("mnist_mlp")
    settings = default_settings(spec)
    settings.epochs, settings.steps_per_execution, settings.validation_split = 3, 1, 0.0
    x = np.full((64, 784), 3e38, np.float32)  # finite, but the first Dense layer overflows to inf, then inf - inf
    y = np.zeros(64, np.int64)
    data = Dataset("huge", "huge values", "synthetic", [x], [y], [x[:8]], [y[:8]], ["img"], ["dense_2"])
    job = train_now(TrainingRequest(spec, settings, dataset=data))
    assert job.status == FAILED and "NaN" in job.error and "epoch 1" in job.error
    assert len(job.log.epochs()) <= 1


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


def test_clear_session_is_skipped_while_a_job_trains(registry):
    job = registry.submit(mnist_request(epochs=2, batch_size=32, steps=1, samples=600))
    wait_until(lambda: job.status == RUNNING)
    for _ in range(20):
        keras.backend.clear_session()  # what Streamlit does after every script run
        time.sleep(0.02)
    assert job.done.wait(WAIT_S)
    assert job.status == FINISHED, job.describe()
    assert keras.backend.clear_session.studio_guard


def test_early_stopping_and_best_checkpoint():
    request = mnist_request(epochs=4, samples=600, early_stopping=True, patience=1, best_checkpoint=True)
    job = train_now(request)
    assert job.status == FINISHED, job.describe()
    losses = [record["val_loss"] for record in job.log.epochs()]
    assert job.best_epoch == 1 + losses.index(min(losses))

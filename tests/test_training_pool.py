"""The training pool: jobs of different sessions train at once in a pool of two, each still reproducible from its
seed; the queue tells a waiting run where it stands and when it should start; the pool's size is configurable."""

from __future__ import annotations

import threading
import time

import keras
import numpy as np
import pytest

from studio.graph.presets import load_preset
from studio.training import datasets
from studio.training.job import FINISHED, QUEUED, TrainingRequest
from studio.training.queue import JobRegistry, default_workers
from studio.training.settings import default_settings

WAIT_S = 180


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")


class MeetAtTheStart(keras.callbacks.Callback):
    """Waits at a barrier when training begins (a job alone would wait in vain and fail), keeping the initial weights."""

    def __init__(self, barrier: threading.Barrier | None = None, release: threading.Event | None = None) -> None:
        super().__init__()
        self.barrier, self.release, self.weights = barrier, release, None

    def on_train_begin(self, logs=None):
        self.weights = [np.array(weight) for weight in self.model.get_weights()]
        if self.barrier is not None:
            self.barrier.wait()
        if self.release is not None:
            assert self.release.wait(WAIT_S)


def request(callback: keras.callbacks.Callback, seed: int = 3) -> TrainingRequest:
    spec = load_preset("mnist_mlp")
    settings = default_settings(spec)
    settings.epochs, settings.batch_size, settings.seed = 1, 64, seed
    made = TrainingRequest(spec, settings, dataset_key="mnist", prefer_offline=True, max_train_samples=256)
    made.callbacks.append(callback)
    return made


def test_a_pool_of_two_trains_two_sessions_at_once_with_reproducible_weights():
    registry = JobRegistry(workers=2)
    barrier = threading.Barrier(2, timeout=WAIT_S)  # broken (and both jobs failed) unless both train at once
    first, second = MeetAtTheStart(barrier), MeetAtTheStart(barrier)
    try:
        jobs = [registry.submit(request(first)), registry.submit(request(second))]
        assert all(job.done.wait(WAIT_S) for job in jobs)
        assert [job.status for job in jobs] == [FINISHED, FINISHED], [job.describe() for job in jobs]
        assert max(job.started for job in jobs) < min(job.finished for job in jobs), "the two runs overlapped"
        assert all(np.array_equal(a, b) for a, b in zip(first.weights, second.weights, strict=True)), "same seed, same weights"
    finally:
        registry.shutdown()


def test_a_waiting_run_knows_its_place_and_when_it_should_start():
    registry = JobRegistry(workers=1)
    release = threading.Event()
    try:
        warm = registry.submit(request(MeetAtTheStart()))
        assert warm.done.wait(WAIT_S) and warm.status == FINISHED
        running = registry.submit(request(MeetAtTheStart(release=release)))
        deadline = time.monotonic() + WAIT_S
        while registry.queue_position(running.id) != 0:  # taken by the worker: the others queue behind it
            assert time.monotonic() < deadline, "the first run never started"
            time.sleep(0.02)
        waiting = [registry.submit(request(MeetAtTheStart())) for _index in range(2)]
        assert [registry.queue_position(job.id) for job in waiting] == [1, 2]
        assert all(job.status == QUEUED for job in waiting)
        first_wait, second_wait = (registry.estimated_wait(job.id) for job in waiting)
        assert first_wait is not None and second_wait is not None
        assert second_wait > first_wait >= 0
        assert registry.estimated_wait(running.id) is None, "a run that trains does not wait"
    finally:
        release.set()
        registry.shutdown()


def test_the_pool_size_follows_the_machine_unless_set(monkeypatch):
    monkeypatch.delenv("KFS_TRAINING_WORKERS", raising=False)
    assert default_workers() >= 1
    monkeypatch.setenv("KFS_TRAINING_WORKERS", "3")
    assert default_workers() == 3
    assert JobRegistry(workers=None).workers == 3

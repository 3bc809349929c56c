"""The metric log a training job fills and the Keras callbacks that fill it.

With ``steps_per_execution = k`` Keras calls ``on_train_batch_end`` once per group of k steps, so the
log holds one record per step group (with its step number), which keeps the per-batch hook cheap.

A run whose numbers break is stopped: a non-finite loss after any step group, and non-finite weights
after the first step group and at the end of every epoch (its message in the language of the job, caught
when the callback is made: Keras may call batch hooks from its own threads). The weight check matters because the loss
alone can hide it: on CPUs where TensorFlow uses oneDNN (AVX-512), graph mode fuses MatMul+BiasAdd+ReLU
and that ReLU maps NaN to 0, so the loss stays finite while the weights are already NaN.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import keras

from studio.i18n import _, current_language, use_language
from studio.training.observer import notify


@dataclass
class Progress:
    """Where a run is: epoch and step (1-based), totals, samples seen, speed and time left."""

    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps_per_epoch: int = 0
    samples_seen: int = 0
    elapsed_s: float = 0.0
    samples_per_second: float = 0.0
    eta_s: float | None = None
    phase: str = "waiting"

    @property
    def fraction(self) -> float:
        """Share of all steps done, 0..1."""
        total = self.epochs * self.steps_per_epoch
        done = max(0, self.epoch - 1) * self.steps_per_epoch + self.step
        return min(1.0, done / total) if total else 0.0


@dataclass
class LogSnapshot:
    """A consistent copy of the log: per-step-group records, per-epoch records and progress."""

    batches: list[dict[str, Any]] = field(default_factory=list)
    epochs: list[dict[str, Any]] = field(default_factory=list)
    progress: Progress = field(default_factory=Progress)
    first_point_s: float | None = None


class MetricLog:
    """Per-batch and per-epoch metric records with wall times, shared between the worker and pollers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: list[dict[str, Any]] = []
        self._batch_keys: list[int] = []
        self._epochs: list[dict[str, Any]] = []
        self._progress = Progress()
        self.created = time.perf_counter()
        self.first_point_s: float | None = None  # seconds from creation to the first chart point
        self.first_step_s: float | None = None  # ... to the first point after a trained step

    def add_batch(self, record: dict[str, Any]) -> None:
        """Add one step-group record, kept in step order (async callbacks may arrive out of order)."""
        with self._lock:
            position = bisect.bisect(self._batch_keys, record["global_step"])
            self._batch_keys.insert(position, record["global_step"])
            self._batches.insert(position, record)
            if self.first_point_s is None:
                self.first_point_s = time.perf_counter() - self.created
            if self.first_step_s is None and record["global_step"] > 0:
                self.first_step_s = time.perf_counter() - self.created

    def add_epoch(self, record: dict[str, Any]) -> None:
        """Add one epoch record."""
        with self._lock:
            self._epochs.append(record)

    def set_progress(self, **changes: Any) -> None:
        """Update the progress fields given."""
        with self._lock:
            for name, value in changes.items():
                setattr(self._progress, name, value)

    def snapshot(self, since_batch: int = 0) -> LogSnapshot:
        """A copy for drawing; ``since_batch`` skips records the caller already has."""
        with self._lock:
            progress = Progress(**self._progress.__dict__)
            return LogSnapshot(list(self._batches[since_batch:]), list(self._epochs), progress, self.first_point_s)

    def epochs(self) -> list[dict[str, Any]]:
        """A copy of the per-epoch records."""
        with self._lock:
            return list(self._epochs)


def _weight_owners(layers: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(name, layer) for every layer that owns weights, nested models walked (``encoder/conv2d``)."""
    for layer in layers:
        inner = getattr(layer, "layers", None)
        if inner:
            yield from _weight_owners(inner, f"{prefix}{layer.name}/")
        elif layer.weights:
            yield f"{prefix}{layer.name}", layer


def _non_finite_jax_state(model: Any) -> str | None:
    """Under JAX, inside an epoch: the weights live in the trainer's state, not in the model's variables."""
    import numpy as np

    state = getattr(model, "_jax_state", None) or {}
    for variable, value in zip(model.trainable_variables, state.get("trainable_variables") or [], strict=False):
        if not np.all(np.isfinite(np.asarray(value))):
            return variable.path.rpartition("/")[0] or variable.path
    return None


def non_finite_weights(model: Any) -> str | None:
    """The name of the first layer with a NaN or infinite weight (``encoder/conv2d``), or None when all are finite."""
    if keras.backend.backend() == "jax" and not getattr(model, "_jax_state_synced", True):
        return _non_finite_jax_state(model)
    for name, owner in _weight_owners(list(getattr(model, "layers", []))):
        if any(not bool(keras.ops.all(keras.ops.isfinite(weight.value))) for weight in owner.weights):
            return name
    return None


def _floats(logs: dict[str, Any] | None) -> dict[str, float]:
    values = {}
    for name, value in (logs or {}).items():
        try:
            values[name] = float(value)
        except (TypeError, ValueError):
            continue
    return values


class RecordingCallback(keras.callbacks.Callback):
    """Records every step group and epoch into a MetricLog (and tells the run observer, if any, each epoch);
    stops on request, on a non-finite loss and on non-finite weights (after the first step group and at
    every epoch end)."""

    async_safe = True  # thread-safe: lets Keras dispatch batch hooks off the training loop, as for plain fit

    def __init__(
        self,
        log: MetricLog,
        batch_size: int,
        num_samples: int,
        should_stop: Callable[[], str | None],
        observer: Any = None,
        heartbeat_seconds: float = 10.0,
    ) -> None:
        super().__init__()
        # Under JAX each step donates the previous state's buffers: a hook still reading them in another thread
        # breaks the next step ("Buffer has been deleted or donated"), so there the hooks run in the loop.
        self.async_safe = keras.backend.backend() != "jax"
        self.log = log
        self.observer = observer  # a studio.training.observer.RunObserver: gets every epoch record and heartbeats
        self.heartbeat_seconds = heartbeat_seconds
        self._last_beat = time.monotonic()
        self.batch_size = batch_size
        self.num_samples = num_samples
        self.should_stop = should_stop
        self.stop_reason: str | None = None
        self.nan_at: str | None = None  # where the numbers broke ("epoch 1, step 3")
        self.nan_reason: str | None = None  # what broke, in one sentence
        self._weights_checked = False  # after the first step group
        self._start = time.perf_counter()
        self._epoch_start = self._start
        self._epoch = 0
        self._steps = 1
        self._language = current_language()  # the job's: Keras may run batch hooks in threads of its own

    def record_initial_loss(self, loss: float) -> None:
        """A step-0 point: the loss of the untrained model on the first batch (drawn before any compiled step)."""
        self.log.add_batch({"epoch": 1, "step": 0, "global_step": 0, "time": 0.0, "wall": time.time(), "loss": float(loss)})

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Start the clocks."""
        self._start = time.perf_counter()
        self._steps = int(self.params.get("steps") or 1)
        self.log.set_progress(epochs=int(self.params.get("epochs") or 0), steps_per_epoch=self._steps, phase="training")

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Note the epoch and its start time."""
        self._epoch = epoch
        self._epoch_start = time.perf_counter()
        self.log.set_progress(epoch=epoch + 1, step=0)

    def _broken(self, where: str, reason: str) -> None:
        if self.nan_at is None:
            self.nan_at, self.nan_reason = where, reason
        self.model.stop_training = True

    def _check_weights(self, where: str) -> None:
        layer = non_finite_weights(self.model) if self.nan_at is None else None
        if layer is not None:
            with use_language(self._language):
                self._broken(
                    where, _("The weights of layer '{layer}' became NaN (or infinite) at {where}").format(layer=layer, where=where)
                )

    def _check(self, values: dict[str, float], where: str, weights: bool = False) -> None:
        loss = values.get("loss")
        if loss is not None and not math.isfinite(loss):
            with use_language(self._language):
                self._broken(where, _("The loss became NaN (or infinite) at {where}").format(where=where))
        if weights:
            self._check_weights(where)
        with use_language(self._language):
            reason = self.should_stop()
        if reason and self.stop_reason is None:
            self.stop_reason = reason
        if self.stop_reason:
            self.model.stop_training = True

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Record one step group (``batch`` is the index of its last step in the epoch)."""
        now = time.perf_counter()
        values = _floats(logs)
        step = min(batch + 1, self._steps)  # Keras reports a full group even when the epoch ends inside it
        global_step = self._epoch * self._steps + step
        samples = min(self.num_samples * self._epoch + step * self.batch_size, self.num_samples * (self._epoch + 1))
        elapsed = now - self._start
        speed = samples / elapsed if elapsed > 0 else 0.0
        total = self.num_samples * int(self.params.get("epochs") or 1)
        eta = (total - samples) / speed if speed > 0 else None
        self.log.add_batch(
            {"epoch": self._epoch + 1, "step": step, "global_step": global_step, "time": elapsed, "wall": time.time(), **values}
        )
        self.log.set_progress(step=step, samples_seen=samples, elapsed_s=elapsed, samples_per_second=speed, eta_s=eta)
        if self.observer is not None and time.monotonic() - self._last_beat >= self.heartbeat_seconds:
            self._last_beat = time.monotonic()
            notify(self.observer, "heartbeat")
        first = not self._weights_checked
        self._weights_checked = True
        with use_language(self._language):
            where = _("epoch {epoch}, step {step}").format(epoch=self._epoch + 1, step=step)
        self._check(values, where, weights=first)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Record the epoch's training and validation metrics and its duration."""
        now = time.perf_counter()
        values = _floats(logs)
        record = {"epoch": epoch + 1, "time": now - self._start, "epoch_time_s": now - self._epoch_start, "wall": time.time(), **values}
        self.log.add_epoch(record)
        self._last_beat = time.monotonic()
        notify(self.observer, "epoch_ended", epoch + 1, record)
        with use_language(self._language):
            where = _("the end of epoch {epoch}").format(epoch=epoch + 1)
        self._check(values, where, weights=True)


class BestWeights(keras.callbacks.Callback):
    """Keeps the weights of the best epoch (by ``monitor``) in memory and restores them at the end."""

    def __init__(self, monitor: str) -> None:
        super().__init__()
        self.monitor = monitor
        self.best: float = math.inf
        self.best_epoch: int | None = None
        self._weights: list | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Copy the weights when the monitored value improved."""
        value = _floats(logs).get(self.monitor)
        if value is not None and math.isfinite(value) and value < self.best:
            self.best, self.best_epoch = value, epoch + 1
            self._weights = [weight.copy() for weight in self.model.get_weights()]

    def on_train_end(self, logs: dict | None = None) -> None:
        """Put the best weights back."""
        if self._weights is not None:
            self.model.set_weights(self._weights)

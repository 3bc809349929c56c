"""Training jobs: build, fit and evaluate a spec in a worker thread that never touches the UI.

A :class:`~studio.training.queue.JobRegistry` (one per process; the app keeps it in ``st.cache_resource``) runs one job at a
time from a queue, so two sessions never train at once (Keras naming and ``clear_session`` are
process-wide; jobs never call ``clear_session``). Each job has a lock-protected :class:`MetricLog`,
a status, an error message, ``stop()`` (ends after the current step group and keeps the model) and a
heartbeat: a job whose page stops touching it is stopped.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.graph.spec import GraphSpec, SpecError
from studio.training.callbacks import BestWeights, LogSnapshot, MetricLog, RecordingCallback
from studio.training.data import TrainingData, fit_to_model
from studio.training.datasets import DataError, Dataset, load_dataset
from studio.training.evaluation import Evaluation, evaluate_training
from studio.training.settings import CompileSettings, SettingsError, compile_arguments

logger = logging.getLogger(__name__)

QUEUED, RUNNING, STOPPING, STOPPED, FINISHED, FAILED = "queued", "running", "stopping", "stopped", "finished", "failed"
ACTIVE = (QUEUED, RUNNING, STOPPING)
UPDATE_INTERVAL_S = 0.2  # target time between chart points (>= 1 update/second is required)
MAX_STEPS_PER_EXECUTION = 128
MIN_STEPS_FOR_GROUPS = 500  # fewer steps in the whole run: one step per call
INITIAL_LOSS_MAX_STEP_S = 0.02  # models estimated slower than this get no eager step-0 point
STEP_OVERHEAD_S = 0.0006  # per-step cost inside a compiled loop for a tiny model on CPU
CPU_FLOPS = 4e9  # effective training throughput of two CPU cores, measured on the conv presets
RECURRENT_STEP_S = 0.0005  # per-timestep cost of a recurrent layer's loop
USER_ERRORS = (SpecError, DataError, SettingsError)


@dataclass
class TrainingRequest:
    """What to train: a spec, its settings and either loaded data or the key of a dataset to load."""

    spec: GraphSpec
    settings: CompileSettings
    dataset_key: str | None = None
    dataset: Dataset | None = None
    prefer_offline: bool = False
    heartbeat_timeout_s: float | None = None
    max_train_samples: int | None = None
    model: Any = None  # a ready model to train further (fine-tuning); None builds the spec


def _leaf_layers(model: Any) -> list[Any]:
    layers = []
    for layer in model.layers:
        layers += _leaf_layers(layer) if hasattr(layer, "layers") and layer.layers else [layer]
    return layers


def _positions(shape: tuple, sequence_length: int) -> int:
    inner = [sequence_length if d is None else int(d) for d in tuple(shape)[1:-1]]
    return math.prod(inner) if inner else 1


def estimate_step_seconds(model: Any, batch_size: int, sequence_length: int = 1) -> float:
    """A rough time for one training step on CPU: about 2 * params * positions flops per sample per layer,
    three times that for forward + backward, plus a per-timestep cost for recurrent layers."""
    flops, timesteps = 0.0, 0
    for layer in _leaf_layers(model):
        params = layer.count_params() if layer.built else 0
        if not params or type(layer).__name__ == "Embedding":  # a lookup, not a product
            continue
        for node in getattr(layer, "_inbound_nodes", []) or [None]:
            try:
                shapes = [tuple(t.shape) for t in [*node.input_tensors, *node.output_tensors]]
            except (AttributeError, TypeError):
                shapes = []
            positions = max([_positions(shape, sequence_length) for shape in shapes] or [1])
            flops += 2.0 * params * positions
            if hasattr(layer, "cell"):
                timesteps += positions
    return 3.0 * flops * batch_size / CPU_FLOPS + STEP_OVERHEAD_S + timesteps * RECURRENT_STEP_S


def choose_steps_per_execution(step_seconds: float, steps_per_epoch: int, epochs: int) -> int:
    """Steps per compiled call so that one step group takes about UPDATE_INTERVAL_S (small models: many).

    Short runs keep 1: tracing the multi-step loop costs more than the per-step overhead it saves.
    """
    if steps_per_epoch * epochs < MIN_STEPS_FOR_GROUPS:
        return 1
    return int(max(1, min(steps_per_epoch, MAX_STEPS_PER_EXECUTION, UPDATE_INTERVAL_S // step_seconds)))


def initial_loss(model: Any, x: list[np.ndarray], y: list[np.ndarray], batch_size: int) -> float | None:
    """The compiled loss of the untrained model on the first batch, computed eagerly (no tracing), or None."""
    count = min(batch_size, 256, len(x[0]))
    try:
        predictions = model(_one_or_list([a[:count] for a in x]), training=False)
        value = model.compute_loss(y=_one_or_list([a[:count] for a in y]), y_pred=predictions, training=False)
        return float(value)
    except Exception:  # noqa: BLE001 - only a preview point; fit reports real problems
        logger.debug("no initial loss", exc_info=True)
        return None


def with_unique_output_names(model: Any, output_names: list[str]) -> Any:
    """The model itself, or (when two outputs share a Keras name, as with a shared layer) a wrapper whose
    outputs are Identity layers named after the spec's output ids, so each head gets its own loss and metrics."""
    if len(set(model.output_names)) == len(model.output_names):
        return model
    import keras

    outputs = [keras.layers.Identity(name=name)(tensor) for name, tensor in zip(output_names, model.outputs, strict=True)]
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, outputs, name=model.name)


def trainable_name(name: str) -> str:
    """A model name TensorFlow accepts as a name scope (Keras 3.15 cannot fit a model named 'mnist model')."""
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
    return safe if re.match(r"^[A-Za-z0-9.]", safe) else f"model{safe}"


def _validation_split(data: list[np.ndarray], split: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The same split as Keras's ``validation_split``: the last fraction, before any shuffling."""
    count = len(data[0])
    at = int(math.floor(count * (1.0 - split)))
    return [a[:at] for a in data], [a[at:] for a in data]


def _one_or_list(arrays: list[np.ndarray]) -> Any:
    return arrays[0] if len(arrays) == 1 else arrays


def _error_text(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    lines = [line for line in text.splitlines() if line.strip()]
    text = " ".join(lines[:6])
    return text if len(text) <= 800 else text[:800] + " ..."


class TrainingJob:
    """One run: status, error, metric log, the model (kept after Stop) and the evaluation."""

    def __init__(self, request: TrainingRequest, job_id: str | None = None) -> None:
        self.id = job_id or uuid.uuid4().hex[:12]
        self.request = request
        self.log = MetricLog()
        self.status = QUEUED
        self.error: str | None = None
        self.message = "waiting for its turn"
        self.model: Any = None
        self.evaluation: Evaluation | None = None
        self.data_notes: list[str] = []
        self.output_names: list[str] = list(request.spec.outputs)  # Keras's names, as in the metric logs
        self.dataset_summary: dict[str, Any] = {}
        self.num_train_samples = 0
        self.extra_callbacks: list[Any] = []
        self.steps_per_execution = 0
        self.best_epoch: int | None = None
        self.timings: dict[str, float] = {}  # seconds since the run started, per phase reached
        self.created = time.time()
        self.started: float | None = None
        self.finished: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stop_reason: str | None = None
        self._touched = time.monotonic()
        self._owner_released_at: float | None = None
        self.done = threading.Event()

    # --- control, called from page threads ------------------------------------------------------

    def stop(self, reason: str = "Stopped by the user") -> str:
        """Ask the run to end after the current step group (the model is kept); returns what happened."""
        with self._lock:
            if self.status == QUEUED:
                self.status, self.message, self.finished = STOPPED, f"{reason} before it started", time.time()
                self._stop.set()
                self.done.set()
                return "Removed from the queue before it started."
            if self.status == STOPPING:
                return "Already stopping: the run ends after the current batch."
            if self.status != RUNNING:
                return f"Nothing to stop: the run has already {self.status}."
            self.status, self._stop_reason = STOPPING, reason
            self.message = f"{reason}; ending after the current batch"
            self._stop.set()
            return "Stopping after the current batch; the model is kept as it is."

    def touch(self) -> None:
        """Heartbeat: the page that shows this job is still there."""
        with self._lock:
            self._touched = time.monotonic()
            self._owner_released_at = None

    def release_owner(self) -> None:
        """The session that started the job went away; the job stops unless another page touches it soon."""
        with self._lock:
            self._owner_released_at = time.monotonic()

    def abandoned(self, grace_s: float = 15.0) -> str | None:
        """Why the job should stop because nobody watches it any more, or None."""
        timeout = self.request.heartbeat_timeout_s
        with self._lock:
            idle = time.monotonic() - self._touched
            released = self._owner_released_at
        if released is not None and time.monotonic() - released > grace_s and idle > grace_s:
            return "Stopped: the browser session that started it closed"
        if timeout is not None and idle > timeout:
            return f"Stopped: no page has shown this job for {idle:.0f} s (heartbeat timeout {timeout:.0f} s)"
        return None

    def _stop_requested(self) -> str | None:
        if self._stop.is_set():
            return self._stop_reason or "Stopped by the user"
        reason = self.abandoned()
        if reason:
            with self._lock:
                if self.status == RUNNING:
                    self.status, self._stop_reason, self.message = STOPPING, reason, reason
                    self._stop.set()
            return reason
        return None

    def _mark(self, phase: str) -> None:
        started = self.timings.setdefault("start", time.perf_counter())
        if phase != "start":
            self.timings[phase] = time.perf_counter() - started

    def _set(self, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, name, value)

    # --- reading, for pollers ---------------------------------------------------------------------

    def snapshot(self, since_batch: int = 0) -> LogSnapshot:
        """A consistent copy of the metric log."""
        return self.log.snapshot(since_batch)

    @property
    def active(self) -> bool:
        """Queued, running or stopping."""
        return self.status in ACTIVE

    def describe(self) -> str:
        """One line: status and message."""
        return f"{self.status}: {self.error or self.message}"

    # --- the run, in the worker thread ----------------------------------------------------------

    def _prepare(self) -> tuple[Any, TrainingData]:
        from studio.model.build import build_model

        request = self.request
        self._mark("start")
        self.log.set_progress(phase="building the model")
        model = request.model if request.model is not None else build_model(request.spec)
        self._mark("built")
        settings = request.settings
        settings.validate(num_outputs=len(model.outputs))
        self.log.set_progress(phase="loading data")
        dataset = request.dataset or load_dataset(request.dataset_key or "", seed=settings.seed, prefer_offline=request.prefer_offline)
        data = fit_to_model(dataset, model, list(request.spec.inputs), list(request.spec.outputs), settings.losses())
        self._mark("data ready")
        if request.max_train_samples:
            data.x_train = [a[: request.max_train_samples] for a in data.x_train]
            data.y_train = [a[: request.max_train_samples] for a in data.y_train]
        notes = [*dataset.notes, *data.notes]
        model = with_unique_output_names(model, list(request.spec.outputs))
        if trainable_name(model.name) != model.name:
            notes.append(
                f"model renamed '{model.name}' -> '{trainable_name(model.name)}': Keras 3 cannot train a model whose name has spaces"
            )
            model.name = trainable_name(model.name)
        self._set(data_notes=notes, dataset_summary=dataset.summary(), output_names=list(model.output_names))
        return model, data

    def _fit(self, model: Any, data: TrainingData) -> RecordingCallback:
        import keras

        settings = self.request.settings
        keras.utils.set_random_seed(settings.seed)
        x_train, x_val = _validation_split(data.x_train, settings.validation_split)
        y_train, y_val = _validation_split(data.y_train, settings.validation_split)
        count = len(x_train[0])
        if count == 0:
            raise DataError(f"validation_split={settings.validation_split} leaves no training samples out of {data.num_train}")
        self.num_train_samples = count
        steps = max(1, math.ceil(count / settings.batch_size))
        sequence_length = max([a.shape[1] for a in x_train if a.ndim >= 2] or [1])
        step_seconds = estimate_step_seconds(model, settings.batch_size, sequence_length)
        spe = settings.steps_per_execution or choose_steps_per_execution(step_seconds, steps, settings.epochs)
        self.steps_per_execution = spe
        model.compile(**compile_arguments(settings, steps_per_execution=spe))
        self._mark("compiled")
        recorder = RecordingCallback(self.log, settings.batch_size, count, self._stop_requested)
        # A step-0 point at once for fast models; for slow ones an eager pass would only delay training.
        initial = initial_loss(model, x_train, y_train, settings.batch_size) if step_seconds < INITIAL_LOSS_MAX_STEP_S else None
        if initial is not None:
            recorder.record_initial_loss(initial)
        callbacks: list[Any] = [recorder, *self.extra_callbacks]
        best = BestWeights(settings.monitor) if settings.best_checkpoint else None
        if settings.early_stopping:
            callbacks.append(keras.callbacks.EarlyStopping(monitor=settings.monitor, patience=settings.patience))
        if best:
            callbacks.append(best)
        has_validation = settings.validation_split > 0 and len(x_val[0]) > 0
        self.log.set_progress(phase="training")
        model.fit(
            _one_or_list(x_train),
            _one_or_list(y_train),
            batch_size=settings.batch_size,
            epochs=settings.epochs,
            validation_data=(_one_or_list(x_val), _one_or_list(y_val)) if has_validation else None,
            validation_batch_size=settings.validation_batch_size or max(settings.batch_size, 1024),
            shuffle=settings.shuffle,
            callbacks=callbacks,
            verbose=0,
        )
        self._mark("fitted")
        self.best_epoch = best.best_epoch if best else None
        return recorder

    def run(self) -> None:
        """Prepare, fit and evaluate; every failure ends as status 'failed' with a clear message."""
        with self._lock:
            if self.status != QUEUED:
                self.done.set()
                return
            self.status, self.message, self.started = RUNNING, "training", time.time()
        data = None
        try:
            model, data = self._prepare()
            self.model = model
            self._start_run_record()
            recorder = self._fit(model, data)
            if recorder.nan_at:
                reason = f"The loss became NaN (or infinite) at {recorder.nan_at}; training stopped."
                self._finish(FAILED, error=f"{reason} Lower the learning rate or check the data.")
                return
            self.log.set_progress(phase="evaluating")
            self.evaluation = evaluate_training(model, data, self.request.settings, data.dataset.class_names)
            reason = recorder.stop_reason
            self._finish(STOPPED if reason else FINISHED, message=reason or "finished")
        except USER_ERRORS as error:
            self._finish(FAILED, error=str(error))
        except Exception as error:  # noqa: BLE001 - a failing fit must end as a reported job, not a dead thread
            logger.exception("training job %s failed", self.id)
            self._finish(FAILED, error=f"{type(error).__name__}: {_error_text(error)}")
        finally:
            self.request.dataset = None  # free the arrays; the evaluation keeps what it shows
            self._close_run_record()

    def _start_run_record(self) -> None:
        """Enter this job in the run history (studio.runs.store) as running, with a per-epoch recorder."""
        from studio.runs import store as runs

        try:
            store = runs.RunStore()
            runs.start_job_run(store, self)
            self.extra_callbacks.append(runs.keras_callback(store, self.id))
        except Exception as error:  # noqa: BLE001 - the run history must never stop a training run
            logger.warning("job %s: could not record the run: %s", self.id, error)

    def _close_run_record(self) -> None:
        """Store the ended job's epochs, metrics and model files in the run history."""
        from studio.runs import store as runs

        try:
            runs.record_job(runs.RunStore(), self)
        except Exception as error:  # noqa: BLE001 - the job's own result stays available regardless
            logger.warning("job %s: could not store the run: %s", self.id, error)

    def _finish(self, status: str, message: str = "", error: str | None = None) -> None:
        with self._lock:
            self.status, self.finished, self.error = status, time.time(), error
            self.message = message or (error or status)
        self.log.set_progress(phase=status)
        self.done.set()


def train_now(request: TrainingRequest) -> TrainingJob:
    """Run one job in the calling thread (the command line); returns it finished, stopped or failed."""
    job = TrainingJob(request)
    job.run()
    return job

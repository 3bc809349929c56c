"""Training jobs: build, fit and evaluate a spec away from the UI.

A :class:`~studio.training.queue.JobRegistry` (one per process; the app keeps it in ``st.cache_resource``) serves
jobs from a queue with a bounded pool. A job runs its body (:meth:`TrainingJob.run`) in a worker process of its
Keras backend (:mod:`studio.training.processes`, which relays the log and the run back to this job), or in a
thread of this process. Each job has a lock-protected :class:`MetricLog`, a status, an error message, ``stop()``
(ends after the current step group and keeps the model) and a heartbeat: a job whose page stops touching it is
stopped.

A job is the only writer of its run record: it reports to the run observer it is given
(``TrainingRequest.observer``, see :mod:`studio.training.observer`), saves the model files itself,
and publishes its end (status, ``done``) only after the observer has closed the record.
The random seed is set before the model is built, so a stored seed reproduces the initial weights.

A job speaks the language of the session that made it: :class:`TrainingJob` keeps ``current_language()``
of its creator and runs its body (and writes every message it keeps) inside ``use_language`` of it, since a
worker thread does not inherit the session's context.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.graph.spec import GraphSpec, SpecError
from studio.i18n import N_, _, current_language, use_language
from studio.model.build import error_text
from studio.model.names import KERAS_NAME_RULE, keras_model_name
from studio.training.callbacks import BestWeights, LogSnapshot, MetricLog, RecordingCallback
from studio.training.data import TrainingData, fit_to_model
from studio.training.datasets import DataError, Dataset, load_dataset
from studio.training.evaluation import Evaluation, evaluate_training
from studio.training.observer import RunObserver, notify, save_run_files
from studio.training.ownership import Ownership, new_job_id
from studio.training.pacing import INITIAL_LOSS_MAX_STEP_S, SLOW_MODEL_LOSS_SAMPLES, initial_loss, one_or_list, pacing_for
from studio.training.settings import CompileSettings, SettingsError, compile_arguments

logger = logging.getLogger(__name__)

QUEUED, RUNNING, STOPPING, STOPPED, FINISHED, FAILED = "queued", "running", "stopping", "stopped", "finished", "failed"
ACTIVE = (QUEUED, RUNNING, STOPPING)
USER_ERRORS = (SpecError, DataError, SettingsError)
STOPPED_BY_USER = N_("Stopped by the user")
_BUILD_LOCK = threading.Lock()


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
    observer: RunObserver | None = None  # who keeps the run record (studio.runs.recorder.RunRecorder); None: nobody
    callbacks: list[Any] = field(default_factory=list)  # extra Keras callbacks for fit (tools, tests)


def with_unique_output_names(model: Any, output_names: list[str]) -> Any:
    """The model itself, or (when two outputs share a Keras name, as with a shared layer) a wrapper whose
    outputs are Identity layers named after the spec's output ids, so each head gets its own loss and metrics."""
    if len(set(model.output_names)) == len(model.output_names):
        return model
    import keras

    outputs = [keras.layers.Identity(name=name)(tensor) for name, tensor in zip(output_names, model.outputs, strict=True)]
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, outputs, name=model.name)


def validation_split(data: list[np.ndarray], split: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The same split as Keras's ``validation_split``: the last fraction, before any shuffling."""
    count = len(data[0])
    at = int(math.floor(count * (1.0 - split)))
    return [a[:at] for a in data], [a[at:] for a in data]


class TrainingJob:
    """One run: status, error, metric log, the model (kept after Stop) and the evaluation.

    ``id`` is unguessable and private to the session that owns the job (it goes into that session's
    address); ``run_id`` names the run in the run history, which every user sees.
    """

    def __init__(self, request: TrainingRequest, job_id: str | None = None, ownership: Ownership | None = None) -> None:
        self.id = job_id or new_job_id()
        self.run_id = uuid.uuid4().hex[:12]
        self.ownership = ownership or Ownership()
        self.language = current_language()  # the starting session's: the job's messages are written in it
        self.request = request
        self.log = MetricLog()
        self.status = QUEUED
        self.error: str | None = None
        self.message = _("waiting for its turn")
        self.model: Any = None
        self.evaluation: Evaluation | None = None
        self.data_notes: list[str] = []
        self.output_names: list[str] = list(request.spec.outputs)  # Keras's names, as in the metric logs
        self.dataset_summary: dict[str, Any] = {}
        self.num_train_samples = 0
        self.steps_per_execution = 0
        self.best_epoch: int | None = None
        self.timings: dict[str, float] = {}  # seconds since the run started, per phase reached
        self.backend = "tensorflow"  # the Keras backend it trains on, why, and on which device
        self.backend_reason = _("trained in the app's own process")
        self.device = "cpu"
        self.model_source: Any = None  # while it trains in a worker process: a callable giving the model as it stands
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

    def stop(self, reason: str | None = None) -> str:
        """Ask the run to end after the current step group (the model is kept); returns what happened, in the
        caller's language (the message the job keeps is in the job's)."""
        with use_language(self.language):
            reason = reason or _(STOPPED_BY_USER)
            before_start = _("{reason} before it started").format(reason=reason)
            ending = _("{reason}; ending after the current batch").format(reason=reason)
        with self._lock:
            if self.status == QUEUED:
                self.status, self.message, self.finished = STOPPED, before_start, time.time()
                self._stop.set()
                self.done.set()
                return _("Removed from the queue before it started.")
            if self.status == STOPPING:
                return _("Already stopping: the run ends after the current batch.")
            if self.status != RUNNING:
                return _("Nothing to stop: the run has already ended ({status}).").format(status=status_text(self.status))
            self.status, self._stop_reason = STOPPING, reason
            self.message = ending
            self._stop.set()
            return _("Stopping after the current batch; the model is kept as it is.")

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
        with use_language(self.language):
            if released is not None and time.monotonic() - released > grace_s and idle > grace_s:
                return _("Stopped: the browser session that started it closed")
            if timeout is not None and idle > timeout:
                return _("Stopped: no page has shown this job for {idle} s (heartbeat timeout {timeout} s)").format(
                    idle=f"{idle:.0f}", timeout=f"{timeout:.0f}"
                )
        return None

    def stop_requested(self) -> str | None:
        """Why the run should stop now (asked, or nobody watches it any more), or None."""
        if self._stop.is_set():
            with use_language(self.language):
                return self._stop_reason or _(STOPPED_BY_USER)
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

    def update(self, **changes: Any) -> None:
        """Change fields of the job under its lock."""
        with self._lock:
            for name, value in changes.items():
                setattr(self, name, value)

    # --- reading, for pollers ---------------------------------------------------------------------

    def snapshot(self, since_batch: int = 0) -> LogSnapshot:
        """A consistent copy of the metric log."""
        return self.log.snapshot(since_batch)

    def has_model(self) -> bool:
        """Whether a model can be had now: the trained one, or mid-run the one being trained."""
        return self.model is not None or (self.model_source is not None and bool(self.log.snapshot().batches))

    def current_model(self) -> Any:
        """The model as it stands: the trained one, or mid-run a copy from the worker process (None when none yet)."""
        if self.model is not None:
            return self.model
        source = self.model_source
        model = source() if source is not None else None
        return model if model is not None else self.model

    @property
    def active(self) -> bool:
        """Queued, running or stopping."""
        return self.status in ACTIVE

    def describe(self) -> str:
        """One line: status and message."""
        return _("{status}: {message}").format(status=status_text(self.status), message=self.error or self.message)

    # --- the run, in the worker thread ----------------------------------------------------------

    def _prepare(self) -> tuple[Any, TrainingData]:
        import keras

        from studio.model.build import build_model

        request = self.request
        self._mark("start")
        self.log.set_progress(phase="building the model")
        # Before building: the initial weights come from the seed, so a stored seed reproduces the run. The seed is
        # process-wide: jobs that train at once (a pool of workers) build one after the other.
        with _BUILD_LOCK:
            keras.utils.set_random_seed(request.settings.seed)
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
        if keras_model_name(model.name) != model.name:
            notes.append(
                _("model renamed '{old}' -> '{new}': {rule}").format(
                    old=model.name, new=keras_model_name(model.name), rule=_(KERAS_NAME_RULE)
                )
            )
            model.name = keras_model_name(model.name)
        self.update(data_notes=notes, dataset_summary=dataset.summary(), output_names=list(model.output_names))
        return model, data

    def _fit(self, model: Any, data: TrainingData) -> RecordingCallback:
        import keras

        settings = self.request.settings
        x_train, x_val = validation_split(data.x_train, settings.validation_split)
        y_train, y_val = validation_split(data.y_train, settings.validation_split)
        count = len(x_train[0])
        if count == 0:
            raise DataError(
                _("validation_split={split} leaves no training samples out of {count}").format(
                    split=settings.validation_split, count=data.num_train
                )
            )
        self.num_train_samples = count
        spe, step_seconds = pacing_for(model, x_train, settings.batch_size, settings.epochs, settings.steps_per_execution)
        self.steps_per_execution = spe
        model.compile(**compile_arguments(settings, steps_per_execution=spe))
        self._mark("compiled")
        recorder = RecordingCallback(self.log, settings.batch_size, count, self.stop_requested, observer=self.request.observer)
        # A step-0 point at once, before the first compiled step (tracing can take seconds): on a full batch for fast
        # models, on a few samples for slow ones, so that the eager pass costs little next to tracing.
        sample = settings.batch_size if step_seconds < INITIAL_LOSS_MAX_STEP_S else SLOW_MODEL_LOSS_SAMPLES
        initial = initial_loss(model, x_train, y_train, sample)
        if initial is not None:
            recorder.record_initial_loss(initial)
        self._mark("step 0")
        callbacks: list[Any] = [recorder, *self.request.callbacks]
        best = BestWeights(settings.monitor) if settings.best_checkpoint else None
        if settings.early_stopping:
            callbacks.append(keras.callbacks.EarlyStopping(monitor=settings.monitor, patience=settings.patience))
        if best:
            callbacks.append(best)
        has_validation = settings.validation_split > 0 and len(x_val[0]) > 0
        self.log.set_progress(phase="training")
        model.fit(
            one_or_list(x_train),
            one_or_list(y_train),
            batch_size=settings.batch_size,
            epochs=settings.epochs,
            validation_data=(one_or_list(x_val), one_or_list(y_val)) if has_validation else None,
            validation_batch_size=settings.validation_batch_size or max(settings.batch_size, 1024),
            shuffle=settings.shuffle,
            callbacks=callbacks,
            verbose=0,
        )
        self._mark("fitted")
        self.best_epoch = best.best_epoch if best else None
        return recorder

    def run(self) -> None:
        """Prepare, fit and evaluate in the language of the session that made the job (see :meth:`_run`)."""
        with use_language(self.language):
            self._run()

    def begin(self) -> bool:
        """Mark the job running; False (and done) when it was stopped while it waited."""
        with self._lock:
            if self.status != QUEUED:
                self.done.set()
                return False
            self.status, self.message, self.started = RUNNING, _("training"), time.time()
            return True

    def _run(self) -> None:
        """Prepare, fit and evaluate; every failure ends as status 'failed' with a clear message. The run
        record is closed (model files saved, observer told) before the job publishes its end."""
        if not self.begin():
            return
        status, message, error = FAILED, "", _("the run ended without a result")
        recording = False
        try:
            model, data = self._prepare()
            self.model = model
            recording = True
            self.record_start()
            recorder = self._fit(model, data)
            if recorder.nan_at:
                status, error = (
                    FAILED,
                    _("{reason}; training stopped. Lower the learning rate or check the data.").format(reason=recorder.nan_reason),
                )
            else:
                self.log.set_progress(phase="evaluating")
                self.evaluation = evaluate_training(model, data, self.request.settings, data.dataset.class_names)
                reason = recorder.stop_reason
                status, message, error = (STOPPED if reason else FINISHED), reason or FINISHED, None
        except USER_ERRORS as failure:
            error = str(failure)
        except Exception as failure:  # noqa: BLE001 - a failing fit must end as a reported job, not a dead thread
            logger.exception("training job of run %s failed", self.run_id)
            error = f"{type(failure).__name__}: {error_text(failure, max_chars=800, max_lines=6)}"
        finally:
            self.request.dataset = None  # free the arrays; the evaluation keeps what it shows
            ended_at = time.time()
            if recording:
                self.record_end(status, error, ended_at)
            self.finish(status, message, error, ended_at)

    def record_start(self) -> None:
        """Tell the run observer (if any) that this run starts training."""
        request = self.request
        dataset = {"key": request.dataset_key, **(self.dataset_summary or {})}
        started = self.started or self.created
        settings = {
            **request.settings.to_dict(),
            "backend_used": self.backend,
            "backend_reason": self.backend_reason,
            "device": self.device,
        }
        notify(request.observer, "run_started", self.run_id, request.spec.to_dict(), settings, dataset, started)

    def record_end(self, status: str, error: str | None, ended_at: float) -> None:
        """Save the model files where the observer keeps them (a run that failed keeps none), then close the record."""
        observer = self.request.observer
        if observer is None:
            return
        self.log.set_progress(phase="saving the run")
        files = {}
        folder = notify(observer, "model_folder") if status != FAILED and self.model is not None else None
        if folder is not None:
            try:
                files = save_run_files(self.model, folder)
            except Exception as failure:  # noqa: BLE001 - a model that cannot be saved still leaves its run recorded
                logger.warning("run %s: the model files could not be saved: %s", self.run_id, failure)
        final = self.evaluation.to_dict() if self.evaluation else {}
        notify(observer, "run_ended", status, final, error, ended_at, files)

    def finish(self, status: str, message: str = "", error: str | None = None, ended_at: float | None = None) -> None:
        """Publish the end of the run (after its record is closed)."""
        with self._lock:
            self.status, self.finished, self.error = status, ended_at or time.time(), error
            self.message = message or (error or status)
        self.log.set_progress(phase=status)
        self.done.set()


STATUS_NAMES = {
    QUEUED: N_("queued"),
    RUNNING: N_("running"),
    STOPPING: N_("stopping"),
    STOPPED: N_("stopped"),
    FINISHED: N_("finished"),
    FAILED: N_("failed"),
}


def status_text(status: str) -> str:
    """A job status as shown to people ('finished', in the language in use); the status itself stays an id."""
    return _(STATUS_NAMES[status]) if status in STATUS_NAMES else status


def train_now(request: TrainingRequest) -> TrainingJob:
    """Run one job in the calling thread (the command line); returns it finished, stopped or failed."""
    job = TrainingJob(request)
    job.run()
    return job

"""Training in worker processes, one Keras backend each: start them, choose the backend of a job, relay its run.

The backend is process-wide in Keras 3 (``KERAS_BACKEND`` is read when Keras is imported), so each backend gets
its own worker process (:mod:`studio.training.worker`), started on first use and kept warm for the next job:
its libraries are loaded and its compiled functions cached. A worker that sits idle for ``KFS_WORKER_IDLE_S``
seconds (default 600) is closed to give its memory back; one that dies is started again for the next job, and
the job it was running fails with a message that says so.

The app's process keeps what users see and what must last: the job's metric log (the worker's is relayed
message by message), its run record (started, epochs, heartbeats; then the model files the app saves from the
worker's ``.keras`` file, loaded here with TensorFlow, so every download is a TensorFlow-saved file), Stop and
the heartbeat (forwarded to the worker within a tenth of a second).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from studio.i18n import _, use_language
from studio.paths import cache_dir
from studio.training.backends import FASTEST, TENSORFLOW, BackendChoice, backend_name, installed_backends
from studio.training.calibration import CalibrationStore, Measurement, calibration_key
from studio.training.job import FAILED, STOPPED, TrainingJob
from studio.training.observer import notify

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 300.0  # a loaded machine can take minutes to import a backend
POLL_S = 0.05
SNAPSHOT_TIMEOUT_S = 120.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class WorkerGone(RuntimeError):
    """The worker process ended (or never started); the message says how."""


class StoppedWhileMeasuring(RuntimeError):
    """The job was stopped while its backends were being measured; the message is the reason."""


class BackendWorker:
    """One worker process with one Keras backend: started on first use, again after it died."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.info: dict[str, Any] = {}
        self.last_used = time.monotonic()
        self._process: subprocess.Popen | None = None
        self._connection: Connection | None = None
        self._send_lock = threading.Lock()

    @property
    def log_path(self) -> Path:
        """Where the worker's own output goes (never the app's terminal)."""
        return cache_dir() / f"worker-{self.backend}.log"

    def alive(self) -> bool:
        """Whether the process is running."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the process (if it is not running) and wait until its backend is loaded."""
        if self.alive() and self._connection is not None:
            return
        self.close()
        ours, theirs = socket.socketpair()
        environment = dict(os.environ, KERAS_BACKEND=self.backend, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "studio.training.worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        theirs.close()
        self._connection = Connection(ours.detach())
        message = self.receive(READY_TIMEOUT_S)
        if message is None or message[0] != "ready":
            self.close()
            raise WorkerGone(
                _("The {backend} worker did not start within {seconds} s").format(
                    backend=backend_name(self.backend), seconds=f"{READY_TIMEOUT_S:.0f}"
                )
            )
        self.info = message[1]

    def send(self, message: tuple) -> None:
        """Send one message to the worker (from any thread)."""
        self.last_used = time.monotonic()
        try:
            assert self._connection is not None
            with self._send_lock:
                self._connection.send(message)
        except (AssertionError, BrokenPipeError, ConnectionError, OSError) as error:
            raise self._gone() from error

    def receive(self, timeout: float) -> tuple | None:
        """The next message, or None after ``timeout`` seconds; raises WorkerGone when the process has ended."""
        try:
            assert self._connection is not None
            if self._connection.poll(timeout):
                self.last_used = time.monotonic()
                return self._connection.recv()
        except (AssertionError, EOFError, ConnectionError, OSError) as error:
            raise self._gone() from error
        if not self.alive():
            raise self._gone()
        return None

    def _gone(self) -> WorkerGone:
        code = self._process.poll() if self._process is not None else None
        self.close()
        return WorkerGone(
            _(
                "The {backend} training process stopped unexpectedly (exit code {code}); the next run starts a new one. Its log: {log}"
            ).format(backend=backend_name(self.backend), code=code, log=self.log_path)
        )

    def close(self) -> None:
        """End the process (asked first, then terminated)."""
        connection, process = self._connection, self._process
        self._connection, self._process = None, None
        if connection is not None:
            try:
                connection.send(("exit",))
            except (BrokenPipeError, ConnectionError, OSError):
                pass
            connection.close()
        if process is not None and process.poll() is None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class WorkerSet:
    """The worker processes of one pool slot, one per backend, started when first needed; one job uses a
    worker at a time (``lease``)."""

    def __init__(self, idle_s: float | None = None) -> None:
        self.idle_s = idle_s if idle_s is not None else float(os.environ.get("KFS_WORKER_IDLE_S", "600") or 600)
        self._workers: dict[str, BackendWorker] = {}
        self._busy: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def lease(self, backend: str) -> Iterator[BackendWorker]:
        """The started worker of ``backend``, for this caller alone until the block ends."""
        with self._lock:
            worker = self._workers.setdefault(backend, BackendWorker(backend))
            busy = self._busy.setdefault(backend, threading.Lock())
        with busy:
            worker.start()
            yield worker

    def warm(self, backends: tuple[str, ...] | None = None) -> None:
        """Start the workers of these backends (every installed one by default) so the next job starts at once."""
        for backend in backends or installed_backends():
            try:
                with self.lease(backend):
                    pass
            except WorkerGone as gone:
                logger.warning("%s", gone)

    def close_idle(self) -> None:
        """Close the workers nobody uses and nobody used for longer than ``idle_s``."""
        with self._lock:
            pairs = [(worker, self._busy[backend]) for backend, worker in self._workers.items()]
        for worker, busy in pairs:
            if worker.alive() and time.monotonic() - worker.last_used > self.idle_s and busy.acquire(blocking=False):
                try:
                    worker.close()
                finally:
                    busy.release()

    def running(self) -> dict[str, dict[str, Any]]:
        """Backend -> what its running worker reported (pid, version, device)."""
        with self._lock:
            return {backend: dict(worker.info) for backend, worker in self._workers.items() if worker.alive() and worker.info}

    def close(self) -> None:
        """End every worker."""
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.close()


_SHARED: dict[int, WorkerSet] = {}
_SHARED_LOCK = threading.Lock()


def shared_workers(slot: int) -> WorkerSet:
    """The worker processes of pool slot ``slot``, shared by every job registry of this process (so they stay warm)."""
    with _SHARED_LOCK:
        return _SHARED.setdefault(slot, WorkerSet())


@atexit.register
def _close_shared() -> None:
    for workers in list(_SHARED.values()):
        workers.close()


def _payload(job: TrainingJob) -> dict[str, Any]:
    request = job.request
    return {
        "spec": request.spec,
        "settings": request.settings,
        "dataset_key": request.dataset_key,
        "dataset": request.dataset,
        "prefer_offline": request.prefer_offline,
        "max_train_samples": request.max_train_samples,
    }


def _measure(job: TrainingJob, workers: WorkerSet, store: CalibrationStore, key: str) -> dict[str, Measurement]:
    """Measure the job's model on every installed backend not yet measured; returns what is known."""
    known = store.get(key)
    for backend in installed_backends():
        if backend in known:
            continue
        with workers.lease(backend) as worker:
            worker.send(("calibrate", _payload(job)))
            while True:
                message = worker.receive(1.0)
                reason = job.stop_requested()
                if reason:
                    raise StoppedWhileMeasuring(reason)
                if message is not None and message[0] == "calibrated":
                    break
        result = message[1]
        if "error" in result:
            logger.warning("calibration on %s failed: %s", backend, result["error"])
            continue
        measurement = Measurement(result["trace_s"], result["step_s"], result["cost_s"], int(result["run_steps"]))
        store.put(key, backend, measurement)
        known[backend] = measurement
    return known


def choose_backend(job: TrainingJob, workers: WorkerSet, store: CalibrationStore | None = None) -> BackendChoice:
    """The backend of a job: the one in its settings, or the fastest measured for its model on this machine."""
    choice = getattr(job.request.settings, "backend", FASTEST)
    available = installed_backends()
    if choice != FASTEST:
        return BackendChoice(choice, _("chosen in the compile settings"))
    if len(available) == 1:
        return BackendChoice(available[0], _("the only backend installed here"))
    store = store or CalibrationStore()
    request = job.request
    data_key = f"{request.dataset_key}{'/offline' if request.prefer_offline else ''}" if request.dataset_key else "uploaded"
    key = calibration_key(request.spec, request.settings, data_key, request.max_train_samples)
    fresh = not all(backend in store.get(key) for backend in available)
    if fresh:
        job.log.set_progress(phase="measuring the backends")
    known = _measure(job, workers, store, key)
    if not known:
        return BackendChoice(TENSORFLOW, _("fastest could not be measured for this model; TensorFlow is the default"))
    run_steps = max(measurement.run_steps for measurement in known.values())
    predicted = {backend: measurement.predict(run_steps) for backend, measurement in known.items()}
    best = min(predicted, key=predicted.get)
    other = max(predicted, key=predicted.get)
    if best == other:
        return BackendChoice(best, _("the only backend that could train this model"), predicted)
    ratio = predicted[other] / max(predicted[best], 1e-9)
    cost = sum(measurement.cost_s for measurement in known.values())
    reason = _(
        "fastest on this machine for this model: {best} {best_s} s against {other} {other_s} s predicted for the "
        "{steps} steps of this run ({ratio:.1f}x){measured}"
    ).format(
        best=backend_name(best),
        best_s=f"{predicted[best]:.1f}",
        other=backend_name(other),
        other_s=f"{predicted[other]:.1f}",
        steps=run_steps,
        ratio=ratio,
        measured=_("; measured just now in {seconds} s").format(seconds=f"{cost:.1f}") if fresh else _("; measured earlier"),
    )
    return BackendChoice(best, reason, predicted)


def _load_trained(path: str) -> Any:
    import keras

    try:
        return keras.models.load_model(path, safe_mode=True)
    except Exception:  # noqa: BLE001 - an optimizer that does not reload still leaves the trained weights
        logger.info("reloading the trained model with its compile state failed; loading it uncompiled", exc_info=True)
        return keras.models.load_model(path, safe_mode=True, compile=False)


class _Relay:
    """Applies what the worker reports to the app-side job: its log, its fields, its run observer."""

    def __init__(self, job: TrainingJob) -> None:
        self.job = job
        self.recording = False
        self.snapshots: queue.Queue = queue.Queue()  # (path or None, error or None) per snapshot asked

    def apply(self, message: tuple) -> dict[str, Any] | None:
        """Apply one message; returns the job's result when the worker says it is done."""
        kind = message[0]
        if kind == "log":
            method, value = message[1], message[2]
            if method == "set_progress":
                self.job.log.set_progress(**value)
            else:
                getattr(self.job.log, method)(value)
        elif kind == "set":
            self.job.update(**message[1])
        elif kind == "observer":
            method, args = message[1], list(message[2])
            self.recording = self.recording or method == "run_started"
            notify(self.job.request.observer, method, *args)
        elif kind == "snapshot_saved":
            self.snapshots.put((message[1], message[2]))
        elif kind == "done":
            return message[1]
        return None


def _snapshot(job: TrainingJob, worker: BackendWorker, relay: _Relay, folder: str) -> Any:
    """The model as it stands in the worker (saved at its next step group, loaded here), or None."""
    path = str(Path(folder) / f"snapshot-{time.monotonic_ns()}.keras")
    try:
        worker.send(("snapshot", job.id, path))
        saved, error = relay.snapshots.get(timeout=SNAPSHOT_TIMEOUT_S)
    except (WorkerGone, queue.Empty):
        return None
    if saved is None:
        logger.info("no snapshot of run %s: %s", job.run_id, error)
        return None
    try:
        return _load_trained(saved)
    finally:
        Path(saved).unlink(missing_ok=True)


def _pump(job: TrainingJob, worker: BackendWorker, relay: _Relay) -> dict[str, Any]:
    """Relay the worker's messages to the job (and a stop to the worker) until the worker says it is done."""
    forwarded = False
    while True:
        reason = None if forwarded else job.stop_requested()
        if reason:
            worker.send(("stop", job.id, reason))
            forwarded = True
        received = worker.receive(POLL_S)
        result = relay.apply(received) if received is not None else None
        if result is not None:
            return result


def run_in_worker(job: TrainingJob, workers: WorkerSet) -> None:
    """Run a queued job in the worker process of its backend; ends it as run_locally would (status, record, model)."""
    with use_language(job.language):
        if not job.begin():
            return
        status, message, error = FAILED, "", _("the run ended without a result")
        relay: _Relay | None = None
        folder = tempfile.mkdtemp(prefix="kfs-trained-")
        try:
            choice = choose_backend(job, workers)
            job.update(backend=choice.backend, backend_reason=choice.reason)
            job.log.set_progress(phase="starting the worker")
            with workers.lease(choice.backend) as worker:
                job.update(device=str(worker.info.get("device", "cpu")))
                relay = _Relay(job)
                job.model_source = lambda: _snapshot(job, worker, relay, folder)
                payload = {
                    **_payload(job),
                    "job_id": job.id,
                    "run_id": job.run_id,
                    "language": job.language,
                    "record": job.request.observer is not None,
                    "model_folder": folder,
                    "backend": job.backend,
                    "backend_reason": job.backend_reason,
                    "device": job.device,
                }
                worker.send(("train", payload))
                try:
                    result = _pump(job, worker, relay)
                finally:
                    job.model_source = None
            job.update(**{name: value for name, value in result.items() if name not in ("status", "message", "error", "model_path")})
            status, message, error = result["status"], result["message"] or "", result["error"]
            if result.get("model_path"):
                job.model = _load_trained(result["model_path"])
        except StoppedWhileMeasuring as stopped:
            status, message, error = STOPPED, str(stopped), None
        except WorkerGone as gone:
            error = str(gone)
        except Exception as failure:  # noqa: BLE001 - a failing run must end as a reported job, not a dead thread
            logger.exception("training job of run %s failed in its worker", job.run_id)
            error = f"{type(failure).__name__}: {failure}"
        finally:
            job.request.dataset = None
            ended_at = time.time()
            if relay is not None and relay.recording:
                job.record_end(status, error, ended_at)
            job.finish(status, message, error, ended_at)
            shutil.rmtree(folder, ignore_errors=True)

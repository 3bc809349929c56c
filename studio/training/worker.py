"""A training worker process: one Keras backend, fixed when it starts, serving jobs one after the other.

Started by :mod:`studio.training.processes` as ``python -m studio.training.worker FD`` with ``KERAS_BACKEND`` set
and FD one end of a socket pair. The messages are pickled tuples:

- parent -> worker: ``("train", payload)``, ``("calibrate", payload)``, ``("stop", job_id, reason)``,
  ``("snapshot", job_id, path)``, ``("exit",)``
- worker -> parent: ``("ready", info)``, ``("log", method, value)``, ``("set", changes)``,
  ``("observer", method, args)``, ``("snapshot_saved", path or None, error or None)``, ``("done", result)``,
  ``("calibrated", result)``

A job here is the same :class:`~studio.training.job.TrainingJob` as in the app's process; what it writes to its
metric log and tells its run observer is relayed to the parent's job as it happens. The parent keeps the run
record and the model files: the trained model comes back as a ``.keras`` file the parent loads with TensorFlow.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class Channel:
    """The worker's end of the socket pair; ``send`` may be called from any thread."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._lock = threading.Lock()

    def send(self, message: tuple) -> None:
        """Send one message (dropped when the parent is gone: the worker then ends by itself)."""
        with self._lock:
            try:
                self.connection.send(message)
            except (BrokenPipeError, ConnectionError, EOFError, OSError):
                pass


def device_info() -> dict[str, Any]:
    """The backend, its version and the device it computes on ('cpu', or the GPU's name)."""
    import keras

    backend = keras.backend.backend()
    info: dict[str, Any] = {"backend": backend, "keras": keras.__version__, "pid": os.getpid(), "device": "cpu"}
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        info.update(version=jax.__version__, device="cpu" if device.platform == "cpu" else f"{device.platform}:{device.device_kind}")
    elif backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        info.update(version=tf.__version__, device=f"gpu:{gpus[0].name}" if gpus else "cpu")
    return info


def _keyed_dataset(payload: dict[str, Any]) -> Any:
    from studio.training.data_cache import cached_dataset

    key = payload.get("dataset_key")
    return cached_dataset(key, payload["settings"].seed, payload.get("prefer_offline", False)) if key else None


def _relayed_job(payload: dict[str, Any], channel: Channel) -> Any:
    """A TrainingJob whose log, observer and field updates are relayed to the parent."""
    from studio.training.callbacks import MetricLog
    from studio.training.job import TrainingJob, TrainingRequest

    class RelayLog(MetricLog):
        def add_batch(self, record: dict[str, Any]) -> None:
            super().add_batch(record)
            channel.send(("log", "add_batch", record))

        def add_epoch(self, record: dict[str, Any]) -> None:
            super().add_epoch(record)
            channel.send(("log", "add_epoch", record))

        def set_progress(self, **changes: Any) -> None:
            super().set_progress(**changes)
            channel.send(("log", "set_progress", changes))

    class RelayObserver:
        def run_started(self, *args: Any) -> None:
            channel.send(("observer", "run_started", args))

        def epoch_ended(self, *args: Any) -> None:
            channel.send(("observer", "epoch_ended", args))

        def heartbeat(self) -> None:
            channel.send(("observer", "heartbeat", ()))

        def model_folder(self) -> None:
            return None  # the parent saves the model files, from the .keras file this worker sends back

        def run_ended(self, *args: Any, **kwargs: Any) -> None:
            return None  # the parent closes the record once it has the model

    import keras

    class Snapshots(keras.callbacks.Callback):
        """Saves the model as it stands when the parent asks (the Export page, mid-run), between step groups."""

        def __init__(self) -> None:
            super().__init__()
            self.async_safe = keras.backend.backend() != "jax"  # JAX: only in the loop are the weights in the model

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            path, job.snapshot_path = job.snapshot_path, None
            if not path:
                return
            try:
                if keras.backend.backend() == "jax":
                    self.model.jax_state_sync()
                self.model.save(path)
                channel.send(("snapshot_saved", path, None))
            except Exception as failure:  # noqa: BLE001 - the run goes on; the page says why there is no file
                channel.send(("snapshot_saved", None, f"{type(failure).__name__}: {failure}"))

    class RelayedJob(TrainingJob):
        def update(self, **changes: Any) -> None:
            super().update(**changes)
            channel.send(("set", changes))

    request = TrainingRequest(
        spec=payload["spec"],
        settings=payload["settings"],
        dataset_key=payload.get("dataset_key"),
        dataset=payload.get("dataset") or _keyed_dataset(payload),
        prefer_offline=payload.get("prefer_offline", False),
        max_train_samples=payload.get("max_train_samples"),
        observer=RelayObserver() if payload.get("record") else None,
        callbacks=[Snapshots()],
    )
    job = RelayedJob(request, job_id=payload["job_id"])
    job.snapshot_path = None
    job.run_id, job.language, job.log = payload["run_id"], payload["language"], RelayLog()
    job.backend, job.backend_reason, job.device = payload["backend"], payload["backend_reason"], payload["device"]
    return job


class Current:
    """The job being run, if any, and a stop that arrived before it was made (it stops as soon as it exists)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job: Any = None
        self._pending: tuple[str, str] | None = None  # (job id, reason)

    def begin(self, job: Any) -> None:
        """This job runs now."""
        with self._lock:
            self._job, pending, self._pending = job, self._pending, None
        if pending and pending[0] == job.id:
            job.stop(pending[1])

    def end(self) -> None:
        """No job runs any more."""
        with self._lock:
            self._job = None

    def snapshot(self, job_id: str, path: str) -> bool:
        """Ask the running job with this id to save its model at its next step group; False when it is not running."""
        with self._lock:
            job = self._job
        if job is None or job.id != job_id:
            return False
        job.snapshot_path = path
        return True

    def stop(self, job_id: str, reason: str) -> None:
        """Stop the job with this id: now if it runs, as soon as it is made if it is next (a late stop is dropped)."""
        with self._lock:
            job = self._job
            if job is None:
                self._pending = (job_id, reason)
        if job is not None and job.id == job_id:
            job.stop(reason)


def _train(payload: dict[str, Any], channel: Channel, current: Current) -> None:
    from studio.i18n import use_language

    job = _relayed_job(payload, channel)
    current.begin(job)
    try:
        job.run()
    finally:
        current.end()
    model_path = None
    with use_language(job.language):
        if job.model is not None and job.status != "failed":
            path = Path(payload["model_folder"]) / f"{job.id}.keras"
            try:
                job.model.save(path)
                model_path = str(path)
            except Exception as failure:  # noqa: BLE001 - the run's numbers still count without its model
                logger.warning("the trained model could not be saved: %s", failure)
    fields = (
        "status",
        "message",
        "error",
        "evaluation",
        "data_notes",
        "output_names",
        "dataset_summary",
        "num_train_samples",
        "steps_per_execution",
        "best_epoch",
        "timings",
        "started",
        "finished",
    )
    result = {name: getattr(job, name) for name in fields}
    channel.send(("done", {**result, "model_path": model_path}))


def _calibrate(payload: dict[str, Any], channel: Channel) -> None:
    from studio.training.calibration import measure_here

    try:
        channel.send(("calibrated", measure_here(payload)))
    except Exception as failure:  # noqa: BLE001 - a model that cannot be measured is simply not chosen by speed
        logger.warning("calibration failed: %s", failure)
        channel.send(("calibrated", {"error": f"{type(failure).__name__}: {failure}"}))


def _read(connection: Connection, inbox: queue.Queue, current: Current, channel: Channel) -> None:
    """Receive messages: a stop goes to the running job at once, the rest wait in the inbox."""
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            inbox.put(("exit",))
            return
        if message[0] == "stop":
            current.stop(message[1], message[2])
        elif message[0] == "snapshot":
            if not current.snapshot(message[1], message[2]):
                channel.send(("snapshot_saved", None, "the run is not training now"))
        else:
            inbox.put(message)


def serve(connection: Connection) -> None:
    """Announce the backend, then train and measure what the parent sends until it says exit (or goes away)."""
    channel = Channel(connection)
    channel.send(("ready", device_info()))
    inbox: queue.Queue = queue.Queue()
    current = Current()
    threading.Thread(target=_read, args=(connection, inbox, current, channel), name="worker-reader", daemon=True).start()
    while True:
        message = inbox.get()
        if message[0] == "exit":
            return
        started = time.perf_counter()
        if message[0] == "train":
            _train(message[1], channel, current)
        elif message[0] == "calibrate":
            _calibrate(message[1], channel)
        logger.debug("%s took %.2f s", message[0], time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m studio.training.worker FD`` (FD: this end of the socket pair)."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s worker %(levelname)s %(name)s: %(message)s")
    connection = Connection(int(argv[0]))
    import studio.training  # noqa: F401 - loads the backend (TensorFlow quietly when it is the one)

    if os.environ.get("KERAS_BACKEND") != "tensorflow":
        # keras.utils.set_random_seed also seeds TensorFlow whenever it can import it: half a gigabyte and
        # competing threads in a worker that does not use it (our data never goes through tf.data).
        from keras.src.utils import module_utils

        module_utils.tensorflow._available = False

    try:
        serve(connection)
    finally:
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The process-wide job queue: one worker serves jobs in order, one at a time, in a fresh thread each
(Keras layer naming and ``clear_session`` are process-wide, so two jobs never train at once)."""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import weakref
from typing import Any

from studio.training.job import QUEUED, TrainingJob, TrainingRequest
from studio.training.ownership import Ownership

logger = logging.getLogger(__name__)

_REGISTRIES: weakref.WeakSet = weakref.WeakSet()  # for the clear_session guard; process-wide by nature


def _any_job_running() -> bool:
    return any(registry.busy() for registry in list(_REGISTRIES))


def install_clear_session_guard() -> None:
    """Make ``keras.backend.clear_session`` a no-op while a job trains.

    Streamlit calls ``keras.backend.clear_session()`` after every script run (its runner's
    ``_clean_problem_modules``), and Keras 3 then replaces the thread-local global state of *every*
    thread, including a worker thread that is tracing its train step. Skipping it while a job runs
    keeps the job intact; the next call after the job has ended goes through as before.
    """
    import keras

    current = keras.backend.clear_session
    if getattr(current, "studio_guard", False):
        return

    def clear_session(*args: Any, **kwargs: Any) -> Any:
        if _any_job_running():
            logger.debug("clear_session skipped: a training job is running")
            return None
        return current(*args, **kwargs)

    clear_session.studio_guard = True  # type: ignore[attr-defined]
    clear_session.__doc__ = current.__doc__
    keras.backend.clear_session = clear_session


class JobRegistry:
    """Process-wide: jobs by id and a FIFO queue served by one worker thread (one job trains at a time)."""

    def __init__(self, keep_finished: int = 50) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._jobs: dict[str, TrainingJob] = {}
        self._queue: collections.deque[str] = collections.deque()
        self._current: str | None = None
        self._keep = keep_finished
        self._worker: threading.Thread | None = None
        self._closed = False
        self._counter = itertools.count(1)
        _REGISTRIES.add(self)
        install_clear_session_guard()

    def busy(self) -> bool:
        """Whether a job is being run right now."""
        return self._current is not None

    def submit(self, request: TrainingRequest, ownership: Ownership | None = None) -> TrainingJob:
        """Queue a run and return its job at once (``ownership``: who may watch and stop it; None: no session)."""
        job = TrainingJob(request, ownership=ownership)
        with self._wake:
            if self._closed:
                raise RuntimeError("The job registry is shut down")
            self._jobs[job.id] = job
            self._queue.append(job.id)
            self._prune()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._serve, name=f"training-worker-{next(self._counter)}", daemon=True)
                self._worker.start()
            self._wake.notify_all()
        return job

    def get(self, job_id: str | None) -> TrainingJob | None:
        """The job with this id, or None."""
        with self._lock:
            return self._jobs.get(job_id or "")

    def queue_position(self, job_id: str) -> int | None:
        """0 while training; while waiting, how many runs are ahead of it (1 = next); None otherwise."""
        with self._lock:
            if job_id == self._current:
                return 0
            try:
                ahead = self._queue.index(job_id) + (1 if self._current is not None else 0)
            except ValueError:
                return None
            return max(1, ahead)

    def jobs(self) -> list[TrainingJob]:
        """Every job kept, oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def job_of_run(self, run_id: str) -> TrainingJob | None:
        """The job that records the run with this (public) id, or None."""
        with self._lock:
            return next((job for job in self._jobs.values() if job.run_id == run_id), None)

    def _prune(self) -> None:
        finished = [job for job in self._jobs.values() if not job.active]
        for job in finished[: max(0, len(finished) - self._keep)]:
            del self._jobs[job.id]

    def _serve(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait(timeout=5.0)
                if self._closed:
                    return
                job = self._jobs.get(self._queue.popleft())
                self._current = job.id if job else None
            if job is None:
                continue
            reason = job.abandoned(grace_s=0.0) if job.status == QUEUED else None
            if reason:
                job.stop(reason)
            else:
                # A fresh thread per job: Keras keeps name scopes in thread-local state, and a failed fit can
                # leave a scope behind that would prefix every later job's variable names.
                runner = threading.Thread(target=job.run, name=f"training-job-{job.run_id}", daemon=True)
                runner.start()
                runner.join()
            with self._wake:
                self._current = None

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop every job and the worker (tests, process exit)."""
        for job in self.jobs():
            job.stop("Stopped: the app is shutting down")
        with self._wake:
            self._closed = True
            self._wake.notify_all()
            worker = self._worker
        if worker is not None:
            worker.join(timeout)

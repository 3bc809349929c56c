"""The process-wide job queue: a bounded pool serves the jobs first come, first served.

Each slot of the pool is a thread of the app's process that hands its jobs to worker processes
(:mod:`studio.training.processes`), one per Keras backend, so each job can run on the backend that trains
its model fastest (the backend is fixed per process in Keras 3). The pool has one slot per two CPU cores
(each fit still gets two cores for its kernels), so on a 2-core machine one model trains at a time;
``KFS_TRAINING_WORKERS`` sets it. ``KFS_TRAINING_PROCESSES=0`` trains in threads of the app's process instead
(TensorFlow only; as do jobs that continue a model already in memory, or that carry their own callbacks).
In a thread each job runs in a fresh thread (Keras keeps name scopes per thread); building (seed, then
weights) is serialised by the job, so a stored seed still gives the same initial weights.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import threading
import time
import weakref
from typing import Any

from studio.i18n import _, use_language
from studio.limits import limits
from studio.training.backends import FASTEST, default_choice
from studio.training.job import QUEUED, TrainingJob, TrainingRequest
from studio.training.ownership import Ownership
from studio.training.processes import run_in_worker, shared_workers

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


def processes_enabled() -> bool:
    """Whether jobs train in worker processes (``KFS_TRAINING_PROCESSES``, default 1) rather than threads."""
    return os.environ.get("KFS_TRAINING_PROCESSES", "1").strip() not in ("0", "false", "no", "off")


def default_workers() -> int:
    """How many jobs train at once: KFS_TRAINING_WORKERS, else one per two CPU cores (at least one)."""
    configured = limits().training_workers
    if configured > 0:
        return configured
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // 2)


class JobRegistry:
    """Process-wide: jobs by id and a FIFO queue served by a bounded pool of worker threads."""

    def __init__(self, keep_finished: int = 50, workers: int | None = None, processes: bool | None = None) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._jobs: dict[str, TrainingJob] = {}
        self._queue: collections.deque[str] = collections.deque()
        self._running: set[str] = set()
        self._keep = keep_finished
        self.workers = max(1, workers if workers is not None else default_workers())
        self.processes = processes_enabled() if processes is None else processes
        self._worker_sets = [shared_workers(slot) for slot in range(self.workers)]
        self._pool: list[threading.Thread] = []
        self._closed = False
        self._counter = itertools.count(1)
        self._durations: collections.deque[float] = collections.deque(maxlen=10)  # seconds, of recent runs
        _REGISTRIES.add(self)
        install_clear_session_guard()

    def busy(self) -> bool:
        """Whether a job is being run right now."""
        return bool(self._running)

    def submit(self, request: TrainingRequest, ownership: Ownership | None = None) -> TrainingJob:
        """Queue a run and return its job at once (``ownership``: who may watch and stop it; None: no session).

        The job keeps the language in use here (the submitting session's) and runs in it on the worker thread."""
        job = TrainingJob(request, ownership=ownership)
        with self._wake:
            if self._closed:
                raise RuntimeError(_("The job registry is shut down"))
            self._jobs[job.id] = job
            self._queue.append(job.id)
            self._prune()
            self._start_pool()
            self._wake.notify_all()
        return job

    def _start_pool(self) -> None:
        """Start the slots' threads that are not running (called under the lock)."""
        for slot in range(self.workers):
            if slot < len(self._pool) and self._pool[slot].is_alive():
                continue
            thread = threading.Thread(target=self._serve, args=(slot,), name=f"training-worker-{next(self._counter)}", daemon=True)
            if slot < len(self._pool):
                self._pool[slot] = thread
            else:
                self._pool.append(thread)
            thread.start()

    def warm(self, choice: str | None = None) -> None:
        """Start the worker processes of every slot in the background, so that the next Train starts at once: the
        backend of ``choice`` (default: the default choice of new settings), every installed one for "fastest"."""
        if not self.processes:
            return
        choice = choice or default_choice()
        backends = None if choice == FASTEST else (choice,)
        for workers in self._worker_sets:
            threading.Thread(target=workers.warm, args=(backends,), name="training-warm", daemon=True).start()

    def backends_running(self) -> dict[str, dict[str, Any]]:
        """Backend -> what its running worker process reported (version, device), over the slots."""
        running: dict[str, dict[str, Any]] = {}
        for workers in self._worker_sets:
            running.update(workers.running())
        return running

    def get(self, job_id: str | None) -> TrainingJob | None:
        """The job with this id, or None."""
        with self._lock:
            return self._jobs.get(job_id or "")

    def queue_position(self, job_id: str) -> int | None:
        """0 while training; while waiting, how many runs must end or start before it does (1 = next); None otherwise."""
        with self._lock:
            if job_id in self._running:
                return 0
            try:
                index = self._queue.index(job_id)
            except ValueError:
                return None
            free = max(0, self.workers - len(self._running))
            return max(1, index + 1 - free)

    def estimated_wait(self, job_id: str) -> float | None:
        """Seconds until a queued job should start, from the length of recent runs; None when unknown or not queued."""
        with self._lock:
            if job_id not in self._queue or not self._durations:
                return None
            typical = sum(self._durations) / len(self._durations)
            now = time.time()
            free_at = sorted(
                max(0.0, typical - (now - (self._jobs[running].started or now))) for running in self._running if running in self._jobs
            )
            free_at += [0.0] * (self.workers - len(free_at))
            for _ahead in range(self._queue.index(job_id)):  # each run ahead takes the slot that frees first
                free_at.sort()
                free_at[0] += typical
            return min(free_at)

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

    def _serve(self, slot: int) -> None:
        workers = self._worker_sets[slot]
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait(timeout=5.0)
                    workers.close_idle()
                if self._closed:
                    return
                job = self._jobs.get(self._queue.popleft())
                if job is not None:
                    self._running.add(job.id)
            if job is None:
                continue
            reason = job.abandoned(grace_s=0.0) if job.status == QUEUED else None
            if reason:
                job.stop(reason)
            else:
                # A fresh thread per job: Keras keeps name scopes in thread-local state, and a failed fit can
                # leave a scope behind that would prefix every later job's variable names.
                in_process = self.processes and job.request.model is None and not job.request.callbacks
                target = (lambda job=job: run_in_worker(job, workers)) if in_process else job.run
                runner = threading.Thread(target=target, name=f"training-job-{job.run_id}", daemon=True)
                runner.start()
                runner.join()
            with self._wake:
                self._running.discard(job.id)
                if job.started and job.finished:
                    self._durations.append(job.finished - job.started)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop every job and the worker (tests, process exit)."""
        for job in self.jobs():
            with use_language(job.language):
                job.stop(_("Stopped: the app is shutting down"))
        with self._wake:
            self._closed = True
            self._wake.notify_all()
            workers = list(self._pool)
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))

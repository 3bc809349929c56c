"""The run history's side of a training job: a :class:`RunRecorder` is given to one job (in its
``TrainingRequest.observer``) and is that run's only writer. It imports no Keras and nothing of
``studio.training``: the job hands it plain data and the paths of model files it has saved itself.

Calls, in order: ``run_started`` (once, when fit is about to start), ``epoch_ended`` and ``heartbeat``
(during fit), ``model_folder`` (where the job may save its model files), ``run_ended`` (once; the run
reads as ended only when it returns, and the job publishes its own end after that).
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from typing import Any

from studio.runs.store import RunStore

logger = logging.getLogger(__name__)

JOB_STATUSES = {"finished": "completed", "stopped": "stopped", "failed": "failed"}  # job status -> run status
EPOCH_KEYS_SKIPPED = ("epoch", "wall", "time")


class RunRecorder:
    """Records one training job's run in a :class:`RunStore` (run id = job id)."""

    def __init__(self, store: RunStore | None = None) -> None:
        self.store = store if store is not None else RunStore()
        self.run_id: str | None = None
        self.ended = threading.Event()

    def run_started(self, run_id: str, spec: Any, settings: dict[str, Any], dataset: dict[str, Any], started_at: float) -> None:
        """Enter the run as running, with its spec, settings and data."""
        if self.run_id is not None:
            raise RuntimeError(f"This recorder already records run '{self.run_id}'; give each job its own")
        self.store.start_run(spec, settings, dataset, run_id=run_id, started_at=started_at)
        self.run_id = run_id

    def epoch_ended(self, epoch: int, logs: dict[str, Any]) -> None:
        """Store one finished epoch (1-based) and its metrics."""
        if self.run_id is not None:
            values = {key: value for key, value in logs.items() if key not in EPOCH_KEYS_SKIPPED}
            self.store.record_epoch(self.run_id, int(epoch), values)

    def heartbeat(self) -> None:
        """The run is still alive (long epochs)."""
        if self.run_id is not None:
            self.store.heartbeat(self.run_id)

    def model_folder(self) -> Path | None:
        """The run's folder, where the job saves its model files; None when there is no run (any more)."""
        if self.run_id is None or not self.store.has_run(self.run_id):
            return None
        return self.store.run_folder(self.run_id)

    def run_ended(
        self,
        status: str,
        final_metrics: dict[str, Any] | None = None,
        error: str | None = None,
        ended_at: float | None = None,
        model_files: dict[str, Path] | None = None,
    ) -> None:
        """Close the run with the job's status (finished/stopped/failed), test metrics, error and model files."""
        if self.run_id is None:
            return
        try:
            if not self.store.has_run(self.run_id):  # deleted by the user while it trained
                shutil.rmtree(self.store.run_folder(self.run_id), ignore_errors=True)
                return
            for label, path in (model_files or {}).items():
                self.store.add_model_file(self.run_id, path, label)
            self.store.finish_run(self.run_id, JOB_STATUSES.get(status, "failed"), final_metrics or {}, error, ended_at)
        finally:
            self.ended.set()

"""How a training job reports its run to whoever keeps it, without knowing who that is.

A job is *given* a :class:`RunObserver` (``TrainingRequest.observer``; the app and ``studio train``
pass a ``studio.runs.recorder.RunRecorder``) and is the only writer of its run: it calls
``run_started`` when fit is about to start, ``epoch_ended`` after every epoch and ``heartbeat``
during long epochs, saves the model files itself into ``model_folder()`` (temporary names, renamed
into place), then calls ``run_ended``; only after that does the job publish its own end. An
observer that fails is logged and ignored: the run history never stops a training run.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

logger = logging.getLogger(__name__)

MAX_PARAMS_WITH_FILES = 50_000_000  # bigger models (VGG16: 138M) are recorded without their model files


@runtime_checkable
class RunObserver(Protocol):
    """What a training job tells about its run (plain data and file paths only)."""

    def run_started(self, run_id: str, spec: Any, settings: dict[str, Any], dataset: dict[str, Any], started_at: float) -> None:
        """The run starts training."""

    def epoch_ended(self, epoch: int, logs: dict[str, Any]) -> None:
        """One epoch (1-based) ended with these metrics."""

    def heartbeat(self) -> None:
        """The run is still alive."""

    def model_folder(self) -> Path | None:
        """Where the job should save its model files (None: save none)."""

    def run_ended(
        self,
        status: str,
        final_metrics: dict[str, Any] | None = None,
        error: str | None = None,
        ended_at: float | None = None,
        model_files: dict[str, Path] | None = None,
    ) -> None:
        """The run ended (job status finished, stopped or failed); the record must be complete on return."""


def notify(observer: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``observer.method(...)``; a missing observer or a failure is logged and gives None."""
    if observer is None:
        return None
    try:
        return getattr(observer, method)(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the run history must never stop a training run
        logger.warning("run observer %s.%s failed: %s", type(observer).__name__, method, error)
        return None


def save_run_files(model: Any, folder: Path) -> dict[str, Path]:
    """Save ``model.keras`` then ``model.h5`` into ``folder`` from a snapshot of the model, each under a
    temporary name renamed into place (a reader never sees a half-written file); returns label -> path."""
    from studio.io.model_files import save_model_files, snapshot_model

    if model.count_params() > MAX_PARAMS_WITH_FILES:
        logger.info("model files not kept in the run: %d parameters", model.count_params())
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    stem = f".saving-{secrets.token_hex(4)}-model"
    placed: dict[str, Path] = {}
    try:
        for label, path in save_model_files(snapshot_model(model), folder, stem).items():
            target = folder / f"model{path.suffix}"
            os.replace(path, target)
            placed[label] = target
    finally:
        for leftover in folder.glob(stem + ".*"):  # a save that failed half-way
            leftover.unlink(missing_ok=True)
    return placed

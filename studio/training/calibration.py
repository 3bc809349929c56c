"""Which backend trains a model fastest here: a short measurement per backend, kept per model and machine.

Each installed backend's worker builds the model, compiles it as the job would (same batch size, optimizer and
steps per execution) and fits a few step groups twice on the first training samples: the second fit gives the
steady time per step, the first minus the second the one-off cost of tracing (for fast steps a third fit of
twice the length separates the fixed cost of a fit call from the cost per step). A run of S steps is predicted to
take ``trace + S * step`` on each backend, so a short run can prefer the backend that traces faster and a long
one the backend that steps faster. Results are kept in SQLite in the cache folder, keyed by the model (without
its canvas layout), the settings that change speed, the data, this machine's CPU and the library versions.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import sqlite3
import time
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from studio.paths import cache_dir

MIN_MEASURED_STEPS = 8  # steps per timed fit, at least (several step groups for fused models)
MEASURED_GROUPS = 3
FAST_STEP_S = 0.02  # below this per step, the fixed cost of a fit call is measured apart


@dataclass(frozen=True)
class Measurement:
    """One backend's speed on one model: the one-off tracing cost and the steady time per training step."""

    trace_s: float
    step_s: float
    cost_s: float  # what the measurement itself took
    run_steps: int  # training steps of the run it was measured for (epochs x steps per epoch)

    def predict(self, steps: int) -> float:
        """Predicted seconds of fitting for a run of ``steps`` training steps."""
        return self.trace_s + steps * self.step_s


def measure_here(payload: dict[str, Any]) -> dict[str, float]:
    """In a worker: build, compile and time the model on this process's backend (see the module text)."""
    import keras
    import numpy as np

    from studio.model.build import build_model
    from studio.model.names import keras_model_name
    from studio.training.data import fit_to_model
    from studio.training.data_cache import cached_dataset
    from studio.training.datasets import load_dataset
    from studio.training.job import validation_split, with_unique_output_names
    from studio.training.pacing import one_or_list, pacing_for
    from studio.training.settings import compile_arguments

    started = time.perf_counter()
    spec, settings = payload["spec"], payload["settings"]
    keras.utils.set_random_seed(settings.seed)
    model = build_model(spec)
    dataset = payload.get("dataset") or cached_dataset(
        payload.get("dataset_key") or "", settings.seed, payload.get("prefer_offline", False)
    )
    if dataset is None:
        dataset = load_dataset(payload.get("dataset_key") or "", seed=settings.seed)  # raises with the reason
    data = fit_to_model(dataset, model, list(spec.inputs), list(spec.outputs), settings.losses())
    model = with_unique_output_names(model, list(spec.outputs))
    model.name = keras_model_name(model.name)
    limit = payload.get("max_train_samples") or None  # as the job does: the first samples, before the split
    x_train, _ = validation_split([a[:limit] for a in data.x_train], settings.validation_split)
    y_train, _ = validation_split([a[:limit] for a in data.y_train], settings.validation_split)
    spe, _ = pacing_for(model, x_train, settings.batch_size, settings.epochs, settings.steps_per_execution)
    run_steps = max(1, math.ceil(len(x_train[0]) / settings.batch_size)) * settings.epochs
    model.compile(**compile_arguments(settings, steps_per_execution=spe))
    steps = max(MIN_MEASURED_STEPS, MEASURED_GROUPS * spe)
    steps = spe * math.ceil(steps / spe)

    def timed_fit(repeat: int) -> float:
        rows = np.arange(repeat * steps * settings.batch_size) % max(1, len(x_train[0]))  # small datasets repeat
        x, y = one_or_list([a[rows] for a in x_train]), one_or_list([a[rows] for a in y_train])
        begin = time.perf_counter()
        model.fit(x, y, batch_size=settings.batch_size, epochs=1, shuffle=False, verbose=0)
        return time.perf_counter() - begin

    first, second = timed_fit(1), timed_fit(1)
    step_s, overhead_s = second / steps, 0.0
    if step_s < FAST_STEP_S:  # a fit's own overhead matters next to steps this short: one more fit, twice as long
        step_s = max(1e-6, (timed_fit(2) - second) / steps)
        overhead_s = max(0.0, second - steps * step_s)
    return {
        "trace_s": max(0.0, first - second) + overhead_s,
        "step_s": step_s,
        "cost_s": time.perf_counter() - started,
        "run_steps": run_steps,
    }


@cache
def machine() -> str:
    """This machine as far as speed goes: CPU model, cores the process may use, and the library versions."""
    cpu = platform.processor()
    try:
        cpu = (
            next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
            or cpu
        )
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for package in ("keras", "tensorflow", "jax", "jaxlib"):
        try:
            versions.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return f"{cpu}|{cores} cores|{platform.machine()}|{' '.join(versions)}"


def calibration_key(spec: Any, settings: Any, data_key: str, max_train_samples: int | None = None) -> str:
    """The key of a measurement: the model without its layout, the settings that change speed (steps per
    execution follow from epochs and the split), the data."""
    content = {
        "model": spec.model_dict(),
        "batch_size": settings.batch_size,
        "optimizer": settings.optimizer,
        "losses": settings.losses(),
        "jit_compile": settings.jit_compile,
        "steps_per_execution": settings.steps_per_execution,
        "epochs": settings.epochs,
        "validation_split": settings.validation_split,
        "data": data_key,
        "max_train_samples": max_train_samples,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


class CalibrationStore:
    """Measurements kept in SQLite: (key, machine, backend) -> trace and step seconds."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir() / "calibration-v1.sqlite"

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS measurement (key TEXT, machine TEXT, backend TEXT, trace_s REAL, step_s REAL,"
            " cost_s REAL, run_steps INTEGER, measured_at REAL, PRIMARY KEY (key, machine, backend))"
        )
        return connection

    def get(self, key: str) -> dict[str, Measurement]:
        """The measurements of this key on this machine, by backend (empty when never measured)."""
        try:
            with self._connect() as connection:
                rows = connection.execute(
                    "SELECT backend, trace_s, step_s, cost_s, run_steps FROM measurement WHERE key = ? AND machine = ?",
                    (key, machine()),
                ).fetchall()
        except sqlite3.Error:
            return {}
        return {backend: Measurement(trace, step, cost, steps) for backend, trace, step, cost, steps in rows}

    def put(self, key: str, backend: str, measurement: Measurement) -> None:
        """Keep one backend's measurement (a cache that cannot be written is skipped: it only saves time)."""
        try:
            with self._connect() as connection:
                connection.execute(
                    "INSERT OR REPLACE INTO measurement VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        machine(),
                        backend,
                        measurement.trace_s,
                        measurement.step_s,
                        measurement.cost_s,
                        measurement.run_steps,
                        time.time(),
                    ),
                )
        except sqlite3.Error:
            pass

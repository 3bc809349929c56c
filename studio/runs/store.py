"""Run history: every training run kept in a SQLite index plus one folder of files per run.

The index (``runs.sqlite`` in the runs folder) holds one row per run and one row per finished epoch;
it is written in short ``BEGIN IMMEDIATE`` transactions in WAL mode with a busy timeout, so several
threads and processes can record runs at once without losing a write. Each run also gets a folder
``<runs folder>/<run id>/`` with ``spec.json``, ``settings.json``, ``history.csv`` and its model
files. A run whose process died (or stopped sending heartbeats) while ``running`` is marked
``failed`` the next time a store is opened. The runs folder is ``$STUDIO_RUNS_DIR`` or ``runs/``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import secrets
import shutil
import socket
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUNS_DIR_VARIABLE = "STUDIO_RUNS_DIR"
DEFAULT_RUNS_DIR = Path(__file__).resolve().parents[2] / "runs"
INDEX_NAME = "runs.sqlite"
STATUSES = ("running", "completed", "stopped", "failed")
STALE_AFTER_SECONDS = 15 * 60
BUSY_TIMEOUT_MS = 30_000
CRASH_MESSAGE = "the training process ended without finishing the run (crashed, killed or restarted)"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL,
    started_at REAL NOT NULL, ended_at REAL, heartbeat_at REAL NOT NULL,
    pid INTEGER NOT NULL, host TEXT NOT NULL,
    spec_json TEXT NOT NULL, settings_json TEXT NOT NULL, dataset_json TEXT NOT NULL,
    final_metrics_json TEXT NOT NULL DEFAULT '{}', model_files_json TEXT NOT NULL DEFAULT '{}', error TEXT
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    logs_json TEXT NOT NULL, recorded_at REAL NOT NULL, PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS deleted (id TEXT PRIMARY KEY, deleted_at REAL NOT NULL);
"""


class RunStoreError(Exception):
    """A run that does not exist, or a request the store cannot carry out."""


@dataclass
class RunSummary:
    """One line of the run list."""

    id: str
    name: str
    status: str
    started_at: float
    ended_at: float | None
    epochs: int
    dataset: dict[str, Any]
    final_metrics: dict[str, Any]
    error: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to end (None while running)."""
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass
class RunRecord(RunSummary):
    """Everything stored about one run."""

    spec: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    model_files: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None

    def metric_series(self) -> dict[str, list[float | None]]:
        """Per-epoch values by metric name (the history as columns)."""
        names = sorted({key for row in self.history for key in row if key != "epoch"})
        return {name: [row.get(name) for row in self.history] for name in names}


def runs_dir() -> Path:
    """The runs folder: ``$STUDIO_RUNS_DIR`` when set, else ``runs/`` at the repository root."""
    configured = os.environ.get(RUNS_DIR_VARIABLE, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_RUNS_DIR


def plain(value: Any) -> Any:
    """Numpy scalars/arrays, tuples and paths -> JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars, without importing numpy
        return plain(value.tolist())
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def _dumps(value: Any) -> str:
    return json.dumps(plain(value), ensure_ascii=False, sort_keys=True)


def _spec_dict(spec: Any) -> dict[str, Any]:
    return spec.to_dict() if hasattr(spec, "to_dict") else dict(spec)


def _process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a zombie counts as ended)."""
    if sys.platform == "win32":  # os.kill would terminate it there; rely on heartbeats instead
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def history_csv(history: list[dict[str, Any]]) -> str:
    """Per-epoch rows as CSV text, the epoch first and the metric columns sorted."""
    names = sorted({key for row in history for key in row if key != "epoch"})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *names])
    for row in history:
        writer.writerow([row.get("epoch", ""), *("" if row.get(name) is None else row.get(name) for name in names)])
    return buffer.getvalue()


class RunStore:
    """The run history under one folder; safe to use from several threads and processes at once."""

    def __init__(self, root: str | Path | None = None, stale_after_seconds: float = STALE_AFTER_SECONDS) -> None:
        self.root = Path(root) if root is not None else runs_dir()
        self.stale_after_seconds = stale_after_seconds
        self.root.mkdir(parents=True, exist_ok=True)
        self.index_path = self.root / INDEX_NAME
        with self._connection() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
        self.mark_crashed_runs()

    # --- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.index_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA synchronous=NORMAL")  # with WAL: safe when the app crashes; fast
            connection.execute("PRAGMA foreign_keys=ON")
            connection.row_factory = sqlite3.Row
            yield connection
        finally:
            connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that takes the write lock at once (no deadlock on lock upgrade)."""
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def run_folder(self, run_id: str) -> Path:
        """The folder that holds one run's files."""
        if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
            raise RunStoreError(f"Not a run id: {run_id!r}")
        return self.root / run_id

    def _require(self, connection: sqlite3.Connection, run_id: str) -> sqlite3.Row:
        row = connection.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunStoreError(f"There is no run '{run_id}' in {self.root}")
        return row

    # --- writing --------------------------------------------------------------------------------

    def start_run(
        self,
        spec: Any,
        settings: dict[str, Any],
        dataset: dict[str, Any] | str,
        name: str | None = None,
        run_id: str | None = None,
        started_at: float | None = None,
    ) -> str:
        """Record a new running run (spec, compile/fit settings, dataset choice); returns its id (``run_id`` if given)."""
        run_id = run_id or time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(4)
        spec_data = _spec_dict(spec)
        dataset_data = {"name": dataset} if isinstance(dataset, str) else dict(dataset)
        now = time.time()
        folder = self.run_folder(run_id)
        if self.has_run(run_id):
            raise RunStoreError(f"There is already a run '{run_id}' in {self.root}")
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / "spec.json", json.dumps(plain(spec_data), indent=2, ensure_ascii=False) + "\n")
        _write_atomic(folder / "settings.json", json.dumps(plain({"settings": settings, "dataset": dataset_data}), indent=2) + "\n")
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO runs (id, name, status, started_at, heartbeat_at, pid, host, spec_json, settings_json, dataset_json)"
                " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                (run_id, name or spec_data.get("name", "model"), started_at or now, now, os.getpid(), socket.gethostname(),
                 _dumps(spec_data), _dumps(settings), _dumps(dataset_data)),
            )  # fmt: skip
        return run_id

    def record_epoch(self, run_id: str, epoch: int, logs: dict[str, Any]) -> None:
        """Store one finished epoch's logs (numbered as the caller counts; again replaces it); also a heartbeat."""
        now = time.time()
        with self._transaction() as connection:
            self._require(connection, run_id)
            connection.execute(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, logs_json, recorded_at) VALUES (?, ?, ?, ?)",
                (run_id, int(epoch), _dumps(logs), now),
            )
            connection.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (now, run_id))

    def heartbeat(self, run_id: str) -> None:
        """Say that a running run is still alive (call every few seconds during long epochs)."""
        with self._transaction() as connection:
            connection.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'", (time.time(), run_id))

    def add_model_file(self, run_id: str, source: str | Path, label: str | None = None) -> Path:
        """Copy a saved model file into the run's folder and record it under `label` (default: its suffix)."""
        source = Path(source)
        target = self.run_folder(run_id) / source.name
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)
        key = label or source.suffix.lstrip(".")
        with self._transaction() as connection:
            files = json.loads(self._require(connection, run_id)["model_files_json"])
            files[key] = source.name
            connection.execute("UPDATE runs SET model_files_json = ? WHERE id = ?", (_dumps(files), run_id))
        return target

    def finish_run(
        self,
        run_id: str,
        status: str = "completed",
        final_metrics: dict[str, Any] | None = None,
        error: str | None = None,
        ended_at: float | None = None,
    ) -> None:
        """Close a run as completed, stopped or failed, with its final metrics (and why it failed)."""
        if status not in STATUSES or status == "running":
            raise RunStoreError(f"A run ends as completed, stopped or failed. Received: {status!r}")
        with self._transaction() as connection:
            self._require(connection, run_id)
            connection.execute(
                "UPDATE runs SET status = ?, ended_at = ?, final_metrics_json = ?, error = ? WHERE id = ?",
                (status, ended_at or time.time(), _dumps(final_metrics or {}), error, run_id),
            )
        record = self.get_run(run_id)
        _write_atomic(self.run_folder(run_id) / "history.csv", history_csv(record.history))

    def mark_crashed_runs(self) -> list[str]:
        """Mark ``running`` runs whose process is gone (this host) or whose heartbeat is stale as failed."""
        now = time.time()
        host = socket.gethostname()
        with self._transaction() as connection:
            rows = connection.execute("SELECT id, pid, host, heartbeat_at FROM runs WHERE status = 'running'").fetchall()
            crashed = [
                row["id"]
                for row in rows
                if (row["host"] == host and not _process_alive(row["pid"])) or now - row["heartbeat_at"] > self.stale_after_seconds
            ]
            for run_id in crashed:
                connection.execute(
                    "UPDATE runs SET status = 'failed', ended_at = heartbeat_at, error = ? WHERE id = ?", (CRASH_MESSAGE, run_id)
                )
        return crashed

    def delete_run(self, run_id: str) -> None:
        """Remove a run from the index, then its folder."""
        folder = self.run_folder(run_id)
        with self._transaction() as connection:
            self._require(connection, run_id)
            connection.execute("DELETE FROM epochs WHERE run_id = ?", (run_id,))
            connection.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            connection.execute("INSERT OR REPLACE INTO deleted (id, deleted_at) VALUES (?, ?)", (run_id, time.time()))
        shutil.rmtree(folder, ignore_errors=True)

    def was_deleted(self, run_id: str) -> bool:
        """Whether a run with this id was deleted (so that it is not recorded again)."""
        with self._connection() as connection:
            return connection.execute("SELECT 1 FROM deleted WHERE id = ?", (run_id,)).fetchone() is not None

    # --- reading --------------------------------------------------------------------------------

    def list_runs(self, status: str | None = None) -> list[RunSummary]:
        """Every stored run, newest first (optionally only those with one status)."""
        query = (
            "SELECT r.id, r.name, r.status, r.started_at, r.ended_at, r.dataset_json, r.final_metrics_json, r.error,"
            " (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id) AS epoch_count FROM runs r"
        )
        parameters: tuple = ()
        if status is not None:
            query += " WHERE r.status = ?"
            parameters = (status,)
        with self._connection() as connection:
            rows = connection.execute(query + " ORDER BY r.started_at DESC, r.id DESC", parameters).fetchall()
        return [
            RunSummary(
                id=row["id"], name=row["name"], status=row["status"], started_at=row["started_at"], ended_at=row["ended_at"],
                epochs=row["epoch_count"], dataset=json.loads(row["dataset_json"]),
                final_metrics=json.loads(row["final_metrics_json"]), error=row["error"],
            )
            for row in rows
        ]  # fmt: skip

    def has_run(self, run_id: str) -> bool:
        """Whether a run with this id is stored."""
        with self._connection() as connection:
            return connection.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def get_run(self, run_id: str) -> RunRecord:
        """Everything stored about one run (RunStoreError when it does not exist)."""
        with self._connection() as connection:
            row = self._require(connection, run_id)
            epochs = connection.execute("SELECT epoch, logs_json FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,)).fetchall()
        history = [{"epoch": epoch["epoch"], **json.loads(epoch["logs_json"])} for epoch in epochs]
        return RunRecord(
            id=row["id"], name=row["name"], status=row["status"], started_at=row["started_at"], ended_at=row["ended_at"],
            epochs=len(history), dataset=json.loads(row["dataset_json"]), final_metrics=json.loads(row["final_metrics_json"]),
            error=row["error"], spec=json.loads(row["spec_json"]), settings=json.loads(row["settings_json"]), history=history,
            model_files=json.loads(row["model_files_json"]), folder=self.run_folder(run_id),
        )  # fmt: skip

    def model_file(self, run_id: str, label: str) -> Path:
        """Path of one stored model file of a run ("keras", "h5")."""
        record = self.get_run(run_id)
        if label not in record.model_files:
            raise RunStoreError(f"Run '{run_id}' has no '{label}' model file; it has: {', '.join(record.model_files) or 'none'}")
        return self.run_folder(run_id) / record.model_files[label]


def keras_callback(store: RunStore, run_id: str, heartbeat_seconds: float = 10.0) -> Any:
    """A Keras callback that records every epoch's logs and sends heartbeats during long epochs."""
    import keras

    class RunRecorderCallback(keras.callbacks.Callback):
        """Writes epoch logs and heartbeats to the run store."""

        def __init__(self) -> None:
            super().__init__()
            self._last_beat = time.monotonic()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if time.monotonic() - self._last_beat >= heartbeat_seconds:
                self._last_beat = time.monotonic()
                store.heartbeat(run_id)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self._last_beat = time.monotonic()
            store.record_epoch(run_id, epoch + 1, dict(logs or {}))  # 1-based, as Keras prints "Epoch 1/5"

    return RunRecorderCallback()


# --- training jobs ------------------------------------------------------------------------------

JOB_STATUSES = {"finished": "completed", "stopped": "stopped", "failed": "failed"}
MAX_PARAMS_WITH_FILES = 50_000_000  # bigger models (VGG16: 138M) are recorded without their model files


def start_job_run(store: RunStore, job: Any) -> str:
    """Record a ``studio.training.job.TrainingJob`` as running (run id = job id); call when its fit starts."""
    settings = job.request.settings.to_dict() if hasattr(job.request.settings, "to_dict") else dict(job.request.settings)
    dataset = {"key": job.request.dataset_key, **(getattr(job, "dataset_summary", None) or {})}
    return store.start_run(job.request.spec, settings, dataset, run_id=job.id, started_at=job.started or job.created)


def record_job(store: RunStore, job: Any) -> str | None:
    """Close (or, if never started, store whole) the run of an ended job with its epochs, metrics and model files, once."""
    status = JOB_STATUSES.get(job.status)
    if status is None or store.was_deleted(job.id):
        return None  # still queued, running or stopping; or deleted by the user
    if store.has_run(job.id) and store.get_run(job.id).status != "running":
        return job.id
    if not store.has_run(job.id):
        start_job_run(store, job)
    for index, record in enumerate(job.log.epochs(), start=1):
        logs = {key: value for key, value in record.items() if key not in ("epoch", "wall", "time")}
        store.record_epoch(job.id, int(record.get("epoch", index)), logs)
    model = getattr(job, "model", None)
    if model is not None and model.count_params() <= MAX_PARAMS_WITH_FILES:
        from studio.io.model_files import save_model_files, snapshot_model

        try:
            for path in save_model_files(snapshot_model(model), store.run_folder(job.id), "model").values():
                store.add_model_file(job.id, path)
        except Exception as error:  # noqa: BLE001 - a model that cannot be saved still leaves its run recorded
            logging.getLogger(__name__).warning("Run %s: the model files could not be saved: %s", job.id, error)
    final = job.evaluation.to_dict() if getattr(job, "evaluation", None) else {}
    store.finish_run(job.id, status, final, job.error, ended_at=job.finished)
    return job.id


# --- comparing runs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One difference between two runs: where, what kind, and the value in run A and in run B."""

    where: str
    kind: str
    before: Any
    after: Any


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> ``{"a.b.c": leaf}`` (lists are leaves)."""
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def diff_values(a: dict[str, Any], b: dict[str, Any], kind: str = "setting", prefix: str = "") -> list[Difference]:
    """Key-by-key differences of two nested dicts (missing on one side shows as None)."""
    flat_a, flat_b = _flatten(plain(a), prefix), _flatten(plain(b), prefix)
    keys = sorted(set(flat_a) | set(flat_b))
    return [Difference(key, kind, flat_a.get(key), flat_b.get(key)) for key in keys if flat_a.get(key) != flat_b.get(key)]


def diff_specs(a: Any, b: Any, prefix: str = "") -> list[Difference]:
    """What differs between two specs, by layer id and call id (nested models compared layer by layer)."""
    a, b = plain(_spec_dict(a)), plain(_spec_dict(b))
    layers_a = {layer["id"]: layer for layer in a.get("layers", [])}
    layers_b = {layer["id"]: layer for layer in b.get("layers", [])}
    differences: list[Difference] = []
    if a.get("name") != b.get("name"):
        differences.append(Difference(prefix + "(model name)", "name", a.get("name"), b.get("name")))
    for layer_id in [*layers_a, *(key for key in layers_b if key not in layers_a)]:
        where = prefix + layer_id
        first, second = layers_a.get(layer_id), layers_b.get(layer_id)
        if second is None:
            differences.append(Difference(where, "layer removed", first["type"], None))
        elif first is None:
            differences.append(Difference(where, "layer added", None, second["type"]))
        elif first["type"] != second["type"]:
            differences.append(Difference(where, "layer type", first["type"], second["type"]))
        elif first["type"] == "Model":
            differences += diff_specs(first["config"].get("spec", {}), second["config"].get("spec", {}), where + "/")
        else:
            differences += diff_values(first.get("config", {}), second.get("config", {}), "layer config", where)
        if first and second and first.get("trainable", True) != second.get("trainable", True):
            differences.append(Difference(where + ".trainable", "trainable", first.get("trainable", True), second.get("trainable", True)))
    calls_a = {call["id"]: call for call in a.get("calls", [])}
    calls_b = {call["id"]: call for call in b.get("calls", [])}
    for call_id in [*calls_a, *(key for key in calls_b if key not in calls_a)]:
        first, second = calls_a.get(call_id), calls_b.get(call_id)
        if first is None or second is None:
            if call_id not in layers_a or call_id not in layers_b:  # a layer's own call: already reported
                kind = "call added" if first is None else "call removed"
                differences.append(Difference(prefix + call_id, kind, first and first["inputs"], second and second["inputs"]))
        elif first["inputs"] != second["inputs"] or first["layer"] != second["layer"]:
            differences.append(Difference(prefix + call_id, "wiring", first, second))
    for key in ("inputs", "outputs"):
        if a.get(key) != b.get(key):
            differences.append(Difference(prefix + f"(model {key})", key, a.get(key), b.get(key)))
    return differences


@dataclass
class RunComparison:
    """Two runs side by side: architecture, settings, dataset and final metrics."""

    first: RunRecord
    second: RunRecord
    architecture: list[Difference]
    settings: list[Difference]
    dataset: list[Difference]

    @property
    def same_architecture(self) -> bool:
        """Whether both runs trained the same graph."""
        return not self.architecture


def compare_runs(store: RunStore, first_id: str, second_id: str) -> RunComparison:
    """What differs between two stored runs."""
    first, second = store.get_run(first_id), store.get_run(second_id)
    return RunComparison(
        first=first,
        second=second,
        architecture=diff_specs(first.spec, second.spec),
        settings=diff_values(first.settings, second.settings, "setting"),
        dataset=diff_values(first.dataset, second.dataset, "dataset"),
    )

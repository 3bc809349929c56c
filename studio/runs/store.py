"""Run history: every training run kept in a SQLite index plus one folder of files per run.

The index (``runs.sqlite`` in the runs folder) holds one row per run and one row per finished epoch;
it is written in short ``BEGIN IMMEDIATE`` transactions in WAL mode with a busy timeout, so several
threads and processes can record runs at once without losing a write. Each run also gets a folder
``<runs folder>/<run id>/`` with ``spec.json``, ``settings.json``, ``history.csv`` and its model
files, each written under a temporary name and renamed into place. A run whose process died (or
stopped sending heartbeats) while ``running`` is marked ``failed`` the next time a store is opened.

The runs folder is ``$STUDIO_RUNS_DIR`` when set, else ``runs/`` in the user's data folder
(platformdirs' ``user_data_dir("keras-functional-studio")``), never the checkout. This module
imports no Keras: a training job records its run through :class:`studio.runs.recorder.RunRecorder`,
saving its model files itself and handing the store their paths.
"""

from __future__ import annotations

import json
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

import platformdirs

from studio.i18n import N_, _
from studio.runs.history import write_history_csv

RUNS_DIR_VARIABLE = "STUDIO_RUNS_DIR"
APP_NAME = "keras-functional-studio"
INDEX_NAME = "runs.sqlite"
STATUSES = ("running", "completed", "stopped", "failed")
STALE_AFTER_SECONDS = 15 * 60
BUSY_TIMEOUT_MS = 30_000
# Stored in English in the index; shown through run_error_text (translated when shown).
CRASH_MESSAGE = N_("the training process ended without finishing the run (crashed, killed or restarted)")
# A run's status as people read it (the stored value stays the English id).
STATUS_LABELS = {"running": N_("running"), "completed": N_("completed"), "stopped": N_("stopped"), "failed": N_("failed")}

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


def status_label(status: str) -> str:
    """A run's status in the current language ('completed' -> '已完成'); an unknown one as it is."""
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def run_error_text(error: str | None) -> str:
    """A stored run's error as shown: the store's own crash message translated, any other text as it was recorded."""
    if not error:
        return ""
    return _(CRASH_MESSAGE) if error == CRASH_MESSAGE else error


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


def default_runs_dir() -> Path:
    """``runs/`` in this user's data folder (e.g. ~/.local/share/keras-functional-studio/runs on Linux)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "runs"


def runs_dir(override: str | Path | None = None) -> Path:
    """The runs folder: ``override`` (a --runs-dir option) if given, else ``$STUDIO_RUNS_DIR``, else the user's data folder."""
    if override is not None and str(override).strip():
        return Path(override).expanduser()
    configured = os.environ.get(RUNS_DIR_VARIABLE, "").strip()
    return Path(configured).expanduser() if configured else default_runs_dir()


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


def spec_dict(spec: Any) -> dict[str, Any]:
    """A spec (GraphSpec or its dict) as a plain dict."""
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


def temporary_name(path: Path) -> Path:
    """A hidden name beside ``path`` to write to before renaming into place (never read as the real file)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def _write_atomic(path: Path, text: str) -> None:
    temporary = temporary_name(path)
    try:
        temporary.write_text(text, encoding="utf-8", newline="")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


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
            raise RunStoreError(_("Not a run id: {run_id!r}").format(run_id=run_id))
        return self.root / run_id

    def _require(self, connection: sqlite3.Connection, run_id: str) -> sqlite3.Row:
        row = connection.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunStoreError(_("There is no run '{run_id}' in {root}").format(run_id=run_id, root=self.root))
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
        spec_data = spec_dict(spec)
        dataset_data = {"name": dataset} if isinstance(dataset, str) else dict(dataset)
        now = time.time()
        folder = self.run_folder(run_id)
        if self.has_run(run_id):
            raise RunStoreError(_("There is already a run '{run_id}' in {root}").format(run_id=run_id, root=self.root))
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
        """Record a saved model file under `label` (default: its suffix); a file saved elsewhere is copied in
        under a temporary name and renamed into place (the store never saves a model itself)."""
        source = Path(source)
        target = self.run_folder(run_id) / source.name
        if source.resolve() != target.resolve():
            temporary = temporary_name(target)
            try:
                shutil.copyfile(source, temporary)
                os.replace(temporary, target)
            finally:
                temporary.unlink(missing_ok=True)
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
        """Close a run as completed, stopped or failed, with its final metrics (and why it failed); its
        history.csv is in place before the run reads as ended."""
        if status not in STATUSES or status == "running":
            raise RunStoreError(_("A run ends as completed, stopped or failed. Received: {status!r}").format(status=status))
        write_history_csv(self.run_folder(run_id) / "history.csv", self.get_run(run_id).history)
        with self._transaction() as connection:
            self._require(connection, run_id)
            connection.execute(
                "UPDATE runs SET status = ?, ended_at = ?, final_metrics_json = ?, error = ? WHERE id = ?",
                (status, ended_at or time.time(), _dumps(final_metrics or {}), error, run_id),
            )

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
            raise RunStoreError(
                _("Run '{run_id}' has no '{label}' model file; it has: {files}").format(
                    run_id=run_id, label=label, files=", ".join(record.model_files) or _("none")
                )
            )
        return self.run_folder(run_id) / record.model_files[label]

"""One history-CSV format: `studio train`'s history.csv, the run store's history.csv and the app's history
download are the same bytes for the same epochs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from components.export.downloads import history_csv as download_csv
from studio.cli.train import save_run
from studio.graph.presets import load_preset
from studio.runs.recorder import RunRecorder
from studio.runs.store import RunStore

# What a job's metric log holds per epoch (RecordingCallback): wall-clock keys, the duration, the metrics.
EPOCHS = [
    {"epoch": 1, "time": 0.9, "epoch_time_s": 0.9, "wall": 1.7e9, "loss": 2.25, "accuracy": 0.5, "val_loss": 2.0, "val_accuracy": 0.25},
    {"epoch": 2, "time": 1.5, "epoch_time_s": 0.6, "wall": 1.7e9, "loss": 1.75, "accuracy": 0.625, "val_loss": 1.5, "val_accuracy": 0.5},
]
EXPECTED = "epoch,accuracy,epoch_time_s,loss,val_accuracy,val_loss\n1,0.5,0.9,2.25,0.25,2.0\n2,0.625,0.6,1.75,0.5,1.5\n"


def _job() -> SimpleNamespace:
    """What `studio train`'s save_run reads of a finished job (no model: no model files)."""
    spec = load_preset("mnist_mlp")
    settings = SimpleNamespace(to_dict=lambda: {"epochs": 2})
    return SimpleNamespace(
        id="job-1", status="finished", error=None, message="finished", model=None, evaluation=None,
        created=100.0, started=101.0, finished=109.0, dataset_summary={"name": "MNIST"}, num_train_samples=800,
        steps_per_execution=1, best_epoch=None, data_notes=[], backend="tensorflow", backend_reason="", device="cpu",
        request=SimpleNamespace(spec=spec, settings=settings, dataset_key="mnist"), log=SimpleNamespace(epochs=lambda: EPOCHS),
    )  # fmt: skip


def test_the_cli_the_run_store_and_the_download_write_the_same_history(tmp_path: Path) -> None:
    save_run(_job(), tmp_path / "out")
    cli_bytes = (tmp_path / "out" / "history.csv").read_bytes()

    store = RunStore(tmp_path / "runs")
    recorder = RunRecorder(store)
    recorder.run_started("job-1", load_preset("mnist_mlp").to_dict(), {"epochs": 2}, {"key": "mnist"}, 101.0)
    for record in EPOCHS:
        recorder.epoch_ended(record["epoch"], record)
    recorder.run_ended("finished", {}, None, 109.0, {})
    store_bytes = (tmp_path / "runs" / "job-1" / "history.csv").read_bytes()

    assert cli_bytes.decode() == EXPECTED
    assert store_bytes == cli_bytes
    assert download_csv(EPOCHS).encode() == cli_bytes

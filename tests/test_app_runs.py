"""AppTest: the Runs page lists stored runs (and records this server's finished jobs), overlays curves of
chosen runs, shows what differs between two, reopens one in the builder and deletes one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components import state, training_jobs
from studio.graph.presets import load_preset
from studio.runs.store import RunStore, record_job
from studio.training.job import TrainingRequest
from studio.training.queue import JobRegistry
from studio.training.settings import default_settings

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "runs.py")
TIMEOUT = 300


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> JobRegistry:
    """A job registry of its own, so that other tests' finished jobs are not recorded here."""
    own = JobRegistry()
    monkeypatch.setattr(training_jobs, "job_registry", lambda: own)
    yield own
    own.shutdown()


@pytest.fixture
def runs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: JobRegistry) -> Path:
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path))
    return tmp_path


def _store_two_runs(folder: Path) -> tuple[str, str]:
    store = RunStore(folder)
    ids = []
    for key, units, batch in (("mnist_mlp", 32, 64), ("mnist_mlp", 48, 128)):
        spec = load_preset(key)
        spec.layer("dense").config["units"] = units
        run_id = store.start_run(spec, {"batch_size": batch, "epochs": 3}, {"key": "mnist", "name": "MNIST"})
        for epoch in range(1, 4):
            store.record_epoch(run_id, epoch, {"loss": 1.0 / epoch + units / 1000, "val_loss": 1.2 / epoch})
        store.finish_run(run_id, "completed", {"loss": 0.3, "metrics": {"accuracy": 0.9}})
        ids.append(run_id)
    return ids[0], ids[1]


def runs_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("multi_io")
    return at.run()


def test_no_runs_yet_says_where_they_come_from(runs_folder: Path) -> None:
    at = runs_page()
    assert not at.exception
    assert at.info[0].value.startswith("No runs yet")
    assert str(runs_folder) in at.caption[0].value


def test_overlay_and_differences_of_two_runs(runs_folder: Path) -> None:
    first, second = _store_two_runs(runs_folder)
    at = runs_page()
    assert not at.exception
    assert len(at.dataframe[0].value) == 2
    at.multiselect(key="runs.pick").set_value([first, second]).run()
    assert not at.exception
    traces = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert len(traces) == 2 and all(trace["x"] == [1, 2, 3] for trace in traces)
    tables = [frame.value for frame in at.dataframe]
    architecture = next(table for table in tables if "where" in table.columns and "dense.units" in set(table["where"]))
    assert architecture.set_index("where").loc["dense.units", "run A"] == "32"
    settings = next(table for table in tables if "where" in table.columns and "batch_size" in set(table["where"]))
    assert list(settings.set_index("where").loc["batch_size", ["run A", "run B"]]) == ["64", "128"]


def test_reopen_in_builder_and_delete(runs_folder: Path) -> None:
    first, second = _store_two_runs(runs_folder)
    at = runs_page()
    at.selectbox(key="runs.selected").set_value(first).run()
    at.button(key="runs.open").click().run()
    assert not at.exception
    assert at.session_state[state.SPEC].layer("dense").config["units"] == 32
    assert at.session_state[state.SPEC_SOURCE] == f"run {first}"
    assert at.button(key="runs.delete").disabled
    at.checkbox(key="runs.confirm_delete").check().run()
    at.button(key="runs.delete").click().run()
    assert not at.exception
    assert [run.id for run in RunStore(runs_folder).list_runs()] == [second]
    assert not (runs_folder / first).exists()


def test_finished_training_jobs_are_recorded_with_their_model_files(runs_folder: Path, registry: JobRegistry) -> None:
    spec = load_preset("mnist_mlp")
    settings = default_settings(spec)
    settings.epochs = 2
    job = registry.submit(TrainingRequest(spec, settings, dataset_key="mnist", prefer_offline=True, max_train_samples=256))
    assert job.done.wait(TIMEOUT), job.describe()
    at = runs_page()
    assert not at.exception
    record = RunStore(runs_folder).get_run(job.id)
    assert record.status == "completed" and record.epochs == 2
    assert [row["epoch"] for row in record.history] == [1, 2] and "loss" in record.history[0]
    assert record.settings["epochs"] == 2 and record.dataset["key"] == "mnist"
    assert sorted(record.model_files) == ["h5", "keras"]
    assert (runs_folder / job.id / "model.keras").stat().st_size > 1000
    assert "test_samples" in record.final_metrics
    assert record_job(RunStore(runs_folder), job) == job.id  # recording again changes nothing
    assert len(RunStore(runs_folder).list_runs()) == 1
    keys = {button.key for button in at.download_button}
    assert {"runs.history_csv", "runs.model.h5", "runs.model.keras"} <= keys
    at.checkbox(key="runs.confirm_delete").check().run()
    at.button(key="runs.delete").click().run()
    assert runs_page().info[0].value.startswith("No runs yet")  # a deleted run is not recorded again
    assert record_job(RunStore(runs_folder), job) is None

"""AppTest: the Runs page lists stored runs (it only reads: each training job records its own run),
overlays curves of chosen runs, shows what differs between two, reopens one in the builder and deletes
one; a job started on the Train page is recorded once, by its own thread, while the Runs page is read."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components import state
from components.training import jobs as training_jobs
from studio.graph.presets import load_preset
from studio.io import model_files
from studio.runs.recorder import RunRecorder
from studio.runs.store import RunStore
from studio.training import datasets
from studio.training.job import TrainingRequest
from studio.training.queue import JobRegistry
from studio.training.settings import default_settings

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "runs.py")
TRAIN_PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "training.py")
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
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")
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


def test_a_finished_job_is_listed_with_its_model_files_and_stays_deleted(runs_folder: Path, registry: JobRegistry) -> None:
    spec = load_preset("mnist_mlp")
    settings = default_settings(spec)
    settings.epochs = 2
    request = TrainingRequest(spec, settings, dataset_key="mnist", prefer_offline=True, max_train_samples=256)
    request.observer = RunRecorder(RunStore(runs_folder))
    job = registry.submit(request)
    assert job.done.wait(TIMEOUT), job.describe()
    record = RunStore(runs_folder).get_run(job.run_id)  # closed before the job said it was done
    assert record.status == "completed" and record.epochs == 2
    assert [row["epoch"] for row in record.history] == [1, 2] and "loss" in record.history[0]
    assert record.settings["epochs"] == 2 and record.dataset["key"] == "mnist"
    assert sorted(record.model_files) == ["h5", "keras"]
    assert (runs_folder / job.run_id / "model.keras").stat().st_size > 1000
    assert "test_samples" in record.final_metrics
    at = runs_page()
    assert not at.exception
    assert len(RunStore(runs_folder).list_runs()) == 1
    keys = {button.key for button in at.download_button}
    assert {"runs.history_csv", "runs.model.h5", "runs.model.keras"} <= keys
    at.checkbox(key="runs.confirm_delete").check().run()
    at.button(key="runs.delete").click().run()
    assert runs_page().info[0].value.startswith("No runs yet")  # the page never records a job's run again


def test_a_finished_job_without_a_recorder_is_not_recorded_by_the_page(runs_folder: Path, registry: JobRegistry) -> None:
    spec = load_preset("mnist_mlp")
    settings = default_settings(spec)
    settings.epochs = 1
    job = registry.submit(TrainingRequest(spec, settings, dataset_key="mnist", prefer_offline=True, max_train_samples=128))
    assert job.done.wait(TIMEOUT) and job.status == "finished", job.describe()
    at = runs_page()
    assert not at.exception and at.info[0].value.startswith("No runs yet"), "the Runs page only reads"
    assert RunStore(runs_folder).list_runs() == []


def test_the_job_is_the_only_writer_of_its_run_while_the_runs_page_reads(
    runs_folder: Path, registry: JobRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Train on the Train page and keep reading the Runs page while the job ends. Saving the model files is
    slowed down, so a second writer (the page, or a second record of the run) would be seen saving too."""
    saves: list[str] = []
    finishes: list[str] = []
    save, finish = model_files.save_model_files, RunStore.finish_run

    def slow_save(model, directory, *args, **kwargs):
        if Path(directory).resolve().is_relative_to(runs_folder.resolve()):
            saves.append(threading.current_thread().name)
            time.sleep(1.0)  # a slow disk: the Runs page is read meanwhile
        return save(model, directory, *args, **kwargs)

    def counted_finish(self, run_id, *args, **kwargs):
        finishes.append(threading.current_thread().name)
        return finish(self, run_id, *args, **kwargs)

    monkeypatch.setattr(model_files, "save_model_files", slow_save)
    monkeypatch.setattr(RunStore, "finish_run", counted_finish)
    train = AppTest.from_file(TRAIN_PAGE, default_timeout=TIMEOUT)
    train.session_state[state.SPEC] = load_preset("mnist_mlp")
    train.run()
    epochs = next(element.key for element in train.number_input if element.key and element.key.startswith("train.epochs"))
    train.number_input(key=epochs).set_value(1)
    train.button(key="train.start").click().run()
    assert not train.exception
    job = registry.get(train.session_state[training_jobs.JOB_ID])
    assert job is not None, "the Train page started a job"
    runs = runs_page()
    deadline = time.monotonic() + TIMEOUT
    while not job.done.is_set():  # the Runs page is read over and over while the job trains and ends
        assert time.monotonic() < deadline, "timed out"
        runs.run()
        assert not runs.exception, runs.exception
        time.sleep(0.1)
    record = RunStore(runs_folder).get_run(job.run_id)
    assert record.status == "completed", "the record is closed before the job says it is done"
    assert sorted(record.model_files) == ["h5", "keras"] and all(
        (runs_folder / job.run_id / name).is_file() for name in ("model.keras", "model.h5")
    )
    runs.run()  # one more read after the end
    assert not runs.exception
    assert len(saves) == 1 and saves[0].startswith("training-job-"), f"model files saved by {saves}"
    assert finishes == saves, f"the run was closed by {finishes}"
    assert not [path.name for path in (runs_folder / job.run_id).iterdir() if path.name.startswith(".")], "no temporary files left"

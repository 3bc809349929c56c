"""The Keras backend in the app (AppTest): the compile settings offer fastest and the installed backends and teach
what they are; the Train page warms the worker processes once per session, names the phases before training and,
during and after a run, which backend trained it, on which device and why; the Runs page shows each run's backend
(unknown for runs recorded before the choice existed) and trains a run again on the other backend with one click,
then compares the two runs (settings, metrics, fit times)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components import state
from components.runs.view import PICKED, TRAIN_AGAIN, backend_label, comparison_numbers
from components.training import jobs as training_jobs
from components.training.progress import backend_text, device_label, progress_text
from components.training.settings import backend_options
from studio.graph.presets import load_preset
from studio.runs.compare import RunBackend, rerun_data, rerun_settings, run_backend, run_speed
from studio.runs.recorder import RunRecorder
from studio.runs.store import RunRecord, RunStore
from studio.training import datasets
from studio.training.backends import FASTEST, JAX, TENSORFLOW, installed_backends
from studio.training.callbacks import LogSnapshot, Progress
from studio.training.job import FINISHED, RUNNING, TrainingJob, TrainingRequest
from studio.training.queue import JobRegistry
from studio.training.settings import default_settings, settings_from_dict
from tests.test_app_training import poll

pytest.importorskip("jax", reason="the JAX backend needs jax (requirements.txt)")

ROOT = Path(__file__).resolve().parents[1]
TRAIN_PAGE = str(ROOT / "pages" / "training.py")
RUNS_PAGE = str(ROOT / "pages" / "runs.py")
TIMEOUT = 240


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> JobRegistry:
    """A registry and a runs folder of this test's own (worker processes are shared, so they stay warm)."""
    own = JobRegistry(workers=1, processes=True)
    monkeypatch.setattr(training_jobs, "job_registry", lambda: own)
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")
    yield own
    own.shutdown()


def train_page() -> AppTest:
    at = AppTest.from_file(TRAIN_PAGE, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("mnist_mlp")
    return at.run()


def runs_page() -> AppTest:
    at = AppTest.from_file(RUNS_PAGE, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("mnist_mlp")
    return at.run()


def widget(elements, prefix: str):
    return next(element for element in elements if element.key and element.key.startswith(prefix))


def captions(at: AppTest) -> list[str]:
    return [caption.value for caption in at.caption]


# --- the compile settings ------------------------------------------------------------------------------------------


def test_the_backend_control_offers_fastest_and_the_installed_backends_and_teaches_them(registry):
    at = train_page()
    assert not at.exception
    control = widget(at.selectbox, "train.backend")
    assert control.options == ["fastest (measured)", "TensorFlow", "JAX"]
    assert control.value == TENSORFLOW, "new settings take KFS_TRAINING_BACKEND (tensorflow in tests)"
    assert "Keras 3 runs the same model on several backends" in control.help and "JAX" in control.help
    control.set_value(JAX).run()
    assert not at.exception and widget(at.selectbox, "train.backend").value == JAX


def test_a_backend_that_is_not_installed_is_not_offered_and_says_why(monkeypatch):
    from components.training import settings as settings_widgets

    monkeypatch.setattr(settings_widgets, "installed_backends", lambda: (TENSORFLOW,))
    monkeypatch.setattr("studio.training.backends.installed_backends", lambda: (TENSORFLOW,))
    options, refused = backend_options(JAX)
    assert options == [FASTEST, TENSORFLOW]
    assert len(refused) == 1 and "JAX is not installed on this machine" in refused[0]
    assert backend_options(TENSORFLOW)[0] == [FASTEST, TENSORFLOW]


# --- the Train page -------------------------------------------------------------------------------------------------


def test_a_run_on_jax_shows_its_backend_device_and_why(registry):
    at = train_page()
    widget(at.selectbox, "train.backend").set_value(JAX)
    widget(at.number_input, "train.epochs").set_value(1)
    at.run()
    at.button(key="train.start").click().run()
    assert not at.exception
    job = registry.get(at.session_state[training_jobs.JOB_ID])
    assert job is not None and job.request.settings.backend == JAX, "the control changed the settings the run was sent with"
    poll(at, lambda at: not job.active and any("Finished" in success.value for success in at.success), timeout=TIMEOUT)
    assert job.status == FINISHED and job.backend == JAX and job.device == "cpu", job.describe()
    shown = [text for text in captions(at) if text.startswith("Backend:")]
    assert shown == ["Backend: **JAX** on CPU · chosen in the compile settings"], captions(at)
    record = RunStore().get_run(job.run_id)
    assert record.settings["backend_used"] == JAX and record.settings["backend"] == JAX


def test_the_train_page_warms_the_workers_once_per_session(registry, monkeypatch):
    calls = []
    monkeypatch.setattr(JobRegistry, "warm", lambda self: calls.append(self))
    at = train_page()
    at.run()
    at.run()
    assert calls == [registry], "once per session, on the app's registry"
    train_page()
    assert len(calls) == 2, "a new session warms again (cheap: workers already running are kept)"


def test_the_phases_before_training_are_said_in_words_and_the_backend_only_once_known():
    job = TrainingJob(TrainingRequest(load_preset("mnist_mlp"), default_settings(load_preset("mnist_mlp")), dataset_key="mnist"))
    job.status = RUNNING
    measuring = LogSnapshot(progress=Progress(phase="measuring the backends"))
    starting = LogSnapshot(progress=Progress(phase="starting the worker"))
    assert progress_text(job, measuring).startswith("Measuring which backend trains this model faster")
    assert progress_text(job, starting).startswith("Starting the training process")
    assert backend_text(job, measuring) is None and backend_text(job, starting) is None, "not known yet"
    job.update(backend=JAX, backend_reason="fastest on this machine for this model", device="gpu:NVIDIA T4")
    building = LogSnapshot(progress=Progress(phase="building the model"))
    assert backend_text(job, building) == "Backend: **JAX** on GPU (NVIDIA T4) · fastest on this machine for this model"
    assert device_label("cpu") == "CPU" and device_label(None) == "—"


# --- the Runs page --------------------------------------------------------------------------------------------------


def _train_recorded_run(registry: JobRegistry, folder: Path, backend: str) -> TrainingJob:
    spec = load_preset("mnist_mlp")
    settings = default_settings(spec)
    settings.epochs, settings.backend = 1, backend
    request = TrainingRequest(spec, settings, dataset_key="mnist", prefer_offline=True, max_train_samples=512)
    request.observer = RunRecorder(RunStore(folder))
    job = registry.submit(request)
    assert job.done.wait(TIMEOUT) and job.status == FINISHED, job.describe()
    return job


def test_the_runs_page_trains_a_run_again_on_the_other_backend_and_compares_both(registry, tmp_path):
    source = _train_recorded_run(registry, tmp_path, TENSORFLOW)
    at = runs_page()
    assert not at.exception
    assert list(at.dataframe[0].value["backend"]) == ["TensorFlow · CPU"]
    assert "Backend: **TensorFlow** on CPU · chosen in the compile settings" in captions(at)
    button = at.button(key="runs.train_again")
    assert button.label == "Train again on JAX" and not button.disabled
    button.click().run()
    assert not at.exception
    pending = at.session_state[TRAIN_AGAIN]
    assert pending["source"] == source.run_id and pending["backend"] == JAX
    again = registry.job_of_run(pending["run_id"])
    assert again is not None and again.request.settings.backend == JAX, "the same run, sent with the other backend"
    assert again.request.spec.to_dict() == source.request.spec.to_dict() and again.request.settings.epochs == 1
    assert again.request.dataset_key == "mnist" and again.request.prefer_offline
    assert again.done.wait(TIMEOUT)  # the page is read once, after the end: the pair is still chosen for the comparison
    at.run()
    assert not at.exception
    assert any(success.value.startswith(f"Trained run {source.run_id} again on JAX") for success in at.success)
    assert again.status == FINISHED and again.backend == JAX, again.describe()
    assert at.session_state[PICKED] == [source.run_id, again.run_id], "both runs chosen for the comparison"
    assert sorted(at.dataframe[0].value["backend"]) == ["JAX · CPU", "TensorFlow · CPU"]
    compared = next(text for text in captions(at) if text.startswith("A: "))
    assert "TensorFlow · CPU" in compared.split("B: ")[0] and "JAX · CPU" in compared.split("B: ")[1]
    tables = [frame.value for frame in at.dataframe]
    settings = next(table for table in tables if "where" in table.columns and "backend" in set(table["where"]))
    assert list(settings.set_index("where").loc["backend", ["run A", "run B"]]) == ['"tensorflow"', '"jax"']
    numbers = next(table for table in tables if list(table.columns) == ["A", "B"])
    assert {"test loss", "test accuracy", "fit seconds", "first epoch seconds (with compiling)"} <= set(numbers.index)
    assert numbers.loc["fit seconds"].notna().all()


def test_a_run_recorded_before_the_choice_shows_an_unknown_backend_and_no_comparison_button(registry, tmp_path):
    store = RunStore(tmp_path)
    run_id = store.start_run(load_preset("mnist_mlp"), {"batch_size": 64, "epochs": 1}, {"key": "mnist", "name": "MNIST"})
    store.record_epoch(run_id, 1, {"loss": 0.5, "epoch_time_s": 2.0})
    store.finish_run(run_id, "completed", {"loss": 0.4})
    at = runs_page()
    assert not at.exception
    assert list(at.dataframe[0].value["backend"]) == ["—"]
    assert any(text.startswith("Backend: not recorded for this run") for text in captions(at))
    assert not [button for button in at.button if button.key == "runs.train_again"]


# --- the pure pieces ------------------------------------------------------------------------------------------------


def test_train_again_keeps_the_settings_but_the_backend_and_leaves_out_what_the_job_recorded():
    recorded = {
        **default_settings(load_preset("mnist_mlp")).to_dict(),
        "backend": FASTEST,
        "backend_used": TENSORFLOW,
        "backend_reason": "fastest on this machine",
        "device": "cpu",
    }
    backend = run_backend(recorded)
    assert backend == RunBackend(TENSORFLOW, "cpu", "fastest on this machine", FASTEST) and backend.other == JAX
    again = rerun_settings(recorded, backend.other)
    assert settings_from_dict(again).backend == JAX and not {"backend_used", "backend_reason", "device"} & set(again)
    assert recorded["backend"] == FASTEST, "the record is not changed"
    assert run_backend({"backend": FASTEST}).other is None, "an old run: no backend to switch from"
    assert backend_label(run_backend({})) == "—" and backend_label(backend) == "TensorFlow · CPU"


def test_train_again_loads_the_same_data_and_refuses_an_uploaded_file():
    assert rerun_data({"key": "mnist", "source": "offline sample"}).prefer_offline
    assert rerun_data({"key": "tickets", "source": "synthetic"}).key == "tickets"
    assert not rerun_data({"key": "file:mine.csv", "source": "user file"}).available
    assert not rerun_data({"name": "MNIST"}).available


def test_fit_times_come_from_the_history():
    record = RunRecord("r", "m", "completed", 0.0, 10.0, 3, {}, {}, history=[
        {"epoch": 1, "epoch_time_s": 3.0}, {"epoch": 2, "epoch_time_s": 1.0}, {"epoch": 3, "epoch_time_s": 2.0},
    ])  # fmt: skip
    assert run_speed(record) == {"fit_seconds": 6.0, "first_epoch_seconds": 3.0, "later_epoch_seconds": 1.5}
    assert run_speed(RunRecord("r", "m", "completed", 0.0, 1.0, 0, {}, {})) == {}
    numbers = comparison_numbers(record, RunRecord("s", "m", "completed", 0.0, 1.0, 0, {}, {"loss": 0.2}))
    assert numbers.loc["fit seconds", "A"] == 6.0 and numbers.loc["test loss", "B"] == 0.2


def test_the_installed_backends_are_the_ones_offered():
    assert backend_options(TENSORFLOW)[0] == [FASTEST, *installed_backends()]

"""Jobs belong to the browser session that started them. Two AppTest instances are two sessions: session B
cannot see session A's progress or press its Stop through ``/training?job=...`` (with A's job id, its public
run id, or a wrong key), a reload of A's tab (its address: job id and owner key) finds the job again, job ids
are unguessable, the Runs page shows other sessions' running runs without live controls or job ids (only the
run name the owner chose), and the teacher token (KFS_ADMIN_TOKEN) may stop any run."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest
from shown_text import markdown_strings, plain_strings, shown
from streamlit.testing.v1 import AppTest

from components import state
from components.training import jobs as training_jobs
from studio.graph.presets import load_preset
from studio.runs.store import RunStore
from studio.training import datasets
from studio.training.job import TrainingJob, TrainingRequest
from studio.training.queue import JobRegistry
from studio.training.settings import default_settings

ROOT = Path(__file__).resolve().parents[1]
TRAIN_PAGE = str(ROOT / "pages" / "training.py")
RUNS_PAGE = str(ROOT / "pages" / "runs.py")
TIMEOUT = 300
ADMIN_TOKEN_VARIABLE = "KFS_ADMIN_TOKEN"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> JobRegistry:
    """A registry of its own (and a runs folder of its own), so no other test's job shows up here."""
    own = JobRegistry()
    monkeypatch.setattr(training_jobs, "job_registry", lambda: own)
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")
    monkeypatch.delenv(ADMIN_TOKEN_VARIABLE, raising=False)
    yield own
    own.shutdown()


def train_page(query: dict[str, str] | None = None) -> AppTest:
    """A new browser session on the Train page (optionally opened at an address with query parameters)."""
    at = AppTest.from_file(TRAIN_PAGE, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("mnist_mlp")
    for name, value in (query or {}).items():
        at.query_params[name] = value
    return at.run()


def runs_page() -> AppTest:
    at = AppTest.from_file(RUNS_PAGE, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("mnist_mlp")
    return at.run()


def start_long_run(at: AppTest, run_name: str = "") -> TrainingJob:
    """Press Train in session `at` with many epochs (the run keeps going until the test stops it)."""
    epochs = next(element.key for element in at.number_input if element.key and element.key.startswith("train.epochs"))
    at.number_input(key=epochs).set_value(500)
    if run_name:
        at.text_input(key="train.run_name").input(run_name)
    at.button(key="train.start").click().run()
    assert not at.exception
    job = training_jobs.job_registry().get(at.session_state[training_jobs.JOB_ID])
    assert job is not None and job.active
    return job


def wait_until_recorded(job: TrainingJob) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not RunStore().has_run(job.run_id):
        assert time.monotonic() < deadline, f"the run was never recorded: {job.describe()}"
        assert job.active, job.describe()
        time.sleep(0.2)


def stop_and_wait(job: TrainingJob) -> None:
    job.stop("test over")
    assert job.done.wait(TIMEOUT), job.describe()


def everything_shown(at: AppTest) -> str:
    """Every string the page shows, as one text (to look for ids that must not be there)."""
    return "\n".join([source for _, source in markdown_strings(at)] + plain_strings(at))


def test_another_session_cannot_watch_or_stop_a_job_through_its_address(registry: JobRegistry) -> None:
    owner = train_page()
    job = start_long_run(owner)
    try:
        for query in ({"job": job.id}, {"job": getattr(job, "run_id", job.id)}, {"job": job.id, "key": secrets.token_urlsafe(24)}):
            other = train_page(query)
            assert not other.exception
            assert any(shown(warning.value).startswith("This address names a training run that this browser session did not start")
                       for warning in other.warning), query  # fmt: skip
            assert training_jobs.JOB_ID not in other.session_state, "the other session did not adopt the job"
            assert not other.get("progress") and not other.get("plotly_chart"), "no progress and no live charts"
            assert other.button(key="train.stop").disabled
            assert job.active and job.status != "stopping", "the owner's run goes on"
            assert job.id not in everything_shown(other)
        unknown = train_page({"job": "no-such-job"})
        same = [shown(w.value) for w in unknown.warning] == [shown(w.value) for w in other.warning]
        assert same, "the same words whether the job exists or not"
    finally:
        stop_and_wait(job)


def test_a_reload_of_the_owners_tab_finds_its_job_and_may_stop_it(registry: JobRegistry) -> None:
    owner = train_page()
    job = start_long_run(owner)
    try:
        address = {name: owner.query_params[name] for name in ("job", "key")}
        address = {name: value[0] if isinstance(value, list) else value for name, value in address.items()}
        assert address["job"] == job.id and job.ownership.allows(address["key"])
        reloaded = train_page(address)  # a reload is a new session with the same address
        assert not reloaded.exception and not reloaded.warning
        assert reloaded.session_state[training_jobs.JOB_ID] == job.id
        assert not reloaded.button(key="train.stop").disabled
        reloaded.button(key="train.stop").click().run()
        assert any("Stopping" in info.value or "Removed from the queue" in info.value for info in reloaded.info)
        assert job.done.wait(TIMEOUT) and job.status == "stopped"
    finally:
        stop_and_wait(job)


def test_job_ids_are_unguessable_and_never_the_public_run_id() -> None:
    from studio.training.ownership import Ownership, new_owner_key

    spec = load_preset("mnist_mlp")
    jobs = [TrainingJob(TrainingRequest(spec, default_settings(spec))) for _ in range(500)]
    ids = [job.id for job in jobs]
    assert len(set(ids)) == len(ids)
    assert all(len(job_id) >= 22 and set(job_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
               for job_id in ids), "at least 128 random bits, URL-safe"  # fmt: skip
    assert len({job_id[:4] for job_id in ids}) > 400, "no common prefix or counter"
    assert all(job.id != job.run_id and job.run_id not in job.id for job in jobs)
    key = new_owner_key()
    ownership = Ownership.for_key(key, "Ada")
    assert key not in repr(ownership) and ownership.allows(key) and not ownership.allows(new_owner_key())
    assert not Ownership().allows(key) and not Ownership().allows("") and not ownership.allows(None)


def test_the_runs_page_lists_other_sessions_running_runs_without_controls_or_job_ids(registry: JobRegistry) -> None:
    owner = train_page()
    job = start_long_run(owner, run_name="Ada's **first** try")
    try:
        wait_until_recorded(job)
        other = runs_page()
        assert not other.exception
        table = other.dataframe[0].value
        row = table[table["run id"] == job.run_id].iloc[0]
        assert row["status"] == "running" and row["run by"] == "Ada's **first** try", "the run name its owner chose, as text"
        other.selectbox(key="runs.selected").set_value(job.run_id).run()
        keys = {button.key for button in other.button}
        assert not keys & {"runs.stop", "runs.watch", "runs.delete"}, f"live controls for another session's run: {keys}"
        assert any("Only that session can watch or stop it" in info.value for info in other.info)
        assert job.id not in everything_shown(other), "the job id is never shown to another session"
        mine = runs_page()
        mine.session_state[training_jobs.JOB_ID] = job.id  # the owner's session, on its Runs page
        mine.session_state[training_jobs.OWNER_KEYS] = {}
        mine.run()
        mine.selectbox(key="runs.selected").set_value(job.run_id).run()
        assert mine.dataframe[0].value.set_index("run id").loc[job.run_id, "run by"] == "you · Ada's **first** try"
        assert {"runs.stop", "runs.watch"} <= {button.key for button in mine.button}
        mine.button(key="runs.stop").click().run()
        assert job.done.wait(TIMEOUT) and job.status == "stopped"
    finally:
        stop_and_wait(job)


def test_without_a_run_name_a_run_is_anonymous(registry: JobRegistry) -> None:
    owner = train_page()
    job = start_long_run(owner)
    try:
        wait_until_recorded(job)
        other = runs_page()
        assert other.dataframe[0].value.set_index("run id").loc[job.run_id, "run by"] == "anonymous"
    finally:
        stop_and_wait(job)


def test_the_teacher_token_may_stop_any_run_and_a_wrong_one_may_not(registry: JobRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_TOKEN_VARIABLE, "correct horse battery staple")
    owner = train_page()
    job = start_long_run(owner)
    try:
        wait_until_recorded(job)
        teacher = runs_page()
        teacher.selectbox(key="runs.selected").set_value(job.run_id).run()
        teacher.text_input(key=training_jobs.ADMIN_TOKEN_INPUT).input("wrong").run()
        assert any("not the teacher token" in error.value for error in teacher.error)
        assert "runs.stop" not in {button.key for button in teacher.button}
        teacher.text_input(key=training_jobs.ADMIN_TOKEN_INPUT).input("correct horse battery staple").run()
        assert not teacher.exception
        teacher.button(key="runs.stop").click().run()
        assert job.done.wait(TIMEOUT) and job.status == "stopped"
        assert job.active is False and "teacher" in job.message
    finally:
        stop_and_wait(job)


def test_without_a_configured_token_there_is_no_teacher_access(registry: JobRegistry) -> None:
    at = runs_page()
    assert not at.exception
    assert training_jobs.ADMIN_TOKEN_INPUT not in {widget.key for widget in at.text_input}

"""Run history: records survive a restart, concurrent writers lose nothing, crashed runs end as failed, the
runs folder is the user's, one history-CSV format, the recorder a job is given, and no Keras in studio.runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from studio.cli import main as cli
from studio.graph.presets import load_preset
from studio.runs.compare import compare_runs, diff_specs
from studio.runs.history import history_csv, write_history_csv
from studio.runs.recorder import RunRecorder
from studio.runs.store import CRASH_MESSAGE, RunStore, RunStoreError, runs_dir

REPO = Path(__file__).resolve().parent.parent
SETTINGS = {"optimizer": "RMSprop", "learning_rate": 0.001, "batch_size": 64, "epochs": 2}


def _record(store: RunStore, name: str = "run", epochs: int = 2, status: str = "completed") -> str:
    run_id = store.start_run(load_preset("mnist_mlp"), SETTINGS, {"key": "mnist", "name": "MNIST"}, name=name)
    for epoch in range(epochs):
        store.record_epoch(run_id, epoch, {"loss": 1.0 / (epoch + 1), "accuracy": 0.5 + epoch / 10})
    store.finish_run(run_id, status, {"loss": 0.4, "metrics": {"accuracy": 0.9}})
    return run_id


def test_a_run_is_stored_with_everything_and_survives_a_restart(tmp_path: Path) -> None:
    run_id = _record(RunStore(tmp_path), epochs=3)
    store = RunStore(tmp_path)  # a new store on the same folder: the app restarted
    record = store.get_run(run_id)
    assert record.status == "completed"
    assert record.spec == load_preset("mnist_mlp").to_dict()
    assert record.settings == SETTINGS and record.dataset["key"] == "mnist"
    assert [row["epoch"] for row in record.history] == [0, 1, 2]
    assert record.metric_series()["loss"] == pytest.approx([1.0, 0.5, 1 / 3])
    assert record.final_metrics == {"loss": 0.4, "metrics": {"accuracy": 0.9}}
    assert record.ended_at >= record.started_at and record.duration_seconds >= 0
    folder = tmp_path / run_id
    assert json.loads((folder / "spec.json").read_text())["name"] == "mnist model"
    assert (folder / "history.csv").read_text().splitlines()[0] == "epoch,accuracy,loss"
    assert [run.id for run in store.list_runs()] == [run_id]


def test_model_files_are_copied_into_the_run_folder(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    run_id = _record(store)
    source = tmp_path / "model.keras"
    source.write_bytes(b"weights")
    store.add_model_file(run_id, source)
    assert store.model_file(run_id, "keras").read_bytes() == b"weights"
    with pytest.raises(RunStoreError, match="has no 'h5' model file; it has: keras"):
        store.model_file(run_id, "h5")


def test_list_filters_and_orders_newest_first_and_delete_removes_files(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    first = _record(store, "first")
    time.sleep(0.01)
    second = _record(store, "second", status="stopped")
    assert [run.id for run in store.list_runs()] == [second, first]
    assert [run.id for run in store.list_runs("stopped")] == [second]
    store.delete_run(first)
    assert [run.id for run in store.list_runs()] == [second]
    assert not (tmp_path / first).exists()
    with pytest.raises(RunStoreError, match=f"There is no run '{first}'"):
        store.get_run(first)


def test_bad_status_and_bad_ids_are_refused(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run(load_preset("mnist_mlp"), {}, "mnist")
    with pytest.raises(RunStoreError, match="completed, stopped or failed. Received: 'done'"):
        store.finish_run(run_id, "done")
    with pytest.raises(RunStoreError, match="Not a run id"):
        store.run_folder("../elsewhere")


def test_runs_folder_is_the_users_unless_overridden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import platformdirs

    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "mine"))
    assert runs_dir() == tmp_path / "mine"
    assert RunStore().root == tmp_path / "mine"
    assert runs_dir(tmp_path / "option") == tmp_path / "option", "--runs-dir beats the environment"
    monkeypatch.delenv("STUDIO_RUNS_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # where Linux keeps a user's application data
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    default = runs_dir()
    assert default == Path(platformdirs.user_data_dir("keras-functional-studio", appauthor=False)) / "runs"
    assert not default.resolve().is_relative_to(REPO.resolve()), "runs live with the user, not in the checkout"
    if sys.platform.startswith("linux"):
        assert default == tmp_path / "data" / "keras-functional-studio" / "runs"


def test_threads_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    shared = store.start_run(load_preset("mnist_mlp"), {}, "mnist", name="shared")
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            own = RunStore(tmp_path)  # each thread its own store object, as each session would
            for index in range(5):
                _record(own, f"t{worker}-{index}", epochs=3)
                own.record_epoch(shared, worker * 100 + index, {"loss": float(worker)})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    runs = store.list_runs()
    assert len(runs) == 31
    assert all(run.epochs == 3 for run in runs if run.id != shared)
    assert store.get_run(shared).epochs == 30


# The subprocesses import the store as the app does; it needs only the standard library and platformdirs,
# so they skip TensorFlow (checked below: no Keras in studio.runs).
_LOAD_STORE = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from studio.runs.store import RunStore
"""

_WRITER = (
    _LOAD_STORE
    + """
import sys
store = RunStore(sys.argv[1])
shared, worker = sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()  # both processes start writing at the same moment
for index in range(20):
    run_id = store.start_run({"name": f"p{worker}-{index}", "layers": [], "calls": [], "inputs": [], "outputs": []}, {}, "mnist")
    for epoch in range(4):
        store.record_epoch(run_id, epoch, {"loss": 1.0})
        store.record_epoch(shared, worker * 1000 + index * 10 + epoch, {"loss": 2.0})
    store.finish_run(run_id, "completed", {"loss": 1.0})
"""
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    shared = store.start_run(load_preset("mnist_mlp"), {}, "mnist", name="shared")
    environment = dict(os.environ)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), shared, str(worker)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )  # fmt: skip
        for worker in range(2)
    ]
    for process in processes:
        assert process.stdout.readline().strip() == "ready"
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-2000:]
    runs = RunStore(tmp_path).list_runs()
    assert len(runs) == 41
    assert {run.status for run in runs if run.id != shared} == {"completed"}
    assert sum(run.epochs for run in runs if run.id != shared) == 160
    assert store.get_run(shared).epochs == 160


_CRASHER = (
    _LOAD_STORE
    + """
import os, sys
store = RunStore(sys.argv[1])
run_id = store.start_run({"name": "doomed", "layers": [], "calls": [], "inputs": [], "outputs": []}, {}, "mnist")
store.record_epoch(run_id, 0, {"loss": 1.0})
print(run_id, flush=True)
os._exit(1)  # dies mid-run: no finish_run
"""
)


def test_a_run_whose_process_died_is_marked_failed_on_next_open(tmp_path: Path) -> None:
    completed = subprocess.run([sys.executable, "-c", _CRASHER, str(tmp_path)], capture_output=True, text=True, timeout=300)
    run_id = completed.stdout.strip().splitlines()[-1]
    record = RunStore(tmp_path).get_run(run_id)
    assert record.status == "failed"
    assert record.error == CRASH_MESSAGE
    assert record.epochs == 1  # what was recorded before the crash is kept


def test_a_run_with_a_stale_heartbeat_is_marked_failed(tmp_path: Path) -> None:
    store = RunStore(tmp_path, stale_after_seconds=3600)
    run_id = store.start_run(load_preset("mnist_mlp"), {}, "mnist")
    assert RunStore(tmp_path, stale_after_seconds=3600).get_run(run_id).status == "running"  # alive: this process
    time.sleep(0.2)
    assert RunStore(tmp_path, stale_after_seconds=0.1).get_run(run_id).status == "failed"


def test_history_csv_has_one_row_per_epoch() -> None:
    text = history_csv([{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25, "val_loss": 0.3}])
    assert text.splitlines() == ["epoch,loss,val_loss", "1,0.5,", "2,0.25,0.3"]


def test_history_csv_leaves_out_wall_clock_columns_and_writes_in_place(tmp_path: Path) -> None:
    import numpy as np

    records = [
        {"epoch": 1, "loss": np.float32(0.5), "time": 1.5, "wall": 1.7e9, "epoch_time_s": 1.5, "val_loss": None},
        {"epoch": 2, "loss": 0.25, "time": 2.5, "wall": 1.7e9, "epoch_time_s": 1.0, "val_loss": 0.3},
    ]
    text = history_csv(records)
    assert text == "epoch,epoch_time_s,loss,val_loss\n1,1.5,0.5,\n2,1.0,0.25,0.3\n"
    path = write_history_csv(tmp_path / "run" / "history.csv", records)
    assert path.read_bytes() == text.encode() and [p.name for p in path.parent.iterdir()] == ["history.csv"]


def test_studio_runs_imports_no_keras() -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
        "import studio.runs.store, studio.runs.recorder, studio.runs.compare, studio.runs.history, studio.cli.runs\n"
        "heavy = sorted(name for name in sys.modules if name.split('.')[0] in ('keras', 'tensorflow', 'streamlit'))\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_spec_diff_by_layer_id() -> None:
    before = load_preset("mnist_mlp")
    after = before.copy()
    after.layer("dense").config["units"] = 64
    after.layer("dense_1").trainable = False
    after.layers.append(type(after.layers[0])(id="dropout", type="Dropout", config={"rate": 0.5}))
    after.calls.append(type(after.calls[0])(id="dropout", layer="dropout", inputs=["dense_1"]))
    after.call("dense_2").inputs = ["dropout"]
    found = {(difference.kind, difference.where): (difference.before, difference.after) for difference in diff_specs(before, after)}
    assert found[("layer config", "dense.units")] == (32, 64)
    assert found[("trainable", "dense_1.trainable")] == (True, False)
    assert found[("layer added", "dropout")] == (None, "Dropout")
    assert ("wiring", "dense_2") in found
    assert diff_specs(before, before.copy()) == []


def test_spec_diff_looks_inside_nested_models() -> None:
    before = load_preset("autoencoder")
    after = before.copy()
    after.layer("encoder").config["spec"]["layers"][1]["config"]["filters"] = 8
    assert [(d.kind, d.where, d.before, d.after) for d in diff_specs(before, after)] == [("layer config", "encoder/conv2d.filters", 16, 8)]


def test_compare_two_runs(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    first = _record(store)
    second = store.start_run(load_preset("multi_io"), {**SETTINGS, "batch_size": 32}, {"key": "tickets"})
    comparison = compare_runs(store, first, second)
    assert not comparison.same_architecture
    assert any(d.kind == "layer removed" and d.where == "dense" for d in comparison.architecture)
    assert [(d.where, d.before, d.after) for d in comparison.settings] == [("batch_size", 64, 32)]
    assert ("key", "mnist", "tickets") in [(d.where, d.before, d.after) for d in comparison.dataset]


def test_runs_command_lists_shows_and_compares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("studio.cli.runs",))
    store = RunStore(tmp_path)
    first, second = _record(store, "first"), _record(store, "second")
    assert cli.main(["runs", "--dir", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert listing.splitlines()[0].split()[:3] == ["RUN", "STATUS", "STARTED"] and first in listing and second in listing
    assert cli.main(["runs", "--runs-dir", str(tmp_path), "--show", first]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == first
    assert cli.main(["runs", "--runs-dir", str(tmp_path), "--compare", first, second]) == 0
    assert "same architecture" in capsys.readouterr().out
    assert cli.main(["runs", "--dir", str(tmp_path), "--show", "nope"]) == 2
    assert "There is no run 'nope'" in capsys.readouterr().err
    assert cli.main(["runs", "--runs-dir", str(tmp_path / "empty")]) == 0
    assert "No runs stored" in capsys.readouterr().out


ESCAPES = "red\x1b[31m\x1b]0;pwned\x07 over\rwrite bell\x07 \x9b2J \u202egnp.exe"


def _no_control_characters(text: str) -> None:
    controls = sorted({char for char in text if char not in "\n" and (ord(char) < 32 or 127 <= ord(char) < 160 or char in "\u202e\u2028")})
    assert not controls, f"control characters reached the terminal: {controls!r}"


def test_studio_runs_shows_escape_codes_in_names_as_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("studio.cli.runs",))
    store = RunStore(tmp_path)
    spec = load_preset("mnist_mlp")
    spec.name = ESCAPES
    first = store.start_run(spec, SETTINGS, {"key": "mnist", "name": f"data {ESCAPES}"})
    store.record_epoch(first, 1, {"loss": 0.5, f"acc{ESCAPES}": 0.9})
    store.finish_run(first, "failed", {"metrics": {f"m{ESCAPES}": 0.5}}, f"error in {ESCAPES}")
    second = _record(store, "second")
    for arguments in (["runs"], ["runs", "--json"], ["runs", "--show", first], ["runs", "--compare", first, second],
                      ["runs", "--show", f"no{ESCAPES}"], ["runs", "--delete", f"no{ESCAPES}"]):  # fmt: skip
        code = cli.main([*arguments, "--runs-dir", str(tmp_path)])
        out, err = capsys.readouterr()
        assert code in (0, 2), arguments
        _no_control_characters(out + err)
    assert cli.main(["runs", "--runs-dir", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert "red\\x1b[31m\\x1b]0;pwned\\x07 over\\rwrite bell\\x07 \\x9b2J \\u202egnp.exe" in listing, "shown, as escapes"


def test_a_recorder_records_one_job_run_once_with_its_files(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    recorder = RunRecorder(store)
    recorder.run_started("job-1", load_preset("mnist_mlp").to_dict(), {"epochs": 2}, {"key": "mnist", "name": "MNIST"}, 101.0)
    with pytest.raises(RuntimeError, match="give each job its own"):
        recorder.run_started("job-2", {}, {}, {}, 102.0)
    recorder.epoch_ended(1, {"epoch": 1, "loss": 0.5, "wall": 1.0, "time": 0.5, "epoch_time_s": 0.5})
    recorder.heartbeat()
    recorder.epoch_ended(2, {"epoch": 2, "loss": 0.4, "wall": 2.0, "time": 1.0, "epoch_time_s": 0.5})
    assert store.get_run("job-1").status == "running"
    folder = recorder.model_folder()
    assert folder == tmp_path / "job-1"
    (folder / "model.keras").write_bytes(b"weights")  # the job saves its files itself, then hands over the paths
    recorder.run_ended("stopped", {"loss": 0.4}, None, 109.0, {"keras": folder / "model.keras"})
    assert recorder.ended.is_set()
    record = store.get_run("job-1")
    assert (record.status, record.started_at, record.ended_at) == ("stopped", 101.0, 109.0)
    assert record.history == [{"epoch": 1, "loss": 0.5, "epoch_time_s": 0.5}, {"epoch": 2, "loss": 0.4, "epoch_time_s": 0.5}]
    assert record.model_files == {"keras": "model.keras"} and store.model_file("job-1", "keras").read_bytes() == b"weights"
    assert (folder / "history.csv").read_text() == history_csv(record.history)
    assert not [path.name for path in folder.iterdir() if path.name.startswith(".")], "no temporary file left behind"


def test_a_run_deleted_while_it_trains_is_not_recorded_again(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    recorder = RunRecorder(store)
    recorder.run_started("job-1", load_preset("mnist_mlp").to_dict(), {}, {"key": "mnist"}, 101.0)
    store.delete_run("job-1")  # the user deletes it on the Runs page while it trains
    assert recorder.model_folder() is None
    recorder.run_ended("finished", {}, None, 109.0, {})
    assert not store.has_run("job-1") and not (tmp_path / "job-1").exists()

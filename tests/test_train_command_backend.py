"""`python -m studio train --backend`: a run on JAX goes to a JAX worker process (the command's own process runs
TensorFlow), is recorded with its backend, and the summary says which backend trained it and why; TensorFlow trains
in the command's own process as before; a backend that is not a choice is refused with one message."""

from __future__ import annotations

import json

import pytest

from studio.cli import main as cli
from studio.cli.train import BACKEND_CHOICES
from studio.runs.store import RunStore
from studio.training import datasets
from studio.training.backends import CHOICES, JAX, TENSORFLOW

pytest.importorskip("jax", reason="the JAX backend needs jax (requirements.txt)")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")
    if "studio.cli.train" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "studio.cli.train"))


def train(tmp_path, backend: str, capsys) -> tuple[int, str, str]:
    arguments = ["train", "mnist_mlp", "--epochs", "1", "--max-samples", "256", "--offline", "--backend", backend]
    code = cli.main([*arguments, "--out", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs")])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_backend_jax_trains_in_a_jax_worker_and_says_so(tmp_path, capsys):
    code, out, err = train(tmp_path, JAX, capsys)
    assert code == 0, err
    assert "backend: JAX on cpu (chosen in the compile settings)" in out
    assert "epoch 1:" in err and "MNIST (offline sample)" in err
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert (run["backend"], run["device"], run["compile_settings"]["backend"], run["status"]) == (JAX, "cpu", JAX, "finished")
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["history.csv", "model.h5", "model.keras", "run.json"]
    store = RunStore(tmp_path / "runs")
    [summary] = store.list_runs()
    assert store.get_run(summary.id).settings["backend_used"] == JAX


def test_backend_tensorflow_trains_in_the_commands_own_process(tmp_path, capsys):
    code, out, err = train(tmp_path, TENSORFLOW, capsys)
    assert code == 0, err
    assert "backend: TensorFlow on cpu (chosen in the compile settings)" in out
    assert json.loads((tmp_path / "out" / "run.json").read_text())["backend"] == TENSORFLOW


def test_a_backend_that_is_not_a_choice_is_refused(tmp_path, capsys):
    assert cli.main(["train", "mnist_mlp", "--backend", "torch", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--backend" in err and "torch" in err and "Traceback" not in err
    assert BACKEND_CHOICES == CHOICES, "the command offers the same choices as the settings"

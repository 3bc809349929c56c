"""`python -m studio train` records its run in the run history (``--runs-dir`` or $STUDIO_RUNS_DIR) and
says where; its history.csv is the run store's, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.cli import main as cli
from studio.runs.store import RunStore
from studio.training import datasets


@pytest.fixture(autouse=True)
def train_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")
    if "studio.cli.train" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "studio.cli.train"))


def test_train_records_the_run_in_the_runs_dir_and_says_where(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out, runs = tmp_path / "out", tmp_path / "my runs"
    command = ["train", "mnist_mlp", "--epochs", "2", "--max-samples", "300", "--offline", "--out", str(out), "--runs-dir", str(runs)]
    assert cli.main(command) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    [run] = RunStore(runs).list_runs()
    assert run.status == "completed" and run.epochs == 2
    assert f"recorded run {run.id} in {runs / run.id}" in printed
    record = RunStore(runs).get_run(run.id)
    assert sorted(record.model_files) == ["h5", "keras"]
    assert (runs / run.id / "history.csv").read_bytes() == (out / "history.csv").read_bytes()


def test_train_uses_the_environment_runs_folder_without_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "env runs"))
    command = ["train", "mnist_mlp", "--epochs", "1", "--max-samples", "200", "--offline", "--out", str(tmp_path / "out")]
    assert cli.main(command) == 0, capsys.readouterr().err
    assert f"in {tmp_path / 'env runs'}" in capsys.readouterr().out
    assert len(RunStore(tmp_path / "env runs").list_runs()) == 1

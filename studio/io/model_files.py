"""Verified model files: save ``.keras`` and ``.h5``, reload each in a fresh Python process and compare
its predictions with the live model's; the tutorial's round trip; summary text; the project file.

Order matters (a Keras 3 trap): saving ``.h5`` resets the saving model's compiled optimizer, so both
files are written from a snapshot (a clone with the live weights, compile settings and optimizer
state), ``.keras`` first; the live model is never touched and may even keep training meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from studio.i18n import N_, _
from studio.io.project_file import PROJECT_FORMAT, Project, project_json, read_project  # noqa: F401 - the project file, re-exported
from studio.model.build import as_list
from studio.model.names import KERAS_NAME_RULE, keras_model_name

logger = logging.getLogger(__name__)

FORMATS = ("keras", "h5")
FORMAT_NOTES = {  # shown translated: _(FORMAT_NOTES[fmt])
    "keras": N_("the native Keras 3 format (a zip archive: config, weights, optimizer state)"),
    "h5": N_("HDF5, which Keras calls legacy; what older tutorials and many tools expect"),
}
ATOL = 1e-5
RTOL = 1e-4
SAMPLE_COUNT = 4
CHECK_TIMEOUT_SECONDS = 300

# Run by a fresh interpreter: only keras and numpy, no studio code, no PYTHONPATH.
_CHECK_SCRIPT = r"""
import json, os, sys, time, traceback
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import keras
request = json.loads(sys.argv[1])
samples = np.load(request["samples"])
inputs = [samples[f"x{i}"] for i in range(request["num_inputs"])]
reference = [samples[f"y{i}"] for i in range(request["num_outputs"])]
argument = inputs[0] if len(inputs) == 1 else inputs
results = []
for path in request["files"]:
    result = {"path": path, "loaded": False, "compiled": False, "warnings": [], "max_abs_difference": None, "matches": False}
    started = time.perf_counter()
    try:
        try:
            model = keras.models.load_model(path, safe_mode=True)
            result["compiled"] = bool(getattr(model, "compiled", False))
        except Exception as error:
            result["warnings"].append(f"load_model(compile=True) failed ({type(error).__name__}: {error}); loaded with compile=False")
            model = keras.models.load_model(path, safe_mode=True, compile=False)
        result["loaded"] = True
        outputs = model(argument, training=False)
        outputs = [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]
        if len(outputs) != len(reference):
            result["message"] = f"the reloaded model has {len(outputs)} outputs; the live model has {len(reference)}"
        else:
            pairs = list(zip(outputs, reference))
            diffs = [float(np.max(np.abs(a.astype("float64") - b.astype("float64")))) if a.size else 0.0 for a, b in pairs]
            result["max_abs_difference"] = max(diffs)
            tolerance = {"atol": request["atol"], "rtol": request["rtol"]}
            result["matches"] = all(a.shape == b.shape and np.allclose(a, b, **tolerance) for a, b in pairs)
        try:
            model.predict(argument, verbose=0)
        except Exception as error:
            reason = f"{type(error).__name__}: {str(error)[:300]}"
            result["warnings"].append(f"model.predict() fails on the reloaded model ({reason}); calling model(x) works")
    except Exception as error:
        result["message"] = f"{type(error).__name__}: {' '.join(str(error).split())[:800]}"
        result["traceback"] = traceback.format_exc()[-2000:]
    result["seconds"] = time.perf_counter() - started
    results.append(result)
with open(request["result"], "w", encoding="utf-8") as handle:
    json.dump(results, handle)
"""


@dataclass
class FileCheck:
    """How one saved file did when reloaded in a fresh process."""

    format: str
    path: Path
    size_bytes: int
    loaded: bool = False
    compiled: bool = False
    matches: bool = False
    max_abs_difference: float | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Reloaded in a fresh process and gave the live model's predictions."""
        return self.loaded and self.matches

    def describe(self) -> str:
        """One line for the UI."""
        if self.ok:
            return _(
                ".{format}: reloaded in a fresh Python process with keras.models.load_model(safe_mode=True); "
                "predictions equal the live model's (max difference {difference:.2g})"
            ).format(format=self.format, difference=self.max_abs_difference)
        if not self.loaded:
            return _(".{format}: does NOT reload in a fresh process: {message}").format(format=self.format, message=self.message)
        detail = self.message or _("max difference {difference:.3g} is above the tolerance (atol {atol}, rtol {rtol})").format(
            difference=self.max_abs_difference, atol=ATOL, rtol=RTOL
        )
        return _(".{format}: reloads, but its predictions differ from the live model's: {detail}").format(format=self.format, detail=detail)


@dataclass
class ExportReport:
    """The saved files and their fresh-process checks."""

    files: list[FileCheck]
    num_samples: int
    snapshot: bool
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every file reloaded with equal predictions."""
        return bool(self.files) and all(check.ok for check in self.files)

    def check(self, fmt: str) -> FileCheck:
        """The check of one format ("keras" or "h5")."""
        for check in self.files:
            if check.format == fmt:
                return check
        raise KeyError(
            _("No .{fmt} file in this export; it has {formats}").format(fmt=fmt, formats=", ".join(c.format for c in self.files))
        )


def sample_inputs(model: keras.Model, count: int = SAMPLE_COUNT, seed: int = 0) -> list[np.ndarray]:
    """A few synthetic inputs that fit the model: random values, word ids below each Embedding's size."""
    rng = np.random.default_rng(seed)
    vocabulary = _embedding_sizes(model)
    samples = []
    for tensor in model.inputs:
        shape = (count, *(8 if size is None else int(size) for size in tensor.shape[1:]))
        limit = vocabulary.get(id(tensor))
        if limit is not None or "int" in str(tensor.dtype):
            samples.append(rng.integers(0, limit or 2, size=shape).astype(str(tensor.dtype)))
        else:
            samples.append(rng.random(shape).astype(str(tensor.dtype)))
    return samples


def _embedding_sizes(model: keras.Model) -> dict[int, int]:
    """Model input tensor id -> the smallest ``input_dim`` of the Embedding layers that read it directly."""
    sizes: dict[int, int] = {}
    for layer in model.layers:
        if not isinstance(layer, keras.layers.Embedding):
            continue
        for node in layer._inbound_nodes:
            for tensor in node.input_tensors:
                sizes[id(tensor)] = min(sizes.get(id(tensor), layer.input_dim), layer.input_dim)
    return sizes


def predict(model: keras.Model, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The model's outputs on a few samples, as a list (a direct call: also works for names Keras cannot trace)."""
    outputs = model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)
    return [np.asarray(output) for output in as_list(outputs)]


def snapshot_model(model: keras.Model) -> keras.Model:
    """An independent copy: same architecture, weights, compile settings and (when built) optimizer state."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    if getattr(model, "compiled", False):
        copy.compile_from_config(model.get_compile_config())
        source = getattr(model, "optimizer", None)
        if source is not None and source.built:
            copy.optimizer.build(copy.trainable_variables)
            pairs = list(zip(copy.optimizer.variables, source.variables, strict=False))
            same = len(source.variables) == len(copy.optimizer.variables)
            if same and all(tuple(target.shape) == tuple(value.shape) for target, value in pairs):
                try:
                    for target, value in pairs:
                        target.assign(value)
                except ValueError as error:  # a run mid-step can hand over a variable being rebuilt
                    logger.warning("optimizer state not copied (the weights are): %s", error)
    return copy


def traceable(model: keras.Model) -> tuple[keras.Model, str | None]:
    """The model, or a renamed snapshot of it when TensorFlow cannot trace its name; with a note saying so."""
    name = keras_model_name(model.name)
    if name == model.name:
        return model, None
    copy = snapshot_model(model)
    copy.name = name
    return copy, _rename_note(model.name, name)


def _rename_note(old: str, new: str) -> str:
    return _("model '{old}' is named '{new}' in the files: {rule}").format(old=old, new=new, rule=_(KERAS_NAME_RULE))


def save_model_files(
    model: keras.Model, directory: str | Path, basename: str = "model", formats: tuple[str, ...] = FORMATS
) -> dict[str, Path]:
    """Write the model as ``<basename>.keras`` then ``<basename>.h5`` (never in the other order)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise ValueError(f"Unknown model file format(s) {unknown}; expected some of {', '.join(FORMATS)}")
    paths: dict[str, Path] = {}
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)  # Keras's "HDF5 is legacy" warning: the .h5 is asked for on purpose
    try:
        for fmt in sorted(formats, key=FORMATS.index):
            path = directory / f"{basename}.{fmt}"
            model.save(path)
            paths[fmt] = path
    finally:
        absl.setLevel(level)
    return paths


def verify_model_files(files: dict[str, Path], inputs: list[np.ndarray], reference: list[np.ndarray]) -> list[FileCheck]:
    """Reload each file with ``keras.models.load_model(safe_mode=True)`` in one fresh process and compare outputs."""
    checks = [FileCheck(fmt, Path(path), Path(path).stat().st_size) for fmt, path in files.items()]
    with tempfile.TemporaryDirectory(prefix="studio-check-") as work:
        samples_path, result_path = Path(work) / "samples.npz", Path(work) / "result.json"
        arrays = {f"x{i}": array for i, array in enumerate(inputs)} | {f"y{i}": array for i, array in enumerate(reference)}
        np.savez(samples_path, **arrays)
        request = {
            "files": [str(check.path.resolve()) for check in checks],
            "samples": str(samples_path),
            "result": str(result_path),
            "num_inputs": len(inputs),
            "num_outputs": len(reference),
            "atol": ATOL,
            "rtol": RTOL,
        }
        environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            completed = subprocess.run(
                [sys.executable, "-c", _CHECK_SCRIPT, json.dumps(request)],
                cwd=work, env=environment, capture_output=True, text=True, timeout=CHECK_TIMEOUT_SECONDS, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            for check in checks:
                check.message = _("the fresh process did not finish within {seconds} s").format(seconds=CHECK_TIMEOUT_SECONDS)
            return checks
        if not result_path.exists():
            tail = " ".join((completed.stderr or "").strip().splitlines()[-3:])[-600:]
            for check in checks:
                check.message = _("the fresh Python process failed (exit code {code}): {tail}").format(code=completed.returncode, tail=tail)
            return checks
        results = json.loads(result_path.read_text(encoding="utf-8"))
    for check, result in zip(checks, results, strict=True):
        check.loaded, check.compiled, check.matches = result["loaded"], result["compiled"], result["matches"]
        check.max_abs_difference = result["max_abs_difference"]
        check.message = result.get("message", "")
        check.warnings = list(result["warnings"])
        check.seconds = float(result["seconds"])
    return checks


def export_model_files(
    model: keras.Model,
    directory: str | Path,
    basename: str = "model",
    inputs: list[np.ndarray] | None = None,
    formats: tuple[str, ...] = FORMATS,
    live: bool = True,
) -> ExportReport:
    """Save and verify: the returned report says, per file, whether a fresh process reloads it with equal predictions.

    ``live=False`` means the model may be training right now: its state is copied first and the files
    are compared with that copy (the model as it stood).
    """
    started = time.perf_counter()
    inputs = inputs if inputs is not None else sample_inputs(model)
    snapshot = snapshot_model(model)
    notes = []
    name = keras_model_name(model.name)
    if name != model.name:
        snapshot.name = name
        notes.append(_rename_note(model.name, name))
    reference = predict(model if live else snapshot, inputs)
    if live:
        difference = max(float(np.max(np.abs(a - b))) if a.size else 0.0 for a, b in zip(reference, predict(snapshot, inputs), strict=True))
        if difference > ATOL:
            notes.append(
                _("the snapshot differs from the live model by {difference:.3g}; the files are compared with the live model").format(
                    difference=difference
                )
            )
    else:
        notes.append(_("saved mid-run: the files hold the model as it stood when the export started"))
    files = save_model_files(snapshot, directory, basename, formats)
    checks = verify_model_files(files, inputs, reference)
    return ExportReport(checks, len(inputs[0]), snapshot=not live, seconds=time.perf_counter() - started, notes=notes)


# --- the tutorial's round trip (section 1.3) ----------------------------------------------------


@dataclass
class RoundTrip:
    """Test metrics of the trained model and of the same model saved, discarded and loaded back."""

    path: Path
    before: dict[str, float]
    after: dict[str, float]
    notes: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        """Every metric is equal (to float32 precision)."""
        return self.before.keys() == self.after.keys() and all(
            np.isclose(self.before[name], self.after[name], rtol=1e-5, atol=1e-6) for name in self.before
        )


def _evaluate(model: keras.Model, x: list[np.ndarray], y: list[np.ndarray]) -> dict[str, float]:
    results = model.evaluate(x[0] if len(x) == 1 else x, y[0] if len(y) == 1 else y, verbose=0, return_dict=True, batch_size=256)
    return {name: float(value) for name, value in results.items()}


def round_trip(model: keras.Model, x_test: list[np.ndarray], y_test: list[np.ndarray], fmt: str = "keras") -> RoundTrip:
    """Save, discard, load back, evaluate: the tutorial's section 1.3 with the test metrics of both models."""
    if not getattr(model, "compiled", False):
        raise ValueError(_("The round trip evaluates the model, so it must be compiled (train it first)"))
    evaluated, note = traceable(model)
    before = _evaluate(evaluated, x_test, y_test)
    directory = Path(tempfile.mkdtemp(prefix="studio-roundtrip-"))
    copy = snapshot_model(model)
    copy.name = evaluated.name
    path = save_model_files(copy, directory, "model", (fmt,))[fmt]
    del copy
    loaded = keras.models.load_model(path, safe_mode=True)
    after = _evaluate(loaded, x_test, y_test)
    del loaded
    return RoundTrip(path, before, after, [note] if note else [])


# --- text downloads ------------------------------------------------------------------------------


def summary_text(model: keras.Model) -> str:
    """Keras's ``model.summary()`` as plain text."""
    lines: list[str] = []
    model.summary(print_fn=lambda text, **_kwargs: lines.append(str(text)))
    text = "\n".join(lines)
    return text if text.endswith("\n") else text + "\n"

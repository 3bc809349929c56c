"""Uploading a model file (.keras / .h5): the limits (size, unpacked size, config, layers, parameters: see
:mod:`studio.model.loading`), safe loading (``safe_mode=True`` always) and one clear message per way it can
fail (Lambda layer, custom class, truncated, corrupt, not a model at all), each naming the uploaded file."""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.gate import LimitExceeded, check_bytes
from studio.graph.spec import SpecError
from studio.i18n import _
from studio.limits import limits
from studio.model.loading import saved_model_config

SUFFIXES = ("keras", "h5", "hdf5")
_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def max_model_mb() -> int:
    """The upload limit for model files in MB (``limits().max_model_mb``, set by KFS_MAX_MODEL_MB)."""
    return limits().max_model_mb


@dataclass
class UploadedModel:
    """A model loaded from an upload, or why it could not be."""

    name: str
    size_bytes: int
    model: Any = None
    error: str | None = None
    kind: str = "ok"  # ok, too_large, wrong_type, empty, text, truncated, corrupt, lambda, custom_class, keras_error
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether a model was loaded."""
        return self.model is not None


def _objects(config: Any) -> list[dict]:
    """Every serialised object (a dict with ``class_name`` and ``config``) anywhere in a model config, in order (no recursion)."""
    found: list[dict] = []
    pending = [config]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if isinstance(value.get("class_name"), str) and isinstance(value.get("config"), dict):
                found.append(value)
            pending += reversed(list(value.values()))
        elif isinstance(value, list):
            pending += reversed(value)
    return found


def custom_classes(config: Any) -> list[tuple[str, str]]:
    """(class, layer name) of the objects in a config that are not Keras's own (registered by user code)."""
    custom: list[tuple[str, str]] = []
    for item in _objects(config):
        registered, module = str(item.get("registered_name") or ""), str(item.get("module") or "")
        name = registered if ">" in registered else item["class_name"]
        if ">" in name or (module and module.split(".")[0] != "keras"):
            entry = (name, str(item["config"].get("name", "?")))
            if entry not in custom:
                custom.append(entry)
    return custom


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _explain(name: str, data: bytes, path: Path, error: SpecError) -> tuple[str, str]:
    """(kind, message) for a file Keras refused, more precise than the loader's own words where we can tell."""
    suffix = Path(name).suffix.lower()
    if _looks_like_text(data):
        return "text", _("'{name}' is a text file, not a Keras model: a {suffix} model file is binary (saved by model.save).").format(
            name=name, suffix=suffix
        )
    if suffix == ".keras" and not data.startswith(_ZIP_MAGIC):
        return "corrupt", _("'{name}' is not a .keras model: a .keras file is a zip archive, and this one does not start like one.").format(
            name=name
        )
    if suffix != ".keras" and not data.startswith(_HDF5_MAGIC):
        return "corrupt", _("'{name}' is not an HDF5 (.h5) model file: it does not start with the HDF5 signature.").format(name=name)
    text = "; ".join(problem.text() for problem in error.problems) or str(error)
    if "truncated" in text or (suffix == ".keras" and not zipfile.is_zipfile(path)):
        message = _("'{name}' is truncated or damaged (cut short in a download or copy?): {size} bytes, not a whole file.")
        return "truncated", message.format(name=name, size=f"{len(data):,}")
    config = saved_model_config(path)
    lambdas = [str(item["config"].get("name", "?")) for item in _objects(config) if item["class_name"] == "Lambda"]
    if lambdas or "Lambda" in text:
        names = ", ".join(f"'{layer}'" for layer in lambdas) or "?"
        message = _(
            "'{name}' contains a Lambda layer ({layers}): Python code stored in the file. Loading it would run that code, "
            "so the app refuses it (safe_mode=True). Rebuild the model with built-in layers instead of Lambda."
        )
        return "lambda", message.format(name=name, layers=names)
    custom = custom_classes(config)
    if custom:
        listed = ", ".join(_("'{cls}' (layer '{layer}')").format(cls=cls, layer=layer) for cls, layer in custom)
        message = _(
            "'{name}' uses a custom class: {classes}. Its Python code is not in the file and the app does not run code from "
            "uploads; only models made of Keras's own layers can be loaded here."
        )
        return "custom_class", message.format(name=name, classes=listed)
    return "keras_error", text


def load_uploaded_model(name: str, data: bytes) -> UploadedModel:
    """Check and load an uploaded model file with ``safe_mode=True``; never raises for a bad file."""
    from studio.model.loading import load_model_file

    result = UploadedModel(name=name, size_bytes=len(data))
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in SUFFIXES:
        message = _("'{name}' is not a model file: expected a .keras or .h5 file. Received: '.{suffix}'")
        result.kind, result.error = "wrong_type", message.format(name=name, suffix=suffix)
    elif not data:
        result.kind, result.error = "empty", _("'{name}' is empty (0 bytes).").format(name=name)
    if result.error:
        return result
    try:
        check_bytes(name, len(data), "max_model_mb")
        with tempfile.TemporaryDirectory(prefix="studio-upload-") as folder:
            path = Path(folder) / f"upload.{suffix}"
            path.write_bytes(data)
            try:
                result.model = load_model_file(path, source=name)
            except SpecError as error:
                result.kind, result.error = _explain(name, data, path, error)
                return result
    except LimitExceeded as error:
        result.kind, result.error = "too_large", str(error)
        return result
    result.notes.append(_("loaded with keras.models.load_model(safe_mode=True, compile=False): no code from the file was run"))
    return result


def unsupported_layers(model: Any) -> list[str]:
    """'name (Type)' of every layer, nested ones included, whose type the catalogue does not offer."""
    from studio.catalog import types as catalog

    missing = []
    for layer in model.layers:
        if hasattr(layer, "layers") and type(layer).__name__ in ("Functional", "Sequential"):
            missing += unsupported_layers(layer)
            continue
        try:
            catalog.get_layer_type(type(layer).__name__)
        except KeyError:
            missing.append(f"{layer.name} ({type(layer).__name__})")
    return missing

"""Opening a saved model file (``.keras`` / ``.h5``): the gate's limits first, then Keras's safe loader.

Before Keras reads anything, the file is measured without unpacking it: its size on disk, the unpacked size
its zip directory (or its HDF5 datasets) declares, the size and JSON depth of its model config, the layers
and nesting of models in that config, and the parameters the model would have, counted by building it inside
Keras's ``StatelessScope(initialize_variables=False)`` (shapes only, no weight is allocated). Only then does
``keras.models.load_model(safe_mode=True, compile=False)`` run. Messages name the user's file (``source``),
never a temporary path.
"""

from __future__ import annotations

import copy
import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import h5py
import keras

from studio.gate import check_archive, check_bytes, check_count, described, load_json
from studio.graph.spec import SpecError
from studio.i18n import N_, _, ngettext
from studio.limits import Limits, limits

MODEL_FILE_SUFFIXES = (".keras", ".h5", ".hdf5")
EXPECTED = N_("expected a .keras or .h5 file saved by Keras (model.save)")  # marked for the catalogue: `_(EXPECTED)`
_CONFIG_MEMBER = "config.json"
_WEIGHTS_MEMBER = "model.weights.h5"
_MODEL_CLASSES = ("Functional", "Sequential", "Model")


def saved_model_config(path: Path) -> object:
    """The model config stored in a ``.keras`` archive or an ``.h5`` file (None when it cannot be read)."""
    try:
        if path.suffix.lower() == ".keras":
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read(_CONFIG_MEMBER))
        with h5py.File(path, "r") as handle:
            text = handle.attrs.get("model_config")
            return json.loads(text.decode("utf-8") if isinstance(text, bytes) else text) if text else None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def _h5_declared_bytes(handle: h5py.File) -> int:
    """Bytes the datasets of an HDF5 file hold once read (compressed chunks can expand far beyond the file)."""
    total = 0

    def add(_name: str, item: object) -> None:
        nonlocal total
        if isinstance(item, h5py.Dataset):
            total += int(item.size) * int(item.dtype.itemsize)

    handle.visititems(add)
    return total


class _StoredMember(io.RawIOBase):
    """A stored (uncompressed) zip member read straight from the archive file, with cheap seeks both ways.

    HDF5 jumps back and forth while it walks a file; a ``ZipExtFile`` rereads the member from its start on
    every backward seek, which takes seconds for a 40 MB weights file.
    """

    def __init__(self, handle: BinaryIO, info: zipfile.ZipInfo) -> None:
        super().__init__()
        handle.seek(info.header_offset)
        header = handle.read(30)
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        self._handle, self._start = handle, info.header_offset + 30 + name_length + extra_length
        self._size, self._position = info.file_size, 0

    def readable(self) -> bool:
        """Always."""
        return True

    def seekable(self) -> bool:
        """Always."""
        return True

    def tell(self) -> int:
        """The position inside the member."""
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move inside the member (clamped to it)."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = min(max(base + offset, 0), self._size)
        return self._position

    def readinto(self, buffer: Any) -> int:
        """Read from the archive file at the member's position."""
        count = min(len(buffer), self._size - self._position)
        self._handle.seek(self._start + self._position)
        data = self._handle.read(count)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def _weights_declared_bytes(path: Path, info: zipfile.ZipInfo) -> int:
    """What the datasets of the weights file inside a .keras archive hold once read (0 when it is not measurable here)."""
    if info.compress_type != zipfile.ZIP_STORED:
        return 0  # Keras writes it stored; a compressed one is bounded by the archive's unpacked size
    try:
        with path.open("rb") as handle, h5py.File(_StoredMember(handle, info), "r") as weights:
            return _h5_declared_bytes(weights)
    except (OSError, ValueError, struct.error):
        return 0  # not HDF5: Keras's loader says so


def model_config_extent(config: object) -> tuple[int, int]:
    """(layers, how many levels of models nest inside the model) of a Keras model config, without recursion."""
    layers, deepest = 0, 0
    pending: list[tuple[object, int]] = [(config, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            inner = value.get("config")
            if value.get("class_name") in _MODEL_CLASSES and isinstance(inner, dict) and isinstance(inner.get("layers"), list):
                deepest = max(deepest, depth)
                layers += len(inner["layers"])
                pending += [(item, depth + 1) for item in inner["layers"]]
                continue
            pending += [(item, depth) for item in value.values()]
        elif isinstance(value, list):
            pending += [(item, depth) for item in value]
    return layers, deepest


def _count_params(config: dict, legacy: bool) -> int | None:
    """Parameters of the model a config describes, built with shapes only (no weight allocated); None if it does not build."""
    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope
    from keras.src.saving import serialization_lib

    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    try:
        with StatelessScope(initialize_variables=False), serialization_lib.SafeModeScope(True):
            if legacy:
                from keras.src.legacy.saving import saving_options, saving_utils

                with saving_options.keras_option_scope(use_legacy_config=True):
                    model = saving_utils.model_from_config(copy.deepcopy(config))
            else:
                with serialization_lib.ObjectSharingScope():
                    model = serialization_lib.deserialize_keras_object(copy.deepcopy(config), safe_mode=True)
            return int(model.count_params())
    except Exception:  # noqa: BLE001 - a config Keras cannot build is reported by the real load, with its own message
        return None
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)


def _config_inside(source: str) -> str:
    """How a limit message names the model config inside a file."""
    return described(_("the model config inside '{source}'").format(source=source))


def _read_keras_archive(path: Path, source: str, active: Limits) -> bytes | None:
    """The config.json of a .keras archive, after checking the archive's unpacked size and the config's size."""
    with zipfile.ZipFile(path) as archive:
        sizes = check_archive(archive, source, active)
        if _CONFIG_MEMBER not in sizes:
            return None
        check_bytes(_config_inside(source), sizes[_CONFIG_MEMBER], "max_upload_mb", active)
        if _WEIGHTS_MEMBER in sizes:
            declared = _weights_declared_bytes(path, archive.getinfo(_WEIGHTS_MEMBER))
            weights = described(_("the weights inside '{source}'").format(source=source))
            check_bytes(weights, declared, "max_unpacked_mb", active, verb="unpack to")
        return archive.read(_CONFIG_MEMBER)


def _read_h5(path: Path, source: str, active: Limits) -> bytes | str | None:
    """The model config of an .h5 file, after checking what its datasets hold once read and the config's size."""
    with h5py.File(path, "r") as handle:
        check_bytes(source, _h5_declared_bytes(handle), "max_unpacked_mb", active, verb="unpacks to")
        text = handle.attrs.get("model_config")
    if text is not None:
        check_bytes(_config_inside(source), len(text), "max_upload_mb", active)
    return text


def check_model_limits(path: Path, source: str, active: Limits | None = None) -> None:
    """Refuse (LimitExceeded) a model file past a limit, before Keras reads it; a file that cannot be measured is left to Keras."""
    active = active or limits()
    check_bytes(source, path.stat().st_size, "max_model_mb", active)
    keras_format = path.suffix.lower() == ".keras"
    try:
        text = _read_keras_archive(path, source, active) if keras_format else _read_h5(path, source, active)
    except (OSError, KeyError, zipfile.BadZipFile):
        return
    if text is None:
        return
    try:
        config = load_json(text, _config_inside(source), active)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    layers, depth = model_config_extent(config)
    check_count(source, depth, N_("nests models {count} levels deep"), "max_model_depth", active)
    check_count(source, layers, N_("has {count} layers"), "max_nodes", active)
    if isinstance(config, dict):
        params = _count_params(config, legacy=not keras_format)
        if params is not None:
            check_count(source, params, N_("would have {count} parameters"), "max_params", active)


def _layer_names_of_class(config: object, class_name: str) -> list[str]:
    """Names of the layers of one class anywhere in a serialised model config."""
    names: list[str] = []
    pending = [config]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if value.get("class_name") == class_name and isinstance(value.get("config"), dict):
                names.append(str(value["config"].get("name", "?")))
            pending += reversed(list(value.values()))
        elif isinstance(value, list):
            pending += reversed(value)
    return names


def _check_model_file(path: Path, source: str) -> None:
    """Refuse what is plainly not a Keras model file before Keras tries (its messages would mislead)."""
    expected = _(EXPECTED)
    if path.suffix.lower() not in MODEL_FILE_SUFFIXES:
        message = _("Cannot import '{source}': unsupported file type '{suffix}'; {expected}")
        raise SpecError(message.format(source=source, suffix=path.suffix, expected=expected))
    if not path.is_file():
        raise SpecError(_("Cannot import '{source}': the file does not exist; {expected}").format(source=source, expected=expected))
    if path.suffix.lower() == ".keras" and not zipfile.is_zipfile(path):
        message = _("Cannot import '{source}': it is not a .keras archive (not a zip file, or truncated); {expected}")
        raise SpecError(message.format(source=source, expected=expected))
    if path.suffix.lower() != ".keras" and not h5py.is_hdf5(path):
        message = _("Cannot import '{source}': it is not an HDF5 file (or it is truncated); {expected}")
        raise SpecError(message.format(source=source, expected=expected))


def _reason(error: BaseException, path: Path, source: str) -> str:
    """Keras's message in one line, with the file's real path replaced by the user's name for it."""
    reason = " ".join(str(error).split()) or type(error).__name__
    places = {str(path.resolve()): source, str(path): source, str(path.parent.resolve()): ".", str(path.parent): "."}
    for where in sorted(places, key=len, reverse=True):
        if where not in (".", ""):
            reason = reason.replace(where, places[where])
    return reason if len(reason) <= 600 else reason[:600] + " ..."


def load_model_file(path: str | Path, source: str | None = None) -> Any:
    """Load a ``.keras`` or ``.h5`` model file within the limits, safely (no compile, no Python lambdas).

    `source` is the name the user knows the file by (an upload's name); SpecError or LimitExceeded on any failure.
    """
    path = Path(path)
    source = source or path.name
    _check_model_file(path, source)
    check_model_limits(path, source)
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        lambdas = _layer_names_of_class(saved_model_config(path), "Lambda")
        if lambdas:
            names = ", ".join(f"'{name}'" for name in lambdas)
            message = ngettext(
                "Cannot import '{source}': layer {names} is a Lambda (Python code), which safe loading refuses "
                "and the studio cannot import (not in the catalogue); {expected}, using catalogue layers only",
                "Cannot import '{source}': layers {names} are Lambdas (Python code), which safe loading refuses "
                "and the studio cannot import (not in the catalogue); {expected}, using catalogue layers only",
                len(lambdas),
            )
            raise SpecError(message.format(source=source, names=names, expected=_(EXPECTED))) from error
        reason = _reason(error, path, source)
        message = _("Cannot import '{source}': Keras could not load it ({kind}: {keras_error}); {expected}")
        raise SpecError(message.format(source=source, kind=type(error).__name__, keras_error=reason, expected=_(EXPECTED))) from error
    if not isinstance(model, keras.Model):
        message = _("Cannot import '{source}': it holds a {kind}, not a model; {expected}")
        raise SpecError(message.format(source=source, kind=type(model).__name__, expected=_(EXPECTED)))
    return model

"""Fitting data onto a model: map arrays to its named inputs and outputs, adapt shapes where that is
unambiguous (784 <-> 28x28x1, a channel axis, uint8 -> [0, 1]) and say so, and refuse the rest with
a message naming the input and both shapes. The user's own CSV/NPZ files are read here too."""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from studio.gate import LimitExceeded, check_archive, check_bytes, check_count
from studio.graph.shapes import shape_text
from studio.training.datasets import USER_FILE, DataError, Dataset

TEST_FRACTION = 0.1
SPARSE_LOSSES = ("sparse_categorical_crossentropy",)
ONE_HOT_LOSSES = ("categorical_crossentropy",)
BINARY_LOSSES = ("binary_crossentropy",)
LABEL_COLUMNS = ("label", "labels", "target", "y", "class")


@dataclass
class TrainingData:
    """Arrays in the model's input and output order, ready for ``fit``; with notes on what was adapted."""

    dataset: Dataset
    x_train: list[np.ndarray]
    y_train: list[np.ndarray]
    x_test: list[np.ndarray]
    y_test: list[np.ndarray]
    input_names: list[str]
    output_names: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def num_train(self) -> int:
        """Samples available for training and validation."""
        return int(len(self.x_train[0]))


def _sample_shape(array: np.ndarray) -> tuple:
    return tuple(int(d) for d in array.shape[1:])


def _compatible(have: tuple, want: tuple) -> bool:
    return len(have) == len(want) and all(w is None or h == w for h, w in zip(have, want, strict=True))


def _squeezed(shape: tuple) -> tuple:
    return tuple(d for d in shape if d != 1)


def adapt_array(array: np.ndarray, want: tuple, role: str, name: str, data_name: str, notes: list[str]) -> np.ndarray:
    """Reshape/rescale one array to a model's per-sample shape ``want``, or raise DataError naming both shapes."""
    have = _sample_shape(array)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / np.float32(255.0)
        notes.append(f"{role} '{name}': uint8 values scaled from 0..255 to [0, 1]")
    if _compatible(have, want):
        return array
    known = all(d is not None for d in want)
    size = math.prod(have)
    if known and size == math.prod(want) and (len(have) == 1 or len(want) == 1 or _squeezed(have) == _squeezed(want)):
        notes.append(f"{role} '{name}': samples reshaped from {shape_text(have)} to {shape_text(want)}")
        return array.reshape((len(array), *want))
    raise DataError(
        f"{role} '{name}' expects samples of shape {shape_text(want)}; the data '{data_name}' gives samples of shape "
        f"{shape_text(have)}. Only unambiguous changes are made automatically (flattening 28x28x1 <-> 784, adding a "
        "channel axis); choose other data or change the model."
    )


def _check_finite(array: np.ndarray, role: str, name: str) -> None:
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise DataError(f"{role} '{name}' contains NaN or infinite values; clean the data first")


def adapt_target(array: np.ndarray, want: tuple, loss: str, name: str, data_name: str, notes: list[str]) -> np.ndarray:
    """Check and convert labels for one output and its loss (sparse ints, one-hot, 0..1 or values)."""
    loss = loss.lower()
    classes = want[-1] if want else None
    if loss in SPARSE_LOSSES:
        labels = array.reshape(len(array), -1)
        if labels.shape[1] > 1 and classes and labels.shape[1] == classes and np.isin(labels, (0, 1)).all() and (labels.sum(1) == 1).all():
            notes.append(f"Output '{name}': one-hot labels turned into class numbers for {loss}")
            return labels.argmax(axis=1).astype(np.int64)
        if labels.shape[1] != 1:
            raise DataError(
                f"Output '{name}' uses {loss}, which expects one class number per sample; the data '{data_name}' gives "
                f"{labels.shape[1]} values per sample. Use categorical_crossentropy for one-hot or multi-label targets."
            )
        labels = labels[:, 0]
        if not np.issubdtype(labels.dtype, np.integer) and not np.equal(np.mod(labels, 1), 0).all():
            raise DataError(f"Output '{name}' uses {loss}, which needs whole class numbers; the data '{data_name}' has fractional labels")
        labels = labels.astype(np.int64)
        if classes and (labels.min() < 0 or labels.max() >= classes):
            raise DataError(
                f"Output '{name}' has {classes} classes (0..{classes - 1}); the labels of '{data_name}' run from "
                f"{labels.min()} to {labels.max()}. Give the output more units or fix the labels."
            )
        return labels
    if loss in ONE_HOT_LOSSES and classes and classes > 1 and (array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1)):
        labels = array.reshape(-1)
        if np.equal(np.mod(labels, 1), 0).all() and labels.min() >= 0 and labels.max() < (classes or 0):
            notes.append(f"Output '{name}': class numbers turned into one-hot rows for {loss}")
            return np.eye(classes, dtype=np.float32)[labels.astype(np.int64)]
    target = adapt_array(array, want, "Output", name, data_name, notes)
    if loss in BINARY_LOSSES and (target.min() < 0 or target.max() > 1):
        raise DataError(f"Output '{name}' uses {loss}, which needs targets between 0 and 1; the data '{data_name}' has values outside it")
    return target.astype(np.float32) if not np.issubdtype(target.dtype, np.floating) else target


def _order(dataset: Dataset, names: list[str], have: list[str], kind: str, notes: list[str]) -> list[int]:
    """Indices of the dataset's arrays in the model's order: by name when every name matches, else by position."""
    if sorted(have) == sorted(names):
        return [have.index(name) for name in names]
    if len(have) == len(names):
        if len(names) > 1:
            pairs = ", ".join(f"{model_name} <- {data_name}" for model_name, data_name in zip(names, have, strict=True))
            notes.append(f"{kind}s matched by position: {pairs}")
        return list(range(len(names)))
    raise DataError(
        f"The model has {len(names)} {kind.lower()}(s) ({', '.join(names)}); the data '{dataset.name}' has {len(have)} "
        f"({', '.join(have) or 'none'}). Choose data made for this model or upload a file with one array per {kind.lower()}."
    )


def fit_to_model(dataset: Dataset, model: object, input_names: list[str], output_names: list[str], losses: list[str]) -> TrainingData:
    """Map a dataset onto a model's inputs and outputs (in the spec's order), adapting or refusing clearly."""
    notes: list[str] = []
    input_shapes = [tuple(tensor.shape[1:]) for tensor in model.inputs]
    input_dtypes = [str(tensor.dtype) for tensor in model.inputs]
    output_shapes = [tuple(tensor.shape[1:]) for tensor in model.outputs]
    x_order = _order(dataset, input_names, dataset.input_names or [f"x{i}" for i in range(len(dataset.x_train))], "Input", notes)
    y_order = _order(dataset, output_names, dataset.output_names or [f"y{i}" for i in range(len(dataset.y_train))], "Output", notes)
    parts: dict[str, list[np.ndarray]] = {"x_train": [], "x_test": [], "y_train": [], "y_test": []}
    for position, index in enumerate(x_order):
        name, want, dtype = input_names[position], input_shapes[position], input_dtypes[position]
        for split in ("train", "test"):
            array = getattr(dataset, f"x_{split}")[index]
            _check_finite(array, "Input", name)
            array = adapt_array(array, want, "Input", name, dataset.name, notes if split == "train" else [])
            if dtype.startswith("int") and not np.issubdtype(array.dtype, np.integer):
                array = array.astype(dtype)
            parts[f"x_{split}"].append(array)
    for position, index in enumerate(y_order):
        name, want = output_names[position], output_shapes[position]
        loss = losses[position] if position < len(losses) else ""
        for split in ("train", "test"):
            array = getattr(dataset, f"y_{split}")[index]
            _check_finite(array, "Output", name)
            parts[f"y_{split}"].append(adapt_target(array, want, loss, name, dataset.name, notes if split == "train" else []))
    for split in ("train", "test"):
        counts = {len(array) for array in parts[f"x_{split}"] + parts[f"y_{split}"]}
        if len(counts) > 1:
            raise DataError(f"The {split} arrays of '{dataset.name}' have different numbers of samples: {sorted(counts)}")
    if not parts["x_train"] or len(parts["x_train"][0]) < 2:
        raise DataError(f"'{dataset.name}' has fewer than 2 training samples; nothing to train on")
    return TrainingData(dataset, parts["x_train"], parts["y_train"], parts["x_test"], parts["y_test"], input_names, output_names, notes)


# --- the user's own files ----------------------------------------------------------------------


@contextmanager
def _limits_as_data_errors() -> Iterator[None]:
    """A limit refused inside a data reader is a DataError like any other bad data (its message names the limit)."""
    try:
        yield
    except LimitExceeded as error:
        raise DataError(str(error)) from error


def _check_size(data: bytes, file_name: str) -> None:
    if not data:
        raise DataError(f"'{file_name}' is empty")
    with _limits_as_data_errors():
        check_bytes(file_name, len(data), "max_data_mb")


def _check_values(file_name: str, values: int) -> None:
    """Refuse data holding more numbers than allowed (samples x features over all arrays), before it is read."""
    with _limits_as_data_errors():
        check_count(file_name, values, "holds {:,} values (samples x features over all its arrays)", "max_data_values")


def _csv_values(data: bytes) -> int:
    """Rows x columns of a CSV with a header, estimated from its line breaks and its header's commas (nothing parsed)."""
    header, _, body = data.partition(b"\n")
    rows = body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)
    return rows * (header.count(b",") + 1)


def _npz_values(data: bytes, file_name: str) -> int:
    """Values of all arrays of an NPZ, from its zip directory and each array's header (no array data is read)."""
    values = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        with _limits_as_data_errors():
            check_archive(archive, file_name)
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _fortran_order, _dtype = read_header(member)
            values += math.prod(shape)
    return values


def _split_off_test(dataset_name: str, x: list[np.ndarray], y: list[np.ndarray], notes: list[str]) -> tuple:
    count = len(x[0])
    test = max(1, int(round(count * TEST_FRACTION)))
    if count - test < 2:
        raise DataError(f"'{dataset_name}' has only {count} samples; at least 3 are needed (training plus test)")
    notes.append(f"no test arrays in the file: the last {test} of {count} samples are the test set")
    return [a[:-test] for a in x], [a[:-test] for a in y], [a[-test:] for a in x], [a[-test:] for a in y]


def _user_dataset(file_name: str, x: list, y: list, x_test: list | None, y_test: list | None, names: tuple, notes: list) -> Dataset:
    input_names, output_names = names
    counts = {len(array) for array in x + y}
    if len(counts) > 1:
        raise DataError(f"The arrays of '{file_name}' have different numbers of samples: {sorted(counts)}")
    if not x_test:
        x, y, x_test, y_test = _split_off_test(file_name, x, y, notes)
    return Dataset(
        key=f"file:{file_name}",
        name=file_name,
        source=USER_FILE,
        x_train=x,
        y_train=y,
        x_test=x_test,
        y_test=y_test,
        input_names=list(input_names),
        output_names=list(output_names),
        notes=notes,
    )


def _columns_for(name: str, columns: list[str]) -> list[str]:
    if name in columns:
        return [name]
    pattern = re.compile(rf"^{re.escape(name)}[_.\[](\d+)\]?$")
    found = [(int(match.group(1)), column) for column in columns if (match := pattern.match(column))]
    return [column for _, column in sorted(found)]


def read_csv_data(data: bytes, file_name: str, input_names: list[str], output_names: list[str], output_is_input: bool = False) -> Dataset:
    """A CSV with a header: columns ``<input>`` or ``<input>_0..`` per input and the same per output.

    With one input and one output, a ``label``/``target``/``y`` column (or the last column) is the target and
    the rest is the input; ``output_is_input`` (autoencoder) needs input columns only.
    """
    _check_size(data, file_name)
    _check_values(file_name, _csv_values(data))
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)  # a row wider than the header: refused below
            frame = pd.read_csv(io.BytesIO(data), index_col=False, on_bad_lines="error")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise DataError(f"'{file_name}' is not a readable CSV file: {str(error).splitlines()[0]}") from error
    widest = max((len(row) for row in csv.reader(io.StringIO(data.decode("utf-8", "replace"))) if row), default=0)
    if widest > len(frame.columns):
        raise DataError(
            f"'{file_name}' has rows with {widest} values but a header of {len(frame.columns)} columns; "
            "every row needs one value per header column"
        )
    if frame.empty:
        raise DataError(f"'{file_name}' has a header but no rows")
    columns = [str(column) for column in frame.columns]
    for column in columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            bad = frame[column][pd.to_numeric(frame[column], errors="coerce").isna()].index[0]
            raise DataError(
                f"Column '{column}' of '{file_name}' is not numeric (row {bad + 2}: {frame[column][bad]!r}); every value must be a number"
            )
    notes: list[str] = []
    groups = {name: _columns_for(name, columns) for name in [*input_names, *([] if output_is_input else output_names)]}
    if not all(groups.values()) and len(input_names) == 1 and (len(output_names) == 1 or output_is_input):
        label = [] if output_is_input else next(([c] for c in columns if c.lower() in LABEL_COLUMNS), [columns[-1]])
        groups = {input_names[0]: [c for c in columns if c not in label]}
        if not output_is_input:
            groups[output_names[0]] = label
        notes.append(f"columns mapped by default: '{label[0]}' is the target, the other {len(columns) - 1} the input" if label else "")
    missing = [name for name, found in groups.items() if not found]
    if missing:
        raise DataError(
            f"'{file_name}' has no columns for {', '.join(repr(m) for m in missing)}. Name them '<name>' or "
            f"'<name>_0', '<name>_1', ... (found: {', '.join(columns[:8])}{' ...' if len(columns) > 8 else ''})"
        )
    values = {name: frame[cols].to_numpy() for name, cols in groups.items()}
    x = [values[name] for name in input_names]
    y = [values[name] for name in output_names] if not output_is_input else [values[input_names[0]]]
    names = (input_names, output_names)
    return _user_dataset(file_name, x, y, None, None, names, [n for n in notes if n])


def read_npz_data(data: bytes, file_name: str, input_names: list[str], output_names: list[str], output_is_input: bool = False) -> Dataset:
    """An NPZ with one array per input and output, named after them (``<name>``, ``<name>_test``); with one
    input and one output also ``x``/``y`` or ``x_train``/``y_train``/``x_test``/``y_test``."""
    _check_size(data, file_name)
    try:
        _check_values(file_name, _npz_values(data, file_name))  # unpacked size and shapes, before any array is read
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {key: np.asarray(npz[key]) for key in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise DataError(f"'{file_name}' is not a readable NPZ file (numpy.savez): {error}") from error
    aliases_x = ("x", "x_train") if len(input_names) == 1 else ()
    aliases_y = ("y", "y_train") if len(output_names) == 1 else ()

    def pick(name: str, aliases: tuple, test: bool) -> np.ndarray | None:
        keys = [f"{name}_test"] + [f"{alias.split('_')[0]}_test" for alias in aliases] if test else [name, *aliases]
        return next((arrays[key] for key in keys if key in arrays), None)

    x = [pick(name, aliases_x, False) for name in input_names]
    y = [pick(name, aliases_y, False) for name in output_names] if not output_is_input else [x[0]]
    missing = [name for name, array in zip([*input_names, *output_names], x + y, strict=False) if array is None]
    if missing:
        raise DataError(
            f"'{file_name}' has no array for {', '.join(repr(m) for m in missing)}. Name the arrays after the model's "
            f"inputs and outputs ({', '.join(input_names + output_names)}) or x/y (found: {', '.join(arrays) or 'nothing'})"
        )
    for key, array in arrays.items():
        if array.dtype == object or array.ndim == 0:
            raise DataError(f"Array '{key}' of '{file_name}' is not numeric data with one row per sample")
    x_test = [pick(name, aliases_x, True) for name in input_names]
    y_test = [pick(name, aliases_y, True) for name in output_names] if not output_is_input else [x_test[0]]
    has_test = all(a is not None for a in x_test + y_test)
    names = (input_names, output_names)
    return _user_dataset(file_name, x, y, x_test if has_test else None, y_test if has_test else None, names, [])


def read_user_data(data: bytes, file_name: str, input_names: list[str], output_names: list[str], output_is_input: bool = False) -> Dataset:
    """Read an uploaded .csv or .npz for a model with these input and output names."""
    suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    if suffix == "csv":
        return read_csv_data(data, file_name, input_names, output_names, output_is_input)
    if suffix == "npz":
        return read_npz_data(data, file_name, input_names, output_names, output_is_input)
    raise DataError(f"'{file_name}' is neither a .csv nor a .npz file; upload data as CSV (with a header) or NPZ (numpy.savez)")


def preview(dataset: Dataset, rows: int = 5) -> list[dict]:
    """One row per array: role, name, samples, per-sample shape, dtype, range and the first values."""
    table = []
    for role, names, arrays in (("input", dataset.input_names, dataset.x_train), ("target", dataset.output_names, dataset.y_train)):
        for index, array in enumerate(arrays):
            flat = array.reshape(len(array), -1)
            table.append(
                {
                    "role": role,
                    "name": names[index] if index < len(names) else f"{role}{index}",
                    "samples": int(len(array)),
                    "shape": shape_text(_sample_shape(array)),
                    "dtype": str(array.dtype),
                    "min": float(flat.min()) if flat.size else math.nan,
                    "max": float(flat.max()) if flat.size else math.nan,
                    "first values": ", ".join(f"{v:g}" for v in flat[:rows, :4].reshape(-1)[:8]),
                }
            )
    return table

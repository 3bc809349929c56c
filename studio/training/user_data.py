"""The user's own training data: CSV (with a header) and NPZ files read into a :class:`Dataset`, checked
against the limits before anything is parsed, and a preview table of what was read.

Split out of :mod:`studio.training.data`, which re-exports these names."""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from studio.gate import LimitExceeded, check_archive, check_bytes, check_count
from studio.graph.shapes import shape_text
from studio.i18n import N_, _
from studio.training.dataset_base import USER_FILE, DataError, Dataset

TEST_FRACTION = 0.1
LABEL_COLUMNS = ("label", "labels", "target", "y", "class")


def _sample_shape(array: np.ndarray) -> tuple:
    return tuple(int(d) for d in array.shape[1:])


@contextmanager
def _limits_as_data_errors() -> Iterator[None]:
    """A limit refused inside a data reader is a DataError like any other bad data (its message names the limit)."""
    try:
        yield
    except LimitExceeded as error:
        raise DataError(str(error)) from error


def _check_size(data: bytes, file_name: str) -> None:
    if not data:
        raise DataError(_("'{file}' is empty").format(file=file_name))
    with _limits_as_data_errors():
        check_bytes(file_name, len(data), "max_data_mb")


def _check_values(file_name: str, values: int) -> None:
    """Refuse data holding more numbers than allowed (samples x features over all arrays), before it is read."""
    with _limits_as_data_errors():
        check_count(file_name, values, N_("holds {count} values (samples x features over all its arrays)"), "max_data_values")


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
        raise DataError(
            _("'{data}' has only {count} samples; at least 3 are needed (training plus test)").format(data=dataset_name, count=count)
        )
    notes.append(_("no test arrays in the file: the last {test} of {count} samples are the test set").format(test=test, count=count))
    return [a[:-test] for a in x], [a[:-test] for a in y], [a[-test:] for a in x], [a[-test:] for a in y]


def _user_dataset(file_name: str, x: list, y: list, x_test: list | None, y_test: list | None, names: tuple, notes: list) -> Dataset:
    input_names, output_names = names
    counts = {len(array) for array in x + y}
    if len(counts) > 1:
        raise DataError(
            _("The arrays of '{file}' have different numbers of samples: {counts}").format(file=file_name, counts=sorted(counts))
        )
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
    return [column for _number, column in sorted(found)]


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
        raise DataError(
            _("'{file}' is not a readable CSV file: {reason}").format(file=file_name, reason=str(error).splitlines()[0])
        ) from error
    widest = max((len(row) for row in csv.reader(io.StringIO(data.decode("utf-8", "replace"))) if row), default=0)
    if widest > len(frame.columns):
        raise DataError(
            _(
                "'{file}' has rows with {values} values but a header of {columns} columns; every row needs one value per header column"
            ).format(file=file_name, values=widest, columns=len(frame.columns))
        )
    if frame.empty:
        raise DataError(_("'{file}' has a header but no rows").format(file=file_name))
    columns = [str(column) for column in frame.columns]
    for column in columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            bad = frame[column][pd.to_numeric(frame[column], errors="coerce").isna()].index[0]
            raise DataError(
                _("Column '{column}' of '{file}' is not numeric (row {row}: {value}); every value must be a number").format(
                    column=column, file=file_name, row=bad + 2, value=repr(frame[column][bad])
                )
            )
    notes: list[str] = []
    groups = {name: _columns_for(name, columns) for name in [*input_names, *([] if output_is_input else output_names)]}
    if not all(groups.values()) and len(input_names) == 1 and (len(output_names) == 1 or output_is_input):
        label = [] if output_is_input else next(([c] for c in columns if c.lower() in LABEL_COLUMNS), [columns[-1]])
        groups = {input_names[0]: [c for c in columns if c not in label]}
        if not output_is_input:
            groups[output_names[0]] = label
        if label:
            notes.append(
                _("columns mapped by default: '{label}' is the target, the other {count} the input").format(
                    label=label[0], count=len(columns) - 1
                )
            )
    missing = [name for name, found in groups.items() if not found]
    if missing:
        raise DataError(
            _("'{file}' has no columns for {missing}. Name them '<name>' or '<name>_0', '<name>_1', ... (found: {found})").format(
                file=file_name,
                missing=", ".join(repr(m) for m in missing),
                found=", ".join(columns[:8]) + (" ..." if len(columns) > 8 else ""),
            )
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
        raise DataError(_("'{file}' is not a readable NPZ file (numpy.savez): {reason}").format(file=file_name, reason=error)) from error
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
            _(
                "'{file}' has no array for {missing}. "
                "Name the arrays after the model's inputs and outputs ({names}) or x/y (found: {found})"
            ).format(
                file=file_name,
                missing=", ".join(repr(m) for m in missing),
                names=", ".join(input_names + output_names),
                found=", ".join(arrays) or _("nothing"),
            )
        )
    for key, array in arrays.items():
        if array.dtype == object or array.ndim == 0:
            raise DataError(_("Array '{key}' of '{file}' is not numeric data with one row per sample").format(key=key, file=file_name))
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
    raise DataError(
        _("'{file}' is neither a .csv nor a .npz file; upload data as CSV (with a header) or NPZ (numpy.savez)").format(file=file_name)
    )


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

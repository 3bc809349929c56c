"""Fitting data onto a model: map arrays to its named inputs and outputs, adapt shapes where that is
unambiguous (784 <-> 28x28x1, a channel axis, uint8 -> [0, 1]) and say so, and refuse the rest with
a message naming the input and both shapes. The user's own CSV/NPZ files are read in :mod:`studio.training.user_data`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from studio.graph.shapes import shape_text
from studio.i18n import N_, _
from studio.training.datasets import DataError, Dataset
from studio.training.user_data import (  # noqa: F401 - the user's files, also known by this module
    LABEL_COLUMNS,
    TEST_FRACTION,
    preview,
    read_csv_data,
    read_npz_data,
    read_user_data,
)

SPARSE_LOSSES = ("sparse_categorical_crossentropy",)
ONE_HOT_LOSSES = ("categorical_crossentropy",)
BINARY_LOSSES = ("binary_crossentropy",)
ROLES = {"Input": N_("Input"), "Output": N_("Output")}  # what a message calls an array: the model's input or output


def _role(role: str) -> str:
    return _(ROLES.get(role, role))


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
        notes.append(_("{role} '{name}': uint8 values scaled from 0..255 to [0, 1]").format(role=_role(role), name=name))
    if _compatible(have, want):
        return array
    known = all(d is not None for d in want)
    size = math.prod(have)
    if known and size == math.prod(want) and (len(have) == 1 or len(want) == 1 or _squeezed(have) == _squeezed(want)):
        notes.append(
            _("{role} '{name}': samples reshaped from {have} to {want}").format(
                role=_role(role), name=name, have=shape_text(have), want=shape_text(want)
            )
        )
        return array.reshape((len(array), *want))
    raise DataError(
        _(
            "{role} '{name}' expects samples of shape {want}; the data '{data}' gives samples of shape {have}. "
            "Only unambiguous changes are made automatically (flattening 28x28x1 <-> 784, adding a channel axis); "
            "choose other data or change the model."
        ).format(role=_role(role), name=name, want=shape_text(want), data=data_name, have=shape_text(have))
    )


def _check_finite(array: np.ndarray, role: str, name: str) -> None:
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise DataError(_("{role} '{name}' contains NaN or infinite values; clean the data first").format(role=_role(role), name=name))


def adapt_target(array: np.ndarray, want: tuple, loss: str, name: str, data_name: str, notes: list[str]) -> np.ndarray:
    """Check and convert labels for one output and its loss (sparse ints, one-hot, 0..1 or values)."""
    loss = loss.lower()
    classes = want[-1] if want else None
    if loss in SPARSE_LOSSES:
        labels = array.reshape(len(array), -1)
        if labels.shape[1] > 1 and classes and labels.shape[1] == classes and np.isin(labels, (0, 1)).all() and (labels.sum(1) == 1).all():
            notes.append(_("Output '{name}': one-hot labels turned into class numbers for {loss}").format(name=name, loss=loss))
            return labels.argmax(axis=1).astype(np.int64)
        if labels.shape[1] != 1:
            raise DataError(
                _(
                    "Output '{name}' uses {loss}, which expects one class number per sample; the data '{data}' gives "
                    "{count} values per sample. Use categorical_crossentropy for one-hot or multi-label targets."
                ).format(name=name, loss=loss, data=data_name, count=labels.shape[1])
            )
        labels = labels[:, 0]
        if not np.issubdtype(labels.dtype, np.integer) and not np.equal(np.mod(labels, 1), 0).all():
            raise DataError(
                _("Output '{name}' uses {loss}, which needs whole class numbers; the data '{data}' has fractional labels").format(
                    name=name, loss=loss, data=data_name
                )
            )
        labels = labels.astype(np.int64)
        if classes and (labels.min() < 0 or labels.max() >= classes):
            raise DataError(
                _(
                    "Output '{name}' has {classes} classes (0..{last}); the labels of '{data}' run from {low} to {high}. "
                    "Give the output more units or fix the labels."
                ).format(name=name, classes=classes, last=classes - 1, data=data_name, low=labels.min(), high=labels.max())
            )
        return labels
    if loss in ONE_HOT_LOSSES and classes and classes > 1 and (array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1)):
        labels = array.reshape(-1)
        if np.equal(np.mod(labels, 1), 0).all() and labels.min() >= 0 and labels.max() < (classes or 0):
            notes.append(_("Output '{name}': class numbers turned into one-hot rows for {loss}").format(name=name, loss=loss))
            return np.eye(classes, dtype=np.float32)[labels.astype(np.int64)]
    target = adapt_array(array, want, "Output", name, data_name, notes)
    if loss in BINARY_LOSSES and (target.min() < 0 or target.max() > 1):
        raise DataError(
            _("Output '{name}' uses {loss}, which needs targets between 0 and 1; the data '{data}' has values outside it").format(
                name=name, loss=loss, data=data_name
            )
        )
    return target.astype(np.float32) if not np.issubdtype(target.dtype, np.floating) else target


def _order(dataset: Dataset, names: list[str], have: list[str], kind: str, notes: list[str]) -> list[int]:
    """Indices of the dataset's arrays in the model's order: by name when every name matches, else by position."""
    if sorted(have) == sorted(names):
        return [have.index(name) for name in names]
    if len(have) == len(names):
        if len(names) > 1:
            pairs = ", ".join(f"{model_name} <- {data_name}" for model_name, data_name in zip(names, have, strict=True))
            notes.append(
                (_("Inputs matched by position: {pairs}") if kind == "Input" else _("Outputs matched by position: {pairs}")).format(
                    pairs=pairs
                )
            )
        return list(range(len(names)))
    if kind == "Input":
        message = _(
            "The model has {count} input(s) ({names}); the data '{data}' has {have} ({found}). "
            "Choose data made for this model or upload a file with one array per input."
        )
    else:
        message = _(
            "The model has {count} output(s) ({names}); the data '{data}' has {have} ({found}). "
            "Choose data made for this model or upload a file with one array per output."
        )
    raise DataError(
        message.format(count=len(names), names=", ".join(names), data=dataset.name, have=len(have), found=", ".join(have) or _("none"))
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
            message = (
                _("The training arrays of '{data}' have different numbers of samples: {counts}")
                if split == "train"
                else _("The test arrays of '{data}' have different numbers of samples: {counts}")
            )
            raise DataError(message.format(data=dataset.name, counts=sorted(counts)))
    if not parts["x_train"] or len(parts["x_train"][0]) < 2:
        raise DataError(_("'{data}' has fewer than 2 training samples; nothing to train on").format(data=dataset.name))
    return TrainingData(dataset, parts["x_train"], parts["y_train"], parts["x_test"], parts["y_test"], input_names, output_names, notes)

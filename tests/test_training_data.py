"""Fitting data onto a model: adaptation where unambiguous, clear errors otherwise; CSV/NPZ uploads."""

from __future__ import annotations

import io

import keras
import numpy as np
import pytest

from studio.training.data import adapt_array, adapt_target, fit_to_model, preview, read_user_data
from studio.training.datasets import DataError, Dataset, tutorial_tickets


def model_with(input_shape: tuple, units: int = 10, activation: str = "softmax") -> keras.Model:
    inputs = keras.Input(input_shape, name="img")
    flat = keras.layers.Flatten()(inputs) if len(input_shape) > 1 else inputs
    return keras.Model(inputs, keras.layers.Dense(units, activation=activation, name="out")(flat))


def images(count: int = 20, shape: tuple = (28, 28, 1)) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(count, *shape), dtype=np.uint8)
    y = rng.integers(0, 10, size=count)
    return Dataset("test", "test digits", "synthetic", [x], [y], [x[:4]], [y[:4]], ["image"], ["label"])


def test_flat_and_image_shapes_are_adapted_with_notes():
    data = fit_to_model(images(), model_with((784,)), ["img"], ["out"], ["sparse_categorical_crossentropy"])
    assert data.x_train[0].shape == (20, 784) and data.x_train[0].dtype == np.float32 and data.x_train[0].max() <= 1.0
    assert any("uint8 values scaled" in note for note in data.notes)
    assert any("reshaped from (28, 28, 1) to (784,)" in note for note in data.notes)
    flat = Dataset("flat", "flat", "synthetic", [np.zeros((5, 784), np.float32)], [np.zeros(5)], [np.zeros((2, 784))], [np.zeros(2)])
    assert fit_to_model(flat, model_with((28, 28, 1)), ["img"], ["out"], ["sparse_categorical_crossentropy"]).x_train[0].shape == (
        5,
        28,
        28,
        1,
    )
    notes: list[str] = []
    assert adapt_array(np.zeros((3, 28, 28), np.float32), (28, 28, 1), "Input", "img", "d", notes).shape == (3, 28, 28, 1)
    assert "samples reshaped from (28, 28) to (28, 28, 1)" in notes[0]


def test_a_shape_that_cannot_be_matched_names_the_input_and_both_shapes():
    with pytest.raises(DataError, match=r"Input 'img' expects samples of shape \(784,\); the data 'test digits' gives .*\(32, 32, 3\)"):
        fit_to_model(images(shape=(32, 32, 3)), model_with((784,)), ["img"], ["out"], ["sparse_categorical_crossentropy"])
    with pytest.raises(DataError, match=r"\(14, 56\)"):
        adapt_array(np.zeros((2, 14, 56)), (28, 28), "Input", "img", "d", [])


def test_wrong_number_of_inputs_is_refused():
    with pytest.raises(DataError, match=r"The model has 1 input\(s\) \(img\); the data .* has 3 \(body, title, tag\)"):
        fit_to_model(tutorial_tickets(), model_with((784,)), ["img"], ["out"], ["mean_squared_error"])


def test_labels_are_checked_against_the_loss():
    notes: list[str] = []
    with pytest.raises(DataError, match="has 10 classes .* run from 0 to 12"):
        adapt_target(np.array([0, 3, 12]), (10,), "sparse_categorical_crossentropy", "out", "d", notes)
    with pytest.raises(DataError, match="fractional labels"):
        adapt_target(np.array([0.5, 1.0]), (10,), "sparse_categorical_crossentropy", "out", "d", notes)
    one_hot = np.eye(10)[[1, 4]]
    assert adapt_target(one_hot, (10,), "sparse_categorical_crossentropy", "out", "d", notes).tolist() == [1, 4]
    assert adapt_target(np.array([2, 0]), (3,), "categorical_crossentropy", "out", "d", notes).tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(DataError, match="between 0 and 1"):
        adapt_target(np.array([[2.0], [0.5]]), (1,), "binary_crossentropy", "out", "d", notes)
    with pytest.raises(DataError, match="expects one class number per sample"):
        adapt_target(np.ones((2, 3)), (10,), "sparse_categorical_crossentropy", "out", "d", notes)


def test_nan_values_are_refused():
    data = images()
    data.x_train = [data.x_train[0].astype(np.float32)]
    data.x_train[0][0, 0, 0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        fit_to_model(data, model_with((784,)), ["img"], ["out"], ["sparse_categorical_crossentropy"])


def csv_bytes(rows: int = 20, with_label: str = "label") -> bytes:
    rng = np.random.default_rng(0)
    header = ",".join([f"img_{i}" for i in range(4)] + [with_label])
    lines = [header] + [",".join(str(v) for v in [*rng.random(4).round(3), int(rng.integers(0, 3))]) for _ in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_csv_maps_columns_onto_the_named_input_and_output():
    data = read_user_data(csv_bytes(), "mine.csv", ["img"], ["out"])
    assert data.x_train[0].shape == (18, 4) and data.y_train[0].shape == (18, 1)
    assert (data.num_train, data.num_test) == (18, 2) and "last 2 of 20 samples are the test set" in data.notes[-1]
    named = read_user_data(csv_bytes(with_label="out"), "named.csv", ["img"], ["out"])
    assert named.y_train[0].shape == (18, 1)
    fitted = fit_to_model(data, model_with((4,), units=3), ["img"], ["out"], ["sparse_categorical_crossentropy"])
    assert fitted.y_train[0].dtype == np.int64
    rows = preview(data)
    assert [row["role"] for row in rows] == ["input", "target"] and rows[0]["shape"] == "(4,)"


def test_csv_errors_are_clear():
    with pytest.raises(DataError, match="is empty"):
        read_user_data(b"", "empty.csv", ["img"], ["out"])
    with pytest.raises(DataError, match="Column 'b' .* not numeric .*row 3"):
        read_user_data(b"a,b\n1,2\n3,x\n", "text.csv", ["img"], ["out"])
    with pytest.raises(DataError, match="no columns for 'body', 'title'"):
        read_user_data(csv_bytes(), "few.csv", ["body", "title"], ["out"])
    with pytest.raises(DataError, match="neither a .csv nor a .npz"):
        read_user_data(b"1,2", "data.txt", ["img"], ["out"])
    with pytest.raises(DataError, match="header but no rows"):
        read_user_data(b"a,b\n", "header.csv", ["img"], ["out"])


def test_uploads_over_the_size_limit_are_refused(monkeypatch):
    monkeypatch.setenv("KFS_MAX_DATA_MB", "1")
    big = b"a,label\n" + b"0.5,1\n" * 200_000  # 1.1 MB
    with pytest.raises(DataError, match=r"'big.csv' is 1.1 MB; the limit is max data file size \(MB\) = 1 \(set KFS_MAX_DATA_MB"):
        read_user_data(big, "big.csv", ["img"], ["out"])


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_npz_by_name_with_test_arrays_and_by_x_y():
    x, y = np.zeros((8, 784), np.float32), np.arange(8) % 10
    data = read_user_data(npz_bytes(img=x, out=y, img_test=x[:2], out_test=y[:2]), "named.npz", ["img"], ["out"])
    assert (data.num_train, data.num_test) == (8, 2)
    plain = read_user_data(npz_bytes(x=x, y=y), "xy.npz", ["img"], ["out"])
    assert (plain.num_train, plain.num_test) == (7, 1)
    auto = read_user_data(npz_bytes(x=x), "auto.npz", ["img"], ["out"], output_is_input=True)
    assert np.shares_memory(auto.y_train[0], auto.x_train[0])
    multi = read_user_data(
        npz_bytes(
            body=np.zeros((6, 5)), title=np.zeros((6, 3)), tag=np.zeros((6, 12)), priority=np.zeros((6, 1)), department=np.zeros((6, 4))
        ),
        "multi.npz",
        ["body", "title", "tag"],
        ["priority", "department"],
    )
    assert [a.shape[1] for a in multi.x_train] == [5, 3, 12]


def test_npz_errors_are_clear():
    with pytest.raises(DataError, match="not a readable NPZ"):
        read_user_data(b"PK\x03\x04 broken", "broken.npz", ["img"], ["out"])
    with pytest.raises(DataError, match="no array for 'out'"):
        read_user_data(npz_bytes(img=np.zeros((4, 2))), "missing.npz", ["img"], ["out"])
    with pytest.raises(DataError, match="different numbers of samples"):
        read_user_data(npz_bytes(x=np.zeros((4, 2)), y=np.zeros(5)), "uneven.npz", ["img"], ["out"])
    with pytest.raises(DataError, match="not a readable NPZ"):
        read_user_data(npz_bytes(x=np.array([{"a": 1}] * 4, dtype=object), y=np.zeros(4)), "objects.npz", ["img"], ["out"])


def test_a_csv_row_wider_than_its_header_is_refused_with_a_data_error() -> None:
    from studio.training.data import read_user_data

    with pytest.raises(DataError, match="rows with 4 values but a header of 2 columns"):
        read_user_data(b"img,digits\n0.0,0.0,0.0,x\n", "wide.csv", ["img"], ["digits"])

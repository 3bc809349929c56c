"""The input gate (issue 12, item 2; its Memory and Depth cases): every reader refuses what is past a limit before it
reads, parses or builds it, with a message naming the limit, its environment variable and the user's file."""

from __future__ import annotations

import ast
import io
import json
import re
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pandas as pd
import pytest

from studio import gate
from studio.gate import LimitExceeded, json_depth
from studio.graph.checks import check_spec_limits, count_nodes, spec_extent
from studio.graph.presets import load_preset
from studio.graph.spec import CallSpec, GraphSpec, LayerSpec, SpecError, load_spec, spec_from_json
from studio.io.project_file import read_project
from studio.limits import LIMIT_LABELS, Limits, limits
from studio.model import loading
from studio.model.upload import load_uploaded_model
from studio.training.data import read_user_data
from studio.training.datasets import DataError
from tests import hostile

ROOT = Path(__file__).resolve().parents[1]
JSON_LIMIT = r"nests JSON more than 200 levels deep; the limit is max JSON nesting depth = 200 \(set KFS_MAX_JSON_DEPTH to change it\)"


# --- the limits ------------------------------------------------------------------------------------


def test_every_limit_has_a_variable_and_the_readme_documents_each() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for field_name, (_label, variable) in LIMIT_LABELS.items():
        assert variable.startswith("KFS_") and variable in readme, variable
        assert f"`{getattr(Limits(), field_name):,}`" in readme or f"{getattr(Limits(), field_name):,}" in readme, field_name


def test_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFS_MAX_JSON_DEPTH", "50")
    monkeypatch.setenv("KFS_MAX_DATA_VALUES", "10_000")
    monkeypatch.setenv("KFS_MAX_MODEL_DEPTH", "zero")  # not a positive number: the default stays
    active = limits()
    assert (active.max_json_depth, active.max_data_values, active.max_model_depth) == (50, 10_000, Limits().max_model_depth)


def test_the_gate_sits_at_the_bottom_and_imports_only_the_limits() -> None:
    tree = ast.parse((ROOT / "studio" / "gate.py").read_text(encoding="utf-8"))
    ours = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("studio")}
    assert ours == {"studio.limits", "studio.i18n"}


# --- JSON depth --------------------------------------------------------------------------------------


def test_json_depth_is_measured_without_parsing() -> None:
    assert json_depth('{"a": [1, {"b": []}]}') == 4
    assert json_depth('{"text": "[[[[ {{ \\" ]] \\\\", "x": [1]}') == 2  # brackets and escaped quotes inside strings do not count
    assert json_depth("3") == 0
    assert json_depth(hostile.deep_json_arrays(100_000), stop_above=200) == 201  # stops at the first level past the limit


@pytest.mark.parametrize("reader", ["spec_from_json", "read_project", "load_spec"])
def test_json_arrays_100000_deep_are_refused_by_every_reader(reader: str, tmp_path: Path) -> None:
    text = hostile.deep_json_arrays(100_000)
    path = tmp_path / "deep.json"
    path.write_text(text, encoding="utf-8")
    read = {
        "spec_from_json": lambda: spec_from_json(text, "deep.json"),
        "read_project": lambda: read_project(text, "deep.json"),
        "load_spec": lambda: load_spec(path),
    }[reader]
    with pytest.raises(SpecError, match=r"deep.json' " + JSON_LIMIT):
        read()


def test_models_nested_150_deep_are_a_clear_refusal_not_a_recursion_error() -> None:
    text = json.dumps(hostile.nested_models(150))
    with pytest.raises(SpecError, match="'nested.json' " + JSON_LIMIT):
        spec_from_json(text, "nested.json")
    with pytest.raises(SpecError, match="'nested.json' " + JSON_LIMIT):
        read_project(text, "nested.json")


def test_models_nested_past_the_model_depth_limit_are_refused_by_name() -> None:
    spec = spec_from_json(json.dumps(hostile.nested_models(25)))  # 106 levels of JSON: within the JSON limit
    assert spec_extent(spec) == (2 * 26, 25)
    message = r"'deep.json' nests models 25 levels deep; the limit is max depth of models nested in models = 20 \(set KFS_MAX_MODEL_DEPTH"
    with pytest.raises(LimitExceeded, match=message):
        check_spec_limits(spec, "deep.json")
    with pytest.raises(SpecError, match=message):
        read_project(json.dumps(hostile.nested_models(25)), "deep.json")
    check_spec_limits(spec_from_json(json.dumps(hostile.nested_models(20))), "ok.json")  # at the limit: fine


def test_a_10000_node_spec_is_refused_when_read() -> None:
    with pytest.raises(SpecError, match=r"'huge.json' has 10,001 nodes; the limit is max nodes per graph = 500 \(set KFS_MAX_NODES"):
        read_project(json.dumps(hostile.many_nodes()), "huge.json")


def test_counting_nodes_needs_no_recursion() -> None:
    assert count_nodes(load_preset("autoencoder")) == 3 + 7 + 7
    inner = hostile.nested_models(400)  # deeper than Python's recursion limit allows to walk recursively
    deep = GraphSpec("deep", layers=[LayerSpec("outer", "Model", {"spec": inner})], calls=[CallSpec("outer", "outer", [])])
    assert spec_extent(deep) == (1 + 2 * 401, 401)


def test_a_pasted_text_over_the_size_limit_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFS_MAX_UPLOAD_MB", "1")
    monkeypatch.setattr(json, "loads", lambda *_a, **_k: pytest.fail("parsed JSON past the size limit"))
    message = r"the pasted text is 2.0 MB; the limit is max size of a spec, project or model config \(MB\) = 1"
    with pytest.raises(LimitExceeded, match=message):
        gate.load_json(" " * (2 * 1024 * 1024), "the pasted text")


# --- model files ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The tiny model saved as .keras and .h5, and its weights alone as .h5 (no model config)."""
    folder = tmp_path_factory.mktemp("tiny")
    model = hostile.small_keras_model()
    model.save(folder / "tiny.keras")
    model.save(folder / "tiny.h5")
    model.save_weights(folder / "tiny.weights.h5")
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def _no_keras_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keras.models, "load_model", lambda *_a, **_k: pytest.fail("Keras loaded a file past a limit"))


def _no_member_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *_a, **_k: pytest.fail("a member was read before the directory was checked"))


def test_a_keras_file_whose_config_unpacks_to_1_gb_is_refused_from_its_directory(tiny_files, monkeypatch) -> None:
    """The issue's file: a ~5 MB .keras whose config.json unpacks to 1 GB (it took the server from 0.9 to 4 GB)."""
    config = json.dumps(hostile.keras_config(tiny_files["tiny.keras"])).encode()
    bomb = hostile.rewrite_keras_archive(tiny_files["tiny.keras"], {"config.json": config}, pad={"config.json": 2**30}, compresslevel=1)
    assert len(bomb) < 6 * 2**20
    _no_keras_loading(monkeypatch)
    _no_member_read(monkeypatch)
    result = load_uploaded_model("bomb.keras", bomb)
    assert result.kind == "too_large" and not result.ok
    assert result.error.startswith("'bomb.keras' unpacks to 1,024.")
    limit = "the limit is max unpacked size of a .keras, .h5 or .npz file (MB) = 1,024 (set KFS_MAX_UNPACKED_MB to change it)"
    assert limit in result.error


def test_a_keras_file_with_an_8_mb_config_is_refused_by_the_config_limit(tiny_files, monkeypatch) -> None:
    config = json.dumps(hostile.keras_config(tiny_files["tiny.keras"])).encode()
    padded = hostile.rewrite_keras_archive(tiny_files["tiny.keras"], {"config.json": config}, pad={"config.json": 8 * 2**20})
    assert len(padded) < 100_000
    _no_keras_loading(monkeypatch)
    result = load_uploaded_model("padded.keras", padded)
    assert result.error == (
        "the model config inside 'padded.keras' is 8.0 MB; the limit is max size of a spec, project or model config (MB) = 5 "
        "(set KFS_MAX_UPLOAD_MB to change it)."
    )


@pytest.mark.parametrize("name", ["tiny.keras", "tiny.h5"])
def test_parameters_are_counted_before_keras_allocates_a_weight(name, tiny_files, monkeypatch) -> None:
    monkeypatch.setenv("KFS_MAX_PARAMS", "1000")
    _no_keras_loading(monkeypatch)
    result = load_uploaded_model(name, tiny_files[name])
    limit = "the limit is max parameters per model = 1,000 (set KFS_MAX_PARAMS to change it)."
    assert result.error == f"'{name}' would have 7,850 parameters; {limit}"


def test_a_keras_file_declaring_dense_units_1e9_is_refused_before_loading(tiny_files, monkeypatch) -> None:
    config = json.dumps(hostile.keras_config(tiny_files["tiny.keras"])).replace('"units": 10,', '"units": 1000000000,').encode()
    huge = hostile.rewrite_keras_archive(tiny_files["tiny.keras"], {"config.json": config})
    _no_keras_loading(monkeypatch)
    result = load_uploaded_model("huge.keras", huge)
    assert result.error.startswith("'huge.keras' would have 785,000,000,000 parameters; the limit is max parameters per model = 200,000,")


def test_layers_and_nesting_of_models_in_a_file_are_limited(tmp_path: Path, monkeypatch) -> None:
    inputs = keras.Input((4,))
    inner = keras.Model(inputs, keras.layers.Dense(2)(inputs), name="inner")
    outer_inputs = keras.Input((4,))
    middle = keras.Model(outer_inputs, inner(outer_inputs), name="middle")
    top_inputs = keras.Input((4,))
    keras.Model(top_inputs, middle(top_inputs), name="top").save(tmp_path / "nested.keras")
    data = (tmp_path / "nested.keras").read_bytes()
    monkeypatch.setenv("KFS_MAX_MODEL_DEPTH", "1")
    assert "'nested.keras' nests models 2 levels deep; the limit is max depth of models nested in models = 1" in load_uploaded_model(
        "nested.keras", data
    ).error
    monkeypatch.setenv("KFS_MAX_MODEL_DEPTH", "5")
    monkeypatch.setenv("KFS_MAX_NODES", "3")
    assert "'nested.keras' has 6 layers; the limit is max nodes per graph = 3" in load_uploaded_model("nested.keras", data).error
    monkeypatch.delenv("KFS_MAX_NODES")
    assert load_uploaded_model("nested.keras", data).ok


def test_what_hdf5_datasets_hold_is_measured_without_reading_them(tiny_files, tmp_path, monkeypatch) -> None:
    keras_file = tmp_path / "tiny.keras"
    keras_file.write_bytes(tiny_files["tiny.keras"])
    with zipfile.ZipFile(keras_file) as archive:  # the weights inside a .keras, read in place
        assert loading._weights_declared_bytes(keras_file, archive.getinfo("model.weights.h5")) == 7_850 * 4
    bomb = tmp_path / "bomb.h5"
    bomb.write_bytes(tiny_files["tiny.h5"])
    with h5py.File(bomb, "a") as handle:  # 2 GiB of gzip-compressed fill: a few kB on disk
        handle["model_weights"].create_dataset("padding", shape=(2**28,), dtype="f8", chunks=(2**20,), compression="gzip")
    assert bomb.stat().st_size < 100_000
    _no_keras_loading(monkeypatch)
    result = load_uploaded_model("bomb.h5", bomb.read_bytes())
    assert result.error.startswith("'bomb.h5' unpacks to 2,048.0 MB; the limit is max unpacked size of a .keras, .h5 or .npz file")


def test_messages_name_the_uploaded_file_never_the_temporary_one(tiny_files) -> None:
    result = load_uploaded_model("my weights.h5", tiny_files["tiny.weights.h5"])  # weights only: no model config
    assert not result.ok and "'my weights.h5'" in result.error
    assert "studio-upload" not in result.error and "upload.h5" not in result.error and "/tmp" not in result.error


# --- data files ----------------------------------------------------------------------------------


def test_a_tiny_npz_of_zeros_declaring_160_million_values_is_refused_before_loading(monkeypatch) -> None:
    data = hostile.zeros_npz()
    assert len(data) < 2**20
    monkeypatch.setattr(np, "load", lambda *_a, **_k: pytest.fail("np.load ran on data past the limit"))
    message = (
        r"'zeros.npz' holds 240,000,000 values \(samples x features over all its arrays\); "
        r"the limit is max values in a data file \(samples x features\) = 64,000,000 \(set KFS_MAX_DATA_VALUES to change it\)"
    )
    with pytest.raises(DataError, match=message):
        read_user_data(data, "zeros.npz", ["x"], ["y"])


def test_an_npz_that_unpacks_past_the_limit_is_refused_from_its_directory(monkeypatch) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.zeros((300_000, 2), np.float32), y=np.zeros(300_000, np.float32))  # 3.4 MB unpacked
    monkeypatch.setenv("KFS_MAX_UNPACKED_MB", "2")
    _no_member_read(monkeypatch)
    with pytest.raises(DataError, match=r"'small.npz' unpacks to 3.4 MB; the limit is max unpacked size .* = 2 \(set KFS_MAX_UNPACKED_MB"):
        read_user_data(buffer.getvalue(), "small.npz", ["x"], ["y"])


def test_a_csv_past_the_values_limit_is_refused_before_pandas_reads_it(monkeypatch) -> None:
    monkeypatch.setenv("KFS_MAX_DATA_VALUES", "100")
    monkeypatch.setattr(pd, "read_csv", lambda *_a, **_k: pytest.fail("pandas read a CSV past the limit"))
    data = b"a,b,label\n" + b"1,2,0\n" * 40
    with pytest.raises(DataError, match=re.escape("'wide.csv' holds 120 values (samples x features over all its arrays)")):
        read_user_data(data, "wide.csv", ["x"], ["y"])


def test_data_within_the_limits_still_reads() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, x=np.ones((10, 3), np.float32), y=np.arange(10))
    dataset = read_user_data(buffer.getvalue(), "fine.npz", ["x"], ["y"])
    assert dataset.num_train + dataset.num_test == 10

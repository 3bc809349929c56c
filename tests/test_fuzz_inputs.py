"""Fuzzing every way in: spec and project readers, the builder and user data files, with valid and hostile input.

Each reader may refuse only with its documented error (SpecError, LimitExceeded, DataError), with a message; the
builder never raises on a spec it was given (every problem lands on a node). Budgets are fixed and small so CI stays
fast; `bench/bench_fuzz.py` runs the same properties longer.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.catalog import table
from studio.gate import LimitExceeded
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import SpecError, spec_from_dict, spec_from_json
from studio.io.project_file import read_project
from studio.model.analysis import analyze_for_display
from studio.training.data import read_user_data
from studio.training.datasets import DataError

BUDGET = int(os.environ.get("KFS_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=BUDGET, deadline=None, suppress_health_check=list(HealthCheck))

HOSTILE_TEXT = st.sampled_from(["", "x" * 200, "__import__('os').system('id')", "a\nb", "\x00", "💥", '"""', "C:\\Nets\\x", "dense:7"])
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(allow_nan=False), st.text(max_size=20), HOSTILE_TEXT
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)


def _mutated_preset(draw) -> dict:
    """A preset's plain data with a few fields replaced by hostile or random values."""
    data = load_preset(draw(st.sampled_from(preset_names()))).to_dict()
    for _ in range(draw(st.integers(0, 4))):
        target = draw(st.sampled_from(["name", "inputs", "outputs", "layer", "call", "config"]))
        value = draw(JSON_VALUES)
        if target in ("name", "inputs", "outputs"):
            data[target] = value
        elif target == "layer" and data["layers"]:
            layer = draw(st.sampled_from(data["layers"]))
            layer[draw(st.sampled_from(["id", "type", "config", "trainable"]))] = value
        elif target == "call" and data["calls"]:
            call = draw(st.sampled_from(data["calls"]))
            call[draw(st.sampled_from(["id", "layer", "inputs"]))] = value
        elif data["layers"]:
            layer = draw(st.sampled_from(data["layers"]))
            if isinstance(layer.get("config"), dict):
                layer["config"][draw(st.sampled_from(["units", "activation", "shape", "rate", "bogus key", "filters"]))] = value
    return data


@st.composite
def spec_documents(draw) -> str:
    """JSON text of a spec or project: mutated presets, random JSON, deep nesting, or not JSON at all."""
    kind = draw(st.sampled_from(["mutated", "random", "deep", "garbage", "project"]))
    if kind == "mutated":
        return json.dumps(_mutated_preset(draw))
    if kind == "random":
        return json.dumps(draw(JSON_VALUES))
    if kind == "deep":
        depth = draw(st.integers(50, 5000))
        return "[" * depth + "]" * depth
    if kind == "project":
        return json.dumps(
            {
                "format": "keras-functional-studio-project/1",
                "spec": _mutated_preset(draw),
                "settings": draw(JSON_VALUES),
                "dataset": draw(JSON_VALUES),
            }
        )
    return draw(st.text(max_size=200))


@FUZZ
@given(spec_documents())
def test_spec_and_project_readers_refuse_only_with_their_own_errors(text: str) -> None:
    for read in (spec_from_json, lambda value: read_project(value, "fuzz.json")):
        try:
            read(text)
        except (SpecError, LimitExceeded) as error:
            assert str(error).strip()


@st.composite
def buildable_specs(draw) -> dict:
    """A small chain of catalogue layers on one Input, with random (often wrong) configs: for the builder."""
    layers = [
        {"id": "x", "type": "Input", "config": {"shape": draw(st.lists(st.one_of(st.none(), st.integers(0, 40)), min_size=1, max_size=3))}}
    ]
    calls = [{"id": "x", "layer": "x", "inputs": []}]
    plain = [name for name in table.PLAIN_LAYERS if table.ARITY.get(name, (1, 1)) == (1, 1)]
    for index in range(draw(st.integers(1, 4))):
        layer_type = draw(st.sampled_from(plain))
        config = table.default_config(layer_type)
        if draw(st.booleans()):
            config[draw(st.sampled_from(["units", "activation", "rate", "filters", "kernel_size", "bogus"]))] = draw(JSON_SCALARS)
        layer_id = f"n{index}"
        layers.append({"id": layer_id, "type": layer_type, "config": config})
        calls.append({"id": layer_id, "layer": layer_id, "inputs": [calls[-1]["id"]]})
    return {
        "name": draw(st.one_of(st.just("fuzz"), HOSTILE_TEXT)),
        "layers": layers,
        "calls": calls,
        "inputs": ["x"],
        "outputs": [calls[-1]["id"]],
    }


@settings(max_examples=max(BUDGET // 2, 10), deadline=None, suppress_health_check=list(HealthCheck))
@given(buildable_specs())
def test_the_builder_reports_problems_on_nodes_and_never_raises(data: dict) -> None:
    try:
        spec = spec_from_dict(data)
    except SpecError:
        return
    result = analyze_for_display(spec)
    assert result.ok == (not result.problems)
    assert all(problem.message.strip() for problem in result.problems)


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@st.composite
def data_files(draw) -> tuple[str, bytes]:
    """A user data file: a CSV (maybe ragged or not numbers), an NPZ (maybe wrong shapes or names), or junk bytes."""
    kind = draw(st.sampled_from(["csv", "npz", "junk", "zip"]))
    if kind == "csv":
        rows = draw(
            st.lists(st.lists(st.one_of(st.floats(allow_nan=True), st.integers(), HOSTILE_TEXT), min_size=1, max_size=5), max_size=6)
        )
        header = draw(st.sampled_from(["img,digits", "a,b,c", "", "img_0,img_1,digits"]))
        return "data.csv", (header + "\n" + "\n".join(",".join(map(str, row)) for row in rows)).encode()
    if kind == "npz":
        names = draw(st.lists(st.sampled_from(["img", "digits", "x", "y", "x_test"]), min_size=0, max_size=3, unique=True))
        shape = draw(st.lists(st.integers(0, 6), min_size=1, max_size=3))
        dtype = draw(st.sampled_from([np.float32, np.int64, np.bool_, np.float64]))
        return "data.npz", _npz({name: np.zeros(shape, dtype) for name in names})
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("img.npy", draw(st.binary(max_size=64)))
        return "data.npz", buffer.getvalue()
    return draw(st.sampled_from(["data.csv", "data.npz", "data.txt"])), draw(st.binary(max_size=256))


@FUZZ
@given(data_files())
def test_data_files_are_read_or_refused_with_a_data_error(named: tuple[str, bytes]) -> None:
    file_name, data = named
    try:
        read_user_data(data, file_name, ["img"], ["digits"])
    except (DataError, LimitExceeded) as error:
        assert str(error).strip()

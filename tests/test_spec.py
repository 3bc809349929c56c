"""The spec: plain data with a JSON form that round-trips exactly, and clear errors for bad data."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.graph.presets import load_preset, preset_names, resolve_spec
from studio.graph.spec import SpecError, load_spec, make_ref, spec_from_dict, spec_from_json, split_ref

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("key", preset_names())
def test_json_round_trip_is_identity_for_every_preset(key):
    spec = load_preset(key)
    text = spec.to_json()
    assert spec_from_json(text) == spec
    assert spec_from_json(text).to_json() == text
    assert json.loads((ROOT / "presets" / f"{key}.json").read_text()) == spec.to_dict()


def test_all_seven_presets_ship_with_description_and_section():
    assert preset_names() == ["mnist_mlp", "encoder", "decoder", "autoencoder", "multi_io", "shared_embedding", "vgg16_features"]
    for key in preset_names():
        spec = load_preset(key)
        assert spec.description and spec.section


def test_presets_are_never_mutated_by_use():
    spec = load_preset("mnist_mlp")
    spec.layers[1].config["units"] = 999
    spec.calls.clear()
    assert load_preset("mnist_mlp").layer("dense").config["units"] == 32
    assert len(load_preset("mnist_mlp").calls) == 4


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(SpecError, match="Unknown preset 'nope'.*mnist_mlp"):
        load_preset("nope")
    with pytest.raises(SpecError, match="neither a preset"):
        resolve_spec("nope")


def test_refs_split_and_join():
    assert split_ref("vgg16:3") == ("vgg16", 3)
    assert split_ref("dense") == ("dense", 0)
    assert make_ref("vgg16", 3) == "vgg16:3" and make_ref("dense") == "dense"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({"layers": {}}, "`layers` must be a list"),
        ({"layers": [{"type": "Dense"}]}, "needs a non-empty string `id`"),
        ({"layers": [{"id": "d", "type": "Dense", "config": 3}]}, "`config` must be an object"),
        ({"calls": [{"id": "d", "inputs": "x"}]}, "`inputs` must be a list"),
        ({"name": ""}, "`name` must be a non-empty string"),
        ({"bogus": 1}, "Unknown keys"),
        ({"format": "other/9"}, "Unsupported spec format"),
    ],
)
def test_malformed_data_raises_spec_error_saying_what_is_wrong(data, message):
    with pytest.raises(SpecError, match=message):
        spec_from_dict(data)


def test_bad_json_text_and_files(tmp_path):
    with pytest.raises(SpecError, match="Not valid JSON.*line 1"):
        spec_from_json("{not json")
    with pytest.raises(SpecError, match="Cannot read spec file"):
        load_spec(tmp_path / "missing.json")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(binary)


def test_core_never_imports_streamlit():
    code = (
        "import sys, studio, pkgutil, importlib\n"
        "for m in pkgutil.iter_modules(studio.__path__):\n"
        "    if m.name != '__main__': importlib.import_module('studio.' + m.name)\n"
        "print('streamlit' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    for path in (ROOT / "studio").rglob("*.py"):
        assert "import streamlit" not in path.read_text(), path

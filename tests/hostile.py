"""Hostile inputs of issue 12 (Memory and Depth), built small: deep JSON, deeply nested models, huge graphs, huge layers,
model files whose insides unpack far beyond their size, and a tiny NPZ of zeros that declares 160 million values."""

from __future__ import annotations

import io
import json
import zipfile
from functools import lru_cache

import numpy as np

ZEROS_SHAPE = (80_000_000, 2)  # the 0.7 MB .npz: "accepted as 72,000,000 training samples"


def deep_json_arrays(depth: int = 100_000) -> str:
    """`[[[...]]]` nested `depth` times: a few hundred kB that no recursive parser survives."""
    return "[" * depth + "]" * depth


def _flat(name: str, units: int = 2, shape: int = 4) -> dict:
    return {
        "name": name,
        "layers": [{"id": "x", "type": "Input", "config": {"shape": [shape]}}, {"id": "d", "type": "Dense", "config": {"units": units}}],
        "calls": [{"id": "x", "layer": "x", "inputs": []}, {"id": "d", "layer": "d", "inputs": ["x"]}],
        "inputs": ["x"],
        "outputs": ["d"],
    }


def nested_models(levels: int) -> dict:
    """A spec whose model holds a model that holds a model ... `levels` deep (each level a valid spec)."""
    spec = _flat("m0")
    for level in range(1, levels + 1):
        spec = {
            "name": f"m{level}",
            "layers": [
                {"id": "x", "type": "Input", "config": {"shape": [4]}},
                {"id": f"n{level}", "type": "Model", "config": {"spec": spec}},
            ],
            "calls": [{"id": "x", "layer": "x", "inputs": []}, {"id": f"n{level}", "layer": f"n{level}", "inputs": ["x"]}],
            "inputs": ["x"],
            "outputs": [f"n{level}"],
        }
    return spec


def many_nodes(count: int = 10_000) -> dict:
    """One Input and `count` calls of a shared Dense: `count + 1` nodes."""
    calls = [{"id": "x", "layer": "x", "inputs": []}] + [{"id": f"n{i}", "layer": "d", "inputs": ["x"]} for i in range(count)]
    spec = _flat("huge")
    spec["calls"], spec["outputs"] = calls, ["n0"]
    return spec


def huge_dense(units: int = 10**9) -> dict:
    """Input(4) -> Dense(units): 5 x 10**9 parameters at 10**9 units (20 GB of float32 if ever built)."""
    return _flat("huge dense", units=units)


def small_keras_model():
    """A tiny functional model (7,850 parameters) to save and tamper with."""
    import keras

    inputs = keras.Input((784,), name="pixels")
    return keras.Model(inputs, keras.layers.Dense(10, name="digits")(inputs), name="tiny")


def rewrite_keras_archive(source: bytes, replace: dict[str, bytes], pad: dict[str, int] | None = None, compresslevel: int = 9) -> bytes:
    """A copy of a .keras archive with some members replaced and `pad[name]` spaces streamed after a member, deflated
    (so the padding costs almost nothing on disk, and nothing in memory while it is written)."""
    out = io.BytesIO()
    deflated = {"compression": zipfile.ZIP_DEFLATED, "compresslevel": compresslevel}
    chunk = b" " * 2**22
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(out, "w", **deflated) as copy:
        for name in original.namelist():
            with copy.open(name, "w", force_zip64=True) as member:
                member.write(replace.get(name, original.read(name)))
                left = (pad or {}).get(name, 0)
                while left:
                    member.write(chunk[: min(left, len(chunk))])
                    left -= min(left, len(chunk))
    return out.getvalue()


def keras_config(archive: bytes) -> dict:
    """The config.json of a .keras archive."""
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return json.loads(opened.read("config.json"))


@lru_cache(maxsize=1)
def zeros_npz() -> bytes:
    """The issue's file: np.savez_compressed of 80,000,000 x 2 float32 zeros and as many uint8 labels (0.7 MB on disk, 720 MB unpacked)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.zeros(ZEROS_SHAPE, np.float32), y=np.zeros(ZEROS_SHAPE[0], np.uint8))
    return buffer.getvalue()

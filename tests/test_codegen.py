"""Generated code runs in a fresh process and rebuilds the studio's architecture exactly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import pytest

from studio.catalog import types as catalog
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import GraphSpec, LayerSpec, SpecError, spec_from_dict
from studio.io.codegen import LINE_LENGTH, generate_code
from studio.model.build import build_model

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL_PARAMS = {
    "mnist_mlp": 27_882,
    "encoder": 18_672,
    "decoder": 9_569,
    "autoencoder": 28_241,
    "multi_io": 368_097,
    "shared_embedding": 6_400,
    "vgg16_features": 138_357_544,
}


def _nested(name: str, layers: list[dict], calls: list[tuple], inputs: list[str], outputs: list[str]) -> dict:
    return {
        "name": name,
        "layers": layers,
        "calls": [{"id": call_id, "layer": layer, "inputs": list(refs)} for call_id, layer, refs in calls],
        "inputs": inputs,
        "outputs": outputs,
    }


# A spec with what the presets lack: a wrapper, a frozen layer, a frozen nested model with two
# outputs, a shared layer whose first call has the layer's own id, ids that are not identifiers
# ("bi.lstm-1") or shadow builtins ("input"), and an application used on a tensor with frozen inner layers.
EXTRAS = _nested(
    "extras",
    [
        {"id": "input", "type": "Input", "config": {"shape": [10, 8]}},
        {
            "id": "bi.lstm-1",
            "type": "Bidirectional",
            "config": {"layer": {"type": "LSTM", "config": {"units": 4, "return_sequences": True}}},
        },
        {
            "id": "pair",
            "type": "Model",
            "trainable": False,
            "config": {
                "spec": _nested(
                    "two_heads",
                    [
                        {"id": "features", "type": "Input", "config": {"shape": [10, 8]}},
                        {"id": "left", "type": "Dense", "config": {"units": 5}},
                        {"id": "right", "type": "Dense", "config": {"units": 5, "activation": "tanh"}},
                    ],
                    [("features", "features", []), ("left", "left", ["features"]), ("right", "right", ["features"])],
                    ["features"],
                    ["left", "right"],
                )
            },
        },
        {"id": "shared", "type": "Dense", "config": {"units": 6}},
        {"id": "add", "type": "Add", "config": {}},
        {"id": "frozen", "type": "Dense", "config": {"units": 3, "use_bias": False}, "trainable": False},
        {"id": "flat", "type": "Flatten", "config": {}},
        {"id": "picture", "type": "Input", "config": {"shape": [32, 32, 3]}},
        {
            "id": "vgg16",
            "type": "VGG16",
            "config": {
                "weights": None,
                "include_top": False,
                "input_shape": [32, 32, 3],
                "outputs": ["block1_pool", "block5_pool"],
                "frozen": ["block1_conv1"],
            },
        },
        {"id": "pool", "type": "GlobalAveragePooling2D", "config": {}},
    ],
    [
        ("input", "input", []),
        ("bi", "bi.lstm-1", ["input"]),
        ("pair", "pair", ["bi"]),
        ("shared", "shared", ["pair"]),
        ("shared_1", "shared", ["pair:1"]),
        ("add", "add", ["shared", "shared_1"]),
        ("frozen", "frozen", ["add"]),
        ("flat", "flat", ["frozen"]),
        ("picture", "picture", []),
        ("vgg16", "vgg16", ["picture"]),
        ("pool", "pool", ["vgg16:1"]),
    ],
    ["input", "picture"],
    ["flat", "pair:1", "pool", "vgg16"],
)

LONG_NAME = "a_rather_long_layer_name_that_needs_the_statement_split"
SIDE_INPUTS = ("second_input_with_a_rather_long_name", "third_input_with_a_rather_long_name")
LONG = _nested(
    'the "long" model',
    [
        {"id": "x", "type": "Input", "config": {"shape": [4]}},
        *({"id": name, "type": "Input", "config": {"shape": [8]}} for name in SIDE_INPUTS),
        {"id": LONG_NAME, "type": "Dense", "config": {"units": 8, "activation": "relu", "use_bias": False}},
        {"id": "joined_together", "type": "Concatenate", "config": {}},
    ],
    [
        ("x", "x", []),
        *((name, name, []) for name in SIDE_INPUTS),
        (LONG_NAME, LONG_NAME, ["x"]),
        ("joined_together", "joined_together", [LONG_NAME, *SIDE_INPUTS]),
    ],
    ["x", *SIDE_INPUTS],
    ["joined_together"],
)

# Bidirectional(LSTM(return_state=True)) gives 5 tensors (output, then forward and backward h and c) although the
# graph uses only the first: the code must keep the list and index it.
BI_STATES = _nested(
    "bi_states",
    [
        {"id": "seq", "type": "Input", "config": {"shape": [5, 3]}},
        {"id": "bi", "type": "Bidirectional", "config": {"layer": {"type": "LSTM", "config": {"units": 2, "return_state": True}}}},
        {"id": "head", "type": "Dense", "config": {"units": 1}},
    ],
    [("seq", "seq", []), ("bi", "bi", ["seq"]), ("head", "head", ["bi"])],
    ["seq"],
    ["head"],
)

RUNNER = textwrap.dedent(
    """
    import json
    import runpy
    import sys

    import keras


    def configs(model, prefix=""):
        found = {}
        for layer in model.layers:
            found[prefix + layer.name] = layer.get_config()
            if isinstance(layer, keras.Model):
                found.update(configs(layer, prefix + layer.name + "/"))
        return found


    results = {}
    for path in sys.argv[2:]:
        keras.backend.clear_session()  # a fresh process for each file, as far as Keras's layer names go
        namespace = runpy.run_path(path)  # not as __main__: the training lines must not run
        model = namespace["model"]
        trained = sorted(name for name in ("history", "scores", "x_train") if name in namespace)
        results[path] = {"params": model.count_params(), "configs": configs(model), "name": model.name, "trained": trained}
    with open(sys.argv[1], "w", encoding="utf-8") as handle:
        json.dump(results, handle, default=repr)
    """
)


def _configs(model: keras.Model, prefix: str = "") -> dict:
    """get_config of every layer by name, nested models' layers under 'outer/inner' (same as the runner)."""
    found = {}
    for layer in model.layers:
        found[prefix + layer.name] = layer.get_config()
        if isinstance(layer, keras.Model):
            found.update(_configs(layer, prefix + layer.name + "/"))
    return found


def _specs() -> dict[str, GraphSpec]:
    specs = {key: load_preset(key) for key in preset_names()}
    specs["extras"] = spec_from_dict(EXTRAS)
    specs["long"] = spec_from_dict(LONG)
    specs["bi_states"] = spec_from_dict(BI_STATES)
    return specs


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every spec's code run in ONE fresh process, while the same specs are built here meanwhile."""
    folder = tmp_path_factory.mktemp("generated")
    specs = _specs()
    codes = {key: generate_code(spec) for key, spec in specs.items()}
    paths = {}
    for key, code in codes.items():
        paths[key] = folder / f"{key}.py"
        paths[key].write_text(code, encoding="utf-8")
    runner = folder / "runner.py"
    runner.write_text(RUNNER, encoding="utf-8")
    results_path = folder / "results.json"
    process = subprocess.Popen(
        [sys.executable, str(runner), str(results_path), *map(str, paths.values())],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        expected = {}
        for key, spec in specs.items():
            if any(layer.type in catalog.APPLICATION_TYPES for layer in spec.layers):
                keras.backend.clear_session()  # an application names its input from a process-wide counter
            model = build_model(spec)
            expected[key] = {"params": model.count_params(), "configs": json.loads(json.dumps(_configs(model), default=repr))}
        _, errors = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, f"generated code failed in a fresh process:\n{errors[-3000:]}"
    ran = json.loads(results_path.read_text(encoding="utf-8"))
    actual = {key: ran[str(path)] for key, path in paths.items()}
    return {"codes": codes, "paths": paths, "folder": folder, "expected": expected, "actual": actual}


@pytest.mark.parametrize("key", [*preset_names(), "extras", "long", "bi_states"])
def test_generated_code_rebuilds_the_same_architecture(generated: dict, key: str) -> None:
    expected, actual = generated["expected"][key], generated["actual"][key]
    assert actual["params"] == expected["params"]
    assert sorted(actual["configs"]) == sorted(expected["configs"])
    for name, config in expected["configs"].items():
        assert actual["configs"][name] == config, f"layer '{name}' of '{key}' differs"


@pytest.mark.parametrize("key", preset_names())
def test_presets_keep_the_tutorial_parameter_counts(generated: dict, key: str) -> None:
    assert generated["actual"][key]["params"] == TUTORIAL_PARAMS[key]


def test_generated_code_is_ruff_formatted(generated: dict) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (requirements-dev.txt)")
    scripts = [str(path) for path in generated["paths"].values()]
    for extra in ([], ["--line-length", "140"]):
        result = subprocess.run([ruff, "format", "--isolated", "--check", *extra, *scripts], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    lint = subprocess.run([ruff, "check", "--isolated", *scripts], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout


def test_tutorial_style_for_the_simple_network(generated: dict) -> None:
    code = generated["codes"]["mnist_mlp"]
    assert code.startswith("# Generated by Keras Functional Studio: the functional-API code of a model spec.\n")
    assert '\n# Model "mnist model" (tutorial section 1.1 Build a simple network).\n' in code
    assert "import keras\nfrom keras import layers\n" in code
    assert 'img = keras.Input(shape=(784,), name="img")\n' in code
    assert 'dense = layers.Dense(32, activation="relu", name="dense")(img)\n' in code
    assert code.endswith('model = keras.Model(inputs=img, outputs=dense_2, name="mnist model")\n')


def test_shared_layer_is_one_variable_called_twice(generated: dict) -> None:
    code = generated["codes"]["shared_embedding"]
    assert code.count("layers.Embedding(") == 1
    assert 'share_embedding = layers.Embedding(100, 64, name="share_embedding")\n' in code
    assert "feat1 = share_embedding(input1)\n" in code
    assert "feat2 = share_embedding(input2)\n" in code
    assert 'input1 = keras.Input(shape=(None,), dtype="int32", name="input1")' in code


def test_merge_layers_take_a_list(generated: dict) -> None:
    code = generated["codes"]["multi_io"]
    assert 'concatenate = layers.Concatenate(name="concatenate")([lstm_1, lstm, tag])\n' in code
    assert "inputs=[body, title, tag]" in code and "outputs=[priority, department]" in code


def test_nested_models_are_functions_used_as_layers(generated: dict) -> None:
    code = generated["codes"]["autoencoder"]
    assert "def build_encoder():\n" in code and "def build_decoder():\n" in code
    assert 'return keras.Model(inputs=image, outputs=global_max_pooling2d, name="encoder")' in code
    assert "encoder_model = build_encoder()\nencoder = encoder_model(img)\n" in code
    assert "decoder = decoder_model(encoder)\n" in code


def test_application_on_its_own_input_stays_flat(generated: dict) -> None:
    code = generated["codes"]["vgg16_features"]
    assert 'vgg16_base = keras.applications.VGG16(weights=None, include_top=True, name="vgg16")\n' in code
    assert 'vgg16_base.get_layer("block1_conv1").output,' in code
    assert "inputs=vgg16_base.input," in code and "outputs=vgg16_outputs," in code
    assert "from keras import layers" not in code  # nothing uses it


def test_extras_wrappers_frozen_layers_and_names(generated: dict) -> None:
    code = generated["codes"]["extras"]
    assert 'input_ = keras.Input(shape=(10, 8), name="input")' in code  # `input` is a builtin
    assert 'layers.Bidirectional(\n    layers.LSTM(4, return_sequences=True, name="bi.lstm-1_inner"),' in code
    assert "pair_outputs = pair(bi)\n" in code and "pair.trainable = False\n" in code
    assert "shared = shared_layer(pair_outputs[0])\nshared_1 = shared_layer(pair_outputs[1])\n" in code
    assert "frozen_layer.trainable = False\n" in code
    assert 'vgg16_base.get_layer("block1_conv1").trainable = False\n' in code
    assert "vgg16_outputs = vgg16(picture)\n" in code


def test_broken_spec_raises_spec_error_naming_the_node() -> None:
    spec = load_preset("mnist_mlp")
    spec.calls[1].inputs = ["nowhere"]
    with pytest.raises(SpecError, match="Node 'dense': input 'nowhere' does not exist"):
        generate_code(spec)
    spec = load_preset("mnist_mlp")
    spec.calls[2].inputs = ["dense_2"]
    with pytest.raises(SpecError, match="Node 'dense_1': is part of a cycle: dense_1 -> dense_2 -> dense_1"):
        generate_code(spec)


def test_a_layer_that_is_never_called_is_left_out() -> None:
    spec = load_preset("mnist_mlp")
    spec.layers.append(LayerSpec(id="spare", type="Dense", config={"units": 3}))
    code = generate_code(spec)
    assert "spare" not in code and code == generate_code(load_preset("mnist_mlp"))


def test_long_statements_are_split_with_magic_trailing_commas(generated: dict) -> None:
    code = generated["codes"]["long"]
    assert f'{LONG_NAME} = layers.Dense(\n    8,\n    activation="relu",\n    use_bias=False,\n' in code
    assert f'    name="{LONG_NAME}",\n)(x)\n' in code
    merge = f'joined_together = layers.Concatenate(\n    name="joined_together",\n)(\n    [\n        {LONG_NAME},\n'
    assert merge in code
    assert "name='the \"long\" model'" in code  # quoted the way ruff format quotes it
    assert all(len(line) <= LINE_LENGTH for line in code.splitlines())


def test_a_bidirectional_layer_returning_states_is_a_list(generated: dict) -> None:
    code = generated["codes"]["bi_states"]
    assert "bi_outputs = layers.Bidirectional(" in code and "(bi_outputs[0])" in code

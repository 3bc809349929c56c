"""The tutorial code style (issue 10, item 5): for every preset the code builds, in a fresh process, the same layers
(configs and parameter counts) as the studio without running its training lines, and parses back to the same graph
with the tutorial's training settings; it is written as the tutorial writes (tensorflow.keras imports, short variable
names, names only where Keras would not give them)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_codegen import BI_STATES, EXTRAS, LONG, TUTORIAL_PARAMS, _configs
from test_pycode_roundtrip import normalized, random_specs, spec_with

from studio.catalog.table import APPLICATION_TYPES, TYPE_NAMES
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import GraphSpec, spec_from_dict
from studio.io.codegen import generate_code
from studio.io.codegen.roundtrip import parse_back_problem
from studio.io.pycode import parse_code
from studio.model.build import build_model
from studio.model.names import keras_model_name
from studio.training.script import tutorial_code
from studio.training.settings import default_settings
from tests.test_codegen import RUNNER

TRAINING_NAMES = ("history", "scores", "x_train")


IMAGE_TYPES = ("Conv2D", "Conv2DTranspose", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D",
               "GlobalAveragePooling2D", "UpSampling2D", "ZeroPadding2D", "Cropping2D")
INPUT_SHAPES = {**{name: [8, 8, 3] for name in IMAGE_TYPES}, "RepeatVector": [8], "Model": [6]}


def _buildable(type_name: str) -> GraphSpec:
    """The round-trip test's spec of one type, on inputs of a shape the type takes."""
    spec = spec_with(type_name)
    for layer in spec.layers:
        if layer.type == "Input":
            layer.config["shape"] = INPUT_SHAPES.get(type_name, [8, 4])
        elif type_name == "Reshape":
            layer.config["target_shape"] = [4, 8]
    return spec


def _catalogue_specs() -> dict[str, GraphSpec]:
    """One small spec per catalogue layer type (applications only in the presets: they are slow to build)."""
    return {f"type_{name}": _buildable(name) for name in TYPE_NAMES if name not in APPLICATION_TYPES}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Tutorial-style code of every preset (with training lines) and of more specs (model only), run in ONE fresh process."""
    folder = tmp_path_factory.mktemp("tutorial")
    specs = {key: load_preset(key) for key in preset_names()}
    codes = {key: tutorial_code(spec) for key, spec in specs.items()}
    extra = {"extras": spec_from_dict(EXTRAS), "long": spec_from_dict(LONG), "bi_states": spec_from_dict(BI_STATES), **_catalogue_specs()}
    codes.update({key: generate_code(spec, "tutorial") for key, spec in extra.items()})
    specs.update(extra)
    paths = {}
    for key, code in codes.items():
        paths[key] = folder / f"{key}.py"
        paths[key].write_text(code, encoding="utf-8")
    (folder / "runner.py").write_text(RUNNER, encoding="utf-8")
    process = subprocess.Popen([sys.executable, str(folder / "runner.py"), str(folder / "results.json"), *map(str, paths.values())],
                               cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        expected = {}
        for key, spec in specs.items():
            keras.backend.clear_session()
            model = build_model(spec)
            expected[key] = {"params": model.count_params(), "configs": json.loads(json.dumps(_configs(model), default=repr))}
            del model
        _, errors = process.communicate(timeout=900)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, f"tutorial-style code failed in a fresh process:\n{errors[-3000:]}"
    ran = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return {"codes": codes, "specs": specs, "expected": expected, "actual": {key: ran[str(path)] for key, path in paths.items()}}


KEYS = [*preset_names(), "extras", "long", "bi_states", *_catalogue_specs()]


@pytest.mark.parametrize("key", KEYS)
def test_tutorial_code_builds_the_same_layers_without_training(built: dict, key: str) -> None:
    expected, actual = built["expected"][key], built["actual"][key]
    assert actual["trained"] == [], "the training lines ran on import; they belong under the main guard"
    assert actual["params"] == expected["params"]
    assert sorted(actual["configs"]) == sorted(expected["configs"])  # the same layer names: name= where Keras's differ
    for name, config in expected["configs"].items():
        assert actual["configs"][name] == config, f"layer '{name}' of '{key}' differs"
    assert actual["name"] == built["specs"][key].name


@pytest.mark.parametrize("key", preset_names())
def test_tutorial_code_keeps_the_tutorial_parameter_counts(built: dict, key: str) -> None:
    assert built["actual"][key]["params"] == TUTORIAL_PARAMS[key]


def _same_graph(parsed: GraphSpec, spec: GraphSpec) -> None:
    mine, theirs = normalized(spec), normalized(parsed)
    mine["name"], theirs["name"] = keras_model_name(mine["name"]), keras_model_name(theirs["name"])
    assert theirs == mine


@pytest.mark.parametrize("key", preset_names())
def test_tutorial_code_parses_back_to_the_same_graph_and_settings(key: str) -> None:
    spec = load_preset(key)
    code = tutorial_code(spec)
    result = parse_code(code)
    assert not result.errors, [problem.text() for problem in result.errors]
    _same_graph(result.default_model.spec, spec)
    assert parse_back_problem(spec, code) is None
    if key == "vgg16_features":
        assert result.default_model.training == {}  # a feature extractor is run, not trained
        return
    defaults = default_settings(spec)
    training = result.default_model.training
    assert (training["optimizer"], training["learning_rate"]) == (defaults.optimizer, defaults.learning_rate)
    assert (training["batch_size"], training["epochs"]) == (defaults.batch_size, defaults.epochs)
    assert training.get("validation_split", 0.0) == defaults.validation_split
    read = {output["name"]: output for output in training["outputs"]}
    for output in defaults.outputs:
        assert read[output.name]["loss"] == output.loss and read[output.name].get("from_logits", False) == output.from_logits
        assert read[output.name].get("loss_weight", 1.0) == output.loss_weight
        assert read[output.name].get("metrics", []) == output.metrics


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_every_catalogue_type_in_the_tutorial_style_parses_back(type_name: str) -> None:
    spec = spec_with(type_name, "backbone" if type_name in APPLICATION_TYPES else "node")
    result = parse_code(generate_code(spec, "tutorial"))
    assert not result.errors, [problem.text() for problem in result.errors]
    assert normalized(result.default_model.spec) == normalized(spec)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_specs(), st.sampled_from(["studio", "tutorial"]))
def test_random_specs_parse_back_in_both_styles(spec: GraphSpec, style: str) -> None:
    result = parse_code(generate_code(spec, style))
    assert not result.errors, [problem.text() for problem in result.errors]
    assert normalized(result.default_model.spec) == normalized(spec)


def test_the_simple_network_reads_like_the_tutorial() -> None:
    code = tutorial_code(load_preset("mnist_mlp"))
    assert "from tensorflow import keras\nfrom tensorflow.keras import layers\n" in code and "\nimport keras\n" not in code
    body = code[code.index("inputs = "):code.index("if __name__")]
    assert body.splitlines()[:4] == [
        'inputs = keras.Input(shape=(784,), name="img")',  # `img` is not the name Keras would give an Input
        'h1 = layers.Dense(32, activation="relu")(inputs)',  # `dense` is: no name=
        'h2 = layers.Dense(64, activation="relu")(h1)',
        'outputs = layers.Dense(10, activation="softmax")(h2)',
    ]
    guard = code[code.index('if __name__ == "__main__":'):]
    assert "keras.datasets.mnist.load_data()" in guard and "keras.optimizers.RMSprop(learning_rate=0.001)" in guard
    assert "batch_size=64, epochs=5, validation_split=0.2" in guard and "model.evaluate(x_test, y_test" in guard
    assert 'model.name = "mnist_model"' in guard  # Keras 3 cannot train 'mnist model'; the build above keeps the name


def test_the_multi_io_section_gets_its_data_compile_and_fit() -> None:
    code = tutorial_code(load_preset("multi_io"))
    guard = code[code.index('if __name__ == "__main__":'):]
    assert "import numpy as np\n" in code
    assert '"priority": "binary_crossentropy"' in guard and '"department": "categorical_crossentropy"' in guard
    assert 'loss_weights={"priority": 1.0, "department": 0.2}' in guard
    assert "rng.integers(2000, size=(1536, 10))" in guard  # the studio's tickets: 1,280 to train on, 256 to test
    assert "history = model.fit(x_train, y_train, batch_size=32, epochs=5)" in guard


def test_nested_models_are_written_before_the_model_that_uses_them() -> None:
    code = generate_code(load_preset("autoencoder"), "tutorial")
    assert "def build_" not in code
    assert code.index('name="encoder"') < code.index('name="decoder"') < code.index('name="autoencoder"')
    assert "h1 = encoder(inputs)\noutputs = decoder(h1)\n" in code


def test_an_application_with_an_id_of_its_own_keeps_it_in_both_styles() -> None:
    spec = spec_with("VGG16", "backbone")
    spec = GraphSpec("extractor", spec.layers[-1:], [spec.calls[-1]], ["backbone"], ["backbone"])
    spec.calls[0].inputs = []
    for style in ("studio", "tutorial"):
        assert 'name="backbone"' in generate_code(spec, style)


@pytest.mark.parametrize("data", [LONG, BI_STATES], ids=["long", "bi_states"])  # EXTRAS names calls unlike their layers
@pytest.mark.parametrize("style", ["studio", "tutorial"])
def test_long_statements_and_recurrent_states_parse_back(data: dict, style: str) -> None:
    spec = spec_from_dict(data)
    result = parse_code(generate_code(spec, style))
    assert not result.errors, [problem.text() for problem in result.errors]
    assert normalized(result.default_model.spec) == normalized(spec)


def test_tutorial_code_is_ruff_formatted_and_clean(tmp_path) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (requirements-dev.txt)")
    for key in preset_names():
        (tmp_path / f"{key}.py").write_text(tutorial_code(load_preset(key)), encoding="utf-8")
        (tmp_path / f"{key}_model.py").write_text(generate_code(load_preset(key), "tutorial"), encoding="utf-8")
    formatted = subprocess.run([ruff, "format", "--isolated", "--check", str(tmp_path)], capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    lint = subprocess.run([ruff, "check", "--isolated", "--select", "E,F,W,I,B,UP", str(tmp_path)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout

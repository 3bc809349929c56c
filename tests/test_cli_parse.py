"""`python -m studio parse FILE.py [--model NAME]`, and .py files wherever a command takes a SPEC (summary, code,
diagram, script, train): parsed, never run; bad input exits with code 2 and one clear message."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from studio.cli import main as cli
from studio.graph.spec import spec_from_json
from studio.io.pycode import parse_code

TWO_MODELS = textwrap.dedent("""
    import keras
    from keras import layers

    pixels = keras.Input(shape=(784,), name="pixels")
    hidden = layers.Dense(16, activation="relu")(pixels)
    digit = layers.Dense(10, activation="softmax", name="digit")(hidden)
    classifier = keras.Model(pixels, digit, name="tiny mlp")
    classifier.compile(optimizer=keras.optimizers.Adam(learning_rate=0.002), loss="sparse_categorical_crossentropy",
                       metrics=["accuracy"])
    classifier.fit(x_train, y_train, batch_size=16, epochs=3, validation_split=0.1)

    features = keras.Model(pixels, hidden, name="features")
    features.summary()
""")


@pytest.fixture
def code_file(tmp_path: Path) -> Path:
    path = tmp_path / "models.py"
    path.write_text(TWO_MODELS, encoding="utf-8")
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_parse_prints_the_last_model_by_default_and_notes_on_stderr(capsys, code_file: Path) -> None:
    code, out, err = run(capsys, "parse", str(code_file))
    assert code == 0
    spec = spec_from_json(out)
    assert spec.name == "features" and spec.outputs == ["dense"]
    assert f"note: {code_file}:14: (skipped) `features.summary()`" in err


@pytest.mark.parametrize("name", ["tiny mlp", "classifier"])
def test_parse_picks_a_model_by_keras_name_or_variable(capsys, code_file: Path, name: str) -> None:
    code, out, _ = run(capsys, "parse", str(code_file), "--model", name, "--quiet")
    assert code == 0
    assert json.loads(out)["name"] == "tiny mlp"


@pytest.mark.parametrize(
    ("content", "argv", "message"),
    [
        (TWO_MODELS, ["--model", "other"], "No model called 'other' in"),
        ("import keras\nx = keras.Input((3,))\nfor i in range(2):\n    x = keras.layers.Dense(2)(x)\n", [], "models.py:3:1: `for` loops"),
        ('print "hi"\n', [], "models.py:1:1: not valid Python"),
        ("x = 1\n", [], "no Keras model found"),
    ],
    ids=["unknown_model", "loop", "python2", "no_model"],
)
def test_bad_code_exits_2_with_one_message(capsys, tmp_path: Path, content: str, argv: list[str], message: str) -> None:
    path = tmp_path / "models.py"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "parse", str(path), *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_parse_refuses_what_is_not_a_python_file(capsys, tmp_path: Path) -> None:
    assert run(capsys, "parse", str(tmp_path / "model.json"))[0] == 2
    code, _, err = run(capsys, "parse", str(tmp_path / "missing.py"))
    assert code == 2 and "does not exist" in err
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\xff\xfe\x00bad")
    code, _, err = run(capsys, "parse", str(binary))
    assert code == 2 and "not UTF-8" in err


def test_summary_code_and_diagram_take_a_python_file(capsys, code_file: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "summary", str(code_file))
    assert code == 0 and "Total params: 12,560" in out  # features: 784 * 16 + 16
    code, out, _ = run(capsys, "code", str(code_file))
    assert code == 0
    regenerated = parse_code(out).default_model.spec
    assert regenerated.to_dict() == parse_code(TWO_MODELS).default_model.spec.to_dict()
    target = tmp_path / "features.dot"
    code, out, _ = run(capsys, "diagram", str(code_file), "-o", str(target))
    assert code == 0 and target.read_text(encoding="utf-8").startswith("digraph")


def test_script_uses_the_compile_and_fit_settings_of_the_code(capsys, tmp_path: Path) -> None:
    path = tmp_path / "mlp.py"
    path.write_text(TWO_MODELS.split("features = ")[0], encoding="utf-8")
    code, out, _ = run(capsys, "script", str(path))
    assert code == 0
    assert "BATCH_SIZE = 16" in out and "EPOCHS = 3" in out and "keras.optimizers.Adam(learning_rate=0.002)" in out


def test_train_takes_a_python_file_and_its_settings(capsys, tmp_path: Path) -> None:
    path = tmp_path / "mlp.py"
    path.write_text(TWO_MODELS.split("features = ")[0], encoding="utf-8")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", str(path), "--epochs", "1", "--max-samples", "256", "--offline", "--out", str(out),
                       "--runs-dir", str(tmp_path / "runs"))
    assert code == 0, err
    run_record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    settings = run_record["compile_settings"]
    assert (settings["optimizer"], settings["learning_rate"], settings["batch_size"], settings["epochs"]) == ("Adam", 0.002, 16, 1)
    assert run_record["spec"]["name"] == "tiny mlp"

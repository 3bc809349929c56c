"""The command line: a few real `python -m studio` runs (in parallel), the rest through `cli.main` in-process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pydot
import pytest

import studio.graph.presets
from studio.cli import main as cli
from studio.graph.presets import load_preset
from studio.graph.spec import spec_from_json
from studio.model.build import build_model

REPO = Path(__file__).resolve().parent.parent
needs_graphviz = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed")

# Dense gives (None, 8); Conv2D needs 4-D input: one shape problem on node 'conv'.
INVALID_SPEC = {
    "name": "broken",
    "layers": [
        {"id": "img", "type": "Input", "config": {"shape": [16]}},
        {"id": "dense", "type": "Dense", "config": {"units": 8}},
        {"id": "conv", "type": "Conv2D", "config": {"filters": 4, "kernel_size": 3}},
    ],
    "calls": [
        {"id": "img", "layer": "img", "inputs": []},
        {"id": "dense", "layer": "dense", "inputs": ["img"]},
        {"id": "conv", "layer": "conv", "inputs": ["dense"]},
    ],
    "inputs": ["img"],
    "outputs": ["conv"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every subprocess run at once (each pays ~8 s of TensorFlow import); tests wait on their own."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / "invalid.json").write_text(json.dumps(INVALID_SPEC), encoding="utf-8")
    (folder / "corrupt.keras").write_bytes(b"PK\x03\x04 this is not really a zip archive")
    argvs = {
        "summary": ["summary", "mnist_mlp"],
        "code": ["code", "mnist_mlp"],
        "diagram": ["diagram", "mnist_mlp", "-o", str(folder / "model.dot")],
        "invalid_spec": ["summary", str(folder / "invalid.json")],
        "corrupt_model": ["import", str(folder / "corrupt.keras")],
    }
    environment = {key: value for key, value in os.environ.items() if key != cli.DEBUG_VARIABLE}
    environment["PYTHONPATH"] = str(REPO) + os.pathsep + environment.get("PYTHONPATH", "")
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", "studio", *argv], cwd=folder, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name, argv in argvs.items()
    }

    class Runs:
        folder_path = folder

        def __getitem__(self, name: str) -> tuple[int, str, str]:
            stdout, stderr = processes[name].communicate(timeout=300)
            return processes[name].returncode, stdout, stderr

    yield Runs()
    for process in processes.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


def _assert_bad_input(code: int, stderr: str, *expected: str) -> None:
    assert code == cli.EXIT_BAD_INPUT, stderr
    assert stderr.startswith("error: "), stderr
    assert "Traceback" not in stderr
    for text in expected:
        assert text in stderr


# --- real subprocess runs ----------------------------------------------------------------------------


def test_summary_prints_keras_summary_without_log_noise(runs):
    code, stdout, stderr = runs["summary"]
    assert code == 0, stderr
    assert "Total params: 27,882" in stdout and "dense_2 (Dense)" in stdout
    assert "\x1b[" not in stdout  # no terminal colour codes when stdout is a pipe
    assert stderr == ""


def test_code_prints_python_code(runs):
    code, stdout, stderr = runs["code"]
    assert code == 0, stderr
    assert "keras.Model" in stdout
    compile(stdout, "generated.py", "exec")
    assert stderr == ""


def test_diagram_writes_a_dot_file(runs):
    code, stdout, stderr = runs["diagram"]
    assert code == 0, stderr
    written = runs.folder_path / "model.dot"
    text = written.read_text(encoding="utf-8")
    assert pydot.graph_from_dot_data(text) and "<b>dense_2</b>" in text
    assert str(written) in stdout and stderr == ""


def test_invalid_spec_lists_its_problem_on_the_node(runs):
    code, stdout, stderr = runs["invalid_spec"]
    _assert_bad_input(code, stderr, "Node 'conv'", "Conv2D cannot take (None, 8)")
    assert stdout == ""


def test_corrupt_model_file(runs):
    code, _, stderr = runs["corrupt_model"]
    _assert_bad_input(code, stderr, "corrupt.keras")


# --- in-process ------------------------------------------------------------------------------------


def test_presets_lists_key_section_and_description(capsys):
    assert cli.main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["KEY", "SECTION", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:]] == studio.graph.presets.preset_names()
    assert "1.1 Build a simple network" in lines[1] and "three-layer perceptron" in lines[1]


def test_presets_with_parameter_counts(capsys, monkeypatch):
    monkeypatch.setattr(studio.graph.presets, "preset_names", lambda: ["mnist_mlp", "shared_embedding"])
    assert cli.main(["presets", "--params"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["KEY", "SECTION", "PARAMS"]
    assert "27,882" in lines[1] and "6,400" in lines[2]


def test_import_prints_a_spec_that_loads_and_builds(tmp_path, capsys):
    model = build_model(load_preset("mnist_mlp"))
    path = tmp_path / "mnist.keras"
    model.save(path)
    assert cli.main(["import", str(path)]) == 0
    captured = capsys.readouterr()
    spec = spec_from_json(captured.out)
    assert [layer.type for layer in spec.layers] == ["Input", "Dense", "Dense", "Dense"]
    assert build_model(spec).count_params() == 27_882
    assert captured.err == ""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["summary", "/no/such/dir/spec.json"], "Cannot read spec file '/no/such/dir/spec.json'"),
        (["code", "/no/such/dir/spec.json"], "Cannot read spec file"),
        (["import", "/no/such/dir/model.keras"], "the file does not exist"),
        (["diagram", "not_a_preset", "-o", "x.dot"], "is neither a preset"),
    ],
)
def test_missing_inputs(capsys, argv, expected):
    code = cli.main(argv)
    _assert_bad_input(code, capsys.readouterr().err, expected)


def test_unknown_preset(capsys):
    code = cli.main(["summary", "no_such_preset"])
    stderr = capsys.readouterr().err
    _assert_bad_input(code, stderr, "'no_such_preset'", "mnist_mlp")
    assert stderr.count("\n") == 1  # one message, one line


def test_malformed_json(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x", "layers": [', encoding="utf-8")
    code = cli.main(["summary", str(path)])
    _assert_bad_input(code, capsys.readouterr().err, "Not valid JSON", "line 1")


def test_every_problem_on_its_own_line(tmp_path, capsys):
    data = json.loads(json.dumps(INVALID_SPEC))
    data["calls"][1]["inputs"] = ["ghost"]
    data["layers"].append({"id": "spare", "type": "Dense", "config": {"units": 1}})
    path = tmp_path / "two.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code = cli.main(["summary", str(path)])
    stderr = capsys.readouterr().err
    _assert_bad_input(code, stderr)
    lines = stderr.splitlines()
    assert lines[0] == f"error: {len(lines) - 1} problems:"
    assert any("Node 'dense'" in line and "ghost" in line for line in lines[1:])
    assert any("Node 'spare'" in line and "never called" in line for line in lines[1:])


def test_diagram_of_an_invalid_spec_marks_problems_and_warns(tmp_path, capsys):
    spec_path = tmp_path / "invalid.json"
    spec_path.write_text(json.dumps(INVALID_SPEC), encoding="utf-8")
    out = tmp_path / "broken.gv"
    assert cli.main(["diagram", str(spec_path), "-o", str(out), "--rankdir", "LR"]) == 0
    text = out.read_text(encoding="utf-8")
    assert pydot.graph_from_dot_data(text) and 'rankdir="LR"' in text and "error: Conv2D cannot take" in text
    stderr = capsys.readouterr().err
    assert stderr.startswith("warning: the spec does not build; the diagram marks its 1 problem:")
    assert "Node 'conv'" in stderr


def test_diagram_flags_reach_the_drawing(tmp_path, capsys):
    out = tmp_path / "nested.dot"
    argv = ["diagram", "autoencoder", "-o", str(out), "--expand-nested", "--no-shapes", "--show-trainable", "--dpi", "96"]
    assert cli.main(argv) == 0
    text = out.read_text(encoding="utf-8")
    assert "conv2d_transpose_3" in text and "Output shape" not in text and "dpi=96" in text


def test_diagram_to_stdout(capsys):
    assert cli.main(["diagram", "mnist_mlp", "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith("digraph G {")


@needs_graphviz
@pytest.mark.parametrize(("name", "magic"), [("model.png", b"\x89PNG"), ("model.svg", b"<svg"), ("model.out", b"<svg")])
def test_diagram_png_and_svg(tmp_path, capsys, name, magic):
    extra = ["--format", "svg"] if name.endswith(".out") else []
    assert cli.main(["diagram", "mnist_mlp", "-o", str(tmp_path / name), *extra]) == 0
    assert magic in (tmp_path / name).read_bytes()[:400]


def test_diagram_png_without_graphviz(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    code = cli.main(["diagram", "mnist_mlp", "-o", str(tmp_path / "model.png")])
    _assert_bad_input(code, capsys.readouterr().err, "Graphviz is not installed", "apt-get install graphviz")
    assert not (tmp_path / "model.png").exists()


@pytest.mark.parametrize(
    ("output", "expected"),
    [("model.txt", "from its suffix '.txt'"), ("missing_dir/model.dot", "Cannot write the diagram to")],
)
def test_diagram_bad_output(tmp_path, capsys, output, expected):
    code = cli.main(["diagram", "mnist_mlp", "-o", str(tmp_path / output)])
    _assert_bad_input(code, capsys.readouterr().err, expected)


def test_usage_errors_and_help(capsys):
    assert cli.main(["diagram", "mnist_mlp"]) == cli.EXIT_BAD_INPUT
    assert "the following arguments are required: -o/--output" in capsys.readouterr().err
    assert cli.main(["diagram", "mnist_mlp", "-o", "x.dot", "--dpi", "0"]) == cli.EXIT_BAD_INPUT
    assert "expected a positive whole number" in capsys.readouterr().err
    assert cli.main([]) == cli.EXIT_BAD_INPUT
    assert cli.main(["--help"]) == 0
    help_text = capsys.readouterr().out
    assert all(name in help_text for name in ("presets", "summary", "code", "import", "diagram"))


def _command_module(monkeypatch, *commands: cli.Command) -> None:
    module = types.ModuleType("fake_studio_commands")
    module.COMMANDS = list(commands)
    monkeypatch.setitem(sys.modules, "fake_studio_commands", module)
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("fake_studio_commands",))


def test_commands_registered_by_another_module(monkeypatch, capsys):
    def add_arguments(parser):
        parser.add_argument("--epochs", type=int, default=1)

    def run(args):
        print(f"training for {args.epochs} epochs")
        return 0

    _command_module(monkeypatch, cli.Command("train", "train a spec", add_arguments, run))
    assert cli.main(["train", "--epochs", "3"]) == 0
    assert capsys.readouterr().out == "training for 3 epochs\n"
    _command_module(monkeypatch, cli.Command("summary", "again", add_arguments, run))
    with pytest.raises(ValueError, match="Two CLI commands are called 'summary'"):
        cli.all_commands()


def test_command_error_is_bad_input(monkeypatch, capsys):
    def run(args):
        raise cli.CommandError("Run 'x' does not exist; expected one of: a, b")

    _command_module(monkeypatch, cli.Command("runs", "list runs", lambda parser: None, run))
    assert cli.main(["runs"]) == cli.EXIT_BAD_INPUT
    assert capsys.readouterr().err == "error: Run 'x' does not exist; expected one of: a, b\n"


def test_unexpected_exception_is_an_internal_error(monkeypatch, capsys):
    def run(args):
        raise RuntimeError("kaboom")

    _command_module(monkeypatch, cli.Command("boom", "fails", lambda parser: None, run))
    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)
    assert cli.main(["boom"]) == cli.EXIT_INTERNAL_ERROR
    stderr = capsys.readouterr().err
    assert stderr.startswith("internal error in 'boom': RuntimeError: kaboom") and "Traceback" not in stderr
    monkeypatch.setenv(cli.DEBUG_VARIABLE, "1")
    assert cli.main(["boom"]) == cli.EXIT_INTERNAL_ERROR
    assert "Traceback" in capsys.readouterr().err


def test_names_with_control_characters_reach_the_terminal_inert(tmp_path, capsys):
    spec = load_preset("mnist_mlp")
    spec.name = "evil\x1b[31m\x07name\u202e"
    path = tmp_path / "evil.json"
    path.write_text(spec.to_json())
    assert cli.main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[31m" in out and "27,882" in out

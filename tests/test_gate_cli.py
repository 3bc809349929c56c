"""The command line applies the app's limits (issue 12): hostile SPEC, model and data files end with exit code 2 and one
message naming the limit and the file, before anything is built; never a RecursionError, a MemoryError or a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main as cli
from studio.model import build
from tests import hostile

EXIT_BAD_INPUT = 2


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """(exit code, stderr) of one in-process run of `python -m studio`."""
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def write(folder: Path, name: str, data: dict | str) -> str:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.fixture
def no_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any real build (with weights) fails the test: the limits must refuse before it."""
    monkeypatch.setattr(build, "build_model", lambda *_a, **_k: pytest.fail("a model was built with its weights"))


@pytest.mark.parametrize("command", ["summary", "diagram", "train"])
def test_dense_with_1e9_units_is_refused_by_its_parameter_count_before_any_weight(command, tmp_path, capsys, no_weights) -> None:
    """`studio summary` on it used 16.9 GB before failing; now the parameters are counted from the shapes."""
    spec = write(tmp_path, "huge dense.json", hostile.huge_dense(10**9))
    extra = {"summary": [], "diagram": ["-o", str(tmp_path / "d.dot")], "train": ["--out", str(tmp_path / "run"), "--data", "mnist"]}
    code, err = run(capsys, command, spec, *extra[command])
    assert code == EXIT_BAD_INPUT
    assert err == (
        f"error: '{spec}' would have 5,000,000,000 parameters; the limit is max parameters per model = 200,000,000 "
        "(set KFS_MAX_PARAMS to change it).\n"
    )


@pytest.mark.parametrize("command", ["summary", "code", "script"])
def test_a_10000_node_spec_is_refused_at_once(command, tmp_path, capsys, no_weights) -> None:
    """It took 82 s and ended in a recursion error."""
    spec = write(tmp_path, "huge.json", hostile.many_nodes())
    code, err = run(capsys, command, spec)
    assert code == EXIT_BAD_INPUT
    assert err == f"error: '{spec}' has 10,001 nodes; the limit is max nodes per graph = 500 (set KFS_MAX_NODES to change it).\n"


@pytest.mark.parametrize(("name", "content"), [("arrays.json", hostile.deep_json_arrays(100_000)), ("models.json", None)])
@pytest.mark.parametrize("command", ["summary", "code", "diagram", "script"])
def test_deep_json_and_deeply_nested_models_exit_2_with_the_limit(name, content, command, tmp_path, capsys) -> None:
    """JSON arrays 100,000 deep, or models nested 150 levels: a RecursionError traceback and exit 1 before."""
    spec = write(tmp_path, name, content if content is not None else hostile.nested_models(150))
    extra = ["-o", str(tmp_path / "d.dot")] if command == "diagram" else []
    code, err = run(capsys, command, spec, *extra)
    assert code == EXIT_BAD_INPUT
    assert err == (
        f"error: '{spec}' nests JSON more than 200 levels deep; the limit is max JSON nesting depth = 200 "
        "(set KFS_MAX_JSON_DEPTH to change it).\n"
    )


def test_models_nested_past_the_model_depth_limit_exit_2(tmp_path, capsys) -> None:
    spec = write(tmp_path, "deep.json", hostile.nested_models(25))
    code, err = run(capsys, "code", spec)
    assert (code, err) == (
        EXIT_BAD_INPUT,
        f"error: '{spec}' nests models 25 levels deep; the limit is max depth of models nested in models = 20 "
        "(set KFS_MAX_MODEL_DEPTH to change it).\n",
    )


def test_the_cli_reads_the_same_limits_from_the_environment(capsys, monkeypatch) -> None:
    monkeypatch.setenv("KFS_MAX_NODES", "3")
    code, err = run(capsys, "code", "mnist_mlp")
    assert code == EXIT_BAD_INPUT and "'mnist_mlp' has 4 nodes; the limit is max nodes per graph = 3 (set KFS_MAX_NODES" in err
    monkeypatch.setenv("KFS_MAX_PARAMS", "1000")
    monkeypatch.setenv("KFS_MAX_NODES", "500")
    code, err = run(capsys, "summary", "mnist_mlp")
    assert code == EXIT_BAD_INPUT and "'mnist_mlp' would have 27,882 parameters; the limit is max parameters per model = 1,000" in err


def test_import_refuses_a_model_file_past_a_limit_naming_it(tmp_path, capsys) -> None:
    model = tmp_path / "tiny.keras"
    hostile.small_keras_model().save(model)
    config = json.dumps(hostile.keras_config(model.read_bytes())).encode()
    padded = tmp_path / "padded.keras"
    padded.write_bytes(hostile.rewrite_keras_archive(model.read_bytes(), {"config.json": config}, pad={"config.json": 8 * 2**20}))
    code, err = run(capsys, "import", str(padded))
    assert code == EXIT_BAD_INPUT
    assert err.startswith("error: the model config inside 'padded.keras' is 8.0 MB; the limit is max size of a spec, project or model")


def test_train_refuses_the_tiny_npz_of_zeros_before_loading_it(tmp_path, capsys, monkeypatch) -> None:
    data = tmp_path / "zeros.npz"
    data.write_bytes(hostile.zeros_npz())
    monkeypatch.setattr("numpy.load", lambda *_a, **_k: pytest.fail("np.load ran on data past the limit"))
    code, err = run(capsys, "train", "mnist_mlp", "--out", str(tmp_path / "run"), "--data", str(data))
    assert code == EXIT_BAD_INPUT
    assert err.startswith("error: 'zeros.npz' holds 240,000,000 values (samples x features over all its arrays); the limit is max values")


def test_a_data_file_too_large_on_disk_is_not_read(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("KFS_MAX_DATA_MB", "1")
    data = tmp_path / "big.csv"
    data.write_bytes(b"a,label\n" + b"0.5,1\n" * 200_000)
    monkeypatch.setattr(Path, "read_bytes", lambda *_a: pytest.fail("a file past the size limit was read"))
    code, err = run(capsys, "train", "mnist_mlp", "--out", str(tmp_path / "run"), "--data", str(data))
    assert code == EXIT_BAD_INPUT
    assert err == "error: 'big.csv' is 1.1 MB; the limit is max data file size (MB) = 1 (set KFS_MAX_DATA_MB to change it).\n"


@pytest.mark.parametrize("error", [RecursionError("maximum recursion depth exceeded"), MemoryError()])
def test_a_recursion_or_memory_error_is_bad_input_never_a_traceback(error, capsys, monkeypatch) -> None:
    def explode(*_args, **_kwargs):
        raise error

    monkeypatch.setattr("studio.cli.specs.resolve_spec", explode)
    code, err = run(capsys, "code", "mnist_mlp")
    assert code == EXIT_BAD_INPUT
    assert err.startswith(f"error: the input is too large or too deeply nested to process ({type(error).__name__}); lower the limits")
    assert "Traceback" not in err and "KFS_MAX_JSON_DEPTH" in err


@pytest.mark.parametrize("command", ["script", "train"])
def test_a_settings_file_nested_100000_deep_is_refused(command, tmp_path, capsys) -> None:
    settings = write(tmp_path, "settings.json", hostile.deep_json_arrays(100_000))
    extra = ["--out", str(tmp_path / "run")] if command == "train" else []
    code, err = run(capsys, command, "mnist_mlp", "--settings", settings, *extra)
    assert code == EXIT_BAD_INPUT
    assert err == (
        f"error: '{settings}' nests JSON more than 200 levels deep; the limit is max JSON nesting depth = 200 "
        "(set KFS_MAX_JSON_DEPTH to change it).\n"
    )

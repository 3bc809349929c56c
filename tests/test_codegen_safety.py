"""Generated Python cannot carry code (issue 12, item 1): hostile specs, project data and settings either are refused
with a SpecError (or SettingsError) naming the node and the key, or give files that compile; every file that compiles
is then run for real (model code built, scripts with --help, some trained one epoch offline) and a marker file that
each payload would create never appears."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest

from studio.graph.presets import load_preset
from studio.graph.spec import GraphSpec, SpecError, spec_from_dict
from studio.io.codegen import generate_code
from studio.training.script import training_script, tutorial_code
from studio.training.settings import SettingsError, default_settings

GENERATORS = ("code", "tutorial_model", "tutorial", "script")
ROOT = Path(__file__).resolve().parents[1]


def payload(marker: Path) -> str:
    """Python that creates the marker file in the folder it runs in (single quotes only: no backslash, no '/')."""
    return f"__import__('pathlib').Path('{marker.name}').touch()"


def _preset(key: str) -> dict:
    return load_preset(key).to_dict()


def _layer(spec: dict, layer_id: str) -> dict:
    return next(layer for layer in spec["layers"] if layer["id"] == layer_id)


def _bidirectional(inner_config: dict, inner_name: str | None = None) -> dict:
    inner = {"type": "LSTM", "config": inner_config}
    if inner_name is not None:
        inner["name"] = inner_name
    return {
        "name": "bi",
        "layers": [
            {"id": "seq", "type": "Input", "config": {"shape": [5, 3]}},
            {"id": "bi", "type": "Bidirectional", "config": {"layer": inner}},
        ],
        "calls": [{"id": "seq", "layer": "seq", "inputs": []}, {"id": "bi", "layer": "bi", "inputs": ["seq"]}],
        "inputs": ["seq"],
        "outputs": ["bi"],
    }


def _small_vgg(outputs: list[str], frozen: list[str]) -> dict:
    config = {"weights": None, "include_top": False, "input_shape": [32, 32, 3], "outputs": outputs, "frozen": frozen}
    return {
        "name": "small vgg",
        "layers": [{"id": "vgg16", "type": "VGG16", "config": config}],
        "calls": [{"id": "vgg16", "layer": "vgg16", "inputs": []}],
        "inputs": ["vgg16"],
        "outputs": ["vgg16"],
    }


def hostile_cases(marker: Path) -> dict[str, dict]:
    """Each case: a spec (plain data), optional dataset key and settings, and what must happen: refused or compiles."""
    code = payload(marker)
    key = f"activation=({code}) or None, use_bias"
    cases: dict[str, dict] = {}

    spec = _preset("mnist_mlp")
    _layer(spec, "dense")["config"][key] = True
    cases["config key"] = {"spec": spec, "refused": ("dense", "activation=(")}

    cases["inner layer key"] = {"spec": _bidirectional({"units": 2, key: True}), "refused": ("bi", "activation=(")}

    spec = _preset("autoencoder")
    encoder = _layer(spec, "encoder")["config"]["spec"]
    _layer(encoder, "conv2d")["config"][key] = 1
    cases["nested model key"] = {"spec": spec, "refused": ("encoder/conv2d", "activation=(")}

    spec = _preset("mnist_mlp")
    _layer(spec, "img")["config"][key] = 1
    cases["input key"] = {"spec": spec, "refused": ("img", "activation=(")}

    spec = _small_vgg(["block1_pool"], [])
    spec["layers"][0]["config"][key] = 1
    cases["application key"] = {"spec": spec, "refused": ("vgg16", "activation=(")}

    spec = _preset("mnist_mlp")
    _layer(spec, "dense")["config"]["name"] = f'x"); {code} #'
    cases["name as a config key"] = {"spec": spec, "refused": ("dense", "name")}

    spec = _preset("mnist_mlp")
    spec["layers"][1]["id"] = spec["calls"][1]["id"] = f'd"); {code} #'
    spec["calls"][2]["inputs"] = [spec["calls"][1]["id"]]
    cases["id with code"] = {"spec": spec, "refused": ('d"); __import__', "must start with a letter")}

    spec = _preset("mnist_mlp")
    spec["name"] = f'my C:\\Nets\\unet model """; {code}; """ \\'
    cases["name with triple quotes and backslashes"] = {"spec": spec}

    spec = _preset("mnist_mlp")
    spec["name"] = 'm"""; ' + code + "; \"\"\" ''''"  # as many ' as ": the old script found the name again to rename it
    cases["name closing the docstring"] = {"spec": spec}

    spec = _preset("mnist_mlp")
    spec["name"] = "my C:\\Nets\\unet model"
    cases["name with backslashes"] = {"spec": spec}

    spec = _preset("mnist_mlp")
    spec["name"] = f"m\n{code}\n#"
    spec["description"] = f"fine\n{code}\r{code}\x0c{code}\u2028{code}\x85{code}\x00"
    spec["section"] = f"1\n{code}"
    cases["line breaks in name, description and section"] = {"spec": spec}

    spec = _preset("mnist_mlp")
    spec["section"] = f"coding: utf-7 +AAo-{code}#"  # was on line 2, where Python reads an encoding declaration
    cases["encoding declaration"] = {"spec": spec}

    spec = _preset("mnist_mlp")
    spec["name"] = "admin\u202e\u2066 model \u200b\ud800"  # right-to-left override, isolate, zero width, lone surrogate
    spec["description"] = "looks \u202eharmless\u202c"
    cases["invisible and bidirectional characters"] = {"spec": spec}

    spec = _preset("mnist_mlp")
    cases["dataset key with code"] = {"spec": spec, "dataset": f'file:x.npz"""; {code}; """'}

    cases["application names with code"] = {"spec": _small_vgg([f'block1_pool").output, {code} #'], [f"x'); {code} #"])}

    cases["inner layer name with code"] = {"spec": _bidirectional({"units": 2}, f'x"); {code} #')}

    spec = _preset("mnist_mlp")
    _layer(spec, "dense")["config"]["kernel_initializer"] = f'zeros"); {code} #'
    cases["string value with code"] = {"spec": spec}

    spec = _preset("multi_io")
    spec["name"] = f'tickets """ \\ {code}'
    settings = default_settings(load_preset("multi_io"))
    settings.epochs = 1
    cases["tickets named with code"] = {"spec": spec, "dataset": "tickets", "settings": settings, "train": True}

    spec = _preset("mnist_mlp")
    settings = default_settings(load_preset("mnist_mlp"))
    settings.outputs[0].loss = f'mse"); {code} #'
    cases["loss with code"] = {"spec": spec, "settings": settings, "refused_settings": True}
    return cases


def _generate(kind: str, spec: GraphSpec, case: dict) -> str:
    settings, dataset = copy.deepcopy(case.get("settings")), case.get("dataset")
    if kind == "code":
        return generate_code(spec)
    if kind == "tutorial_model":
        return generate_code(spec, "tutorial")
    if kind == "tutorial":
        return tutorial_code(spec, settings, dataset)
    return training_script(spec, settings, dataset)


RUNNER = textwrap.dedent(
    """
    import json
    import runpy
    import sys
    from pathlib import Path

    marker, results_path, paths, results = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:], {}
    for path in paths:
        as_script = Path(path).name.startswith("script")
        sys.argv = [path, "--help"] if as_script else [path]
        try:
            runpy.run_path(path, run_name="__main__" if as_script else "generated")  # compiled from bytes, as `import` does
            outcome = "ran"
        except SystemExit as exit:
            outcome = f"exit {exit.code}"
        except Exception as error:  # a hostile name may well stop the build: only the marker matters
            outcome = f"{type(error).__name__}: {str(error)[:200]}"
        results[path] = {"outcome": outcome, "marker": marker.exists()}
    results_path.write_text(json.dumps(results), encoding="utf-8")
    """
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Generate every case with every generator, then run every file that compiled in one fresh process."""
    folder = tmp_path_factory.mktemp("hostile")
    marker = folder / "MARKER"
    cases = hostile_cases(marker)
    outcomes: dict[tuple[str, str], object] = {}
    files: dict[str, Path] = {}
    for number, (name, case) in enumerate(cases.items()):
        try:
            spec = spec_from_dict(case["spec"])
        except SpecError as error:
            outcomes.update({(name, kind): error for kind in GENERATORS})
            continue
        for kind in GENERATORS:
            try:
                text = _generate(kind, spec, case)
            except (SpecError, SettingsError) as error:
                outcomes[(name, kind)] = error
                continue
            outcomes[(name, kind)] = text
            path = folder / f"{'script' if kind == 'script' else kind}_{number}.py"
            path.write_text(text, encoding="utf-8")
            files[f"{name}/{kind}"] = path
    results_path = folder / "results.json"
    (folder / "runner.py").write_text(RUNNER, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["STUDIO_OFFLINE"] = "1"
    completed = subprocess.run(
        [sys.executable, str(folder / "runner.py"), str(marker), str(results_path), *map(str, files.values())],
        cwd=folder, env=env, capture_output=True, text=True, timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    ran = json.loads(results_path.read_text(encoding="utf-8"))
    return {"cases": cases, "outcomes": outcomes, "files": files, "ran": ran, "marker": marker, "folder": folder, "env": env}


@pytest.mark.parametrize("name", list(hostile_cases(Path("MARKER"))))
def test_each_case_is_refused_naming_the_node_or_compiles(hostile: dict, name: str) -> None:
    case = hostile["cases"][name]
    for kind in GENERATORS:
        outcome = hostile["outcomes"][(name, kind)]
        if "refused" in case:
            node, detail = case["refused"]
            assert isinstance(outcome, SpecError), f"{kind}: not refused"
            assert f"Node '{node}" in str(outcome) and detail in str(outcome), f"{kind}: {outcome}"
        elif case.get("refused_settings") and kind in ("tutorial", "script"):
            assert isinstance(outcome, SettingsError) and "loss" in str(outcome), f"{kind}: {outcome!r}"
        else:
            assert isinstance(outcome, str), f"{kind}: refused ({outcome})"
            compile(outcome.encode("utf-8"), f"<{kind}>", "exec", dont_inherit=True)  # from bytes, as Python reads a file


def test_no_generated_file_runs_a_payload(hostile: dict) -> None:
    assert hostile["files"], "nothing compiled, so nothing was run"
    assert set(hostile["ran"]) == {str(path) for path in hostile["files"].values()}
    assert not any(result["marker"] for result in hostile["ran"].values()), hostile["ran"]
    assert not hostile["marker"].exists()
    scripts = {label: hostile["ran"][str(path)]["outcome"] for label, path in hostile["files"].items() if label.endswith("/script")}
    assert scripts and all(outcome == "exit 0" for outcome in scripts.values()), scripts  # --help printed, nothing else ran


def test_valid_models_with_hostile_names_build_and_train(hostile: dict) -> None:
    """The files are not only harmless but work: the model code builds, and the script and tutorial code train offline."""
    ran, files = hostile["ran"], hostile["files"]
    for label in ("name closing the docstring/code", "name with backslashes/code", "tickets named with code/tutorial_model"):
        assert ran[str(files[label])]["outcome"] == "ran", ran[str(files[label])]
    runs = [
        [sys.executable, str(files["name closing the docstring/script"]), "--epochs", "1", "--max-samples", "256"],
        [sys.executable, str(files["tickets named with code/tutorial"])],  # run as a script: its training lines run
    ]
    processes = [subprocess.Popen(command, cwd=hostile["folder"], env=hostile["env"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for command in runs]
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-3000:]
        outputs.append(stdout)
    assert "RESULT " in outputs[0] and "Test loss and metrics:" in outputs[1]
    assert not hostile["marker"].exists()


def test_generated_text_shows_no_invisible_or_bidirectional_characters(hostile: dict) -> None:
    for (name, kind), outcome in hostile["outcomes"].items():
        if isinstance(outcome, str):
            hidden = {character for character in outcome if unicodedata.category(character) in ("Cf", "Cs", "Cc") and character != "\n"}
            assert not hidden, f"{name}/{kind}: {sorted(map(hex, map(ord, hidden)))}"


def test_the_first_two_lines_never_hold_spec_text(hostile: dict) -> None:
    """Python reads an encoding declaration ('coding: utf-7') on line 1 or 2: they are always the generator's own."""
    heads = {kind: {tuple(outcome.splitlines()[:2]) for (_, other), outcome in hostile["outcomes"].items()
                    if other == kind and isinstance(outcome, str)} for kind in GENERATORS if kind != "script"}
    assert all(len(found) == 1 for found in heads.values()), heads  # one fixed head per generator, whatever the spec
    assert not any("coding" in line or "MARKER" in line for found in heads.values() for head in found for line in head)
    scripts = [outcome.splitlines() for (_, kind), outcome in hostile["outcomes"].items() if kind == "script" and isinstance(outcome, str)]
    assert scripts and all(lines[0] == "#!/usr/bin/env python" and lines[1].startswith('"""Train ') for lines in scripts)


def test_keywords_must_be_names_the_layer_accepts() -> None:
    """The second line of defence, below the config check: a keyword argument is a plain name the signature takes."""
    from studio.io.codegen import syntax
    from studio.io.codegen.parts import layer_constructor

    with pytest.raises(SpecError, match="not a Python name"):
        syntax.keyword_argument("activation=(1) or None, use_bias", syntax.literal(1))
    with pytest.raises(SpecError, match="has no parameter 'bogus'"):
        layer_constructor("Dense", {"units": 2, "bogus": 1}, "dense")
    with pytest.raises(SpecError, match="plain name"):
        syntax.name("ﬁ")  # Python would read it as `fi` (NFKC): refused, not merged with another name


def test_render_refuses_text_that_is_not_its_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the layout ever wrote a value as code (here: quotes left unescaped), the parse-back check stops it."""
    from studio.io.codegen import layout

    spec = load_preset("mnist_mlp")
    spec.name = 'x", name="y'
    assert 'name=\'x", name="y\'' in generate_code(spec)
    monkeypatch.setattr(layout, "quote", lambda text: f'"{text}"')
    with pytest.raises(SpecError, match="does not"):
        generate_code(spec)

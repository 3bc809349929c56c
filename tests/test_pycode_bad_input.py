"""Bad input for the code parser: each case gets a clear message (with its line where there is one), nothing
escapes as an exception, and nothing in the code ever runs (a marker file that running it would create
never appears)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from studio.cli import main as cli
from studio.io.pycode import MAX_NESTING, MAX_SOURCE_BYTES, parse_code

PYCODE = Path(__file__).resolve().parents[1] / "studio" / "io" / "pycode"
HEADER = "import keras\nfrom keras import layers\n"


def first_error(source: str):
    result = parse_code(source)
    assert result.errors, "expected an error"
    return result.errors[0]


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("this is not Python, just a sentence.\n", 1, "not valid Python"),
        ('import keras\nprint "hello"\n', 2, "Python 2"),
        ("import keras\nexec 'x = 1'\n", 2, "not valid Python"),
        (HEADER + "x = layers.Dense(3)(picture)\npicture = keras.Input((4,))\n", 3,
         "`picture` is used before it is defined (it is first assigned on line 4)"),
        (HEADER + "x = layers.Dense(3)(pictur)\n", 3, "`pictur` is not defined"),
        (HEADER + "a = keras.Input((4,))\nb = layers.Subtract()([a, a, a])\n", 4,
         "Subtract 'subtract' takes exactly 2 input tensor(s). Received: 3"),
        (HEADER + "a = keras.Input((4,))\nb = layers.Concatenate()(a)\n", 4, "takes one list of tensors"),
        (HEADER + "a = keras.Input((4,))\nb = layers.Dense(2)([a, a])\n", 4, "takes one tensor, not a list of 2"),
        (HEADER + "a = keras.Input((4,))\nm = keras.Model(a, a)\nb = m([a, a])\n", 5, "takes 1 input(s). Received: 2"),
        (HEADER + "os = __import__('os')\n", 3, "the Python builtin `__import__` is not supported"),
        (HEADER + "eval('1 + 1')\n", 3, "the Python builtin `eval` is not supported"),
        (HEADER + "open('notes.txt', 'w')\n", 3, "the Python builtin `open` is not supported"),
        (HEADER + "classes = print.__self__\n", 3, "the attribute `__self__` is not supported"),
        (HEADER + "base = ().__class__.__base__\n", 3, "the attribute `__class__` is not supported"),
        (HEADER + "helper = keras.__builtins__\n", 3, "the attribute `__builtins__` is not supported"),
        (HEADER + "name = \"__import__('os').system('ls')\"\nx = keras.Input((3,), name=name)\n", 4,
         "the layer name must start with a letter"),
        (HEADER + "width = 10 ** 10 ** 10\n", 3, "the power is too large"),
        (HEADER + "sizes = [8] * 10 ** 8\n", 3, "longer than"),
        (HEADER + "def f(x):\n    return f(x)\ny = f(1)\n", 4, "more than 32 levels deep"),
    ],
)
def test_bad_code_gets_a_message_with_its_line(source: str, line: int, words: str) -> None:
    problem = first_error(source)
    assert problem.line == line, problem.text()
    assert words in problem.message


def test_a_paste_over_one_megabyte_is_refused_before_parsing() -> None:
    problem = first_error("x = 1\n" * (1024 * 1024 // 6 + 1))
    assert f"at most {MAX_SOURCE_BYTES / 1e6:.0f} MB" in problem.message


def test_ten_thousand_layers_stop_at_the_node_limit(monkeypatch) -> None:
    monkeypatch.setenv("KFS_MAX_NODES", "50")
    problem = first_error(HEADER + "x = keras.Input((4,))\n" + "x = layers.Dense(4)(x)\n" * 10_000)
    assert problem.line == 53  # the 51st node: the Input and 49 Dense calls fit
    assert "more than 50 nodes" in problem.message and "KFS_MAX_NODES" in problem.message


@pytest.mark.parametrize(
    "expression",
    ["-" * 5000 + "1", "+".join(["1"] * 3000), "[" * 150 + "]" * 150, "f(" * 120 + ")" * 120, "a." * 3000 + "b"],
    ids=["unary", "sum", "lists", "calls", "attributes"],
)
def test_deeply_nested_expressions_are_refused_without_a_recursion_error(expression: str) -> None:
    problem = first_error(f"x = {expression}\n")
    assert "nest" in problem.message or "not valid Python" in problem.message
    if "levels deep" in problem.message:
        assert problem.line == 1 and str(MAX_NESTING) in problem.message


def test_a_function_that_fans_out_stops_at_the_step_limit() -> None:
    levels = "".join(f"def f{level}():\n    return f{level - 1}() + f{level - 1}()\n" for level in range(1, 28))
    problem = first_error("def f0():\n    return 1\n" + levels + "x = f27()\n")
    assert "steps" in problem.message and problem.line is not None


# --- nothing runs ----------------------------------------------------------------------------------


def marker_snippets(marker: Path) -> dict[str, str]:
    """Code that would create `marker` if anything of it were run."""
    path = str(marker)
    return {
        "open": f"open({path!r}, 'w').write('ran')\n",
        "os_system": f"import os\nos.system('touch {path}')\n",
        "subprocess": f"import subprocess\nsubprocess.run(['touch', {path!r}])\n",
        "dunder_import": f"__import__('pathlib').Path({path!r}).touch()\n",
        "exec_string": f"exec(\"open({path!r}, 'w')\")\n",
        "builtin_chain": f"().__class__.__base__.__subclasses__()[0]({path!r})\n",
        "pathlib_in_layer": f"import pathlib\nimport keras\nx = keras.Input((pathlib.Path({path!r}).touch() or 3,))\n",
        "in_a_function": (
            f"import os\nimport keras\ndef build():\n    os.system('touch {path}')\n    return keras.Input((3,))\nx = build()\n"
        ),
        "as_a_layer_argument": f"import keras\nimport os\nx = keras.layers.Dense(os.system('touch {path}'))(keras.Input((3,)))\n",
        "main_guard": f"import os\nif __name__ == '__main__':\n    os.system('touch {path}')\n",
        "class_body": f"import os\nclass Layer:\n    os.system('touch {path}')\n",
        "decorator": "import os\n@os.system\ndef touch():\n    pass\n",
    }


def test_nothing_in_the_code_is_ever_run(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "marker"
    for name, source in marker_snippets(marker).items():
        result = parse_code(source, filename=name)
        assert result.errors or result.notes, name
        code_file = tmp_path / f"{name}.py"
        code_file.write_text(source, encoding="utf-8")
        cli.main(["parse", str(code_file), "--quiet"])
        assert not marker.exists(), f"running {name!r} created the marker"
    capsys.readouterr()


def test_the_parser_source_has_no_way_to_run_code() -> None:
    """No exec/eval/compile/__import__ calls and no importlib, pickle, marshal, runpy or subprocess in studio/io/pycode."""
    forbidden_calls = {"exec", "eval", "compile", "__import__", "execfile"}
    forbidden_modules = {"importlib", "pickle", "marshal", "runpy", "subprocess", "code", "codeop", "shelve"}
    found = []
    for path in sorted(PYCODE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in forbidden_calls:
                found.append(f"{path.name}:{node.lineno} calls {node.func.id}")
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.name}:{node.lineno} imports {name}" for name in names if name.split(".")[0] in forbidden_modules]
    assert found == []
    text = "\n".join(path.read_text(encoding="utf-8") for path in PYCODE.glob("*.py"))
    assert "exec(" not in text and "eval(" not in text  # the CI grep

"""The command line speaks the language LANG asks for, and `python -m studio app` serves the app."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main as cli
from studio.cli import serve
from studio.i18n import app_default_language, use_language

ROOT = Path(__file__).resolve().parents[1]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _studio(*argv: str, lang: str) -> subprocess.CompletedProcess:
    env = {"LANG": lang, "PATH": "/usr/bin:/bin", "STUDIO_OFFLINE": "1", "KERAS_BACKEND": "tensorflow"}
    return subprocess.run([sys.executable, "-m", "studio", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def test_a_bad_spec_gives_a_chinese_error_under_a_chinese_locale():
    result = _studio("summary", "nosuchfile", lang="zh_CN.UTF-8")
    assert result.returncode == cli.EXIT_BAD_INPUT, result.stderr
    assert result.stderr.startswith("错误："), result.stderr
    assert "nosuchfile" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_spec_gives_an_english_error_under_the_c_locale():
    result = _studio("summary", "nosuchfile", lang="C")
    assert result.returncode == cli.EXIT_BAD_INPUT, result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    assert "nosuchfile" in result.stderr
    assert not CHINESE.search(result.stderr), result.stderr


def test_argparse_speaks_chinese_too():
    result = _studio("runs", "--status", "nonsense", lang="zh_CN.UTF-8")
    assert result.returncode == cli.EXIT_BAD_INPUT
    assert "用法：" in result.stderr and "无效的选择" in result.stderr, result.stderr


def test_code_errors_of_a_python_file_are_translated(tmp_path):
    code = tmp_path / "loop.py"
    code.write_text("import keras\nx = keras.Input(shape=(3,))\nfor i in range(3):\n    x = keras.layers.Dense(4)(x)\n", encoding="utf-8")
    from studio.io.pycode import parse_code

    with use_language("zh"):
        chinese = parse_code(code.read_text(encoding="utf-8")).errors[0]
    english = parse_code(code.read_text(encoding="utf-8")).errors[0]
    assert chinese.line == english.line == 3
    assert "`for` loops are not supported" in english.message
    assert "不支持 `for` 循环" in chinese.message
    with use_language("zh"):
        assert chinese.text().startswith("第 3 行，第 1 列：")


def test_the_app_command_runs_streamlit_on_app_py(monkeypatch):
    started = {}

    class FakeProcess:
        def __init__(self, command, cwd=None, env=None):
            started.update(command=command, cwd=cwd, env=env)

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(serve.subprocess, "Popen", FakeProcess)
    monkeypatch.delenv(serve.DEFAULT_LANGUAGE_VARIABLE, raising=False)
    assert cli.main(["app", "--port", "8765", "--lang", "zh", "--headless"]) == cli.EXIT_OK
    command = started["command"]
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(command[4]) == ROOT / "app.py" and Path(command[4]).is_file()
    assert command[5:] == ["--server.port", "8765", "--server.headless", "true"]
    assert Path(started["cwd"]) == ROOT
    assert started["env"][serve.DEFAULT_LANGUAGE_VARIABLE] == "zh"
    assert app_default_language(started["env"]) == "zh"


def test_the_app_command_without_lang_leaves_the_language_to_the_browser():
    assert serve.streamlit_command(8501)[5:] == ["--server.port", "8501"]
    environment = serve.app_environment(None, {"PATH": "/bin"})
    assert serve.DEFAULT_LANGUAGE_VARIABLE not in environment
    assert app_default_language(environment) is None


@pytest.mark.parametrize("argv", [["app", "--port", "0"], ["app", "--lang", "fr"]])
def test_the_app_command_refuses_bad_options(argv, capsys):
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    assert "usage:" in capsys.readouterr().err

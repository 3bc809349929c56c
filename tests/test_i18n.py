"""The message catalogue is complete and every page speaks the language it was asked for."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from studio import i18n
from studio.i18n import _, language_from_environment, normalize_language, use_language

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
i18n_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(i18n_tool)


def test_every_marked_message_has_a_chinese_translation_with_the_same_placeholders():
    problems = i18n_tool.translation_problems(i18n_tool.load_catalog(), i18n_tool.extracted_messages())
    assert not problems, f"{len(problems)} messages lack a good translation (run scripts/i18n.py missing):\n" + "\n".join(problems[:60])


def test_the_compiled_catalogue_is_up_to_date():
    assert i18n_tool.MO_FILE.read_bytes() == i18n_tool.compiled(i18n_tool.load_catalog()), "run scripts/i18n.py compile"


def test_the_tool_notices_a_missing_translation_and_a_wrong_placeholder():
    catalog = i18n_tool.load_catalog()
    catalog.add("{count} widgets nobody translated", string="")
    catalog.add("Saved {name}", string="已保存 {nmae}")
    wanted = {"{count} widgets nobody translated": ["x.py:1"], "Saved {name}": ["x.py:2"]}
    problems = i18n_tool.translation_problems(catalog, wanted)
    assert len(problems) == 2
    assert problems[0].startswith("placeholders differ") and problems[1].startswith("untranslated")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("zh", "zh"), ("zh-CN", "zh"), ("zh_CN.UTF-8", "zh"), ("ZH", "zh"), ("en-US", "en"), ("fr", None), ("", None), (None, None)],
)
def test_language_codes_are_read_the_usual_ways(value, expected):
    assert normalize_language(value) == expected


def test_the_command_line_follows_the_locale_variables():
    assert language_from_environment({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert language_from_environment({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8"}) == "en"
    assert language_from_environment({"LANGUAGE": "fr:zh"}) == "zh"
    assert language_from_environment({"LANG": "C.UTF-8"}) == "en"


def test_a_message_is_shown_in_the_language_in_use():
    with use_language("zh"):
        chinese = _("Gallery")
    with use_language("en"):
        english = _("Gallery")
    assert english == "Gallery"
    assert chinese != "Gallery" and i18n_tool.placeholders(chinese) == []


def test_a_failing_resolver_falls_back_to_english():
    def broken() -> str:
        raise RuntimeError("no session here")

    i18n.set_language_resolver(broken)
    try:
        assert i18n.current_language() == "en"
    finally:
        i18n.set_language_resolver(None)


def test_the_cli_speaks_chinese_when_lang_says_so():
    env = {"LANG": "zh_CN.UTF-8", "PATH": "/usr/bin:/bin", "STUDIO_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "studio", "presets"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "个" in result.stdout or "参数" in result.stdout, result.stdout
    english = subprocess.run(
        [sys.executable, "-m", "studio", "presets"], cwd=ROOT, env={**env, "LANG": "C.UTF-8"}, capture_output=True, text=True, timeout=120
    )
    assert not i18n_tool.PLACEHOLDER.search(english.stdout)
    assert "参数" not in english.stdout

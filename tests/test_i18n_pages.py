"""Every page, in Chinese and in English, shows no text of the other language (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.i18n_text import chinese_left, english_left

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 300
# page file, the preset opened first (None: the empty model)
PAGES = [
    ("pages/learn.py", None),
    ("pages/gallery.py", None),
    ("pages/builder.py", None),
    ("pages/builder.py", "multi_io"),
    ("pages/training.py", "mnist_mlp"),
    ("pages/export.py", "autoencoder"),
    ("pages/models.py", None),
    ("pages/runs.py", None),
]


def open_page(page: str, preset: str | None, language: str) -> AppTest:
    """The app in a language (?lang=), with a preset opened (?preset=), switched to a page."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = language
    if preset:
        at.query_params["preset"] = preset
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(("page", "preset"), PAGES)
def test_a_chinese_page_shows_no_english_sentence(page, preset):
    at = open_page(page, preset, "zh")
    left = english_left(at)
    assert not left, f"{page} in Chinese still shows English:\n" + "\n".join(left)


@pytest.mark.parametrize(("page", "preset"), PAGES)
def test_an_english_page_shows_no_chinese(page, preset):
    at = open_page(page, preset, "en")
    left = chinese_left(at)
    assert not left, f"{page} in English shows Chinese:\n" + "\n".join(left)


def test_the_sidebar_switch_changes_the_language_and_the_address():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert at.session_state["studio.language"] == "en"
    at.segmented_control(key="studio.language_switch").set_value("zh").run()
    assert at.session_state["studio.language"] == "zh"
    assert at.query_params["lang"] in ("zh", ["zh"])

"""AppTest: every page renders without an exception; every preset opens in the builder (button and URL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components import state
from studio.graph.presets import load_preset, preset_names
from studio.model.build import spec_key

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 300


def run_app(**session) -> AppTest:
    """The app after its first run (the Learn page), with session state seeded."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in session.items():
        at.session_state[key] = value
    return at.run()


def run_gallery() -> AppTest:
    """The app switched to the Gallery (no longer the first page: Learn is)."""
    return run_app().switch_page("pages/gallery.py").run()


def test_gallery_shows_every_preset_with_diagram_params_and_code():
    at = run_gallery()
    assert not at.exception
    assert [button.key for button in at.button] == [f"gallery.open.{key}" for key in preset_names()]
    titles = [markdown.value for markdown in at.markdown if markdown.value.startswith("### ")]
    assert len(titles) == len(preset_names())
    params = [metric.value for metric in at.metric if metric.label == "Parameters"]
    assert params == ["27,882", "18,672", "9,569", "28,241", "368,097", "6,400", "138.36M"]
    assert len(at.get("graphviz_chart")) == len(preset_names())
    assert len(at.code) == len(preset_names())
    assert "keras.Input(shape=(784,)" in at.code[0].value
    assert not at.error


@pytest.mark.parametrize("key", preset_names())
def test_gallery_button_opens_each_preset_in_the_builder(key):
    at = run_gallery()
    at.button(key=f"gallery.open.{key}").click().run()
    assert not at.exception
    assert spec_key(at.session_state[state.SPEC]) == spec_key(load_preset(key))
    assert at.session_state[state.SPEC_SOURCE] == f"preset {key}"
    assert any(button.key == "builder.undo" for button in at.button), "the builder page is shown"
    assert [metric.value for metric in at.metric if metric.label == "Status"] == ["Builds ✓"]
    assert not at.error


def test_url_opens_a_preset_in_the_builder():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["preset"] = "autoencoder"
    at.run()
    assert not at.exception
    assert at.session_state[state.SPEC].name == "autoencoder"
    assert any(button.key == "builder.undo" for button in at.button)
    assert [metric.value for metric in at.metric if metric.label == "Total params"] == ["28,241"]


def test_url_with_an_unknown_preset_says_so_and_keeps_the_work():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("mnist_mlp")
    at.query_params["preset"] = "nope"
    at.run()
    assert not at.exception
    assert at.session_state[state.SPEC].name == "mnist model"
    assert any("preset 'nope', which does not exist" in warning.value for warning in at.warning)


def test_builder_renders_empty_and_every_view():
    at = run_app()
    at.switch_page("pages/builder.py").run()
    assert not at.exception
    assert any("This model is empty" in info.value for info in at.info)
    assert [caption.value for caption in at.sidebar.caption] == ["Current model"], "the page runs inside app.py"
    for view in ("Diagram", "Nodes", "Summary", "Code"):
        at.session_state[state.LEFT_TAB] = view
        for panel in ("Node", "Add", "Model"):
            at.session_state[state.RIGHT_TAB] = panel
            at.run()
            assert not at.exception, (view, panel)


@pytest.mark.parametrize("key", ["multi_io", "vgg16_features", "autoencoder"])
def test_builder_views_of_a_preset_render(key):
    at = run_app(**{state.SPEC: load_preset(key)})
    at.switch_page("pages/builder.py").run()
    for view in ("Diagram", "Nodes", "Summary", "Code"):
        at.session_state[state.LEFT_TAB] = view
        at.run()
        assert not at.exception, view
    for panel in ("Add", "Model"):
        at.session_state[state.RIGHT_TAB] = panel
        at.run()
        assert not at.exception, panel
    for way in ("Layer", "Shared layer", "Nested model", "Application"):
        at.session_state[state.ADD_TAB] = way
        at.run()
        assert not at.exception, way
    assert not at.error


def test_sidebar_shows_the_current_model():
    at = run_app(**{state.SPEC: load_preset("multi_io")})
    assert any("368,097 params" in markdown.value for markdown in at.sidebar.markdown)

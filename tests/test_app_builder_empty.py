"""AppTest of the empty Builder: a new model greets a newcomer with what to do first, not with a problem count;
a model with nodes and problems still shows them."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from components import state
from studio.graph.edits import empty_spec
from studio.graph.presets import load_preset
from tests.test_app_builder import block

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 300


def open_builder(spec, language: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if language:
        at.query_params["lang"] = language
    at.session_state[state.SPEC] = spec
    at.run()
    at.switch_page("pages/builder.py").run()
    assert not at.exception, at.exception
    return at


def has_block(at: AppTest, key: str) -> bool:
    try:
        block(at, key)
    except AssertionError:
        return False
    return True


def problem_texts(at: AppTest) -> list[str]:
    """Every text on the page that counts problems or says the model fails."""
    texts = [markdown.value for markdown in at.markdown] + [error.value for error in at.error]
    texts += [str(metric.proto.delta) + " " + str(metric.value) for metric in at.metric]
    return [text for text in texts if "problem" in text.lower() or "Fails" in text]


def test_an_empty_model_says_where_to_start_and_counts_no_problem():
    at = open_builder(empty_spec())
    start = [info.value for info in at.info if "Start here" in info.value]
    assert start, [info.value for info in at.info]
    assert "Gallery" in start[0] and "Input" in start[0] and "From code" in start[0]
    assert not has_block(at, "builder_problems")  # no red problem box
    assert not at.error
    assert not problem_texts(at), problem_texts(at)
    assert [metric.value for metric in at.metric if metric.label == "Status"] == ["Empty"]
    assert {"Add an Input", "Paste code"} <= {button.label for button in at.button}


def test_the_first_actions_open_their_panels():
    at = open_builder(empty_spec())
    at.button(key="builder.start.from_code").click().run()
    assert not at.exception
    assert at.session_state[state.RIGHT_TAB] == "From code"
    assert any(area.label == "Python code" for area in at.text_area)
    at.button(key="builder.start.add_input").click().run()
    assert not at.exception
    assert at.session_state[state.RIGHT_TAB] == "Add"
    assert at.selectbox(key="builder.add_type").value == "Input"
    assert any(button.label == "Add Input" for button in at.button)


def test_the_empty_model_greets_in_chinese_too():
    at = open_builder(empty_spec(), language="zh")
    assert any("从这里开始" in info.value for info in at.info)
    assert not has_block(at, "builder_problems")
    assert not at.error


def test_a_model_with_nodes_and_problems_still_shows_them():
    spec = load_preset("mnist_mlp")
    spec.outputs.append("ghost")
    at = open_builder(spec)
    assert has_block(at, "builder_problems")
    assert not any("Start here" in info.value for info in at.info)
    assert problem_texts(at)

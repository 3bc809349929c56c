"""AppTest: the Learn page is the first screen; its lessons open, open their model in the Builder, and keep progress
(in the session and in the project file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components import state
from components.learn import progress
from studio import lessons
from studio.graph.presets import load_preset
from studio.model.build import spec_key
from tests.i18n_text import chinese_left, english_left
from tests.test_app_export import downloads  # noqa: F401 - the fixture

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 300


def first_screen(language: str | None = None, **session) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if language:
        at.query_params["lang"] = language
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_learn_is_the_first_page_with_one_obvious_first_action():
    at = first_screen()
    assert [title.value for title in at.title] == ["Learn the Keras functional API"]
    start = at.button(key="learn.start")
    assert start.label == "Start lesson 1"
    assert start.proto.type == "primary"
    assert [button.proto.type for button in at.button].count("primary") == 1
    titles = [markdown.value for markdown in at.markdown if markdown.value.startswith("**Lesson")]
    assert len(titles) == 5 and titles[0] == "**Lesson 1: A simple network**"
    assert "0 of 5 lessons done" in [caption.value for caption in at.caption]


def test_start_lesson_1_opens_the_first_lesson_with_graph_code_and_the_tutorials_numbers():
    at = first_screen()
    at.button(key="learn.start").click().run()
    assert not at.exception
    assert [title.value for title in at.title] == ["Lesson 1: A simple network"]
    assert len(at.get("graphviz_chart")) == 1
    assert "keras.Input(shape=(784,)" in at.code[0].value
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["mnist model: parameters in the tutorial"] == "27,882"
    assert metrics["Test accuracy in the tutorial"] == "0.9624"
    assert not at.error


def test_the_open_in_builder_button_opens_mnist_mlp_in_the_builder():
    at = first_screen(**{progress.LESSON: "simple_network"})
    at.button(key="learn.builder.simple_network").click().run()
    assert not at.exception
    assert spec_key(at.session_state[state.SPEC]) == spec_key(load_preset("mnist_mlp"))
    assert at.session_state[state.SPEC_SOURCE] == "preset mnist_mlp"
    assert any(button.key == "builder.undo" for button in at.button), "the builder page is shown"


def test_the_model_open_now_is_compared_with_the_tutorials_count():
    changed = load_preset("mnist_mlp")
    changed.layers[1].config["units"] = 16
    at = first_screen(**{progress.LESSON: "simple_network", state.SPEC: changed})
    mine = [metric for metric in at.metric if metric.label.startswith("The model open now")]
    assert [metric.value for metric in mine] == [f"{changed_count():,}"]
    assert any("moved the count by -13,584 parameters" in caption.value for caption in at.caption)


def changed_count() -> int:
    return 784 * 16 + 16 + 16 * 64 + 64 + 650


def test_marked_progress_shows_on_the_lesson_and_the_list():
    at = first_screen(**{progress.LESSON: "simple_network"})
    at.button(key="learn.done.simple_network").click().run()
    assert [success.value for success in at.success] == ["You have done this lesson."]
    assert at.session_state[progress.PROGRESS] == ["simple_network"]
    at.button(key="learn.overview").click().run()
    assert "1 of 5 lessons done" in [caption.value for caption in at.caption]
    assert any(markdown.value.startswith("**Lesson 1: A simple network** · ") for markdown in at.markdown)
    assert at.button(key="learn.start").label == "Continue with lesson 2"
    at.button(key="learn.start").click().run()
    assert [title.value for title in at.title] == ["Lesson 2: Models as layers"]
    at.button(key="learn.overview").click().run()
    at.button(key="learn.open.simple_network").click().run()
    at.button(key="learn.undone.simple_network").click().run()
    assert at.session_state[progress.PROGRESS] == []


def test_a_finished_run_marks_its_lesson_and_the_offline_sample_is_explained(monkeypatch):
    spec = load_preset("mnist_mlp")
    run = lessons.RunResult(spec.name, tuple(spec.inputs), tuple(spec.outputs), 1.0, accuracy=0.9, loss=0.3, offline_sample=True)
    monkeypatch.setattr(progress, "session_runs", lambda: [run])
    at = first_screen(**{progress.LESSON: "simple_network"})
    assert at.session_state[progress.PROGRESS] == ["simple_network"]
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Your last run: test accuracy"] == "0.9000"
    notes = [info.value for info in at.info]
    assert any("about 0.96" in note and "STUDIO_MNIST_NPZ" in note for note in notes), notes
    at.button(key="learn.undone.simple_network").click().run()
    assert at.session_state[progress.PROGRESS] == [], "unmarking sticks: the same run does not mark it again"


def test_progress_is_saved_in_and_restored_from_the_project_file(downloads):  # noqa: F811 - the fixture
    at = first_screen(**{progress.PROGRESS: ["simple_network", "multi_io"], state.SPEC: load_preset("mnist_mlp")})
    at.switch_page("pages/builder.py").run()
    assert not at.exception
    assert any(element.proto.label.startswith("Save project") for element in at.get("download_button"))
    data = json.loads(downloads["mnist_model.json"])
    assert data["progress"] == {"done": ["simple_network", "multi_io"]}
    fresh = first_screen(**{state.SPEC: load_preset("autoencoder")})
    fresh.switch_page("pages/builder.py").run()
    fresh.file_uploader[0].upload("mnist_model.json", json.dumps(data).encode(), "application/json").run()
    assert not fresh.exception
    assert fresh.session_state[state.SPEC].name == "mnist model"
    assert fresh.session_state[progress.PROGRESS] == ["simple_network", "multi_io"]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_lesson_speaks_one_language(language):
    at = first_screen(language, **{state.SPEC: load_preset("multi_io")})
    for lesson in lessons.LESSONS:
        at.session_state[progress.LESSON] = lesson.key
        at.run()
        assert not at.exception, at.exception
        left = english_left(at) if language == "zh" else chinese_left(at)
        assert not left, f"lesson {lesson.number} in {language}:\n" + "\n".join(left)


def test_the_train_button_keeps_the_users_changed_model_and_opens_the_train_page():
    changed = load_preset("mnist_mlp")
    changed.layers[1].config["units"] = 16
    at = first_screen(**{progress.LESSON: "simple_network", state.SPEC: changed})
    at.button(key="learn.train.simple_network").click().run()
    assert not at.exception
    assert at.session_state[state.SPEC].layers[1].config["units"] == 16
    assert [title.value for title in at.title] == ["Train"]


def test_opening_the_vgg16_lesson_model_marks_lesson_5_done():
    at = first_screen(**{progress.LESSON: "reuse"})
    at.button(key="learn.builder.reuse").click().run()
    assert not at.exception
    assert spec_key(at.session_state[state.SPEC]) == spec_key(load_preset("vgg16_features"))
    assert at.session_state[progress.PROGRESS] == ["reuse"]

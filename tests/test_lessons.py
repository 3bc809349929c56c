"""The Learn page's core: five lessons over the tutorial's presets, and progress that travels in the project file."""

from __future__ import annotations

import json

import pytest

from studio import lessons
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import SpecError
from studio.io.project_file import PROJECT_FORMAT, project_json, read_project
from studio.model.build import build_model


def test_there_are_five_lessons_in_the_tutorials_order():
    assert [lesson.number for lesson in lessons.LESSONS] == [1, 2, 3, 4, 5]
    assert [lesson.preset for lesson in lessons.LESSONS] == ["mnist_mlp", "autoencoder", "multi_io", "shared_embedding", "vgg16_features"]
    assert lessons.lesson("models_as_layers").presets == ("encoder", "decoder", "autoencoder")
    assert len(set(lessons.lesson_keys())) == 5


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.key)
def test_each_lesson_names_existing_presets_and_has_its_texts(lesson):
    for key in lesson.presets:
        assert key in preset_names()
        load_preset(key)
    assert {reference.preset for reference in lesson.references} <= set(lesson.presets)
    assert lesson.title and lesson.summary and lesson.concept and len(lesson.steps) >= 3


@pytest.mark.parametrize(
    "reference",
    [reference for lesson in lessons.LESSONS for reference in lesson.references if reference.preset != "vgg16_features"],
    ids=lambda reference: reference.preset,
)
def test_the_reference_counts_are_what_the_presets_build(reference):
    assert build_model(load_preset(reference.preset)).count_params() == reference.params


def test_the_tutorials_numbers():
    assert lessons.lesson("simple_network").test_accuracy == 0.9624
    assert lessons.lesson("reuse").references[0].params == 138_357_544
    assert not lessons.lesson("reuse").trainable
    assert all(lesson.trainable for lesson in lessons.LESSONS[:4])


def test_marking_and_the_next_lesson():
    done = lessons.mark([], "multi_io")
    done = lessons.mark(done, "simple_network")
    assert done == ["simple_network", "multi_io"], "lesson order, whatever the order of marking"
    assert lessons.next_lesson(done).key == "models_as_layers"
    assert lessons.mark(done, "multi_io", False) == ["simple_network"]
    assert lessons.next_lesson(lessons.lesson_keys()).number == 1
    with pytest.raises(KeyError):
        lessons.mark(done, "no_such_lesson")


def test_progress_round_trips_through_the_project_file():
    spec = load_preset("mnist_mlp")
    done = ["simple_network", "shared_layers"]
    text = project_json(spec, None, "mnist", progress=lessons.progress_to_data(done))
    project = read_project(text)
    assert lessons.progress_from_data(project.progress) == done
    assert project.spec.to_dict() == spec.to_dict()
    assert project.dataset == {"key": "mnist"}


def test_an_old_project_file_without_progress_still_opens():
    spec = load_preset("autoencoder")
    old = {"format": PROJECT_FORMAT, "spec": spec.to_dict(), "settings": None, "dataset": {"key": "mnist_autoencoder"}}
    project = read_project(json.dumps(old))
    assert project.progress is None
    assert lessons.progress_from_data(project.progress) == []
    assert project.spec.to_dict() == spec.to_dict()
    assert "progress" not in json.loads(project_json(spec)), "no progress given: the file is written as before"
    assert read_project(spec.to_json()).progress is None, "a bare spec file has no progress"


def test_progress_that_is_not_an_object_is_refused_and_odd_content_is_left_out():
    spec = load_preset("mnist_mlp")
    data = json.loads(project_json(spec))
    data["progress"] = ["simple_network"]
    with pytest.raises(SpecError, match="progress"):
        read_project(json.dumps(data))
    assert lessons.progress_from_data({"done": ["reuse", "nope", 3, "reuse"]}) == ["reuse"]
    assert lessons.progress_from_data({"done": "reuse"}) == []
    assert lessons.progress_from_data(None) == []


def _run(spec, finished, accuracy=0.9, offline=False):
    return lessons.RunResult(spec.name, tuple(spec.inputs), tuple(spec.outputs), finished, accuracy, 0.3, offline)


def test_runs_of_a_lessons_model_mark_it_done_changed_or_not():
    mnist = load_preset("mnist_mlp")
    changed = load_preset("mnist_mlp")
    changed.layers[1].config["units"] = 16
    runs = [_run(mnist, 1.0, 0.85), _run(changed, 2.0, 0.80, offline=True), _run(load_preset("encoder"), 3.0)]
    latest = lessons.latest_run(runs, mnist)
    assert latest.finished == 2.0 and latest.offline_sample
    specs = {lesson.preset: load_preset(lesson.preset) for lesson in lessons.LESSONS}
    assert lessons.detected_done(runs, specs) == ["simple_network"], "a run of the encoder alone is not the autoencoder"
    assert lessons.detected_done([], specs) == []
    assert lessons.latest_run(runs, load_preset("multi_io")) is None

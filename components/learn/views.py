"""The Learn page: what the app is for, the five lessons with a first action, and one lesson at a time
(concept, the graph beside the code that builds it, the steps, the tutorial's numbers next to the user's)."""

from __future__ import annotations

import logging

import streamlit as st

from components import state
from components.cards import preset_card
from components.learn import progress
from components.text import md
from studio import lessons
from studio.graph.presets import load_preset
from studio.graph.spec import SpecError
from studio.i18n import N_, _, ngettext

log = logging.getLogger(__name__)

CODE_HEIGHT = 560  # pixels; longer code scrolls
ERROR_KEY = "learn.open_error"

INTRO = N_(
    "Keras Functional Studio teaches the Keras functional API by doing: every model of the tutorial is a graph you can "
    "open, change node by node and train in the browser, while the studio keeps its diagram, parameter counts and "
    "Python code up to date. Five short lessons walk through the tutorial; each one opens its model in the Builder, "
    "asks you to change one thing and train it, and compares your numbers with the tutorial's."
)
OFFLINE_NOTE = N_(
    "Your run used the offline sample that ships with the app (5,000 real digits), so its accuracy is lower than the "
    "tutorial's. Full MNIST (60,000 training images) reaches about {accuracy}. To train on it, run the app with "
    "internet access so that Keras can download MNIST, or set the environment variable `STUDIO_MNIST_NPZ` to the path "
    "of an `mnist.npz` file before starting the app."
)


def _model_name(key: str) -> str:
    return load_preset(key).name


def render_learn() -> None:
    """The whole page: the list of lessons, or the lesson that is open."""
    state.init_state()
    for key in progress.sync_with_runs():
        found = lessons.lesson(key)
        st.toast(_("Lesson {number} done: a run of its model finished.").format(number=found.number), icon=":material/check_circle:")
    key = st.session_state.get(progress.LESSON)
    if key in lessons.lesson_keys():
        render_lesson(lessons.lesson(key))
    else:
        render_overview()


# --- the list of lessons ----------------------------------------------------------------------------------------


def render_overview() -> None:
    """What the app is for, the first action, and the five lessons with what is done."""
    st.title(_("Learn the Keras functional API"))
    st.markdown(_(INTRO))
    done = progress.done()
    first = lessons.next_lesson(done)
    if done and len(done) < len(lessons.LESSONS):
        label = _("Continue with lesson {number}").format(number=first.number)
    else:
        label = _("Start lesson 1")
    st.button(label, type="primary", key="learn.start", icon=":material/play_arrow:", on_click=progress.open_lesson, args=(first.key,))
    total = len(lessons.LESSONS)
    st.caption(ngettext("{done} of {count} lesson done", "{done} of {count} lessons done", total).format(done=len(done), count=total))
    for lesson in lessons.LESSONS:
        with st.container(border=True, key=f"learn_lesson_{lesson.key}"):
            text, action = st.columns([5, 1], vertical_alignment="center")
            with text:
                title = _("**Lesson {number}: {title}**").format(number=lesson.number, title=_(lesson.title))
                if lesson.key in done:
                    title += " · :green[:material/check_circle: " + _("done") + "]"
                st.markdown(title)
                st.caption(_(lesson.summary))
            action.button(_("Open"), key=f"learn.open.{lesson.key}", on_click=progress.open_lesson, args=(lesson.key,), width="stretch")


# --- one lesson -------------------------------------------------------------------------------------------------


def render_lesson(lesson: lessons.Lesson) -> None:
    """One lesson, top to bottom: concept, graph and code, steps, numbers, done."""
    total = len(lessons.LESSONS)
    top = st.columns([1, 4], vertical_alignment="center")
    top[0].button(_("All lessons"), key="learn.overview", icon=":material/arrow_back:", on_click=progress.open_lesson, args=(None,))
    top[1].caption(_("Lesson {number} of {count}").format(number=lesson.number, count=total))
    st.title(_("Lesson {number}: {title}").format(number=lesson.number, title=_(lesson.title)))
    for paragraph in lesson.concept:
        st.markdown(_(paragraph))
    shown = _chosen_model(lesson)
    _graph_and_code(shown)
    st.subheader(_("What to do"))
    st.markdown("\n".join(f"{index}. {_(step)}" for index, step in enumerate(lesson.steps, start=1)))
    for note in lesson.extra:
        st.caption(_(note))
    _actions(lesson, shown)
    st.subheader(_("Your numbers next to the tutorial's"))
    _numbers(lesson)
    st.divider()
    _done_and_next(lesson)


def _chosen_model(lesson: lessons.Lesson) -> str:
    """The model shown: the lesson's own, or the one picked among its models (lesson 2: encoder, decoder, autoencoder)."""
    if len(lesson.presets) == 1:
        return lesson.preset
    key = f"learn.model.{lesson.key}"
    if st.session_state.get(key) not in lesson.presets:
        st.session_state[key] = lesson.preset
    chosen = st.segmented_control(_("Model"), list(lesson.presets), format_func=_model_name, key=key)
    return chosen or lesson.preset


def _graph_and_code(preset: str) -> None:
    """The preset's diagram beside its code, from the Gallery's cards (computed once, no TensorFlow needed to show them)."""
    spec = load_preset(preset)
    graph, code = st.columns(2, gap="large")
    try:
        card = preset_card(preset)
    except (SpecError, ValueError) as error:  # the lesson's text and steps stay usable without the drawing
        st.warning(_("The diagram cannot be drawn: {reason}").format(reason=md(str(error))))
        return
    with graph:
        st.markdown(_("**The graph** of {model}").format(model=md(spec.name)))
        st.graphviz_chart(card.dot)
    with code:
        st.markdown(_("**The code that builds it**, written by the studio"))
        st.code(card.code, language="python", wrap_lines=True, height=CODE_HEIGHT if card.code.count("\n") > 30 else "content")


def _open_and_go(preset: str, page: str, keep_matching: bool = False, lesson_done: str | None = None) -> None:
    """Open the preset (or keep the model open now when it is the preset's, changed or not) and switch to a page;
    `lesson_done`: the lesson this step completes."""
    from components import project

    spec = state.current_spec()
    kept = keep_matching and lessons.same_model(spec.name, spec.inputs, spec.outputs, load_preset(preset))
    if kept or project.open_preset(preset, ERROR_KEY):
        if lesson_done is not None:
            progress.mark(lesson_done)
        st.switch_page(page)


def _actions(lesson: lessons.Lesson, shown: str) -> None:
    columns = st.columns(4)
    if columns[0].button(
        _("Open {model} in the Builder").format(model=_model_name(shown)),
        key=f"learn.builder.{lesson.key}",
        type="primary",
        icon=":material/edit:",
        width="stretch",
    ):
        _open_and_go(shown, state.PAGES["builder"], lesson_done=lesson.key if lesson.done_when == lessons.OPENED else None)
    if lesson.trainable and columns[1].button(
        _("Train {model}").format(model=_model_name(lesson.preset)),
        key=f"learn.train.{lesson.key}",
        icon=":material/model_training:",
        width="stretch",
        help=_("Opens the Train page with this lesson's model (the model open now, if it is this one with your changes)."),
    ):
        _open_and_go(lesson.preset, state.PAGES["training"], keep_matching=True)
    if lesson.save_and_load and columns[2].button(
        _("Save and load it on the Export page"), key=f"learn.export.{lesson.key}", icon=":material/download:", width="stretch"
    ):
        _open_and_go(lesson.preset, state.PAGES["export"], keep_matching=True)
    if not lesson.trainable and columns[1].button(
        _("See its feature maps on the Models page"), key=f"learn.models.{lesson.key}", icon=":material/image_search:", width="stretch"
    ):
        _open_and_go(lesson.preset, state.PAGES["models"], keep_matching=True)
    message = state.error_for(ERROR_KEY)
    if message:
        st.error(md(message))


def _reference_label(reference: lessons.Reference) -> str:
    name = md(_model_name(reference.preset))
    if reference.from_tutorial:
        return _("{model}: parameters in the tutorial").format(model=name)
    return _("{model}: expected parameters").format(model=name)


def _numbers(lesson: lessons.Lesson) -> None:
    """The tutorial's numbers (parameter counts, test accuracy) beside the model open now and this session's last run."""
    references = lesson.references
    columns = st.columns(max(len(references), 2))
    for column, reference in zip(columns, references, strict=False):
        column.metric(_reference_label(reference), f"{reference.params:,}")
    _current_model_numbers(lesson)
    _run_numbers(lesson)


def _current_model_numbers(lesson: lessons.Lesson) -> None:
    spec = state.current_spec()
    if not spec.calls:
        st.caption(_("No model is open yet: open this lesson's model in the Builder and its count appears here."))
        return
    try:
        from components import cache
        from studio.model.analysis import param_counts

        result = cache.analysis(spec)
        total = param_counts(result).total
    except Exception as error:  # noqa: BLE001 - the numbers are a comparison, never a reason to fail the page
        state.record_failure("learn model numbers", error)
        return
    reference = next(
        (ref for ref in lesson.references if lessons.same_model(spec.name, spec.inputs, spec.outputs, load_preset(ref.preset))), None
    )
    label = _("The model open now: {model}").format(model=md(spec.name))
    if reference is None:
        st.metric(label, f"{total:,}")
        st.caption(_("The model open now is not one of this lesson's models; open the lesson's model to compare."))
        return
    difference = total - reference.params
    st.metric(label, f"{total:,}", delta=f"{difference:+,}" if difference else None, delta_color="off")
    if difference:
        st.caption(_("Your changes moved the count by {difference} parameters.").format(difference=f"{difference:+,}"))
    else:
        st.caption(_("Same count as the reference: the model builds exactly as in the tutorial."))


def _run_numbers(lesson: lessons.Lesson) -> None:
    if not lesson.trainable:
        st.caption(_("This model is not trained in the lesson, so there is no test accuracy to compare."))
        return
    try:
        run = lessons.latest_run(progress.session_runs(), load_preset(lesson.preset))
    except Exception as error:  # noqa: BLE001 - same as above
        state.record_failure("learn run numbers", error)
        return
    columns = st.columns(2)
    if lesson.test_accuracy is not None:
        columns[0].metric(_("Test accuracy in the tutorial"), f"{lesson.test_accuracy:.4f}")
    if run is None:
        st.caption(_("Train this model and your test results appear here."))
        return
    if run.accuracy is not None:
        delta = f"{run.accuracy - lesson.test_accuracy:+.4f}" if lesson.test_accuracy is not None else None
        columns[1].metric(_("Your last run: test accuracy"), f"{run.accuracy:.4f}", delta=delta)
    elif run.loss is not None:
        columns[1].metric(_("Your last run: test loss"), f"{run.loss:.4f}")
    if run.offline_sample and lesson.test_accuracy is not None:
        st.info(_(OFFLINE_NOTE).format(accuracy=f"{lessons.FULL_MNIST_ACCURACY:.2f}"), icon=":material/info:")


def _done_and_next(lesson: lessons.Lesson) -> None:
    if lesson.key in progress.done():
        st.success(_("You have done this lesson."), icon=":material/check_circle:")
        st.button(_("Mark as not done"), key=f"learn.undone.{lesson.key}", on_click=progress.mark, args=(lesson.key, False))
    else:
        hint = (
            _("It is marked by itself when a run of this model finishes in this session.")
            if lesson.trainable
            else _("It is marked by itself when you open this model in the Builder from here.")
        )
        st.button(
            _("Mark this lesson as done"),
            key=f"learn.done.{lesson.key}",
            icon=":material/check:",
            on_click=progress.mark,
            args=(lesson.key,),
            help=hint,
        )
    following = next((found for found in lessons.LESSONS if found.number == lesson.number + 1), None)
    if following is not None:
        st.button(
            _("Next: lesson {number}, {title}").format(number=following.number, title=_(following.title)),
            key="learn.next",
            icon=":material/arrow_forward:",
            on_click=progress.open_lesson,
            args=(following.key,),
        )
    else:
        st.button(_("Back to all lessons"), key="learn.back", icon=":material/arrow_back:", on_click=progress.open_lesson, args=(None,))

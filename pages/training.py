"""Train: pick data and compile settings, train in the background with live charts, stop, evaluate."""

# ruff: noqa: E402 - a page first makes sure it runs inside app.py, then imports the rest
from __future__ import annotations

import streamlit as st

from components.bootstrap import run_inside_app

run_inside_app()  # before the heavy imports below


import pandas as pd

from components import cache, state
from components.text import md
from components.training.evaluation import render_downloads, render_evaluation
from components.training.jobs import NOT_YOURS, current_job, job_access, job_registry, remember_in_url, start_job
from components.training.live_chart import render_live_charts
from components.training.progress import render_status
from components.training.settings import DataChoice, render_compile_settings, render_data_choice
from components.tryit.panel import render_try_it
from studio.graph.spec import GraphSpec
from studio.i18n import _, ngettext
from studio.model.build import spec_key
from studio.training.code_settings import settings_from_code
from studio.training.data import fit_to_model
from studio.training.datasets import DataError, load_dataset
from studio.training.default_data import default_dataset_key
from studio.training.defaults import not_trainable_message
from studio.training.job import TrainingRequest
from studio.training.settings import CompileSettings, SettingsError, default_settings

MESSAGE = "train.message"  # (kind, text) shown once above the buttons
RUN_NAME = "train.run_name"  # what other users see of this session's runs on the Runs page (optional)
WARMED = "train.warmed"  # True once this session asked the registry to start its worker processes
POLL_SECONDS = 1.0


def _say(kind: str, text: str) -> None:
    st.session_state[MESSAGE] = (kind, text)


def _prerequisites(spec: GraphSpec):
    """The built model, or a message with links and st.stop() when there is nothing to train."""
    if not spec.calls:
        st.info(_("There is no model to train yet: open one of the tutorial's examples in the Gallery, or build one in the Builder."))
        _links()
        st.stop()
    result = cache.analysis(spec)
    if not result.ok:
        count = len(result.problems)
        st.error(
            ngettext(
                "'{name}' does not build ({count} problem); fix it in the Builder first.",
                "'{name}' does not build ({count} problems); fix it in the Builder first.",
                count,
            ).format(name=md(spec.name), count=count)
        )
        for problem in result.problems[:5]:
            st.caption(md(problem.text()))
        _links()
        st.stop()
    return result.model


def _links() -> None:
    columns = st.columns(2)
    for column, (name, label) in zip(columns, (("gallery", _("Open the Gallery")), ("builder", _("Open the Builder"))), strict=True):
        try:
            column.page_link(state.PAGES[name], label=label)
        except Exception:  # noqa: BLE001 - the page runs on its own (tests) without the navigation
            column.caption(f"{label}: {state.PAGES[name]}")


def _check_fit(model, spec: GraphSpec, choice: DataChoice, settings: CompileSettings) -> str | None:
    """Why this data and these settings cannot train this model (checked on a few samples), or None."""
    if choice.error:
        return choice.error
    try:
        settings.validate(num_outputs=len(model.outputs))
        dataset = choice.dataset or load_dataset(choice.key or "")
        fit_to_model(dataset.head(), model, list(spec.inputs), list(spec.outputs), settings.losses())
    except (DataError, SettingsError) as error:
        return str(error)
    return None


def _on_train(spec: GraphSpec, choice: DataChoice, settings: CompileSettings, problem: str | None) -> None:
    job = current_job()
    if job is not None and job.active:
        _say("warning", _("A run is already going for this session: stop it first (or wait for it to finish)."))
        return
    if problem:
        _say("error", _("Cannot train: {problem}").format(problem=md(problem)))
        return
    request = TrainingRequest(spec.copy(), settings, dataset_key=choice.key, dataset=choice.dataset)
    job = start_job(request, run_name=st.session_state.get(RUN_NAME))
    position = job_registry().queue_position(job.id)
    started = _("Training started (queue position {position}).").format(position=position) if position and position > 1 else None
    _say("info", started or _("Training started."))


def _on_stop() -> None:
    job = current_job()
    if job is None:
        _say("info", _("Nothing to stop: no run has been started in this session."))
        return
    _say("info", job.stop())


def _live(job_id: str, was_active: bool) -> None:
    @st.fragment(run_every=POLL_SECONDS if was_active else None)
    def live() -> None:
        registry = job_registry()
        job = registry.get(job_id)
        if job is None:
            st.caption(_("The last run is no longer on this server (it was restarted or the run was cleared)."))
            return
        job.touch()
        snapshot = job.snapshot()
        render_status(job, snapshot, registry.queue_position(job.id))
        render_live_charts(snapshot, job.output_names)
        if was_active and not job.active:
            st.rerun()  # the whole page: buttons, evaluation and downloads

    live()


def main() -> None:
    """The training page."""
    state.init_state()
    st.title(_("Train"))
    if not st.session_state.get(WARMED):
        job_registry().warm()  # starts the backends' worker processes in the background: the next Train starts at once
        st.session_state[WARMED] = True
    spec = state.current_spec()
    model = _prerequisites(spec)
    access = job_access()
    if access.refused:
        st.warning(_(NOT_YOURS), icon=":material/lock:")
    job = access.job
    active = job is not None and job.active
    if job is not None:
        remember_in_url(job)
    token = spec_key(spec)[:10]
    inputs = ngettext("{count} input", "{count} inputs", len(spec.inputs)).format(count=len(spec.inputs))
    outputs = ngettext("{count} output", "{count} outputs", len(spec.outputs)).format(count=len(spec.outputs))
    parameters = ngettext("{count} parameter", "{count} parameters", model.count_params()).format(count=f"{model.count_params():,}")
    st.caption(
        _("Model **{name}** · {inputs}, {outputs} · {parameters}").format(
            name=md(spec.name), inputs=inputs, outputs=outputs, parameters=parameters
        )
    )
    reason = not_trainable_message(spec)
    if reason:
        st.info(reason, icon=":material/info:")
    default_key = default_dataset_key(spec, [tuple(t.shape) for t in model.outputs])
    choice = render_data_choice(spec, None if reason else default_key, token)
    defaults = default_settings(spec, choice.key)
    from_code = st.session_state.get(state.CODE_SETTINGS) or {}
    if from_code.get("key") == spec_key(spec) and from_code.get("training"):
        defaults, unusable = settings_from_code(spec, from_code["training"], choice.key)
        if unusable:
            st.caption(
                _("Compile and fit settings start from the code this model was opened from ({unusable}).").format(
                    unusable=md("; ".join(unusable))
                )
            )
        else:
            st.caption(_("Compile and fit settings start from the code this model was opened from."))
    settings = render_compile_settings(defaults, f"{token}.{choice.key or 'upload'}", disabled=active)
    problem = _check_fit(model, spec, choice, settings)
    if problem and choice.ready:
        st.error(_("This data does not fit the model: {problem}").format(problem=md(problem)), icon=":material/error:")
    st.text_input(
        _("Run name (optional)"), key=RUN_NAME, max_chars=60, disabled=active, placeholder=_("anonymous"),
        help=_("Shown to other users of this server on the Runs page next to your run; left empty, the run is anonymous. "
        "Only this browser tab can watch and stop the run."),
    )  # fmt: skip
    columns = st.columns([1, 1, 4])
    train = columns[0].button(_("Train"), type="primary", key="train.start", icon=":material/play_arrow:")
    stop = columns[1].button(_("Stop"), key="train.stop", icon=":material/stop:", disabled=not active)
    if train:
        _on_train(spec, choice, settings, problem)
    if stop:
        _on_stop()
    if train or stop:
        st.rerun()  # draw the buttons, the status and the fragment for the new state
    message = st.session_state.pop(MESSAGE, None)
    if message:
        getattr(st, message[0])(message[1])
    if job is None:
        st.caption(_("Press Train to start; the charts update about once a second while it runs."))
        return
    if job.request.spec.model_dict() != spec.model_dict():
        st.caption(_("The run below trained an earlier version of the model ('{name}').").format(name=md(job.request.spec.name)))
    _live(job.id, active)
    if job.data_notes:
        with st.expander(_("What was done to the data")):
            for note in job.data_notes:
                st.caption(md(note))
    if not job.active:
        epochs = job.log.epochs()
        if epochs:
            with st.expander(_("History per epoch")):
                st.dataframe(pd.DataFrame(epochs).drop(columns=["wall", "time"], errors="ignore"), hide_index=True, key="train.history")
        render_evaluation(job)
        render_downloads(job)
        if job.model is not None:
            st.subheader(_("Try it"))
            render_try_it(job.model, "train")


main()

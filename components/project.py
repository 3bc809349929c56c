"""Saving and opening projects (a spec as JSON, with the Learn page's progress once a lesson is done), and opening
a preset from the URL (`?preset=autoencoder`)."""

from __future__ import annotations

import re

import streamlit as st

from components import actions, state
from components.learn import progress
from studio.gate import LimitExceeded, check_bytes, described
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import GraphSpec, SpecError
from studio.i18n import _
from studio.io.project_file import Project, project_json
from studio.io.project_file import read_project as read_project_file
from studio.limits import describe, limits

PASTE_TEXT = "builder.paste_text"
OPEN_PRESET = "builder.open_preset"

UPLOAD_COUNTER = "builder.view.upload_counter"  # bumps after each upload so the uploader starts empty again
PROJECT_ERROR = "builder.project"  # error key of the open / paste controls


def read_project(data: bytes | str, source: str) -> GraphSpec:
    """A spec from uploaded or pasted JSON, through the gate (size, JSON depth, nesting of models, nodes);
    raises ValueError (LimitError past a limit) or SpecError saying what is wrong and naming `source`."""
    return read_project_with_progress(data, source).spec


def read_project_with_progress(data: bytes | str, source: str) -> Project:
    """Like `read_project`, with the rest of the project file (its lesson progress: None in older files)."""
    active = limits()
    try:
        check_bytes(source, len(data), "max_upload_mb", active)  # before decoding (characters <= bytes for text)
        if isinstance(data, bytes):
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise ValueError(
                    _("'{source}' is not text (not UTF-8); expected a project saved as JSON by this app.").format(source=source)
                ) from error
        else:
            text = data
        if not text.strip():
            raise ValueError(_("'{source}' is empty; expected a project saved as JSON by this app.").format(source=source))
        project = read_project_file(text, source)  # a project file (spec + settings + dataset + progress) or a bare spec
    except LimitExceeded as error:
        raise actions.LimitError(str(error)) from error
    except SpecError as error:
        details = "; ".join(problem.text() for problem in error.problems)
        if all(problem.kind == "limit" for problem in error.problems):
            raise actions.LimitError(details) from error
        raise ValueError(_("'{source}' is not a project this app can open: {details}").format(source=source, details=details)) from error
    actions.check_limits(project.spec, active)
    return project


def file_name_for(spec: GraphSpec, suffix: str) -> str:
    """A safe file name from the model's name: 'mnist model' -> 'mnist_model.json'."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec.name).strip("_.") or "model"
    return f"{stem}{suffix}"


def open_preset(key: str, error_key: str = PROJECT_ERROR) -> bool:
    """Make a preset the current model (undoable); False, with a message at `error_key`, when it cannot be."""
    label = _("Opened preset '{name}'").format(name=key)
    return actions.apply_edit(lambda _spec: load_preset(key), error_key, label, source=f"preset {key}")


def open_query_preset() -> bool:
    """Open the preset named in the URL (?preset=...) once per session; True when one was opened."""
    requested = st.query_params.get("preset")
    if not requested or requested == st.session_state.get(state.QUERY_PRESET_DONE):
        return False
    st.session_state[state.QUERY_PRESET_DONE] = requested
    if requested not in preset_names():
        message = _("The link asks for preset '{name}', which does not exist. Presets: {presets}.")
        state.notify(message.format(name=requested, presets=", ".join(preset_names())), "warning")
        return False
    return open_preset(requested)


def _on_upload(key: str) -> None:
    uploaded = st.session_state.get(key)
    if uploaded is None:
        return
    try:
        project = read_project_with_progress(uploaded.getvalue(), uploaded.name)
    except (ValueError, SpecError) as error:
        state.set_error(PROJECT_ERROR, _unchanged(error))
        return
    label = _("Opened '{name}'").format(name=uploaded.name)
    if actions.apply_edit(lambda _spec: project.spec, PROJECT_ERROR, label, source=f"file {uploaded.name}"):
        progress.restore(project.progress)
        st.session_state[UPLOAD_COUNTER] = st.session_state.get(UPLOAD_COUNTER, 0) + 1


def _unchanged(error: BaseException) -> str:
    return _("{error} Your current work is unchanged.").format(error=actions.error_text(error))


def _on_paste() -> None:
    text = st.session_state.get(state.widget_key(PASTE_TEXT), "")
    try:
        project = read_project_with_progress(text, described(_("the pasted text")))
    except (ValueError, SpecError) as error:
        state.set_error(PROJECT_ERROR, _unchanged(error))
        return
    label = _("Opened pasted spec '{name}'").format(name=project.spec.name)
    if actions.apply_edit(lambda _spec: project.spec, PROJECT_ERROR, label, source="pasted JSON"):
        progress.restore(project.progress)


def _on_new() -> None:
    from studio.graph.edits import empty_spec

    actions.apply_edit(lambda _spec: empty_spec(), PROJECT_ERROR, _("Started a new empty model"), source="new")


def _on_open_preset() -> None:
    key = st.session_state.get(state.widget_key(OPEN_PRESET))
    if key:
        open_preset(key)


def project_text(spec: GraphSpec) -> str:
    """What "Save project" writes: the spec JSON, as a project file with the lesson progress once a lesson is done."""
    progress.sync_with_runs()
    done = progress.progress_data()
    return spec.to_json() if done is None else project_json(spec, progress=done)


def render_project_controls(spec: GraphSpec) -> None:
    """Save (download the spec JSON), open (upload or paste), start anew or from a preset."""
    active = limits()
    st.download_button(
        _("Save project (.json)"),
        project_text(spec),
        file_name=file_name_for(spec, ".json"),
        mime="application/json",
        key="builder.save_project",
        icon=":material/download:",
        on_click="ignore",
        width="stretch",
    )
    counter = st.session_state.get(UPLOAD_COUNTER, 0)
    upload_key = f"builder.view.upload_{counter}"
    st.file_uploader(
        _("Open a project (.json)"),
        type=["json"],
        key=upload_key,
        on_change=_on_upload,
        args=(upload_key,),
        help=_("A spec saved by this app, with your lesson progress if it has any. Limit: {limit}.").format(
            limit=describe("max_upload_mb", active.max_upload_mb)
        ),
        max_upload_size=active.max_upload_mb,
    )
    st.text_area(
        _("…or paste a spec (JSON)"),
        key=state.widget_key(PASTE_TEXT),
        height=90,
        placeholder='{"name": "model", "layers": [...], ...}',
    )
    st.button(_("Open pasted spec"), key="builder.open_pasted", on_click=_on_paste, width="stretch")
    st.divider()
    st.selectbox(
        _("Start from a preset"),
        preset_names(),
        index=None,
        key=state.widget_key(OPEN_PRESET),
        placeholder=_("Choose a preset"),
    )
    cols = st.columns(2)
    cols[0].button(_("Open preset"), key="builder.open_preset_button", on_click=_on_open_preset, width="stretch")
    cols[1].button(
        _("New model"), key="builder.new_model", on_click=_on_new, width="stretch", help=_("Start a new, empty model (undo returns)")
    )

"""Downloads derived from the spec (and this session's run): model code, training script, history CSV,
diagram PNG/SVG, summary text and the project file that opens again in the builder."""

from __future__ import annotations

import json
import logging
from typing import Any

import streamlit as st

from components import cache
from components.code_style import code_style_control
from components.project import file_name_for
from components.text import md
from studio.graph.spec import GraphSpec, SpecError
from studio.i18n import _, current_language
from studio.model.build import spec_key
from studio.runs.history import history_csv
from studio.training.default_data import default_dataset_key
from studio.training.settings import CompileSettings, SettingsError, default_settings, settings_from_dict

log = logging.getLogger(__name__)
CODE_STYLE_KEY = "export.code_style"


def settings_for(spec: GraphSpec, job: Any) -> tuple[CompileSettings, str | None, str]:
    """The settings and data of this session's run when it trained this spec, else the defaults; and which it is."""
    if job is not None and job.request.spec.model_dict() == spec.model_dict():
        summary = getattr(job, "dataset_summary", None) or {}
        key = job.request.dataset_key or summary.get("key")
        if key and key.startswith("file:") and summary.get("autoencoder"):
            key = "file_autoencoder:" + key.removeprefix("file:")
        return job.request.settings, key, _("the settings and data of your last training run")
    key = default_dataset_key(spec)
    return default_settings(spec, key), key, _("the default settings and data for this model")


@st.cache_data(show_spinner=False, max_entries=32)
def _script(key: str, settings_json: str, dataset_key: str | None, language: str, _spec: GraphSpec) -> str:
    """The training script (its comments may be in the language in use: the language is part of the key)."""
    from studio.training.script import training_script

    return training_script(_spec, settings_from_dict(json.loads(settings_json)), dataset_key)


@st.cache_data(show_spinner=False, max_entries=32)
def _tutorial(key: str, settings_json: str, dataset_key: str | None, language: str, _spec: GraphSpec) -> str:
    """The tutorial-style code (the language is part of the key, as for the script)."""
    from studio.training.script import tutorial_code

    return tutorial_code(_spec, settings_from_dict(json.loads(settings_json)), dataset_key)


@st.cache_data(show_spinner=False, max_entries=32)
def _diagram(key: str, fmt: str, language: str, _spec: GraphSpec) -> bytes:
    """The diagram as PNG or SVG (its labels may be translated: the language is part of the key)."""
    from studio.io.diagram import render_diagram

    return render_diagram(_spec, fmt)


@st.cache_data(show_spinner=False, max_entries=32)
def _summary(key: str, _spec: GraphSpec) -> str | None:
    from studio.io.model_files import summary_text

    result = cache.analysis(_spec)
    return summary_text(result.model) if result.ok else None


def _download(column: Any, label: str, data: str | bytes, file_name: str, mime: str, key: str) -> None:
    column.download_button(label, data, file_name=file_name, mime=mime, key=key, icon=":material/download:", width="stretch")


def render_spec_downloads(spec: GraphSpec, job: Any) -> None:
    """Every download that the spec alone (and this session's run) gives."""
    from studio.io.diagram import DiagramError, graphviz_available
    from studio.io.model_files import project_json

    st.subheader(_("Code, script and project"))
    if not spec.calls:
        st.info(_("The model is empty: open an example in the Gallery or build one in the Builder."))
        return
    settings, dataset_key, origin = settings_for(spec, job)
    key = spec_key(spec)
    language = current_language()
    st.caption(
        _("Model **{name}**; the training script, the tutorial-style code and the project file use {origin}.").format(
            name=md(spec.name), origin=origin
        )
    )
    top = st.columns(3)
    with top[0]:
        style = code_style_control(CODE_STYLE_KEY)
    try:
        code = _tutorial(key, settings.to_json(), dataset_key, language, spec) if style == "tutorial" else cache.generated_code(spec)
    except (SpecError, SettingsError) as error:
        top[0].caption(_("No code: {error}").format(error=md(error)))
    else:
        name = file_name_for(spec, "_tutorial.py" if style == "tutorial" else ".py")
        _download(top[0], _("Model code (.py)"), code, name, "text/x-python", "export.code")
    script = None
    try:
        script = _script(key, settings.to_json(), dataset_key, language, spec)
    except (SpecError, SettingsError) as error:
        top[1].caption(_("No training script: {error}").format(error=md(error)))
    if script:
        _download(top[1], _("Training script (.py)"), script, f"train_{file_name_for(spec, '.py')}", "text/x-python", "export.script")
    project = project_json(spec, settings, dataset_key)
    _download(top[2], _("Project file (.json)"), project, file_name_for(spec, ".project.json"), "application/json", "export.project")
    bottom = st.columns(4)
    summary = _summary(key, spec)
    if summary:
        _download(bottom[0], _("Summary (.txt)"), summary, file_name_for(spec, "_summary.txt"), "text/plain", "export.summary")
    if not graphviz_available():
        bottom[1].caption(_("PNG/SVG diagrams need Graphviz's `dot` program (apt-get install graphviz)."))
    else:
        for column, fmt, mime in ((bottom[1], "png", "image/png"), (bottom[2], "svg", "image/svg+xml")):
            try:
                data = _diagram(key, fmt, language, spec)
            except DiagramError as error:
                column.caption(_("No {format}: {error}").format(format=fmt.upper(), error=md(error)))
                continue
            _download(
                column, _("Diagram (.{format})").format(format=fmt), data, file_name_for(spec, f".{fmt}"), mime, f"export.diagram.{fmt}"
            )
    epochs = job.log.epochs() if job is not None else []
    if epochs:
        name = file_name_for(job.request.spec, "_history.csv")
        _download(bottom[3], _("History (.csv)"), history_csv(epochs), name, "text/csv", "export.history")
    if script:
        with st.expander(_("The training script")):
            st.caption(
                _(
                    "Runs as it is with only keras and numpy: `python train.py --epochs 1`. With several GPUs add "
                    "`--distribute mirrored`; on several machines run it on each with `--distribute multihost --coordinator "
                    "HOST:PORT --num-processes N --process-id I` (JAX; see `python train.py --help`)."
                )
            )
            st.code(script, language="python")

"""Process-wide caches keyed by spec content, so a rerun rebuilds nothing that did not change.

Cached results are shared between sessions: read them, never change them. A result that holds text the
core writes (problems, messages, the labels of a spec drawing) is keyed on the language too
(`studio.i18n.current_language()`), so a Chinese session never gets an English session's text, nor the
reverse; results without such text (generated code, the runnable model) stay shared by every language.
"""

from __future__ import annotations

import json
import logging
from dataclasses import astuple

import streamlit as st

from studio.graph.spec import GraphSpec
from studio.i18n import current_language, use_language
from studio.io import codegen, diagram
from studio.model.analysis import analyze_for_display
from studio.model.build import BuildResult, spec_key

log = logging.getLogger(__name__)


@st.cache_resource(max_entries=64, show_spinner=False)
def _analysis(key: str, language: str, _spec: GraphSpec) -> BuildResult:
    with use_language(language):  # the problems are written in the language of the key
        return analyze_for_display(_spec)


def analysis(spec: GraphSpec) -> BuildResult:
    """Shapes, parameter counts and problems of a spec (built once per distinct content).

    Its `model` is for structure only (summary, diagram, shapes, `count_params`): its weights are not
    initialised. To call, fit or save a model use `runnable_model(spec)` or `studio.model.build.build_model`.
    """
    return _analysis(spec_key(spec), current_language(), spec)


@st.cache_resource(max_entries=4, show_spinner=False)
def _runnable(key: str, _spec: GraphSpec):
    from studio.model.build import build_model

    return build_model(_spec)


def runnable_model(spec: GraphSpec):
    """A fully built model (initialised random weights) for predictions such as feature maps; cached, shared: do not train it.

    Raises SpecError when the spec does not build.
    """
    return _runnable(spec_key(spec), spec)


@st.cache_data(max_entries=256, show_spinner=False)
def _diagram_dot(key: str, language: str, options: tuple, _spec: GraphSpec, _result: BuildResult) -> str:
    with use_language(language):  # a spec drawing labels its boxes and problems in words
        return diagram.diagram_dot(_spec, diagram.DiagramOptions(*options), _result)


def diagram_dot(spec: GraphSpec, options: diagram.DiagramOptions, result: BuildResult) -> str:
    """DOT text of the spec's diagram with these options (a `DiagramOptions`), in the current language."""
    return _diagram_dot(spec_key(spec), current_language(), astuple(options), spec, result)


def diagram_dot_or_spec_drawing(spec: GraphSpec, options: diagram.DiagramOptions, result: BuildResult) -> tuple[str, str | None]:
    """`diagram_dot`, or when drawing fails the spec's own drawing (`spec_dot`); with the failure's text, if any."""
    try:
        return diagram_dot(spec, options, result), None
    except Exception as error:  # noqa: BLE001 - a drawing failure must not take a page down
        log.warning("Diagram of '%s' failed: %s", spec.name, error)
        return diagram.spec_dot(spec, options), f"{type(error).__name__}: {error}"


@st.cache_data(max_entries=128, show_spinner=False)
def _code(key: str, style: str, _spec: GraphSpec) -> str:
    if style == "tutorial":
        from studio.training.script import tutorial_code

        return tutorial_code(_spec)
    return codegen.generate_code(_spec)


def generated_code(spec: GraphSpec, style: str = "studio") -> str:
    """The spec as a runnable functional-API script in a code style (tutorial: with its training); SpecError when broken."""
    return _code(spec_key(spec), style, spec)


@st.cache_data(max_entries=64, show_spinner=False)
def _parse_back(key: str, language: str, code: str, _spec: GraphSpec) -> str | None:
    from studio.io.codegen.roundtrip import parse_back_problem

    with use_language(language):
        return parse_back_problem(_spec, code)


def parse_back_problem(spec: GraphSpec, code: str) -> str | None:
    """None when generated code parses back (never run) to the spec's graph; else what differs (in the current language)."""
    return _parse_back(spec_key(spec), current_language(), code, spec)


@st.cache_data(max_entries=32, show_spinner=False)
def application_layer_names(type_name: str, config_json: str) -> list[str]:
    """Inner layer names of an application (built without initialising its weights)."""
    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope

    from studio.catalog import types as catalog

    config = {key: value for key, value in json.loads(config_json).items() if key not in ("outputs", "frozen")}
    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    try:
        with StatelessScope(initialize_variables=False):
            return catalog.application_layer_names(type_name, config)
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)

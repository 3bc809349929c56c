"""Gallery: the tutorial's seven models, each with what it teaches, its diagram, parameter count and code."""

# ruff: noqa: E402 - a page first makes sure it runs inside app.py, then imports the rest
from __future__ import annotations

import logging

import streamlit as st

from components.bootstrap import run_inside_app

run_inside_app()  # before the heavy imports below

from components import cache, project, state
from components.text import compact_count, md
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import GraphSpec, SpecError
from studio.io.diagram import DiagramOptions
from studio.model.analysis import param_counts

log = logging.getLogger(__name__)
CODE_HEIGHT = 720  # pixels; longer code scrolls
PARSES_BACK = "parses back to the same graph"
PARSES_BACK_HELP = (
    "Written by the studio in the tutorial's manner (tensorflow.keras imports, short variable names, the tutorial's "
    "compile and fit settings), then read back by the studio's code parser, without running it: the same layers, "
    "configs and wiring. Training runs only when the file is run as a script."
)


GALLERY_DIAGRAM = DiagramOptions(show_shapes=True, expand_nested=False, dpi=72)  # nested models as one box: readable


def _diagram(spec: GraphSpec, result) -> None:
    dot_text, _error = cache.diagram_dot_or_spec_drawing(spec, GALLERY_DIAGRAM, result)
    st.graphviz_chart(dot_text)


def _code(spec: GraphSpec) -> None:
    """The model's functional-API code in the tutorial's style, and whether it parses back to the same graph."""
    st.markdown("**Functional-API code for this model, in the tutorial's style**")
    try:
        generated = cache.generated_code(spec, "tutorial")
    except SpecError as error:  # one card's code failing must not hide the others
        st.warning(f"Code cannot be generated for this model: {md(str(error))}")
        return
    problem = cache.parse_back_problem(spec, generated)
    if problem is None:
        st.caption(f"✓ {PARSES_BACK}", help=PARSES_BACK_HELP)
    else:
        st.warning(f"This code does not parse back to the same graph: {md(problem)}")
    st.code(generated, language="python", wrap_lines=True, height=CODE_HEIGHT if generated.count("\n") > 36 else "content")


def _card(key: str) -> None:
    spec = load_preset(key)
    result = cache.analysis(spec)
    counts = param_counts(result)
    with st.container(border=True, key=f"gallery_card_{key}"):
        text, code = st.columns([1, 1], gap="large")
        with text:
            st.markdown(f"### {md(spec.name)}")
            st.caption(f"Tutorial section {md(spec.section)}" if spec.section else "Tutorial example")
            st.markdown(md(spec.description))
            facts = st.columns(3)
            facts[0].metric("Parameters", compact_count(counts.total), help=f"{counts.total:,} parameters")
            facts[1].metric("Nodes", len(spec.calls))
            facts[2].metric("Inputs → outputs", f"{len(spec.inputs)} → {len(spec.outputs)}")
            if not result.ok:
                st.warning("This preset does not build here: " + md("; ".join(problem.text() for problem in result.problems[:3])))
            error_key = f"gallery.open_error.{key}"
            if st.button("Open in builder", key=f"gallery.open.{key}", type="primary", icon=":material/edit:"):
                if project.open_preset(key, error_key):
                    st.switch_page(state.PAGES["builder"])
            message = state.error_for(error_key)
            if message:
                st.error(md(message))
            _diagram(spec, result)
        with code:
            _code(spec)


def render_gallery() -> None:
    """The whole page."""
    state.init_state()
    st.title("Gallery")
    st.markdown(
        "The models of the Keras functional-API tutorial, ready to explore: a simple network, an encoder and decoder, "
        "whole models nested as layers, several inputs and outputs, a shared layer and a reused VGG16. "
        "**Open one in the builder** to change it and see shapes, problems, diagram and code update after every edit."
    )
    for key in preset_names():
        try:
            _card(key)
        except Exception as error:  # noqa: BLE001 - one broken preset must not hide the others
            log.warning("Gallery card '%s' failed: %s", key, error)
            st.error(f"The preset '{key}' cannot be shown ({type(error).__name__}: {md(str(error))}).")


render_gallery()

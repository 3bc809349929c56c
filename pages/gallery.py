"""Gallery: the tutorial's seven models, each with what it teaches, its diagram, parameter count and code."""

# ruff: noqa: E402 - a page first makes sure it runs inside app.py, then imports the rest
from __future__ import annotations

import logging

import streamlit as st

from components.bootstrap import run_inside_app

run_inside_app()  # before the heavy imports below

from components import state
from components.cards import preset_card
from components.text import compact_count, md
from studio.graph.preset_cards import PresetCard
from studio.graph.presets import load_preset, preset_names
from studio.i18n import N_, _, ngettext

log = logging.getLogger(__name__)
CODE_HEIGHT = 720  # pixels; longer code scrolls
PARSES_BACK = N_("parses back to the same graph")
PARSES_BACK_HELP = N_(
    "Written by the studio in the tutorial's manner (tensorflow.keras imports, short variable names, the tutorial's "
    "compile and fit settings), then read back by the studio's code parser, without running it: the same layers, "
    "configs and wiring. Training runs only when the file is run as a script."
)


# The tutorial's section titles the presets name (presets/*.json "section"), for the catalogue: shown as _(spec.section).
TUTORIAL_SECTIONS = (
    N_("1.1 Build a simple network"),
    N_("2 Use shared networks to build several models"),
    N_("3 Multi-input and multi-output networks"),
    N_("4 Shared layers"),
    N_("5 Reuse an existing model"),
)


def _code(card: PresetCard) -> None:
    """The model's functional-API code in the tutorial's style, and whether it parses back to the same graph."""
    st.markdown(_("**Functional-API code for this model, in the tutorial's style**"))
    if card.parse_back_problem is None:
        st.caption(f"✓ {_(PARSES_BACK)}", help=_(PARSES_BACK_HELP))
    else:
        st.warning(_("This code does not parse back to the same graph: {problem}").format(problem=md(card.parse_back_problem)))
    st.code(card.code, language="python", wrap_lines=True, height=CODE_HEIGHT if card.code.count("\n") > 36 else "content")


def _problems(spec) -> str:
    from components import cache

    return "; ".join(problem.text() for problem in cache.analysis(spec).problems[:3])


def _open(key: str) -> None:
    from components import project

    if project.open_preset(key, f"gallery.open_error.{key}"):
        st.switch_page(state.PAGES["builder"])


def _card(key: str) -> None:
    spec = load_preset(key)
    card = preset_card(key)
    with st.container(border=True, key=f"gallery_card_{key}"):
        text, code = st.columns([1, 1], gap="large")
        with text:
            st.markdown(f"### {md(spec.name)}")
            st.caption(_("Tutorial section {section}").format(section=md(_(spec.section))) if spec.section else _("Tutorial example"))
            st.markdown(md(_(spec.description)) if spec.description else "")
            facts = st.columns(3)
            facts[0].metric(
                _("Parameters"),
                compact_count(card.total_params),
                help=ngettext("{count} parameter", "{count} parameters", card.total_params).format(count=f"{card.total_params:,}"),
            )
            facts[1].metric(_("Nodes"), card.nodes)
            facts[2].metric(_("Inputs → outputs"), f"{card.inputs} → {card.outputs}")
            if not card.ok:
                st.warning(_("This preset does not build here: {problems}").format(problems=md(_problems(spec))))
            if st.button(_("Open in builder"), key=f"gallery.open.{key}", type="primary", icon=":material/edit:"):
                _open(key)
            message = state.error_for(f"gallery.open_error.{key}")
            if message:
                st.error(md(message))
            st.graphviz_chart(card.dot)
        with code:
            _code(card)


def render_gallery() -> None:
    """The whole page."""
    state.init_state()
    st.title(_("Gallery"))
    st.markdown(
        _(
            "The models of the Keras functional-API tutorial, ready to explore: a simple network, an encoder and decoder, "
            "whole models nested as layers, several inputs and outputs, a shared layer and a reused VGG16. "
            "**Open one in the builder** to change it and see shapes, problems, diagram and code update after every edit."
        )
    )
    for key in preset_names():
        try:
            _card(key)
        except Exception as error:  # noqa: BLE001 - one broken preset must not hide the others
            log.warning("Gallery card '%s' failed: %s", key, error)
            st.error(_("The preset '{name}' cannot be shown ({error}).").format(name=md(key), error=md(f"{type(error).__name__}: {error}")))


render_gallery()

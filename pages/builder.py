"""Builder: edit the current spec by forms (and the canvas when available); see shapes, problems,
diagram, summary and code after every edit."""

# ruff: noqa: E402 - a page first makes sure it runs inside app.py, then imports the rest
from __future__ import annotations

import streamlit as st

from components.bootstrap import run_inside_app

run_inside_app()  # before the heavy imports below

from components import actions, cache, state
from components.builder.add_panel import render_add_panel
from components.builder.canvas import render_canvas
from components.builder.code_panel import render_from_code_panel
from components.builder.model_panel import render_model_panel
from components.builder.node_editor import render_node_editor
from components.builder.node_list import render_node_list, render_problems
from components.builder.views import render_code_panel, render_diagram_panel, render_summary_panel
from components.layout import lazy_tabs
from components.project import PROJECT_ERROR, render_project_controls
from components.text import compact_count, md, plural
from studio.graph.checks import count_nodes
from studio.graph.spec import GraphSpec
from studio.model.analysis import param_counts
from studio.model.build import BuildResult

CANVAS_KEY = "builder.view.canvas"  # a fixed key (no revision): one canvas component across edits
PRESENT = "builder.view.present"  # bool: present mode, the canvas alone on the whole width (for a projector)
# Present mode: no app sidebar, little space above the canvas.
PRESENT_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 3.75rem; padding-bottom: 0; }
</style>"""


def _render_canvas(spec: GraphSpec, result: BuildResult, present: bool = False) -> None:
    if render_canvas(spec, result, key=CANVAS_KEY, height=420 if present else 560, present=present):
        st.rerun()


def _toolbar(spec: GraphSpec, present: bool = False) -> None:
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        if present:
            st.markdown(f"**{md(spec.name)}**")
        else:
            st.markdown(f"## {md(spec.name)}")
            source = st.session_state.get(state.SPEC_SOURCE, "new")
            st.caption(f"Builder · from {md(source)}" if source != "new" else "Builder · a new model")
    with right, st.container(horizontal=True, horizontal_alignment="right", gap="small"):
        st.toggle("Present", key=PRESENT, help="The canvas alone on the whole width (side panels hidden), for a projector")
        st.button("Undo", key="builder.undo", on_click=actions.undo, disabled=not state.can_undo(), icon=":material/undo:",
                  help=f"Undo: {md(st.session_state[state.UNDO][-1][0])}" if state.can_undo() else "Nothing to undo")
        st.button("Redo", key="builder.redo", on_click=actions.redo, disabled=not state.can_redo(), icon=":material/redo:",
                  help=f"Redo: {md(st.session_state[state.REDO][-1][0])}" if state.can_redo() else "Nothing to redo")
        with st.popover("Project", icon=":material/folder_open:"):
            render_project_controls(spec)
    message = state.error_for(PROJECT_ERROR)
    if message:
        st.error(md(message), icon=":material/error:")


def _status(spec: GraphSpec, result: BuildResult) -> None:
    counts = param_counts(result)
    cols = st.columns(5)
    nested = count_nodes(spec) - len(spec.calls)
    cols[0].metric("Nodes", f"{len(spec.calls):,}", border=True, help=f"Plus {nested:,} inside nested models." if nested else None)
    unbuilt = len([call for call in spec.calls if call.id not in result.nodes])
    partial = f" in the layers that built ({plural(unbuilt, 'node')} could not be built)" if unbuilt else ""
    cols[1].metric("Total params", compact_count(counts.total), border=True, help=f"{counts.total:,} parameters{partial}")
    cols[2].metric("Trainable", compact_count(counts.trainable), border=True, help=f"{counts.trainable:,} trainable parameters")
    cols[3].metric("Non-trainable", compact_count(counts.non_trainable), border=True, help=f"{counts.non_trainable:,} frozen parameters")
    if not spec.calls:
        cols[4].metric("Status", "Empty", border=True)
    elif result.ok:
        cols[4].metric("Status", "Builds ✓", border=True)
    else:
        count = len(result.problems)
        cols[4].metric(
            "Status", "Fails ✗", delta=f"{count} problem{'s' if count != 1 else ''}", delta_color="red", delta_arrow="off", border=True,
        )


def _empty_start() -> None:
    st.info(
        "This model is empty. Add an **Input** in the *Add* panel on the right, open a preset from the **Project** menu, "
        "or pick one in the Gallery.", icon=":material/lightbulb:",
    )
    st.page_link(state.PAGES["gallery"], label="Browse the Gallery", icon=":material/photo_library:")


def render_builder() -> None:
    """The whole page."""
    state.init_state()
    spec = state.current_spec()
    result = cache.analysis(spec)
    present = bool(st.session_state.get(PRESENT))
    _toolbar(spec, present)
    if present:
        st.html(PRESENT_CSS)
        _render_canvas(spec, result, present=True)
        return
    _status(spec, result)
    render_problems(spec, result)
    if not spec.calls and not spec.layers:
        _empty_start()
    left, right = st.columns([3, 2], gap="medium")
    with left:
        names = ["Canvas", "Diagram", "Nodes", "Summary", "Code"]
        views = {
            "Canvas": lambda: _render_canvas(spec, result),
            "Diagram": lambda: render_diagram_panel(spec, result),
            "Nodes": lambda: render_node_list(spec, result),
            "Summary": lambda: render_summary_panel(spec, result),
            "Code": lambda: render_code_panel(spec),
        }
        lazy_tabs(names, views, state.LEFT_TAB)
    with right:
        panels = {
            "Node": lambda: render_node_editor(spec, result),
            "Add": lambda: render_add_panel(spec, result),
            "Model": lambda: render_model_panel(spec, result),
            "From code": render_from_code_panel,
        }
        if not spec.calls and st.session_state.get(state.RIGHT_TAB) in (None, "Node"):
            st.session_state[state.RIGHT_TAB] = "Add"  # nothing to edit yet: start by adding
        lazy_tabs(list(panels), panels, state.RIGHT_TAB, default="Node")

try:
    render_builder()
except Exception as error:  # noqa: BLE001 - never a traceback on the page: say what happened, keep the work
    state.record_failure("builder", error)
    st.error(
        f"Something went wrong while drawing the builder ({type(error).__name__}: {md(str(error))}). "
        "Your model is kept; undo the last edit or open it again.", icon=":material/error:",
    )
    st.button("Undo the last edit", key="builder.recover_undo", on_click=actions.undo)

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
from components.text import compact_count, md
from studio.graph.checks import count_nodes
from studio.graph.spec import GraphSpec
from studio.i18n import N_, _, ngettext
from studio.model.analysis import param_counts
from studio.model.build import BuildResult

CANVAS_KEY = "builder.view.canvas"  # a fixed key (no revision): one canvas component across edits
PRESENT = "builder.view.present"  # bool: present mode, the canvas alone on the whole width (for a projector)
# Present mode: no app sidebar, little space above the canvas.
PRESENT_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 3.75rem; padding-bottom: 0; }
</style>"""
# Where the model came from (state.SPEC_SOURCE is "<kind> <name>", a stable id): how the toolbar says it.
SOURCE_KINDS = {"preset": N_("preset {name}"), "file": N_("file {name}"), "run": N_("run {name}"), "code": N_("code {name}")}
SOURCE_NAMES = {"pasted JSON": N_("pasted JSON")}


def source_text(source: str) -> str:
    """Where the model came from, in the session's language ('preset autoencoder' -> '示例模型 autoencoder')."""
    if source in SOURCE_NAMES:
        return _(SOURCE_NAMES[source])
    kind, _space, name = source.partition(" ")
    if kind in SOURCE_KINDS and name:
        return _(SOURCE_KINDS[kind]).format(name=md(name))
    return md(source)


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
            st.caption(_("Builder · from {source}").format(source=source_text(source)) if source != "new" else _("Builder · a new model"))
    with right, st.container(horizontal=True, horizontal_alignment="right", gap="small"):
        st.toggle(_("Present"), key=PRESENT, help=_("The canvas alone on the whole width (side panels hidden), for a projector"))
        st.button(
            _("Undo"),
            key="builder.undo",
            on_click=actions.undo,
            disabled=not state.can_undo(),
            icon=":material/undo:",
            help=_("Undo: {edit}").format(edit=md(st.session_state[state.UNDO][-1][0])) if state.can_undo() else _("Nothing to undo"),
        )
        st.button(
            _("Redo"),
            key="builder.redo",
            on_click=actions.redo,
            disabled=not state.can_redo(),
            icon=":material/redo:",
            help=_("Redo: {edit}").format(edit=md(st.session_state[state.REDO][-1][0])) if state.can_redo() else _("Nothing to redo"),
        )
        with st.popover(_("Project"), icon=":material/folder_open:"):
            render_project_controls(spec)
    message = state.error_for(PROJECT_ERROR)
    if message:
        st.error(md(message), icon=":material/error:")


def _status(spec: GraphSpec, result: BuildResult) -> None:
    counts = param_counts(result)
    cols = st.columns(5)
    nested = count_nodes(spec) - len(spec.calls)
    inside = ngettext("Plus {count} node inside nested models.", "Plus {count} nodes inside nested models.", nested)
    cols[0].metric(_("Nodes"), f"{len(spec.calls):,}", border=True, help=inside.format(count=f"{nested:,}") if nested else None)
    unbuilt = len([call for call in spec.calls if call.id not in result.nodes])
    total = f"{counts.total:,}"
    if unbuilt:
        total_help = ngettext(
            "{count} parameters in the layers that built ({unbuilt} node could not be built)",
            "{count} parameters in the layers that built ({unbuilt} nodes could not be built)",
            unbuilt,
        ).format(count=total, unbuilt=f"{unbuilt:,}")
    else:
        total_help = ngettext("{count} parameter", "{count} parameters", counts.total).format(count=total)
    cols[1].metric(_("Total params"), compact_count(counts.total), border=True, help=total_help)
    trainable = ngettext("{count} trainable parameter", "{count} trainable parameters", counts.trainable)
    cols[2].metric(_("Trainable"), compact_count(counts.trainable), border=True, help=trainable.format(count=f"{counts.trainable:,}"))
    frozen = ngettext("{count} frozen parameter", "{count} frozen parameters", counts.non_trainable)
    cols[3].metric(
        _("Non-trainable"), compact_count(counts.non_trainable), border=True, help=frozen.format(count=f"{counts.non_trainable:,}")
    )
    if not spec.calls:
        cols[4].metric(_("Status"), _("Empty"), border=True)
    elif result.ok:
        cols[4].metric(_("Status"), _("Builds ✓"), border=True)
    else:
        count = len(result.problems)
        cols[4].metric(
            _("Status"),
            _("Fails ✗"),
            delta=ngettext("{count} problem", "{count} problems", count).format(count=f"{count:,}"),
            delta_color="red",
            delta_arrow="off",
            border=True,
        )


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
    render_problems(spec, result)  # an empty model: the "Start here" box instead
    left, right = st.columns([3, 2], gap="medium")
    with left:
        views = {  # tab labels are translated: code that opens a tab sets the translated label
            _("Canvas"): lambda: _render_canvas(spec, result),
            _("Diagram"): lambda: render_diagram_panel(spec, result),
            _("Nodes"): lambda: render_node_list(spec, result),
            _("Summary"): lambda: render_summary_panel(spec, result),
            _("Code"): lambda: render_code_panel(spec),
        }
        lazy_tabs(list(views), views, state.LEFT_TAB)
    with right:
        panels = {
            _("Node"): lambda: render_node_editor(spec, result),
            _("Add"): lambda: render_add_panel(spec, result),
            _("Model"): lambda: render_model_panel(spec, result),
            _("From code"): render_from_code_panel,
        }
        if not spec.calls and st.session_state.get(state.RIGHT_TAB) in (None, _("Node")):
            st.session_state[state.RIGHT_TAB] = _("Add")  # nothing to edit yet: start by adding
        lazy_tabs(list(panels), panels, state.RIGHT_TAB, default=_("Node"))


try:
    render_builder()
except Exception as error:  # noqa: BLE001 - never a traceback on the page: say what happened, keep the work
    state.record_failure("builder", error)
    st.error(
        _("Something went wrong while drawing the builder ({error}). Your model is kept; undo the last edit or open it again.").format(
            error=md(f"{type(error).__name__}: {error}")
        ),
        icon=":material/error:",
    )
    st.button(_("Undo the last edit"), key="builder.recover_undo", on_click=actions.undo)

"""Node canvas: draws the current spec as nodes and edges; what the user does there comes back as intents.

The spec stays the truth. The front end (``canvas_frontend/``: hand-written HTML, SVG and JavaScript,
no build step, no network) only *proposes* changes, each an intent of :mod:`studio.graph.intents`
such as ``{"kind": "connect", "source": "dense", "target": "concatenate"}``. They are applied by the
one edit engine through :func:`components.actions.apply_edit` (limits, undo, messages), exactly like
the forms' edits. A refused delete of a node others use offers cascade or reconnect; a shared call
asks for its input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from components import actions, state
from components.text import md
from studio.catalog import types as catalog
from studio.graph.edits import EditError, NodeInUseError
from studio.graph.intents import apply_intent
from studio.graph.layout import layout_positions, positions_after_change
from studio.graph.spec import GraphSpec
from studio.model.analysis import ref_label, tensor_refs
from studio.model.build import BuildResult
from studio.model.canvas_view import spec_to_canvas

FRONTEND_DIR = Path(__file__).resolve().parent / "canvas_frontend"
_component = components.declare_component("keras_canvas", path=str(FRONTEND_DIR))
_LABELS = {
    "add_node": "Added {layer_type} on the canvas", "connect": "Connected {source} → {target} on the canvas",
    "disconnect": "Removed an edge on the canvas", "delete": "Deleted on the canvas", "share": "Called {node}'s layer again",
    "toggle_output": "Toggled output {node} on the canvas",
}


def _keys(key: str) -> dict[str, str]:
    names = ("positions", "event", "message", "pending")
    return {name: f"{key}__{name}" for name in names}


def _label(intent: Mapping[str, Any]) -> str:
    fields = {name: intent.get(name, "?") for name in ("layer_type", "source", "target", "node")}
    return _LABELS.get(str(intent.get("kind")), "Edited on the canvas").format(**fields)


def apply_canvas_intent(intent: Mapping[str, Any], key: str) -> bool:
    """Apply one canvas intent to the current spec (with undo and limits); True when the spec changed.

    Node positions follow (moved, dropped, or next to the node they came from). A refusal is kept as
    the canvas's message; a delete refused because others use the node is kept as a pending choice.
    """
    keys = _keys(key)
    session = st.session_state
    before = state.current_spec()
    session[keys["message"]] = None
    session[keys["pending"]] = None
    try:
        candidate = apply_intent(before, intent)
    except NodeInUseError as refusal:
        session[keys["pending"]] = {"intent": dict(intent), "message": str(refusal)}
        return False
    except (EditError, ValueError, TypeError, KeyError) as refusal:
        session[keys["message"]] = actions.error_text(refusal)
        return False
    positions = positions_after_change(layout_positions(before, session.get(keys["positions"])), intent, before, candidate)
    session[keys["positions"]] = positions
    if candidate.to_dict() == before.to_dict():
        return False
    if not actions.apply_edit(lambda _spec: candidate, keys["message"], _label(intent)):
        session[keys["message"]] = state.error_for(keys["message"])
        return False
    return True


def _take_event(key: str) -> Mapping[str, Any] | None:
    """The front end's newest event, once (each carries an id; a rerun shows the same one again)."""
    keys = _keys(key)
    event = st.session_state.get(key)
    if not isinstance(event, dict) or not event.get("id") or event.get("id") == st.session_state.get(keys["event"]):
        return None
    st.session_state[keys["event"]] = event["id"]
    return event.get("change") if isinstance(event.get("change"), dict) else {}


def _render_pending(spec: GraphSpec, result: BuildResult | None, key: str) -> bool:
    """The choice after a refused delete (delete users too / reconnect / cancel) or the input of a shared call."""
    keys = _keys(key)
    pending = st.session_state.get(keys["pending"])
    if not pending:
        return False
    intent = pending["intent"]
    with st.container(border=True):
        if intent.get("kind") == "share":
            st.markdown(f"Call **{md(str(intent.get('node')))}**'s layer once more (the same weights) on:")
            options = tensor_refs(spec, result, exclude=None)
            chosen = st.multiselect("Input(s) of the new call", options, key=f"{key}__share_inputs",
                                    format_func=lambda ref: ref_label(spec, result, ref))
            columns = st.columns(2)
            if columns[0].button("Add the call", key=f"{key}__share_go", type="primary", disabled=not chosen):
                return apply_canvas_intent({**intent, "inputs": chosen}, key)
        else:
            st.warning(md(pending["message"]), icon=":material/block:")
            columns = st.columns(3)
            if columns[0].button("Delete them too", key=f"{key}__cascade", help="Delete the node and everything downstream of it"):
                return apply_canvas_intent({**intent, "mode": "cascade"}, key)
            if columns[1].button("Reconnect them", key=f"{key}__rewire", help="Feed its users from its own input, then delete it"):
                return apply_canvas_intent({**intent, "mode": "rewire"}, key)
        if columns[-1].button("Cancel", key=f"{key}__cancel"):
            st.session_state[keys["pending"]] = None
            st.rerun()
    return False


def render_canvas(spec: GraphSpec, result: BuildResult | None, key: str, *, height: int = 560) -> bool:
    """Draw the spec as an editable node canvas; True when an edit changed the current spec (then `st.rerun()`)."""
    keys = _keys(key)
    change = _take_event(key)
    if change is not None:
        if change.get("kind") == "share" and not change.get("inputs"):
            st.session_state[keys["pending"]] = {"intent": dict(change), "message": ""}
        elif apply_canvas_intent(change, key):
            return True
    if _render_pending(spec, result, key):
        return True
    message = st.session_state.get(keys["message"])
    if message:
        st.warning(md(message), icon=":material/block:")
    positions = layout_positions(spec, st.session_state.get(keys["positions"]))
    st.session_state[keys["positions"]] = positions
    nodes, edges = spec_to_canvas(spec, result, positions)
    graph_problems = [  # problems that belong to no drawn node (the whole graph, or a missing id)
        problem.text() for problem in (result.problems if result else [])
        if problem.node is None or (result.spec.call(problem.node) is None and result.spec.layer(problem.node) is None)
    ]
    _component(
        nodes=[asdict(node) for node in nodes], edges=[asdict(edge) for edge in edges], problems=graph_problems,
        spec_name=spec.name, height=height, key=key, default=None,
    )
    return False


def _palette_label(type_name: str) -> str:
    return f"{catalog.get_layer_type(type_name).group} › {type_name}"


def render_palette(spec: GraphSpec, key: str, canvas_key: str, *, vertical: bool = False) -> bool:
    """A searchable, grouped layer palette (search box, type, optional input, Add button); True when a node was added.

    One row of four widgets by default; ``vertical=True`` stacks them (for a sidebar or a narrow column).
    The node is added through the canvas `canvas_key`, so it appears next to its input there.
    """
    groups = catalog.palette_groups()
    ordered = [name for group, names in groups.items() if group != "Models" for name in names]
    if vertical:
        search = choose = source_column = button_column = st.container()
    else:
        search, choose, source_column, button_column = st.columns([2, 3, 3, 1.4], vertical_alignment="bottom")
    query = search.text_input("Search layers", key=f"{key}__query", placeholder="conv, pool, merge ...")
    found = set(catalog.search_types(query)) if query.strip() else set(ordered)
    options = [name for name in ordered if name in found]
    if not options:
        choose.info(f"No layer type matches '{query}'.")
        return False
    layer_type = choose.selectbox("Layer type", options, format_func=_palette_label, key=f"{key}__type")
    sources = ["(not connected)", *(call.id for call in spec.calls)]
    source = source_column.selectbox("Input from", sources, key=f"{key}__source", disabled=layer_type == "Input")
    summary = catalog.get_layer_type(layer_type).summary
    if summary:
        st.caption(f"**{layer_type}**: {md(summary)}")
    if button_column.button("Add node", key=f"{key}__add", icon=":material/add:", width="stretch"):
        inputs = [] if source == sources[0] or layer_type == "Input" else [source]
        return apply_canvas_intent({"kind": "add_node", "layer_type": layer_type, "inputs": inputs}, canvas_key)
    return False


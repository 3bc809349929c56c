"""Node canvas: draws the current spec as nodes and edges (React Flow); what the user does there comes back as intents.

The spec stays the truth. The front end (``canvas_frontend/``: React Flow, built by ``scripts/build_canvas.sh``
into the committed ``canvas_frontend/build/``; no network) only *proposes* changes, each an intent of
:mod:`studio.graph.intents` such as ``{"kind": "connect", "source": "dense", "target": "concatenate"}``.
They are applied by the one edit engine through :func:`components.actions.apply_edit` (limits, undo,
messages), exactly like the forms' edits. Moves and auto-layout change only the spec's layout (no undo
step). The front end also asks to select a node (the Node editor follows), to undo and to redo. A refused
delete of a node others use offers cascade or reconnect; a shared call without its input asks for it.
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
from studio.graph.edits import EditError, NodeInUseError
from studio.graph.intents import VIEW_ONLY, apply_intent
from studio.graph.layout import layout_direction
from studio.graph.spec import GraphSpec
from studio.i18n import N_, _, current_language, ngettext
from studio.model.analysis import ref_label, tensor_refs
from studio.model.build import BuildResult
from studio.model.canvas_view import palette, spec_to_canvas

FRONTEND_DIR = Path(__file__).resolve().parent / "canvas_frontend"
BUILD_DIR = FRONTEND_DIR / "build"
_component = components.declare_component("keras_canvas", path=str(BUILD_DIR))
_LABELS = {
    "add_node": N_("Added {layer_type} on the canvas"),
    "insert": N_("Inserted {layer_type} on edge {edge} on the canvas"),
    "connect": N_("Connected {source} → {target} on the canvas"),
    "disconnect": N_("Removed an edge on the canvas"),
    "delete": N_("Deleted on the canvas"),
    "share": N_("Called {node}'s layer again on the canvas"),
    "toggle_output": N_("Pinned or unpinned output {node} on the canvas"),
    "set_param": N_("Set {name} of {node} on the canvas"),
    "duplicate": N_("Duplicated {node} on the canvas"),
}
_EDITED = N_("Edited on the canvas")
_REQUESTS = ("select", "undo", "redo")  # asked by the canvas, but not edits of the spec


def _keys(key: str) -> dict[str, str]:
    names = ("event", "message", "pending")
    return {name: f"{key}__{name}" for name in names}


def _label(intent: Mapping[str, Any]) -> str:
    fields = {name: intent.get(name, "?") for name in ("layer_type", "source", "target", "node", "edge", "name")}
    template = _LABELS.get(str(intent.get("kind")), _EDITED)
    return _(template).format(**fields)


def _store_layout(spec: GraphSpec) -> None:
    """Keep a spec whose layout alone changed: no undo step, and the forms keep what is typed in them."""
    st.session_state[state.SPEC] = spec


def apply_canvas_intent(intent: Mapping[str, Any], key: str) -> bool:
    """Apply one canvas intent to the current spec (with undo and limits); True when the page must be drawn again.

    A refusal is kept as the canvas's message; a delete refused because others use the node is kept as a pending
    choice. A change of the model's outputs is said in the edit's notice (by `apply_edit`).
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
        return True
    except (EditError, ValueError, TypeError, KeyError) as refusal:
        session[keys["message"]] = actions.error_text(refusal)
        return True
    if intent.get("kind") in VIEW_ONLY or candidate.model_dict() == before.model_dict():
        _store_layout(candidate)
        return True
    added = [call.id for call in candidate.calls if before.call(call.id) is None]  # a new node is selected, as after the forms
    if not actions.apply_edit(lambda _spec: candidate, keys["message"], _label(intent), select=added[0] if added else None):
        session[keys["message"]] = state.error_for(keys["message"])
    return True


def _handle_request(change: Mapping[str, Any]) -> bool:
    """Select a node (the Node editor opens on it), undo or redo, as the canvas asks; True when the page must be drawn again."""
    kind = change.get("kind")
    if kind == "select":
        node = change.get("node")
        if isinstance(node, str) and state.current_spec().call(node) is not None:
            state.open_node(node)
        return False
    if kind == "undo":
        actions.undo()
    else:
        actions.redo()
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
            st.markdown(_("Call **{node}**'s layer once more (the same weights) on:").format(node=md(str(intent.get("node")))))
            options = tensor_refs(spec, result, exclude=None)
            chosen = st.multiselect(
                _("Input(s) of the new call"), options, key=f"{key}__share_inputs", format_func=lambda ref: ref_label(spec, result, ref)
            )
            columns = st.columns(2)
            if columns[0].button(_("Add the call"), key=f"{key}__share_go", type="primary", disabled=not chosen):
                return apply_canvas_intent({**intent, "inputs": chosen}, key)
        else:
            st.warning(md(pending["message"]), icon=":material/block:")
            columns = st.columns(3)
            if columns[0].button(_("Delete them too"), key=f"{key}__cascade", help=_("Delete the node and everything downstream of it")):
                return apply_canvas_intent({**intent, "mode": "cascade"}, key)
            if columns[1].button(_("Reconnect them"), key=f"{key}__rewire", help=_("Feed its users from its own input, then delete it")):
                return apply_canvas_intent({**intent, "mode": "rewire"}, key)
        if columns[-1].button(_("Cancel"), key=f"{key}__cancel"):
            st.session_state[keys["pending"]] = None
            st.rerun()
    return False


def handle_canvas_event(key: str) -> bool:
    """Apply the canvas's newest event, if any; True when the spec or the selection changed (then `st.rerun()`)."""
    change = _take_event(key)
    if change is None:
        return False
    if change.get("kind") in _REQUESTS:
        return _handle_request(change)
    if change.get("kind") == "share" and not change.get("inputs"):
        st.session_state[_keys(key)["pending"]] = {"intent": dict(change), "message": ""}
        return True
    return apply_canvas_intent(change, key)


def render_canvas(spec: GraphSpec, result: BuildResult | None, key: str, *, height: int = 560, present: bool = False) -> bool:
    """Draw the spec as an editable node canvas; True when an event changed the current spec (then `st.rerun()`).

    The canvas fills the window's height below it (at least `height` px); `present` is the presentation mode.
    """
    keys = _keys(key)
    if handle_canvas_event(key):
        return True
    if _render_pending(spec, result, key):
        return True
    message = st.session_state.get(keys["message"])
    if message:
        st.warning(md(message), icon=":material/block:")
    nodes, edges = spec_to_canvas(spec, result)
    graph_problems = (
        [  # problems that belong to no drawn node (the whole graph, or a missing id)
            problem.text()
            for problem in (result.problems if result else [])
            if problem.node is None or (result.spec.call(problem.node) is None and result.spec.layer(problem.node) is None)
        ]
        if spec.calls or spec.layers
        else []
    )  # an empty model is a start, not a problem: the canvas shows its hint alone
    _component(
        nodes=[asdict(node) for node in nodes],
        edges=[asdict(edge) for edge in edges],
        problems=graph_problems,
        palette=_palette(current_language()),
        labels=canvas_labels(),
        direction=layout_direction(spec),
        selected=st.session_state.get(state.SELECTED),
        ack=st.session_state.get(keys["event"]),
        spec_name=spec.name,
        height=height,
        present=present,
        key=key,
        default=None,
    )
    return False


@st.cache_data(show_spinner=False)
def _palette(language: str) -> list[dict]:
    """The palette (its texts may be translated by the catalogue: cached per language)."""
    return palette()


def canvas_labels() -> dict[str, Any]:
    """Every text the canvas shows, in the session's language (the front end keeps its English when one is missing).

    Placeholders such as ``{label}`` are filled in the browser.
    """
    return {
        # toolbar
        "delete": _("Delete"),
        "delete_title": _("Delete the selected nodes and edges (Del)"),
        "output": _("Output ±"),
        "output_title": _("Pin or unpin the selected node as a model output"),
        "duplicate": _("Duplicate"),
        "duplicate_title": _("Duplicate (Ctrl/Cmd+D)"),
        "share": _("Call again"),
        "share_title": _("Call the selected node's layer again (same weights): then click its input"),
        "layout_tb": _("↓ Layout"),
        "layout_tb_title": _("Auto-layout, top-down"),
        "layout_lr": _("→ Layout"),
        "layout_lr_title": _("Auto-layout, left to right"),
        "fit": _("Fit"),
        "fit_title": _("Fit the whole graph in view (F)"),
        "share_armed": _("Click the node whose output the new call of '{layer}' takes (Esc cancels)"),
        # status while Python applies a change
        "updating": _("Updating…"),
        "deleting": _("Deleting…"),
        "connecting": _("Connecting…"),
        "replacing_input": _("Replacing input {slot}…"),
        "calling_again": _("Calling the layer again…"),
        "adding": _("Adding {label}…"),
        "inserting": _("Inserting {label}…"),
        "undoing": _("Undo…"),
        "redoing": _("Redo…"),
        "duplicating": _("Duplicating…"),
        "saving_layout": _("Saving the layout…"),
        "changing_outputs": _("Changing the outputs…"),
        "laying_out": _("Laying out…"),
        # problems and the empty canvas
        "more_problem": ngettext("+{count} more problem", "+{count} more problems", 1),
        "more_problems": ngettext("+{count} more problem", "+{count} more problems", 2),
        "empty": _("No nodes yet: drag an {input} from the palette onto the canvas, then drag layers onto it."),
        # palette and type picker
        "palette_show": _("Show the layer palette"),
        "palette_hide": _("Hide the palette"),
        "search": _("Search layers…"),
        "no_match": _("No layer type matches “{query}”."),
        "palette_tip": _("Drag onto the canvas, a node or an edge"),
        "picker_title": _("New consumer of {ref}"),
        "close": _("Close (Esc)"),
        "picker_shared": _("Call a layer again (shared weights)"),
        "picker_new": _("New layer"),
        # a node
        "badge_input": _("input"),
        "badge_output": _("output"),
        "badge_pinned": _("output · pinned"),
        "badge_outputs": _("output ×{count}"),
        "badge_unpinned": _("not an output"),
        "badge_shared": _("shared ×{count}"),
        "pinned_title": _("Pinned: a model output although other nodes use it"),
        "output_title_free": _("A model output: nothing uses it"),
        "unpinned_title": _("Nothing uses it, but you took it out of the model outputs"),
        "shared_title": _("Layer '{layer}' is also called by: {nodes}"),
        "type_title": _("Layer '{layer}' of type {type}"),
        "frozen": _("frozen"),
        "params": _("{count} params"),
        "shape_title": _("Output shape: {shape}"),
        "unknown": _("unknown"),
        "not_built": _("not built"),
        "more_errors": _("(+{count} more)"),
        "hide_inside": _("▾ hide inside"),
        "show_inside": _("▸ show inside ({count})"),
        "choice_none": _("(none)"),
        "slot_add_title": _("Drop a connection here to add input {number}"),
        "slot_title": _("Input {number}: drop a connection here to replace it"),
        "out_title": _("Drag onto a node to connect, or onto empty space to add a layer"),
        "out_title_many": _("Output {index} ({label}): drag onto a node to connect, or onto empty space to add a layer"),
        # a parameter typed on a node
        "value_needed": _("A value is needed here."),
        "expect_int": _("Expected a whole number such as 64. Received: {text}"),
        "expect_float": _("Expected a number such as 0.5. Received: {text}"),
        "expect_shape": _("Expected a shape such as 28, 28, 1 (None for any size). Received: {text}"),
        "expect_int_or_tuple": _("Expected a number or numbers such as 3 or 3, 3. Received: {text}"),
    }

"""Node canvas: draws a GraphSpec's calls as nodes and edges, and turns canvas edits into spec edits.

The spec stays the truth. The front end (``canvas_frontend/``: hand-written HTML, SVG and JavaScript,
no build step, no network) only *proposes* changes, each a small dict such as
``{"kind": "add_edge", "source": "dense", "target": "concatenate"}``. The pure functions
:func:`spec_to_canvas` and :func:`apply_canvas_change` convert between the two, so the front end
can be replaced without touching the rules. Streamlit glue: :func:`render_canvas`, :func:`render_palette`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from studio.catalog import types as catalog
from studio.graph.checks import ancestors, input_arity, topological_order
from studio.graph.spec import CallSpec, GraphSpec, LayerSpec, make_ref, split_ref
from studio.model.build import BuildResult

FRONTEND_DIR = Path(__file__).resolve().parent / "canvas_frontend"
COLUMN_WIDTH = 250.0  # horizontal distance between neighbouring node origins
ROW_HEIGHT = 130.0  # vertical distance between graph depths
_NODE_WIDTH, _DUMMY_WIDTH, _GAP = 210.0, 24.0, 40.0  # the front end draws nodes 210 px wide
_component = components.declare_component("keras_canvas", path=str(FRONTEND_DIR))

Positions = dict[str, tuple[float, float]]


class CanvasRefusal(Exception):
    """An edit the canvas refuses (a cycle, a self-edge, an edge into an Input ...); its text says why."""


@dataclass
class CanvasNode:
    """One call as the canvas draws it."""

    id: str
    layer: str
    layer_type: str
    x: float
    y: float
    shape: str = ""
    params: int | None = None
    is_input: bool = False
    output_refs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    shared_with: list[str] = field(default_factory=list)
    input_count: int = 0
    max_inputs: int | None = None
    output_count: int = 1
    group: str = ""


@dataclass
class CanvasEdge:
    """One input of a call: tensor ``source`` (output ``source_output``) feeds input slot ``position`` of ``target``."""

    id: str
    source: str
    source_output: int
    target: str
    position: int
    label: str = ""
    error: bool = False


def _format_shape(shapes: list[tuple]) -> str:
    if not shapes:
        return ""
    first = "(" + ", ".join("None" if dim is None else str(dim) for dim in shapes[0]) + ("," if len(shapes[0]) == 1 else "") + ")"
    return first if len(shapes) == 1 else f"{first} +{len(shapes) - 1}"


def _group_of(layer_type: str) -> str:
    try:
        return catalog.get_layer_type(layer_type).group
    except KeyError:
        return ""


def layout_positions(spec: GraphSpec, stored: Mapping[str, tuple[float, float]] | None = None) -> Positions:
    """Top-down positions for every call: stored ones kept, the rest laid out by depth (new nodes near their inputs)."""
    stored = {call_id: (float(x), float(y)) for call_id, (x, y) in (stored or {}).items() if spec.call(call_id)}
    automatic = _auto_layout(spec)
    if not stored:
        return automatic
    positions = dict(stored)
    for call in spec.calls:
        if call.id in positions:
            continue
        parents = [positions[split_ref(ref)[0]] for ref in call.inputs if split_ref(ref)[0] in positions]
        if parents:
            x, y = sum(p[0] for p in parents) / len(parents), max(p[1] for p in parents) + ROW_HEIGHT
        else:
            x, y = max(p[0] for p in positions.values()) + COLUMN_WIDTH, min(p[1] for p in positions.values())
        while any(abs(x - ox) < COLUMN_WIDTH - 20 and abs(y - oy) < ROW_HEIGHT - 40 for ox, oy in positions.values()):
            x += COLUMN_WIDTH
        positions[call.id] = (x, y)
    return positions


def _auto_layout(spec: GraphSpec) -> Positions:
    """Layered (Sugiyama-style) layout: depth = longest path from a source, long edges split by dummy
    points so they get their own lane, rows ordered by barycentre sweeps, x placed under the inputs."""
    order, _ = topological_order(spec)
    ordered = order + [call.id for call in spec.calls if call.id not in set(order)]
    parents = {call.id: [split_ref(ref)[0] for ref in call.inputs if spec.call(split_ref(ref)[0])] for call in spec.calls}
    depth: dict[str, int] = {}
    for call_id in ordered:
        depth[call_id] = 1 + max((depth[p] for p in parents[call_id] if p in depth), default=-1)
    rows: dict[int, list[str]] = {}
    for call_id in ordered:
        rows.setdefault(depth[call_id], []).append(call_id)
    up: dict[str, list[tuple[str, float]]] = {call_id: [] for call_id in ordered}
    down: dict[str, list[tuple[str, float]]] = {call_id: [] for call_id in ordered}
    for call in spec.calls:
        for position, parent in enumerate(parents[call.id]):
            if depth[parent] >= depth[call.id]:
                continue  # a back edge of a cycle: drawn, but ignored by the layout
            offset = ((position + 1) / (len(parents[call.id]) + 1) - 0.5) * _NODE_WIDTH
            upper = parent
            for level in range(depth[parent] + 1, depth[call.id]):
                dummy = f"\0{call.id}/{position}/{level}"
                rows[level].append(dummy)
                up[dummy], down[dummy] = [(upper, 0.0)], []
                down[upper].append((dummy, 0.0))
                upper = dummy
            up[call.id].append((upper, offset))
            down[upper].append((call.id, -offset))  # a parent sits at child.x + offset
    index = {node: float(i) for row in rows.values() for i, node in enumerate(row)}
    levels = sorted(rows)
    for _ in range(4):
        for level in levels[1:]:
            _sort_row(rows[level], index, up)
        for level in levels[-2::-1]:
            _sort_row(rows[level], index, down)
    x = {node: 0.0 for row in rows.values() for node in row}
    for level in levels:
        _place_row(rows[level], x, {node: [] for node in rows[level]})
    for _ in range(6):
        for level in levels[1:]:
            _place_row(rows[level], x, {node: [(x[other] - offset) for other, offset in up[node]] for node in rows[level]})
        for level in levels[-2::-1]:
            _place_row(rows[level], x, {node: [(x[other] - offset) for other, offset in down[node]] for node in rows[level]})
    left = min((x[node] for node in ordered), default=0.0)
    return {call_id: (round(x[call_id] - left), depth[call_id] * ROW_HEIGHT) for call_id in ordered}


def _sort_row(row: list[str], index: dict[str, float], neighbours: dict[str, list[tuple[str, float]]]) -> None:
    def key(node: str) -> float:
        linked = neighbours[node]
        return sum(index[other] - offset / _NODE_WIDTH for other, offset in linked) / len(linked) if linked else index[node]

    row.sort(key=key)
    for i, node in enumerate(row):
        index[node] = float(i)


def _place_row(row: list[str], x: dict[str, float], wanted: dict[str, list[float]]) -> None:
    """Put each node of a row at the mean of its wanted x, keeping order and spacing (left and right packing averaged)."""
    width = [_DUMMY_WIDTH if node.startswith("\0") else _NODE_WIDTH for node in row]
    desired = [sum(wanted[node]) / len(wanted[node]) if wanted[node] else x[node] for node in row]
    gaps = [(width[i - 1] + width[i]) / 2 + _GAP for i in range(1, len(row))]
    if not any(wanted.values()):  # first placement: packed and centred on 0
        total = sum(gaps)
        desired = [sum(gaps[:i]) - total / 2 for i in range(len(row))]
    packed_left, packed_right = list(desired), list(desired)
    for i in range(1, len(row)):
        packed_left[i] = max(desired[i], packed_left[i - 1] + gaps[i - 1])
    for i in range(len(row) - 2, -1, -1):
        packed_right[i] = min(desired[i], packed_right[i + 1] - gaps[i])
    for i, node in enumerate(row):
        x[node] = (packed_left[i] + packed_right[i]) / 2


def spec_to_canvas(
    spec: GraphSpec, result: BuildResult | None, positions: Mapping[str, tuple[float, float]] | None = None
) -> tuple[list[CanvasNode], list[CanvasEdge]]:
    """Nodes (one per call) and edges (one per input ref) for the canvas, with shapes, params and problems."""
    positions = layout_positions(spec, positions)
    call_ids = {call.id for call in spec.calls}
    problems = result.problems if result is not None else []
    output_refs: dict[str, list[str]] = {}
    for ref in spec.outputs:
        output_refs.setdefault(split_ref(ref)[0], []).append(ref)
    highest_output: dict[str, int] = {}
    for ref in [*spec.outputs, *(ref for call in spec.calls for ref in call.inputs)]:
        source, index = split_ref(ref)
        highest_output[source] = max(index, highest_output.get(source, 0))
    nodes, edges = [], []
    for call in spec.calls:
        layer = spec.layer(call.layer)
        layer_type = layer.type if layer else "?"
        info = result.nodes.get(call.id) if result is not None else None
        x, y = positions[call.id]
        nodes.append(
            CanvasNode(
                id=call.id,
                layer=call.layer,
                layer_type=layer_type,
                x=x,
                y=y,
                shape=_format_shape(info.output_shapes) if info else "",
                params=info.params if info else None,
                is_input=call.id in spec.inputs,
                output_refs=output_refs.get(call.id, []),
                errors=[p.message for p in problems if p.node is not None and p.node in (call.id, call.layer)],
                shared_with=[other.id for other in spec.calls_of(call.layer) if other.id != call.id],
                input_count=len(call.inputs),
                max_inputs=input_arity(spec, call.layer)[1] if layer else None,
                output_count=max(len(info.output_shapes) if info else 1, highest_output.get(call.id, 0) + 1),
                group=_group_of(layer_type),
            )
        )
        bad_kinds = {p.kind for p in problems if p.node == call.id and p.kind in ("cycle", "bad_arity", "dangling_input")}
        for position, ref in enumerate(call.inputs):
            source, source_output = split_ref(ref)
            if source not in call_ids:
                continue
            label = str(position + 1) if len(call.inputs) > 1 else ""
            if source_output:
                label = f"{label} ← out {source_output}".strip()
            edges.append(CanvasEdge(f"{call.id}/{position}", source, source_output, call.id, position, label, bool(bad_kinds)))
    return nodes, edges


def _snake_case(type_name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", type_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_id(spec: GraphSpec, base: str) -> str:
    """``base``, or ``base_1``, ``base_2`` ... whichever is not yet a layer or call id."""
    taken = {layer.id for layer in spec.layers} | {call.id for call in spec.calls}
    candidate, number = base, 0
    while candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    return candidate


def _path(spec: GraphSpec, start: str, goal: str) -> list[str]:
    """A chain of calls from ``start`` down to ``goal`` (start feeds ... feeds goal)."""
    previous: dict[str, str] = {}
    pending = [start]
    while pending:
        current = pending.pop(0)
        if current == goal:
            chain = [goal]
            while chain[-1] != start:
                chain.append(previous[chain[-1]])
            return chain[::-1]
        for consumer in spec.consumers(current):
            if consumer not in previous and consumer != start:
                previous[consumer] = current
                pending.append(consumer)
    return [start, goal]


def _require_call(spec: GraphSpec, call_id: object) -> CallSpec:
    call = spec.call(call_id) if isinstance(call_id, str) else None
    if call is None:
        raise CanvasRefusal(f"There is no node '{call_id}' in the graph.")
    return call


def _add_edge(spec: GraphSpec, change: Mapping[str, Any]) -> None:
    source = _require_call(spec, change.get("source"))
    target = _require_call(spec, change.get("target"))
    ref = make_ref(source.id, int(change.get("source_output") or 0))
    if source.id == target.id:
        raise CanvasRefusal(f"A node cannot take its own output: '{source.id}' → '{source.id}' would wire it to itself.")
    minimum, maximum = input_arity(spec, target.layer)
    layer = spec.layer(target.layer)
    if maximum == 0:
        kind = "an Input node" if layer and layer.type == "Input" else f"a {layer.type if layer else '?'} node that starts the graph"
        raise CanvasRefusal(f"'{target.id}' is {kind}: it takes no inputs, so '{source.id}' cannot feed it.")
    if target.id in ancestors(spec, source.id):
        loop = " → ".join([*_path(spec, target.id, source.id), target.id])
        raise CanvasRefusal(f"Connecting '{source.id}' → '{target.id}' would make a cycle: {loop}. A model's graph must flow one way.")
    if maximum is not None and len(target.inputs) >= maximum:
        current = ", ".join(f"'{ref}'" for ref in target.inputs)
        raise CanvasRefusal(
            f"'{target.id}' ({layer.type if layer else '?'}) takes at most {maximum} input(s) and already has {current}; "
            "delete that edge first."
        )
    target.inputs.append(ref)


def _delete(spec: GraphSpec, change: Mapping[str, Any]) -> None:
    edge_ids = [str(edge) for edge in change.get("edges", [])]
    by_target: dict[str, list[int]] = {}
    for edge_id in edge_ids:
        target, _, position = edge_id.rpartition("/")
        if spec.call(target) is None or not position.isdigit() or int(position) >= len(spec.call(target).inputs):
            raise CanvasRefusal(f"There is no edge '{edge_id}' in the graph.")
        by_target.setdefault(target, []).append(int(position))
    for target, indexes in by_target.items():
        call = spec.call(target)
        call.inputs = [ref for i, ref in enumerate(call.inputs) if i not in set(indexes)]
    doomed = {_require_call(spec, node).id for node in change.get("nodes", [])}
    spec.calls = [call for call in spec.calls if call.id not in doomed]
    for call in spec.calls:
        call.inputs = [ref for ref in call.inputs if split_ref(ref)[0] not in doomed]
    spec.inputs = [ref for ref in spec.inputs if ref not in doomed]
    spec.outputs = [ref for ref in spec.outputs if split_ref(ref)[0] not in doomed]
    used = {call.layer for call in spec.calls}
    spec.layers = [layer for layer in spec.layers if layer.id in used]


def _add_node(spec: GraphSpec, change: Mapping[str, Any]) -> None:
    try:
        layer_type = catalog.get_layer_type(str(change.get("layer_type"))).name
    except KeyError as error:
        raise CanvasRefusal(str(error).strip("'\"")) from error
    new_id = unique_id(spec, _snake_case(layer_type))
    inputs = [] if layer_type == "Input" else [str(ref) for ref in change.get("inputs", []) if ref]
    for ref in inputs:
        _require_call(spec, split_ref(ref)[0])
    spec.layers.append(LayerSpec(id=new_id, type=layer_type, config=catalog.default_config(layer_type)))
    spec.calls.append(CallSpec(id=new_id, layer=new_id, inputs=inputs))
    if layer_type == "Input":
        spec.inputs.append(new_id)


def _share_layer(spec: GraphSpec, change: Mapping[str, Any]) -> None:
    call = _require_call(spec, change.get("node"))
    layer = spec.layer(call.layer)
    if layer is None or layer.type == "Input":
        raise CanvasRefusal(f"'{call.id}' is an Input: an Input is one tensor and cannot be called again. Add a new Input instead.")
    spec.calls.append(CallSpec(id=unique_id(spec, call.layer), layer=call.layer, inputs=[]))


def _toggle_output(spec: GraphSpec, change: Mapping[str, Any]) -> None:
    call = _require_call(spec, change.get("node"))
    if any(split_ref(ref)[0] == call.id for ref in spec.outputs):
        spec.outputs = [ref for ref in spec.outputs if split_ref(ref)[0] != call.id]
    else:
        spec.outputs.append(call.id)


_HANDLERS = {"add_edge": _add_edge, "delete": _delete, "add_node": _add_node, "share_layer": _share_layer, "toggle_output": _toggle_output}
_VIEW_ONLY = {"move", "layout"}


def apply_canvas_change(spec: GraphSpec, change: Mapping[str, Any]) -> GraphSpec:
    """A new spec with one canvas change applied; raises :class:`CanvasRefusal` (spec untouched) when refused.

    Kinds: ``add_edge`` (source, source_output, target: appended to the target's inputs), ``delete``
    (nodes: call ids, edges: ``"target/position"`` ids; users of a deleted node lose that input),
    ``add_node`` (layer_type, optional inputs), ``share_layer`` (node: a new call of its layer),
    ``toggle_output`` (node), and the view-only ``move`` and ``layout`` (spec unchanged).
    """
    kind = change.get("kind")
    edited = spec.copy()
    if kind in _VIEW_ONLY:
        return edited
    if kind not in _HANDLERS:
        raise CanvasRefusal(f"Unknown canvas change '{kind}'; expected one of {', '.join([*_HANDLERS, *_VIEW_ONLY])}.")
    _HANDLERS[kind](edited, change)
    return edited


def positions_after_change(
    positions: Mapping[str, tuple[float, float]], change: Mapping[str, Any], before: GraphSpec, after: GraphSpec
) -> Positions:
    """Node positions once a change is applied: moved nodes moved, new nodes where dropped or near their origin."""
    updated: Positions = {call_id: (float(x), float(y)) for call_id, (x, y) in positions.items() if after.call(call_id)}
    kind = change.get("kind")
    if kind == "layout":
        return {}
    if kind == "move":
        for call_id, (x, y) in dict(change.get("positions", {})).items():
            if after.call(call_id):
                updated[call_id] = (float(x), float(y))
    new_ids = [call.id for call in after.calls if before.call(call.id) is None]
    if kind == "share_layer" and new_ids and change.get("node") in updated:
        x, y = updated[change["node"]]
        updated[new_ids[0]] = (x + COLUMN_WIDTH, y)
    elif kind == "add_node" and new_ids and change.get("position"):
        x, y = change["position"]
        updated[new_ids[0]] = (float(x), float(y))
    return updated


def _state_keys(key: str, spec: GraphSpec) -> tuple[str, str, str]:
    return f"{key}__positions__{spec.name}", f"{key}__event", f"{key}__message"


def canvas_message(key: str) -> str | None:
    """The last refusal message of the canvas with this key (None after a successful edit)."""
    return st.session_state.get(f"{key}__message")


def render_canvas(spec: GraphSpec, result: BuildResult | None, key: str, *, height: int = 560) -> GraphSpec | None:
    """Draw the spec as an editable node canvas; return the edited spec (a new object) or None if unchanged.

    When a spec comes back, store it and call ``st.rerun()`` so the canvas is drawn from the rebuilt result.
    A refused edit returns None and shows its message above the canvas (also via :func:`canvas_message`).
    """
    positions_key, event_key, message_key = _state_keys(key, spec)
    state = st.session_state
    event = state.get(key)
    edited: GraphSpec | None = None
    positions = layout_positions(spec, state.get(positions_key))
    if isinstance(event, dict) and event.get("id") and event.get("id") != state.get(event_key):
        state[event_key] = event["id"]
        change = event.get("change") or {}
        try:
            candidate = apply_canvas_change(spec, change)
            positions = positions_after_change(positions, change, spec, candidate)
            state[message_key] = None
            if candidate.to_dict() != spec.to_dict():
                edited = candidate
        except CanvasRefusal as refusal:
            state[message_key] = str(refusal)
    shown = edited or spec
    positions = layout_positions(shown, positions)
    state[positions_key] = positions
    if state.get(message_key):
        st.warning(state[message_key], icon=":material/block:")
    nodes, edges = spec_to_canvas(shown, result, positions)
    graph_problems = [  # problems that belong to no drawn node (the whole graph, or a missing id)
        problem.text() for problem in (result.problems if result else [])
        if problem.node is None or (result.spec.call(problem.node) is None and result.spec.layer(problem.node) is None)
    ]
    _component(
        nodes=[asdict(node) for node in nodes],
        edges=[asdict(edge) for edge in edges],
        problems=graph_problems,
        spec_name=shown.name,
        height=height,
        key=key,
        default=None,
    )
    return edited


def _palette_label(type_name: str) -> str:
    return f"{_group_of(type_name)} › {type_name}"


def render_palette(spec: GraphSpec, key: str, *, vertical: bool = False) -> GraphSpec | None:
    """A searchable, grouped layer palette (search box, type, optional input, Add button); returns the new spec or None.

    One row of four widgets by default; ``vertical=True`` stacks them (for a sidebar or a narrow column).
    """
    groups = catalog.palette_groups()
    ordered = [name for names in groups.values() for name in names]
    if vertical:
        search = choose = source_column = button_column = st.container()
    else:
        search, choose, source_column, button_column = st.columns([2, 3, 3, 1.4], vertical_alignment="bottom")
    query = search.text_input("Search layers", key=f"{key}__query", placeholder="conv, pool, merge ...")
    found = set(catalog.search_types(query)) if query.strip() else set(ordered)
    options = [name for name in ordered if name in found]
    if not options:
        choose.info(f"No layer type matches '{query}'.")
        return None
    layer_type = choose.selectbox("Layer type", options, format_func=_palette_label, key=f"{key}__type")
    sources = ["(not connected)", *(call.id for call in spec.calls)]
    source = source_column.selectbox("Input from", sources, key=f"{key}__source", disabled=layer_type == "Input")
    summary = catalog.get_layer_type(layer_type).summary
    if summary:
        st.caption(f"**{layer_type}**: {summary}")
    if button_column.button("Add node", key=f"{key}__add", icon=":material/add:", width="stretch"):
        inputs = [] if source == sources[0] else [source]
        return apply_canvas_change(spec, {"kind": "add_node", "layer_type": layer_type, "inputs": inputs})
    return None

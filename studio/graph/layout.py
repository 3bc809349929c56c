"""Canvas layout: where each node of a spec is drawn, top-down (TB) or left-right (LR), kept in the spec.

Pure (no Keras, no Streamlit): positions are plain (x, y) pairs keyed by call id. The spec's optional
``layout`` holds the direction and the positions the user placed (dropped, moved, or every node once one
was moved); nodes without a stored position are laid out here: the whole graph by depth while nothing is
stored, else each new node next to its inputs. The canvas only draws what this module says.
"""

from __future__ import annotations

from collections.abc import Mapping

from studio.graph.checks import topological_order
from studio.graph.edits import EditError
from studio.graph.spec import LAYOUT_DIRECTIONS, GraphSpec, split_ref
from studio.i18n import _

COLUMN_WIDTH = 250.0  # top-down: horizontal distance between neighbouring node origins
ROW_HEIGHT = 170.0  # top-down: vertical distance between graph depths
LR_COLUMN, LR_ROW = 300.0, 160.0  # left-right: distance between depths, and between neighbours of one depth
NODE_WIDTH, _DUMMY_WIDTH, _GAP = 210.0, 24.0, 40.0  # the front end draws nodes 220 px wide

Positions = dict[str, tuple[float, float]]


def layout_direction(spec: GraphSpec) -> str:
    """'TB' (top-down, the default) or 'LR' (left-right): the direction the spec's graph is laid out in."""
    direction = (spec.layout or {}).get("direction", "TB")
    return direction if direction in LAYOUT_DIRECTIONS else "TB"


def stored_positions(spec: GraphSpec) -> Positions:
    """The positions kept in the spec's layout, for nodes that exist."""
    stored = (spec.layout or {}).get("positions") or {}
    return {call_id: (float(x), float(y)) for call_id, (x, y) in stored.items() if spec.call(call_id)}


def _to_frame(point: tuple[float, float], direction: str) -> tuple[float, float]:
    """A drawn position in the top-down frame the layout works in (lateral, depth)."""
    x, y = point
    return (x, y) if direction == "TB" else (y * COLUMN_WIDTH / LR_ROW, x * ROW_HEIGHT / LR_COLUMN)


def _from_frame(point: tuple[float, float], direction: str) -> tuple[float, float]:
    lateral, depth = point
    if direction == "TB":
        return float(round(lateral)), float(round(depth))
    return float(round(depth * LR_COLUMN / ROW_HEIGHT)), float(round(lateral * LR_ROW / COLUMN_WIDTH))


def layout_positions(spec: GraphSpec, stored: Mapping[str, tuple[float, float]] | None = None) -> Positions:
    """Positions for every call: stored ones (the spec's, unless given) kept, the rest laid out (new nodes near their inputs)."""
    direction = layout_direction(spec)
    if stored is None:
        stored = stored_positions(spec)
    stored = {call_id: (float(x), float(y)) for call_id, (x, y) in stored.items() if spec.call(call_id)}
    if not stored:
        return {call_id: _from_frame(point, direction) for call_id, point in _auto_layout(spec).items()}
    frame = {call_id: _to_frame(point, direction) for call_id, point in stored.items()}
    positions = dict(stored)
    for call in spec.calls:
        if call.id in frame:
            continue
        parents = [frame[split_ref(ref)[0]] for ref in call.inputs if split_ref(ref)[0] in frame]
        if parents:
            x, y = sum(p[0] for p in parents) / len(parents), max(p[1] for p in parents) + ROW_HEIGHT
        else:
            x, y = max(p[0] for p in frame.values()) + COLUMN_WIDTH, min(p[1] for p in frame.values())
        while any(abs(x - ox) < COLUMN_WIDTH - 20 and abs(y - oy) < ROW_HEIGHT - 40 for ox, oy in frame.values()):
            x += COLUMN_WIDTH
        frame[call.id] = (x, y)
        positions[call.id] = _from_frame((x, y), direction)
    return positions


def with_layout(spec: GraphSpec, positions: Mapping[str, tuple[float, float]] | None, direction: str | None = None) -> GraphSpec:
    """A copy of the spec whose layout keeps these positions (of existing nodes) and direction; the model is unchanged."""
    direction = direction or layout_direction(spec)
    if direction not in LAYOUT_DIRECTIONS:
        message = _("The layout direction must be 'TB' (top-down) or 'LR' (left-right). Received: {value}")
        raise EditError(message.format(value=repr(direction)))
    new = spec.copy()
    layout: dict = {} if direction == "TB" else {"direction": direction}
    kept = {call_id: [round(float(x)), round(float(y))] for call_id, (x, y) in (positions or {}).items() if spec.call(call_id)}
    if kept:
        layout["positions"] = kept
    new.layout = layout
    return new


def move_nodes(spec: GraphSpec, moved: Mapping[str, object]) -> GraphSpec:
    """The spec with these nodes moved to [x, y]; every node's position is stored from then on (so none jumps later)."""
    positions = layout_positions(spec)
    for call_id, point in dict(moved).items():
        if spec.call(call_id) is None:
            continue
        if not isinstance(point, (list, tuple)) or len(point) != 2 or not all(isinstance(v, (int, float)) for v in point):
            raise EditError(_("A position must be [x, y] numbers. Received for '{node}': {value}").format(node=call_id, value=repr(point)))
        positions[call_id] = (float(point[0]), float(point[1]))
    return with_layout(spec, positions)


def relayout(spec: GraphSpec, direction: str | None = None) -> GraphSpec:
    """The spec with its stored positions dropped, so the whole graph is laid out again (in `direction`, kept)."""
    return with_layout(spec, None, direction or layout_direction(spec))


def place_new_nodes(before: GraphSpec, after: GraphSpec, point: object) -> GraphSpec:
    """`after` with the nodes that `before` lacked stored at `point` (where they were dropped), the others kept where they were."""
    new_ids = [call.id for call in after.calls if before.call(call.id) is None]
    if not new_ids:
        return after
    if not isinstance(point, (list, tuple)) or len(point) != 2 or not all(isinstance(v, (int, float)) for v in point):
        raise EditError(_("A drop position must be [x, y] numbers. Received: {value}").format(value=repr(point)))
    positions = {**layout_positions(before)}
    x, y = float(point[0]), float(point[1])
    for offset, call_id in enumerate(new_ids):
        positions[call_id] = (x + 30 * offset, y + 30 * offset)
    return with_layout(after, positions)


def _auto_layout(spec: GraphSpec) -> Positions:
    """Layered (Sugiyama-style) layout: depth = longest path from a source, long edges split by dummy
    points so they get their own lane, rows ordered by barycentre sweeps, x placed under the inputs."""
    order = topological_order(spec)[0]
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
            offset = ((position + 1) / (len(parents[call.id]) + 1) - 0.5) * NODE_WIDTH
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
    for _sweep in range(4):
        for level in levels[1:]:
            _sort_row(rows[level], index, up)
        for level in levels[-2::-1]:
            _sort_row(rows[level], index, down)
    x = {node: 0.0 for row in rows.values() for node in row}
    for level in levels:
        _place_row(rows[level], x, {node: [] for node in rows[level]})
    for _pass in range(6):
        for level in levels[1:]:
            _place_row(rows[level], x, {node: [(x[other] - offset) for other, offset in up[node]] for node in rows[level]})
        for level in levels[-2::-1]:
            _place_row(rows[level], x, {node: [(x[other] - offset) for other, offset in down[node]] for node in rows[level]})
    left = min((x[node] for node in ordered), default=0.0)
    return {call_id: (round(x[call_id] - left), depth[call_id] * ROW_HEIGHT) for call_id in ordered}


def _sort_row(row: list[str], index: dict[str, float], neighbours: dict[str, list[tuple[str, float]]]) -> None:
    def key(node: str) -> float:
        linked = neighbours[node]
        return sum(index[other] - offset / NODE_WIDTH for other, offset in linked) / len(linked) if linked else index[node]

    row.sort(key=key)
    for i, node in enumerate(row):
        index[node] = float(i)


def _place_row(row: list[str], x: dict[str, float], wanted: dict[str, list[float]]) -> None:
    """Put each node of a row at the mean of its wanted x, keeping order and spacing (left and right packing averaged)."""
    width = [_DUMMY_WIDTH if node.startswith("\0") else NODE_WIDTH for node in row]
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


def make_room_for_insert(before: GraphSpec, after: GraphSpec, target: str) -> GraphSpec:
    """`after` (a node inserted on an edge into `target`) with room made: the new node takes `target`'s place and
    everything from `target`'s depth on moves one row down (right, left-right). Without stored positions, nothing is
    stored: the whole graph is laid out again."""
    stored = stored_positions(before)
    new_ids = [call.id for call in after.calls if before.call(call.id) is None]
    if not stored or not new_ids or target not in stored:
        return after
    direction = layout_direction(before)
    frame = {call_id: _to_frame(point, direction) for call_id, point in layout_positions(before).items()}
    lateral, depth = frame[target]
    moved = {call_id: (x, y + ROW_HEIGHT if y >= depth - 1 else y) for call_id, (x, y) in frame.items()}
    moved[new_ids[0]] = (lateral, depth)
    return with_layout(after, {call_id: _from_frame(point, direction) for call_id, point in moved.items()})

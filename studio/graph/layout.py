"""Canvas layout: where each node of a spec is drawn (top-down by depth), kept across edits.

Pure (no Keras, no Streamlit): positions are plain (x, y) pairs keyed by call id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from studio.graph.checks import topological_order
from studio.graph.spec import GraphSpec, split_ref

COLUMN_WIDTH = 250.0  # horizontal distance between neighbouring node origins
ROW_HEIGHT = 130.0  # vertical distance between graph depths
NODE_WIDTH, _DUMMY_WIDTH, _GAP = 210.0, 24.0, 40.0  # the front end draws nodes 210 px wide

Positions = dict[str, tuple[float, float]]


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
    if kind == "share" and new_ids and change.get("node") in updated:
        x, y = updated[change["node"]]
        updated[new_ids[0]] = (x + COLUMN_WIDTH, y)
    elif kind == "add_node" and new_ids and change.get("position"):
        x, y = change["position"]
        updated[new_ids[0]] = (float(x), float(y))
    return updated

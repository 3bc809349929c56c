"""The canvas's picture of a spec: one node per call (type, shape, parameters, problems), one edge per input.

Pure data for the front end; positions come from :mod:`studio.graph.layout`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from studio.catalog import table
from studio.graph.checks import input_arity
from studio.graph.layout import layout_positions
from studio.graph.shapes import shape_text
from studio.graph.spec import GraphSpec, split_ref
from studio.model.build import BuildResult


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
    """The first output's shape, and how many more there are: '(None, 8) +22' (a node has little room)."""
    if not shapes:
        return ""
    return shape_text(shapes[0]) + (f" +{len(shapes) - 1}" if len(shapes) > 1 else "")


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
                group=table.GROUP_OF.get(table.canonical_type(layer_type), ""),
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

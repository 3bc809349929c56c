"""The canvas's picture of a spec: one node per call (type, key parameters, shape, parameters, outputs, problems,
hints), one edge per input, and the palette it drags layers from.

Pure data for the front end; positions come from :mod:`studio.graph.layout`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from studio.catalog import table
from studio.catalog import types as catalog
from studio.graph.checks import input_arity, nested_spec
from studio.graph.edits import graph_ends, output_refs_of
from studio.graph.layout import layout_positions
from studio.graph.presets import preset_names
from studio.graph.shapes import shape_text
from studio.graph.spec import GraphSpec, make_ref, split_ref
from studio.i18n import N_, _
from studio.model.build import BuildResult

# The parameters shown (and edited) on a node, in this order, at most three: the rest stay in the Node editor.
KEY_PARAMETERS = (
    "shape",
    "dtype",
    "units",
    "filters",
    "kernel_size",
    "pool_size",
    "rate",
    "input_dim",
    "output_dim",
    "num_heads",
    "key_dim",
    "target_shape",
    "n",
    "size",
    "scale",
    "axis",
    "axes",
    "return_sequences",
    "activation",
)
MAX_KEY_PARAMETERS = 3
# The tutorial's layers first in the palette, then every group of the catalogue.
FAVOURITES = ("Input", "Dense", "Dropout", "Flatten", "Conv2D", "MaxPooling2D", "Embedding", "LSTM", "Concatenate", "Add")
FLATTEN_HINT = N_(
    "{type} on a {rank}-D tensor {shape} acts on the last axis only; to classify an image, add a Flatten "
    "(or GlobalAveragePooling2D) before it."
)


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
    output_refs: list[str] = field(default_factory=list)  # its tensors that are model outputs
    pinned: list[str] = field(default_factory=list)  # outputs that other nodes use too (kept by the user)
    unpinned: list[str] = field(default_factory=list)  # ends the user left out of the outputs
    errors: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    shared_with: list[str] = field(default_factory=list)
    input_count: int = 0
    max_inputs: int | None = None
    min_inputs: int = 0
    ordered: bool = False  # the order of its inputs matters (numbered slots)
    output_count: int = 1
    output_labels: list[str] = field(default_factory=list)
    group: str = ""
    key_params: list[dict] = field(default_factory=list)
    inner: list[str] = field(default_factory=list)  # a nested model's or an application's inside, one line each
    trainable: bool = True


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


def key_params(type_name: str, config: Mapping) -> list[dict]:
    """The node's key parameters: name, kind (int, float, choice, shape ...), current value and choices."""
    canonical = table.canonical_type(type_name)
    if canonical not in catalog.LAYER_TYPES or canonical in table.APPLICATION_TYPES:
        return []
    by_name = {param.name: param for param in catalog.get_layer_type(canonical).params}
    chosen = [by_name[name] for name in KEY_PARAMETERS if name in by_name][:MAX_KEY_PARAMETERS]
    return [
        {
            "name": param.name,
            "kind": param.kind,
            "value": config.get(param.name, param.default),
            "choices": list(param.choices) if param.choices else None,
            "required": param.required,
        }
        for param in chosen
    ]


def _output_labels(spec: GraphSpec, call_id: str, count: int) -> list[str]:
    layer = spec.layer_of(call_id)
    names: list[str] = []
    if layer is not None and layer.type == "Model":
        nested = nested_spec(layer.config)
        names = list(nested.outputs) if nested is not None else []
    elif layer is not None and layer.type in table.APPLICATION_TYPES:
        names = list(layer.config.get("outputs") or [])
    return [names[index] if index < len(names) else _("output {index}").format(index=index) for index in range(count)]


def _inner(spec: GraphSpec, call_id: str) -> list[str]:
    """A nested model's nodes ('id · Type ← inputs') or an application's exposed and frozen layers, for expanding in place."""
    layer = spec.layer_of(call_id)
    if layer is None:
        return []
    if layer.type == "Model":
        nested = nested_spec(layer.config)
        if nested is None:
            return []
        lines = []
        for call in nested.calls:
            inner_layer = nested.layer(call.layer)
            arrow = f" ← {', '.join(call.inputs)}" if call.inputs else ""
            lines.append(f"{call.id} · {inner_layer.type if inner_layer else '?'}{arrow}")
        return lines
    if layer.type in table.APPLICATION_TYPES:
        exposed = list(layer.config.get("outputs") or [])
        frozen = list(layer.config.get("frozen") or [])
        weights = layer.config.get("weights") or _("random")
        lines = [
            _("{type}: weights {weights}, include_top {include_top}").format(
                type=layer.type, weights=weights, include_top=layer.config.get("include_top", True)
            )
        ]
        lines += [_("output {index}: {name}").format(index=index, name=name) for index, name in enumerate(exposed)] or [
            _("output 0: its usual output")
        ]
        lines += [_("frozen: {layers}").format(layers=", ".join(frozen))] if frozen else []
        return lines
    return []


def _hints(spec: GraphSpec, result: BuildResult | None, call_id: str, layer_type: str) -> list[str]:
    """Teaching hints: a Dense on an image-shaped (rank-4) tensor, where a Flatten is usual."""
    call = spec.call(call_id)
    if result is None or call is None or layer_type != "Dense":
        return []
    hints = []
    for ref in call.inputs:
        source, index = split_ref(ref)
        info = result.nodes.get(source)
        shapes = info.output_shapes if info else []
        if index < len(shapes) and len(shapes[index]) >= 4:
            hints.append(_(FLATTEN_HINT).format(type=layer_type, rank=len(shapes[index]), shape=shape_text(shapes[index])))
    return hints


def spec_to_canvas(
    spec: GraphSpec, result: BuildResult | None, positions: Mapping[str, tuple[float, float]] | None = None
) -> tuple[list[CanvasNode], list[CanvasEdge]]:
    """Nodes (one per call) and edges (one per input ref) for the canvas, with shapes, params, outputs and problems."""
    positions = layout_positions(spec, positions)
    call_ids = {call.id for call in spec.calls}
    problems = result.problems if result is not None else []
    ends = set(graph_ends(spec))
    used = {make_ref(*split_ref(ref)) for call in spec.calls for ref in call.inputs}
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
        refs = output_refs_of(spec, call.id)
        count = max(len(info.output_shapes) if info else 1, highest_output.get(call.id, 0) + 1, len(refs))
        outputs = [ref for ref in spec.outputs if split_ref(ref)[0] == call.id]
        minimum, maximum = input_arity(spec, call.layer) if layer else (0, None)
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
                output_refs=outputs,
                pinned=[ref for ref in outputs if ref in used],
                unpinned=[ref for ref in refs if ref in ends and ref not in spec.outputs],
                errors=[p.message for p in problems if p.node is not None and p.node in (call.id, call.layer)],
                hints=_hints(spec, result, call.id, layer_type),
                shared_with=[other.id for other in spec.calls_of(call.layer) if other.id != call.id],
                input_count=len(call.inputs),
                max_inputs=maximum,
                min_inputs=minimum,
                ordered=maximum is None or maximum > 1,
                output_count=count,
                output_labels=_output_labels(spec, call.id, count),
                group=table.GROUP_OF.get(table.canonical_type(layer_type), ""),
                key_params=key_params(layer_type, layer.config) if layer else [],
                inner=_inner(spec, call.id),
                trainable=layer.trainable if layer else True,
            )
        )
        bad_kinds = {p.kind for p in problems if p.node == call.id and p.kind in ("cycle", "bad_arity", "dangling_input")}
        for position, ref in enumerate(call.inputs):
            source, source_output = split_ref(ref)
            if source not in call_ids:
                continue
            label = str(position + 1) if len(call.inputs) > 1 else ""
            if source_output:
                label = _("{slot} ← out {index}").format(slot=label, index=source_output).strip()
            edges.append(CanvasEdge(f"{call.id}/{position}", source, source_output, call.id, position, label, bool(bad_kinds)))
    return nodes, edges


def palette() -> list[dict]:
    """The palette's groups: the tutorial's favourites, the catalogue's groups, the presets as nested models.

    Each item: ``{"type", "label", "summary", "search"}``, plus ``"preset"`` for a nested model; each group has its
    ``"group"`` id and its ``"label"`` in the current language (the summaries too; the search text has both languages).
    """

    def item(type_name: str) -> dict:
        info = catalog.get_layer_type(type_name)
        search = f"{type_name} {info.group} {info.doc} {table.group_label(info.group)} {info.summary}"
        return {"type": type_name, "label": type_name, "summary": info.summary, "search": search.lower()}

    groups = [{"group": "Favourites", "label": _("Favourites"), "items": [item(name) for name in FAVOURITES]}]
    for group, names in table.palette_groups().items():
        if group != "Models":
            groups.append({"group": group, "label": table.group_label(group), "items": [item(name) for name in names]})
    models = [
        {
            "type": "Model",
            "preset": name,
            "label": name,
            "summary": _("The '{name}' preset as one layer (a nested model).").format(name=name),
            "search": f"model nested preset {name} {_('nested model')}".lower(),
        }
        for name in preset_names()
    ]
    groups.append({"group": "Models", "label": table.group_label("Models"), "items": models})
    return groups

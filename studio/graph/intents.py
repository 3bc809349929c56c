"""Intents: what a view asks for ("add a Dense here", "connect a -> b at slot 2"), applied by the edit engine.

Views never send a new spec. The canvas sends intents as plain dicts; the forms call the same edit
functions directly. Either way one function of the engine makes the change, so the same intent gives
the same spec from either view. Kinds and their fields:

- ``add_node``: ``layer_type``; optional ``inputs`` (refs, in order), ``node_id``, ``config``,
  ``as_output`` (default true), ``spec`` (the nested graph of a ``Model``) or ``preset`` (a preset's name as
  that graph), ``position`` ([x, y] where it was dropped)
- ``insert``: ``edge`` (``"target/position"``), ``layer_type``; optional ``config``, ``node_id``: a new node on that
  edge, drawn where its target was (the target and what is below it move down a row)
- ``connect``: ``source``, ``target``; optional ``source_output`` (default 0), ``slot`` (default: append),
  ``replace`` (true: the edge takes the place of the one in that occupied slot)
- ``disconnect``: ``edges``: edge ids ``"target/position"``
- ``delete``: ``nodes`` (call ids) and/or ``edges``; ``mode``: ``refuse`` (default), ``cascade`` or ``rewire``
- ``share``: ``node`` (a call of the layer to share), ``inputs``; optional ``node_id``, ``as_output``
- ``toggle_output``: ``node`` (a ref such as ``"dense"`` or ``"vgg16:3"``): pin or unpin a model output
- ``set_param``: ``node``, ``name``, ``value`` (JSON; null removes it): one parameter of the node's layer
- ``duplicate``: ``node``: a new layer like it (own weights), on the same inputs
- ``move`` (``positions``: id -> [x, y]) and ``layout`` (optional ``direction``: ``"TB"`` or ``"LR"``): the
  picture only; they change the spec's ``layout``, never the model

Outputs follow :func:`studio.graph.edits.follow_outputs` whichever view makes the edit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from studio.catalog import table
from studio.graph import blocks, deletion, edits, layout, wiring
from studio.graph.edits import EditError
from studio.graph.presets import load_preset
from studio.graph.spec import GraphSpec, SpecError, spec_from_dict
from studio.i18n import _

Intent = Mapping[str, Any]
VIEW_ONLY = frozenset({"move", "layout"})  # they change the picture (the layout), never the model


def _field(intent: Intent, name: str, kind: type | tuple[type, ...] = str) -> Any:
    value = intent.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        message = _("The '{kind}' request needs '{name}'. Received: {value}")
        raise EditError(message.format(kind=intent.get("kind"), name=name, value=repr(value)))
    return value


def _refs(intent: Intent, name: str) -> list[str]:
    value = intent.get(name) or []
    if not isinstance(value, (list, tuple)) or not all(isinstance(ref, str) and ref for ref in value):
        raise EditError(
            _("'{name}' must be a list of node ids such as {example}. Received: {value}").format(
                name=name, example='["dense", "vgg16:3"]', value=repr(value)
            )
        )
    return list(value)


def _add_node(spec: GraphSpec, intent: Intent) -> GraphSpec:
    type_name = edits.require_type(_field(intent, "layer_type"))
    inputs, node_id, as_output = _refs(intent, "inputs"), intent.get("node_id"), bool(intent.get("as_output", True))
    config = intent.get("config")
    if type_name == "Model":
        try:
            nested = load_preset(str(intent["preset"])) if intent.get("preset") else spec_from_dict(intent.get("spec"))
        except (SpecError, KeyError) as error:
            message = _("A nested model needs its graph under 'spec' or a preset's name under 'preset': {error}").format(error=error)
            raise EditError(message) from error
        return blocks.add_nested_model(spec, nested, inputs, node_id, as_output)
    if type_name in table.APPLICATION_TYPES:
        config = dict(config or {})
        outputs, frozen = config.pop("outputs", None), config.pop("frozen", ())
        return blocks.add_application(spec, type_name, inputs, outputs, frozen, config, node_id, as_output)
    return edits.add_layer(spec, type_name, inputs, node_id, config, as_output)


def _connect(spec: GraphSpec, intent: Intent) -> GraphSpec:
    slot = None if intent.get("slot") is None else _field(intent, "slot", int)
    source_output = 0 if intent.get("source_output") is None else _field(intent, "source_output", int)
    replace = bool(intent.get("replace", False))
    return wiring.connect(spec, _field(intent, "source"), _field(intent, "target"), slot, source_output, replace)


def _insert(spec: GraphSpec, intent: Intent) -> GraphSpec:
    ((target, positions),) = _edge_positions(spec, [_field(intent, "edge")]).items()
    type_name = edits.require_type(_field(intent, "layer_type"))
    return blocks.insert_on_edge(spec, target, positions[0], type_name, intent.get("config"), intent.get("node_id"))


def _set_param(spec: GraphSpec, intent: Intent) -> GraphSpec:
    call = edits.require_call(spec, _field(intent, "node"))
    return edits.set_param(spec, call.layer, _field(intent, "name"), intent.get("value"))


def _duplicate(spec: GraphSpec, intent: Intent) -> GraphSpec:
    return blocks.duplicate_node(spec, _field(intent, "node"), intent.get("node_id"))


def _move(spec: GraphSpec, intent: Intent) -> GraphSpec:
    positions = intent.get("positions")
    if not isinstance(positions, Mapping):
        raise EditError(_("'move' needs 'positions': node id -> [x, y]. Received: {value}").format(value=repr(positions)))
    return layout.move_nodes(spec, positions)


def _layout(spec: GraphSpec, intent: Intent) -> GraphSpec:
    return layout.relayout(spec, intent.get("direction"))


def _edge_positions(spec: GraphSpec, edge_ids: list[str]) -> dict[str, list[int]]:
    by_target: dict[str, list[int]] = {}
    for edge_id in edge_ids:
        target, _slash, position = str(edge_id).rpartition("/")
        call = spec.call(target)
        if call is None or not position.isdigit() or int(position) >= len(call.inputs):
            raise EditError(_("There is no edge '{edge}' in the graph; edges are named 'target/position'.").format(edge=edge_id))
        by_target.setdefault(target, []).append(int(position))
    return by_target


def _disconnect(spec: GraphSpec, intent: Intent) -> GraphSpec:
    for target, positions in _edge_positions(spec, _refs(intent, "edges")).items():
        spec = wiring.disconnect(spec, target, positions)
    return spec


def _delete(spec: GraphSpec, intent: Intent) -> GraphSpec:
    nodes = _refs(intent, "nodes")
    spec = _disconnect(spec, {"kind": "delete", "edges": [edge for edge in _refs(intent, "edges") if edge.rpartition("/")[0] not in nodes]})
    return deletion.delete_nodes(spec, nodes, str(intent.get("mode") or "refuse")) if nodes else spec


def _share(spec: GraphSpec, intent: Intent) -> GraphSpec:
    call = edits.require_call(spec, _field(intent, "node"))
    return edits.call_again(spec, call.layer, _refs(intent, "inputs"), intent.get("node_id"), bool(intent.get("as_output", True)))


def _toggle_output(spec: GraphSpec, intent: Intent) -> GraphSpec:
    return wiring.toggle_output(spec, _field(intent, "node"))


_APPLY: dict[str, Callable[[GraphSpec, Intent], GraphSpec]] = {
    "add_node": _add_node,
    "insert": _insert,
    "connect": _connect,
    "disconnect": _disconnect,
    "delete": _delete,
    "share": _share,
    "toggle_output": _toggle_output,
    "set_param": _set_param,
    "duplicate": _duplicate,
    "move": _move,
    "layout": _layout,
}
INTENT_KINDS = tuple(_APPLY)
_PLACED = {"add_node": "position"}  # intents whose new node goes where it was dropped


def apply_intent(spec: GraphSpec, intent: Intent) -> GraphSpec:
    """A new spec with the intent applied (view-only intents change only its layout); EditError says why not."""
    if not isinstance(intent, Mapping):
        raise EditError(_("An edit request must be an object with a 'kind'. Received: {value}").format(value=repr(intent)))
    kind = intent.get("kind")
    if kind not in _APPLY:
        raise EditError(_("Unknown edit '{kind}'; expected one of {kinds}.").format(kind=kind, kinds=", ".join(INTENT_KINDS)))
    new = _APPLY[kind](spec, intent)
    if intent.get(_PLACED.get(kind, "")) is not None:
        return layout.place_new_nodes(spec, new, point=intent.get(_PLACED[kind]))
    if kind == "insert":
        return layout.make_room_for_insert(spec, new, str(intent["edge"]).rpartition("/")[0])
    return new

"""Wiring edits: a node's ordered inputs, edges added and removed, the model's inputs and outputs.

Part of the edit engine (see :mod:`studio.graph.edits`): pure functions, a new spec or an EditError.
"""

from __future__ import annotations

from collections.abc import Sequence

from studio.graph.checks import ancestors, is_source
from studio.graph.edits import EditError, check_arity, check_refs_exist, follow_outputs, require_call, sync_source
from studio.graph.spec import GraphSpec, make_ref, split_ref
from studio.i18n import _


def _path(spec: GraphSpec, start: str, goal: str) -> list[str]:
    """A chain of calls from `start` down to `goal` (start feeds ... feeds goal)."""
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


def set_inputs(spec: GraphSpec, call_id: str, refs: Sequence[str]) -> GraphSpec:
    """Wire a node to `refs`, in order (order matters for Concatenate, Subtract, Dot ...)."""
    call = require_call(spec, call_id)
    layer = spec.layer(call.layer)
    refs = list(refs)
    if layer is not None and layer.type == "Input" and refs:
        raise EditError(_("Node '{node}' is an Input: it starts the graph and takes no inputs.").format(node=call_id))
    for ref in refs:
        source = split_ref(ref)[0] if isinstance(ref, str) else ref
        if source == call_id:
            raise EditError(_("Node '{node}' cannot take its own output: a layer wired to itself makes a cycle.").format(node=call_id))
    check_refs_exist(spec, refs, _("Node '{node}'").format(node=call_id))
    for ref in refs:
        source = split_ref(ref)[0]
        if call_id in ancestors(spec, source):
            loop = " → ".join([*_path(spec, call_id, source), call_id])
            message = _("Wiring '{ref}' into '{node}' would make a cycle: {loop}. A model's graph must flow one way.")
            raise EditError(message.format(ref=ref, node=call_id, loop=loop))
    if layer is not None:
        check_arity(spec, layer.id, len(refs), call_id)
    new = spec.copy()
    new.call(call_id).inputs = refs
    sync_source(new, call_id)
    follow_outputs(spec, new)
    return new


def move_input(spec: GraphSpec, call_id: str, position: int, offset: int) -> GraphSpec:
    """Move one input of a node up (offset -1) or down (+1) in its ordered input list."""
    refs = list(require_call(spec, call_id).inputs)
    target = position + offset
    if not 0 <= position < len(refs) or not 0 <= target < len(refs):
        message = _("Node '{node}' has {count} input(s); cannot move input {position} by {offset}.")
        raise EditError(message.format(node=call_id, count=len(refs), position=position + 1, offset=offset))
    refs[position], refs[target] = refs[target], refs[position]
    return set_inputs(spec, call_id, refs)


def set_outputs(spec: GraphSpec, refs: Sequence[str]) -> GraphSpec:
    """The model's outputs, in order."""
    refs = list(refs)
    check_refs_exist(spec, refs, _("Model outputs"))
    duplicates = sorted({ref for ref in refs if refs.count(ref) > 1})
    if duplicates:
        raise EditError(_("Model outputs list {refs} more than once; each output is listed once.").format(refs=", ".join(duplicates)))
    new = spec.copy()
    new.outputs = refs
    return new


def toggle_output(spec: GraphSpec, ref: str) -> GraphSpec:
    """Make a node a model output, or stop it being one: pins a used node, unpins an end (later edits keep the choice)."""
    if ref in spec.outputs:
        return set_outputs(spec, [other for other in spec.outputs if other != ref])
    return set_outputs(spec, [*spec.outputs, ref])


def set_model_inputs(spec: GraphSpec, refs: Sequence[str]) -> GraphSpec:
    """The model's inputs, in order; each must start the graph (an Input, or an application on its own input)."""
    refs = list(refs)
    check_refs_exist(spec, refs, _("Model inputs"))
    for ref in refs:
        if not is_source(spec, ref):
            message = _("'{ref}' cannot be a model input: only an Input node (or an application on its own input) can.")
            raise EditError(message.format(ref=ref))
    missing = [call.id for call in spec.calls if is_source(spec, call.id) and call.id not in refs]
    if missing:
        message = _("{nodes} start(s) the graph and must be listed among the model inputs (or deleted).")
        raise EditError(message.format(nodes=", ".join(missing)))
    new = spec.copy()
    new.inputs = refs
    return new


def move_in_list(items: Sequence[str], position: int, offset: int) -> list[str]:
    """A copy of `items` with one item moved by `offset` places."""
    items = list(items)
    target = position + offset
    if not 0 <= position < len(items) or not 0 <= target < len(items):
        message = _("Cannot move item {position} of {count} by {offset}.")
        raise EditError(message.format(position=position + 1, count=len(items), offset=offset))
    items[position], items[target] = items[target], items[position]
    return items


def connect(spec: GraphSpec, source: str, target: str, slot: int | None = None, source_output: int = 0, replace: bool = False) -> GraphSpec:
    """Feed output `source_output` of node `source` into input slot `slot` of `target` (appended when None).

    With `replace`, the edge takes the place of the one in that slot (an occupied slot); otherwise it is inserted there.
    """
    target_call = require_call(spec, target)
    require_call(spec, source)
    refs = list(target_call.inputs)
    ref = make_ref(source, int(source_output or 0))
    position = len(refs) if slot is None else int(slot)
    if not 0 <= position <= len(refs):
        message = _("Node '{node}' has {count} input(s); input slot {slot} does not exist yet.")
        raise EditError(message.format(node=target, count=len(refs), slot=position + 1))
    if replace and position < len(refs):
        refs[position] = ref
    else:
        refs.insert(position, ref)
    return set_inputs(spec, target, refs)


def disconnect(spec: GraphSpec, target: str, positions: Sequence[int]) -> GraphSpec:
    """Remove the inputs at these positions (0-based) from node `target`."""
    refs = list(require_call(spec, target).inputs)
    missing = [position for position in positions if not 0 <= int(position) < len(refs)]
    if missing:
        message = _("Node '{node}' has {count} input(s); there is no input {position} to remove.")
        raise EditError(message.format(node=target, count=len(refs), position=int(missing[0]) + 1))
    doomed = {int(position) for position in positions}
    return set_inputs(spec, target, [ref for index, ref in enumerate(refs) if index not in doomed])

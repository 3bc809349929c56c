"""Deleting nodes and layers; while others use a node: refuse (say who), cascade, or rewire around it.

Part of the edit engine (see :mod:`studio.graph.edits`): pure functions, a new spec or an EditError.
"""

from __future__ import annotations

from collections.abc import Sequence

from studio.graph.checks import descendants
from studio.graph.edits import EditError, NodeInUseError, follow_outputs, require_call, require_layer
from studio.graph.spec import GraphSpec, split_ref

DELETE_MODES = ("refuse", "cascade", "rewire")


def delete_node(spec: GraphSpec, call_id: str, mode: str = "refuse") -> GraphSpec:
    """Delete a node. While others use it: 'refuse' (say who), 'cascade' (delete them too) or 'rewire' (connect them to its input)."""
    call = require_call(spec, call_id)
    if mode not in DELETE_MODES:
        raise EditError(f"Unknown delete mode {mode!r}; expected one of {', '.join(DELETE_MODES)}.")
    users = spec.consumers(call_id)
    new = spec.copy()
    doomed = {call_id}
    if users and mode == "refuse":
        raise NodeInUseError(
            f"Cannot delete '{call_id}': {', '.join(users)} {'uses' if len(users) == 1 else 'use'} its output. "
            "Delete or rewire them first, or choose to delete it with everything downstream, or to reconnect them to its input."
        )
    if mode == "cascade":
        doomed |= set(descendants(spec, call_id))
    elif mode == "rewire" and (users or any(split_ref(ref)[0] == call_id for ref in spec.outputs)):
        if len(call.inputs) != 1:
            raise EditError(
                f"Cannot reconnect around '{call_id}': it has {len(call.inputs)} inputs, "
                "and only a node with exactly one input can be bypassed."
            )
        replacement = call.inputs[0]
        for other in new.calls:
            if any(split_ref(ref)[0] == call_id and split_ref(ref)[1] > 0 for ref in other.inputs):
                raise EditError(f"Cannot reconnect '{other.id}': it uses a second output of '{call_id}', which its input cannot replace.")
            other.inputs = [replacement if split_ref(ref)[0] == call_id else ref for ref in other.inputs]
        outputs = []
        for ref in new.outputs:
            swapped = replacement if split_ref(ref)[0] == call_id else ref
            if swapped not in outputs:
                outputs.append(swapped)
        new.outputs = outputs
    removed_layers = {new.call(doomed_id).layer for doomed_id in doomed}
    new.calls = [other for other in new.calls if other.id not in doomed]
    new.inputs = [ref for ref in new.inputs if split_ref(ref)[0] not in doomed]
    new.outputs = [ref for ref in new.outputs if split_ref(ref)[0] not in doomed]
    new.layers = [layer for layer in new.layers if layer.id not in removed_layers or new.calls_of(layer.id)]
    follow_outputs(spec, new)
    return new


def delete_layer(spec: GraphSpec, layer_id: str) -> GraphSpec:
    """Delete a layer that no node calls."""
    require_layer(spec, layer_id)
    calls = [call.id for call in spec.calls_of(layer_id)]
    if calls:
        raise EditError(f"Cannot delete layer '{layer_id}': nodes {', '.join(calls)} call it; delete those nodes instead.")
    new = spec.copy()
    new.layers = [layer for layer in new.layers if layer.id != layer_id]
    return new


def delete_nodes(spec: GraphSpec, call_ids: Sequence[str], mode: str = "refuse") -> GraphSpec:
    """Delete several nodes at once; users among the deleted nodes do not count as users."""
    ids = list(dict.fromkeys(call_ids))
    for call_id in ids:
        require_call(spec, call_id)
    if mode == "refuse":
        doomed = set(ids)
        for call_id in ids:
            users = [user for user in spec.consumers(call_id) if user not in doomed]
            if users:
                return delete_node(spec, call_id, "refuse")  # raises, naming the users
    new = spec
    for call_id in ids:
        if new.call(call_id) is not None:  # a cascade may have taken it already
            new = delete_node(new, call_id, "cascade" if mode == "refuse" else mode)
    return new

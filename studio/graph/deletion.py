"""Deleting nodes and layers; while others use a node: refuse (say who), cascade, or rewire around it.

Part of the edit engine (see :mod:`studio.graph.edits`): pure functions, a new spec or an EditError.
"""

from __future__ import annotations

from collections.abc import Sequence

from studio.graph.checks import descendants
from studio.graph.edits import EditError, NodeInUseError, follow_outputs, require_call, require_layer
from studio.graph.spec import GraphSpec, split_ref
from studio.i18n import _, ngettext

DELETE_MODES = ("refuse", "cascade", "rewire")


def delete_node(spec: GraphSpec, call_id: str, mode: str = "refuse") -> GraphSpec:
    """Delete a node. While others use it: 'refuse' (say who), 'cascade' (delete them too) or 'rewire' (connect them to its input)."""
    call = require_call(spec, call_id)
    if mode not in DELETE_MODES:
        raise EditError(_("Unknown delete mode {mode}; expected one of {modes}.").format(mode=repr(mode), modes=", ".join(DELETE_MODES)))
    users = spec.consumers(call_id)
    new = spec.copy()
    doomed = {call_id}
    if users and mode == "refuse":
        message = ngettext(
            "Cannot delete '{node}': {users} uses its output. Delete or rewire them first, or choose to delete it "
            "with everything downstream, or to reconnect them to its input.",
            "Cannot delete '{node}': {users} use its output. Delete or rewire them first, or choose to delete it "
            "with everything downstream, or to reconnect them to its input.",
            len(users),
        )
        raise NodeInUseError(message.format(node=call_id, users=", ".join(users)))
    if mode == "cascade":
        doomed |= set(descendants(spec, call_id))
    elif mode == "rewire" and (users or any(split_ref(ref)[0] == call_id for ref in spec.outputs)):
        if len(call.inputs) != 1:
            message = _("Cannot reconnect around '{node}': it has {count} inputs, and only a node with exactly one input can be bypassed.")
            raise EditError(message.format(node=call_id, count=len(call.inputs)))
        replacement = call.inputs[0]
        for other in new.calls:
            if any(split_ref(ref)[0] == call_id and split_ref(ref)[1] > 0 for ref in other.inputs):
                message = _("Cannot reconnect '{user}': it uses a second output of '{node}', which its input cannot replace.")
                raise EditError(message.format(user=other.id, node=call_id))
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
        message = _("Cannot delete layer '{layer}': nodes {nodes} call it; delete those nodes instead.")
        raise EditError(message.format(layer=layer_id, nodes=", ".join(calls)))
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

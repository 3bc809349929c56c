"""Structural checks of a spec (no Keras): ids, references, arity, cycles, inputs and outputs."""

from __future__ import annotations

from collections import deque

from studio.catalog import table
from studio.gate import check_count, described
from studio.graph.spec import GraphSpec, Problem, SpecError, is_valid_id, spec_from_dict, split_ref
from studio.i18n import N_, _
from studio.limits import Limits, limits


def input_arity(spec: GraphSpec, layer_id: str) -> tuple[int, int | None]:
    """How many inputs a call of this layer takes: (minimum, maximum or None for any)."""
    layer = spec.layer(layer_id)
    if layer is None:
        return 0, None
    if layer.type == "Model":
        nested = nested_spec(layer.config)
        count = len(nested.inputs) if nested else 1
        return count, count
    try:
        return table.type_arity(layer.type)
    except KeyError:
        return 0, None


def nested_spec(config: dict) -> GraphSpec | None:
    """The spec inside a ``Model`` layer's config, or None when it is missing or malformed."""
    try:
        return spec_from_dict(config.get("spec"))
    except SpecError:
        return None


def count_nodes(spec: GraphSpec) -> int:
    """Calls in the graph, nested models' calls included."""
    return spec_extent(spec)[0]


def _nested_data(layers: object) -> list[dict]:
    """The plain-data specs of the ``Model`` layers in a list of layers (plain data or LayerSpec)."""
    found = []
    for layer in layers if isinstance(layers, list) else []:
        kind, config = (layer.get("type"), layer.get("config")) if isinstance(layer, dict) else (layer.type, layer.config)
        inner = config.get("spec") if kind == "Model" and isinstance(config, dict) else None
        if isinstance(inner, dict):
            found.append(inner)
    return found


def spec_extent(spec: GraphSpec) -> tuple[int, int]:
    """(calls, nested models' calls included; how many levels of models nest inside it), without recursion."""
    nodes, deepest = len(spec.calls), 0
    pending = [(inner, 1) for inner in _nested_data(spec.layers)]
    while pending:
        data, depth = pending.pop()
        deepest = max(deepest, depth)
        calls = data.get("calls")
        nodes += len(calls) if isinstance(calls, list) else 0
        pending += [(inner, depth + 1) for inner in _nested_data(data.get("layers"))]
    return nodes, deepest


def check_spec_limits(spec: GraphSpec, source: str | None = None, active: Limits | None = None) -> None:
    """Refuse (LimitExceeded) a spec that nests models too deeply or has too many nodes, before anything builds it."""
    active = active or limits()
    nodes, depth = spec_extent(spec)
    source = source or described(_("the model '{name}'").format(name=spec.name))
    check_count(source, depth, N_("nests models {count} levels deep"), "max_model_depth", active)
    check_count(source, nodes, N_("has {count} nodes"), "max_nodes", active)


def is_source(spec: GraphSpec, call_id: str) -> bool:
    """Whether a call starts the graph: an Input, or an application used on its own input."""
    call = spec.call(call_id)
    if call is None or call.inputs:
        return False
    layer = spec.layer(call.layer)
    return layer is not None and input_arity(spec, layer.id)[0] == 0


def _check_ids(spec: GraphSpec) -> list[Problem]:
    problems = []
    texts = {
        "layer": (
            N_("duplicate layer id '{id}'; every layer needs its own id"),
            N_("layer id '{id}' must start with a letter or '_' and use only letters, digits, '_', '.', '-'"),
        ),
        "call": (
            N_("duplicate call id '{id}'; every call needs its own id"),
            N_("call id '{id}' must start with a letter or '_' and use only letters, digits, '_', '.', '-'"),
        ),
    }
    for kind, items in (("layer", spec.layers), ("call", spec.calls)):
        duplicate, bad = texts[kind]
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                problems.append(Problem(item.id, "duplicate_id", _(duplicate).format(id=item.id)))
            seen.add(item.id)
            if not is_valid_id(item.id):
                problems.append(Problem(item.id, "bad_id", _(bad).format(id=item.id)))
    return problems


def _check_layers(spec: GraphSpec) -> list[Problem]:
    problems = []
    for layer in spec.layers:
        if not spec.calls_of(layer.id):
            problems.append(
                Problem(layer.id, "unused_layer", _("layer '{id}' is never called; connect it or delete it").format(id=layer.id))
            )
        if layer.type == "Model":
            if nested_spec(layer.config) is None:
                try:
                    spec_from_dict(layer.config.get("spec"))
                except SpecError as error:
                    message = _("the nested model's `spec` is not a valid spec: {error}").format(error=error)
                    problems.append(Problem(layer.id, "bad_parameter", message))
            continue
        if not table.is_known_type(layer.type):
            valid = ", ".join(table.TYPE_NAMES)
            message = _("unknown layer type '{type}'. Expected one of: {valid}").format(type=layer.type, valid=valid)
            problems.append(Problem(layer.id, "unknown_type", message))
    return problems


def _check_calls(spec: GraphSpec) -> list[Problem]:
    problems = []
    call_ids = {call.id for call in spec.calls}
    for call in spec.calls:
        layer = spec.layer(call.layer)
        if layer is None:
            problems.append(Problem(call.id, "dangling_input", _("calls layer '{layer}', which does not exist").format(layer=call.layer)))
            continue
        for ref in call.inputs:
            source_id = split_ref(ref)[0]
            if source_id == call.id:
                message = _("is wired to itself (input '{ref}'); a layer cannot take its own output").format(ref=ref)
                problems.append(Problem(call.id, "cycle", message))
            elif source_id not in call_ids:
                message = _("input '{ref}' does not exist; expected the id of another node").format(ref=ref)
                problems.append(Problem(call.id, "dangling_input", message))
        minimum, maximum = input_arity(spec, layer.id)
        count = len(call.inputs)
        if minimum == 0 and maximum == 0 and count:
            message = _("{type} starts the graph and takes no inputs. Received {count}").format(type=layer.type, count=count)
            problems.append(Problem(call.id, "bad_arity", message))
        elif count < minimum:
            if minimum == maximum:
                message = _("{type} needs exactly {minimum} input(s). Received {count}")
            else:
                message = _("{type} needs at least {minimum} input(s). Received {count}")
            kind = "missing_input" if count == 0 else "bad_arity"
            problems.append(Problem(call.id, kind, message.format(type=layer.type, minimum=minimum, count=count)))
        elif maximum is not None and count > maximum:
            message = _("{type} takes at most {maximum} input(s). Received {count}").format(type=layer.type, maximum=maximum, count=count)
            problems.append(Problem(call.id, "bad_arity", message))
    for layer in spec.layers:
        if layer.type == "Input" and len(spec.calls_of(layer.id)) > 1:
            problems.append(Problem(layer.id, "bad_arity", _("an Input is one tensor; it cannot be called more than once")))
    return problems


def _check_inputs_outputs(spec: GraphSpec) -> list[Problem]:
    problems = []
    for ref in spec.inputs:
        if spec.call(ref) is None:
            problems.append(Problem(ref, "dangling_input", _("model input '{ref}' does not exist").format(ref=ref)))
        elif not is_source(spec, ref):
            message = _("model input '{ref}' must be an Input node (or an application on its own input)").format(ref=ref)
            problems.append(Problem(ref, "bad_input", message))
    for call in spec.calls:
        if is_source(spec, call.id) and call.id not in spec.inputs:
            message = _("'{node}' starts the graph but is not listed in the model's inputs").format(node=call.id)
            problems.append(Problem(call.id, "bad_input", message))
    if not spec.outputs:
        problems.append(Problem(None, "no_outputs", _("the model has no outputs; mark at least one node as an output")))
    for ref in spec.outputs:
        if spec.call(split_ref(ref)[0]) is None:
            problems.append(Problem(split_ref(ref)[0], "dangling_input", _("model output '{ref}' does not exist").format(ref=ref)))
    return problems


def topological_order(spec: GraphSpec) -> tuple[list[str], list[list[str]]]:
    """Calls in dependency order (Kahn), and the cycles that stop the rest from being ordered."""
    call_ids = [call.id for call in spec.calls]
    known = set(call_ids)
    parents = {call.id: {split_ref(ref)[0] for ref in call.inputs} & known for call in spec.calls}
    children: dict[str, list[str]] = {call_id: [] for call_id in call_ids}
    for call_id, sources in parents.items():
        for source in sources:
            children[source].append(call_id)
    waiting = {call_id: len(sources) for call_id, sources in parents.items()}
    ready = deque(call_id for call_id in call_ids if waiting[call_id] == 0)
    order: list[str] = []
    while ready:
        call_id = ready.popleft()
        order.append(call_id)
        for child in children[call_id]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    left = [call_id for call_id in call_ids if call_id not in set(order)]
    return order, _cycles(left, parents)


def _cycles(left: list[str], parents: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan) of the unordered calls that really loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    subset = set(left)

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for parent in sorted(parents[node] & subset):
            if parent not in index:
                visit(parent)
                low[node] = min(low[node], low[parent])
            elif parent in on_stack:
                low[node] = min(low[node], index[parent])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:  # self-wiring is reported on its own
                components.append(sorted(component, key=left.index))

    for node in left:
        if node not in index:
            visit(node)
    return components


def ancestors(spec: GraphSpec, call_id: str) -> set[str]:
    """Every call that this call depends on (itself included)."""
    seen: set[str] = set()
    pending = [call_id]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        call = spec.call(current)
        if call is not None:
            pending.extend(split_ref(ref)[0] for ref in call.inputs)
    return seen


def descendants(spec: GraphSpec, call_id: str) -> list[str]:
    """Every call that depends on this call (itself excluded), in spec order."""
    found: set[str] = set()
    pending = [call_id]
    while pending:
        for user in spec.consumers(pending.pop()):
            if user not in found and user != call_id:
                found.add(user)
                pending.append(user)
    return [call.id for call in spec.calls if call.id in found]


def _check_reachability(spec: GraphSpec, cyclic: set[str]) -> list[Problem]:
    problems = []
    model_inputs = set(spec.inputs)
    for ref in spec.outputs:
        call_id = split_ref(ref)[0]
        if spec.call(call_id) is None or call_id in cyclic:
            continue
        if not ancestors(spec, call_id) & model_inputs:
            problems.append(Problem(call_id, "unreachable_output", _("output '{ref}' does not depend on any model input").format(ref=ref)))
    return problems


def check_structure(spec: GraphSpec) -> list[Problem]:
    """Every structural problem of a spec, each naming its node; an empty list means Keras may build it."""
    problems = _check_ids(spec) + _check_layers(spec) + _check_calls(spec) + _check_inputs_outputs(spec)
    cycles = topological_order(spec)[1]
    for cycle in cycles:
        loop = " -> ".join([*cycle, cycle[0]])
        for call_id in cycle:
            problems.append(Problem(call_id, "cycle", _("is part of a cycle: {loop}").format(loop=loop)))
    problems += _check_reachability(spec, {call_id for cycle in cycles for call_id in cycle})
    return problems

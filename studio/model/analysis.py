"""Analysis for display: shapes, parameter counts and problems of a spec, without allocating weights.

`studio.model.build.analyze` creates every weight with its initializer; for VGG16 that is 138M random numbers
(seconds of work, 550 MB) just to show shapes. Here the same analysis runs inside Keras's
`StatelessScope(initialize_variables=False)`: variables get their shapes but no values, so counts and
shapes are exact and the build is ~30x faster. The model in the result is for drawing and summaries
only: it cannot be trained or called (the Training page builds its own with `studio.model.build.build_model`).
No Streamlit here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from studio.graph.shapes import shape_text, shapes_text
from studio.graph.spec import GraphSpec, split_ref
from studio.i18n import N_, _
from studio.model.build import BuildResult, analyze

log = logging.getLogger(__name__)
_STATELESS_HINT = "stateless scope"
# The columns of `summary_rows` (stable keys, as Keras's summary names them): show them with `_()`.
SUMMARY_COLUMNS = (N_("Layer (type)"), N_("Output shape"), N_("Param #"), N_("Connected to"), N_("Trainable"))


def _lazy_analyze(spec: GraphSpec) -> BuildResult:
    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope

    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    try:
        with StatelessScope(initialize_variables=False):
            return analyze(spec)
    finally:
        # The scope registers our uninitialised variables in a thread-local list; forget them again.
        global_state.set_global_attribute("uninitialized_variables", pending)


def analyze_for_display(spec: GraphSpec) -> BuildResult:
    """`analyze(spec)` without initialising weights; falls back to a full build if a layer needs values."""
    try:
        result = _lazy_analyze(spec)
    except ImportError:  # a Keras without these internals: do the full build
        return analyze(spec)
    if any(_STATELESS_HINT in problem.message for problem in result.problems):
        log.info("A layer of '%s' needs initialised weights to be built; building it in full", spec.name)
        return analyze(spec)
    return result


@dataclass(frozen=True)
class ParamCounts:
    """Total, trainable and non-trainable parameters (shared layers counted once)."""

    total: int
    trainable: int

    @property
    def non_trainable(self) -> int:
        """Parameters that training does not change."""
        return self.total - self.trainable


def param_counts(result: BuildResult) -> ParamCounts:
    """Parameter counts of what was built: the model's own when it exists, else the sum over built layers."""
    if result.model is not None:
        from studio.model.build import count_weights

        return ParamCounts(int(result.model.count_params()), count_weights(result.model.trainable_weights))
    seen: dict[str, tuple[int, int]] = {}
    for info in result.nodes.values():
        seen.setdefault(info.layer_id, (info.params or 0, info.trainable_params or 0))
    return ParamCounts(sum(counts[0] for counts in seen.values()), sum(counts[1] for counts in seen.values()))


def node_problems(result: BuildResult, spec: GraphSpec, call_id: str) -> list[str]:
    """Messages of the problems on a node: its own and its layer's (a layer that cannot be created)."""
    call = spec.call(call_id)
    ids = [call_id] if call is None or call.layer == call_id else [call_id, call.layer]
    messages: list[str] = []
    for problem in result.problems:
        if problem.node in ids and problem.message not in messages:
            messages.append(problem.message)
    return messages


def output_count(spec: GraphSpec, result: BuildResult | None, call_id: str) -> int:
    """How many tensors a node produces (several for applications exposing inner layers or multi-output models)."""
    if result is not None and call_id in result.nodes and result.nodes[call_id].output_shapes:
        return len(result.nodes[call_id].output_shapes)
    layer = spec.layer_of(call_id)
    if layer is None:
        return 1
    outputs = layer.config.get("outputs") if isinstance(layer.config, dict) else None
    if isinstance(outputs, list) and outputs:
        return len(outputs)
    if layer.type == "Model" and isinstance(layer.config.get("spec"), dict):
        inner = layer.config["spec"].get("outputs")
        if isinstance(inner, list) and inner:
            return len(inner)
    return 1


def tensor_refs(spec: GraphSpec, result: BuildResult | None, exclude: str | None = None) -> list[str]:
    """Every tensor a node could take as input ('dense', 'vgg16:3', ...), in spec order."""
    refs: list[str] = []
    for call in spec.calls:
        if call.id == exclude:
            continue
        count = output_count(spec, result, call.id)
        refs += [call.id if index == 0 else f"{call.id}:{index}" for index in range(count)]
    return refs


def ref_label(spec: GraphSpec, result: BuildResult | None, ref: str) -> str:
    """'dense · Dense · (None, 32)' for choosing inputs."""
    call_id, index = split_ref(ref)
    layer = spec.layer_of(call_id)
    kind = layer.type if layer else "?"
    shapes = result.nodes[call_id].output_shapes if result is not None and call_id in result.nodes else []
    shape = shape_text(shapes[index]) if index < len(shapes) else ""
    return " · ".join(part for part in (ref, kind, shape) if part)


def _connected_to(spec: GraphSpec, ref: str) -> str:
    """Keras's summary notation for an input tensor: 'layer[call index][tensor index]'."""
    call_id, index = split_ref(ref)
    call = spec.call(call_id)
    if call is None:
        return _("{ref} (missing)").format(ref=ref)
    position = [other.id for other in spec.calls_of(call.layer)].index(call_id)
    return f"{call.layer}[{position}][{index}]"


def summary_rows(spec: GraphSpec, result: BuildResult) -> list[dict]:
    """Keras's model.summary() as rows: layer (type), output shape, parameters, connected to; one row per call.

    The keys are `SUMMARY_COLUMNS` (English, stable); the values are in the current language.

    A shared layer's parameters are counted on its first call only (the later calls show 0, as they own none).
    """
    from studio.graph.checks import topological_order

    order = topological_order(spec)[0]
    order += [call.id for call in spec.calls if call.id not in order]
    counted: set[str] = set()
    rows = []
    for call_id in order:
        call = spec.call(call_id)
        layer = spec.layer(call.layer)
        info = result.nodes.get(call_id)
        name = call.layer if call.layer == call_id else f"{call.layer} → {call_id}"
        params = None
        if info is not None and info.params is not None:
            params = 0 if call.layer in counted else info.params
            counted.add(call.layer)
        rows.append(
            {
                "Layer (type)": f"{name} ({layer.type if layer else '?'})",
                "Output shape": shapes_text(info.output_shapes) if info else _("not built"),
                "Param #": params,
                "Connected to": ", ".join(_connected_to(spec, ref) for ref in call.inputs) or "-",
                "Trainable": bool(layer.trainable) if layer else None,
            }
        )
    return rows

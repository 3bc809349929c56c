"""The layer-graph spec: plain data that describes a Keras functional model, with a JSON form.

A spec separates *layers* (a type and its constructor config; they own the weights) from *calls*
(one layer applied to an ordered list of input tensors). A shared layer is one layer with two
calls; a nested model is a layer of type ``Model`` whose config holds another spec under ``"spec"``;
an application (``VGG16``...) is a layer whose config names the inner layers it exposes.

Tensor references: ``"call_id"`` is the first output of a call, ``"call_id:2"`` its third output
(for calls that produce several tensors: nested models with several outputs, applications exposing
several inner layers).

JSON form::

    {"name": "mnist model", "description": "...", "section": "1.1",
     "layers": [{"id": "img", "type": "Input", "config": {"shape": [784]}}, ...],
     "calls": [{"id": "img", "layer": "img", "inputs": []}, ...],
     "inputs": ["img"], "outputs": ["dense_2"],
     "layout": {"direction": "TB", "positions": {"img": [0, 0], "dense": [0, 130]}}}

``layout`` (optional) is the canvas's picture only: the auto-layout direction (``"TB"`` top-down or
``"LR"`` left-right) and the node positions the user placed. Nothing that builds reads it, and
:meth:`GraphSpec.model_dict` leaves it out (for caches and "is it the same model?" comparisons).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.gate import LimitExceeded, load_json, read_file
from studio.i18n import _

FORMAT = "keras-functional-studio/1"
LAYOUT_DIRECTIONS = ("TB", "LR")
_ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class SpecError(Exception):
    """A spec that cannot be read or built; carries every problem found, each on its node."""

    def __init__(self, problems: list[Problem] | str, node: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(node=node, kind="invalid", message=problems)]
        self.problems = list(problems)
        super().__init__("\n".join(problem.text() for problem in self.problems))


@dataclass(frozen=True)
class Problem:
    """One problem in a spec: which node (call or layer id, None for the whole graph) and what."""

    node: str | None
    kind: str
    message: str

    def text(self) -> str:
        """The problem as one line, prefixed with the node it belongs to."""
        return _("Node '{node}': {message}").format(node=self.node, message=self.message) if self.node else self.message


@dataclass
class LayerSpec:
    """A layer: its id (also its Keras name), its type and its constructor config."""

    id: str
    type: str
    config: dict[str, Any] = field(default_factory=dict)
    trainable: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (``trainable`` only when False)."""
        data: dict[str, Any] = {"id": self.id, "type": self.type, "config": copy.deepcopy(self.config)}
        if not self.trainable:
            data["trainable"] = False
        return data


@dataclass
class CallSpec:
    """A call: layer ``layer`` applied to the tensors named in ``inputs`` (order matters)."""

    id: str
    layer: str
    inputs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {"id": self.id, "layer": self.layer, "inputs": list(self.inputs)}


@dataclass
class GraphSpec:
    """A whole functional model: layers, calls, ordered inputs and outputs, and a name."""

    name: str
    layers: list[LayerSpec] = field(default_factory=list)
    calls: list[CallSpec] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    description: str = ""
    section: str = ""
    layout: dict[str, Any] = field(default_factory=dict)

    def model_dict(self) -> dict[str, Any]:
        """Plain-data form of the model alone (no canvas layout): equal for equal models, wherever the nodes are drawn."""
        data = self.to_dict()
        data.pop("layout", None)
        return data

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, ready for ``json.dumps``."""
        data: dict[str, Any] = {"format": FORMAT, "name": self.name}
        if self.description:
            data["description"] = self.description
        if self.section:
            data["section"] = self.section
        data["layers"] = [layer.to_dict() for layer in self.layers]
        data["calls"] = [call.to_dict() for call in self.calls]
        data["inputs"] = list(self.inputs)
        data["outputs"] = list(self.outputs)
        if self.layout:
            data["layout"] = copy.deepcopy(self.layout)
        return data

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text of the spec."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def copy(self) -> GraphSpec:
        """A deep copy (specs are edited by value, never shared)."""
        return spec_from_dict(self.to_dict())

    def layer(self, layer_id: str) -> LayerSpec | None:
        """The layer with this id, or None."""
        return next((layer for layer in self.layers if layer.id == layer_id), None)

    def call(self, call_id: str) -> CallSpec | None:
        """The call with this id, or None."""
        return next((call for call in self.calls if call.id == call_id), None)

    def calls_of(self, layer_id: str) -> list[CallSpec]:
        """Every call of one layer (more than one for a shared layer)."""
        return [call for call in self.calls if call.layer == layer_id]

    def layer_of(self, call_id: str) -> LayerSpec | None:
        """The layer that a call applies, or None."""
        call = self.call(call_id)
        return self.layer(call.layer) if call else None

    def consumers(self, call_id: str) -> list[str]:
        """Ids of the calls that take an output of this call as input."""
        return [call.id for call in self.calls if any(split_ref(ref)[0] == call_id for ref in call.inputs)]


def split_ref(ref: str) -> tuple[str, int]:
    """``"conv:1"`` -> ``("conv", 1)``; ``"conv"`` -> ``("conv", 0)``."""
    call_id, sep, index = ref.rpartition(":")
    if sep and index.isdigit():
        return call_id, int(index)
    return ref, 0


def make_ref(call_id: str, index: int = 0) -> str:
    """Inverse of :func:`split_ref`."""
    return call_id if index == 0 else f"{call_id}:{index}"


def is_valid_id(identifier: object) -> bool:
    """Whether a string can be a layer or call id (and so a Keras layer name)."""
    return isinstance(identifier, str) and bool(_ID_PATTERN.match(identifier))


def _layer_from_dict(data: Any, position: int) -> LayerSpec:
    if not isinstance(data, dict):
        raise SpecError(
            _("layers[{position}] must be an object with id, type and config. Received: {value}").format(
                position=position, value=repr(data)
            )
        )
    layer_id = data.get("id")
    if not (isinstance(layer_id, str) and layer_id != ""):
        raise SpecError(
            _("layers[{position}] needs a non-empty string `id`. Received: {value}").format(position=position, value=repr(layer_id))
        )
    layer_type = data.get("type")
    if not (isinstance(layer_type, str) and layer_type != ""):
        raise SpecError(
            _("`type` must be a layer type name such as 'Dense'. Received: {value}").format(value=repr(layer_type)), node=layer_id
        )
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise SpecError(_("`config` must be an object of parameters. Received: {value}").format(value=repr(config)), node=layer_id)
    trainable = data.get("trainable", True)
    if not isinstance(trainable, bool):
        raise SpecError(_("`trainable` must be true or false. Received: {value}").format(value=repr(trainable)), node=layer_id)
    unknown = set(data) - {"id", "type", "config", "trainable"}
    if unknown:
        raise SpecError(_("unknown keys {keys}; a layer has id, type, config, trainable").format(keys=sorted(unknown)), node=layer_id)
    return LayerSpec(id=layer_id, type=layer_type, config=copy.deepcopy(config), trainable=trainable)


def _call_from_dict(data: Any, position: int) -> CallSpec:
    if not isinstance(data, dict):
        raise SpecError(
            _("calls[{position}] must be an object with id, layer and inputs. Received: {value}").format(
                position=position, value=repr(data)
            )
        )
    call_id = data.get("id")
    if not (isinstance(call_id, str) and call_id != ""):
        raise SpecError(
            _("calls[{position}] needs a non-empty string `id`. Received: {value}").format(position=position, value=repr(call_id))
        )
    layer_id = data.get("layer", call_id)
    if not isinstance(layer_id, str):
        raise SpecError(_("`layer` must be a layer id. Received: {value}").format(value=repr(layer_id)), node=call_id)
    inputs = data.get("inputs", [])
    if not (isinstance(inputs, list) and all(isinstance(ref, str) for ref in inputs)):
        raise SpecError(_("`inputs` must be a list of call ids. Received: {value}").format(value=repr(inputs)), node=call_id)
    unknown = set(data) - {"id", "layer", "inputs"}
    if unknown:
        raise SpecError(_("unknown keys {keys}; a call has id, layer, inputs").format(keys=sorted(unknown)), node=call_id)
    return CallSpec(id=call_id, layer=layer_id, inputs=list(inputs))


def _layout_from_dict(layout: Any) -> dict[str, Any]:
    if not isinstance(layout, dict):
        raise SpecError(_("`layout` must be an object with direction and positions. Received: {value}").format(value=repr(layout)))
    unknown = set(layout) - {"direction", "positions"}
    if unknown:
        raise SpecError(_("unknown keys {keys} in `layout`; it has direction and positions").format(keys=sorted(unknown)))
    direction = layout.get("direction", "TB")
    if direction not in LAYOUT_DIRECTIONS:
        raise SpecError(_("`layout.direction` must be 'TB' or 'LR'. Received: {value}").format(value=repr(direction)))
    positions = layout.get("positions", {})
    if not isinstance(positions, dict):
        raise SpecError(_("`layout.positions` must map node ids to [x, y]. Received: {value}").format(value=repr(positions)))
    for node, point in positions.items():
        if not (
            isinstance(point, list)
            and len(point) == 2
            and all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in point)
        ):
            raise SpecError(
                _("`layout.positions` must map node ids to [x, y] numbers. Received for '{node}': {value}").format(
                    node=node, value=repr(point)
                )
            )
    return copy.deepcopy(layout)


def spec_from_dict(data: Any) -> GraphSpec:
    """Read a spec from plain data; malformed data raises :class:`SpecError` saying what is wrong."""
    if not isinstance(data, dict):
        raise SpecError(
            _("A spec must be a JSON object with layers, calls, inputs and outputs. Received: {kind}").format(kind=type(data).__name__)
        )
    form = data.get("format", FORMAT)
    if form != FORMAT:
        raise SpecError(_("Unsupported spec format {received}; expected {expected}").format(received=repr(form), expected=repr(FORMAT)))
    name = data.get("name", "model")
    if not (isinstance(name, str) and name.strip() != ""):
        raise SpecError(_("`name` must be a non-empty string. Received: {value}").format(value=repr(name)))
    for key in ("layers", "calls", "inputs", "outputs"):
        if not isinstance(data.get(key, []), list):
            raise SpecError(_("`{key}` must be a list. Received: {value}").format(key=key, value=repr(data.get(key))))
    for key in ("inputs", "outputs"):
        refs = data.get(key, [])
        if not all(isinstance(ref, str) for ref in refs):
            raise SpecError(_("`{key}` must list call ids as strings. Received: {value}").format(key=key, value=repr(refs)))
    for key in ("description", "section"):
        if not isinstance(data.get(key, ""), str):
            raise SpecError(_("`{key}` must be a string. Received: {value}").format(key=key, value=repr(data.get(key))))
    known = {"format", "name", "description", "section", "layers", "calls", "inputs", "outputs", "layout"}
    unknown = set(data) - known
    if unknown:
        raise SpecError(_("Unknown keys {keys} in spec; expected {known}").format(keys=sorted(unknown), known=sorted(known)))
    return GraphSpec(
        name=name,
        layers=[_layer_from_dict(item, i) for i, item in enumerate(data.get("layers", []))],
        calls=[_call_from_dict(item, i) for i, item in enumerate(data.get("calls", []))],
        inputs=list(data.get("inputs", [])),
        outputs=list(data.get("outputs", [])),
        description=data.get("description", ""),
        section=data.get("section", ""),
        layout=_layout_from_dict(data["layout"]) if "layout" in data else {},
    )


def spec_from_json(text: str, source: str = "the spec") -> GraphSpec:
    """Read a spec from JSON text (within the size and depth limits); bad JSON raises :class:`SpecError` with the line and column."""
    try:
        data = load_json(text, source)
    except LimitExceeded as error:
        raise SpecError([Problem(None, "limit", str(error))]) from error
    except json.JSONDecodeError as error:
        message = _("Not valid JSON: {reason} at line {line}, column {column}").format(
            reason=error.msg, line=error.lineno, column=error.colno
        )
        raise SpecError(message) from error
    return spec_from_dict(data)


def load_spec(path: str | Path) -> GraphSpec:
    """Read a spec from a JSON file (its size checked before it is read)."""
    path = Path(path)
    try:
        text = read_file(path, "max_upload_mb", source=str(path)).decode("utf-8")
    except LimitExceeded as error:
        raise SpecError([Problem(None, "limit", str(error))]) from error
    except OSError as error:
        raise SpecError(_("Cannot read spec file '{path}': {reason}").format(path=path, reason=error.strerror or error)) from error
    except UnicodeDecodeError as error:
        raise SpecError(_("Spec file '{path}' is not UTF-8 text; expected a JSON spec").format(path=path)) from error
    return spec_from_json(text, str(path))

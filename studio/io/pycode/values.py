"""The symbolic values the parser computes instead of running code: layers, tensors, models, applications.

Nothing here is a Keras object. A tensor is a reference to the node (one call of a layer) that produced
it; a model is its input and output tensors; everything else the code computes (data, plots) is opaque.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from studio.i18n import _

# The output of an application taken as `app.output` (its own last layer), as opposed to a named inner layer.
DEFAULT_OUTPUT = "<output>"
# The inner layer behind `app.input` (the catalogue names an application's input layer so).
INPUT_LAYER = "input_layer"


class CodeError(Exception):
    """A construct the parser does not support (or a wrong one), at the AST node that shows where."""

    def __init__(self, node: ast.AST | None, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.line: int | None = getattr(node, "lineno", None)
        column = getattr(node, "col_offset", None)
        self.column: int | None = column + 1 if isinstance(column, int) else None


class LimitError(CodeError):
    """A limit of the reading was reached (nodes, steps): the whole reading stops."""


class Skip(Exception):
    """A statement that uses a value from a line that already failed: left out without a second message."""


class Poison:
    """The value of a name whose defining line failed."""

    def __init__(self, line: int | None) -> None:
        self.line = line


@dataclass(eq=False)
class Opaque:
    """A value the parser does not follow (data, a module it does not know, a plot): fine unless a model needs it."""

    line: int | None
    what: str


@dataclass(eq=False)
class KerasRef:
    """A name in the Keras API, e.g. ``keras.layers.Dense`` (from any of the usual import spellings)."""

    path: str


@dataclass(eq=False)
class Builtin:
    """One of the few Python builtins the parser evaluates (len, range, int, ...) or skips (print)."""

    name: str


@dataclass(eq=False)
class FunctionValue:
    """A ``def`` of the code: its body is read again at every call, with the arguments bound."""

    node: ast.FunctionDef
    scope: Scope
    defaults: list[Any]
    kw_defaults: list[Any]


@dataclass(eq=False)
class LayerObj:
    """A layer object: catalogue type, constructor config (JSON data), id (its Keras name) and where it was made."""

    type_name: str
    config: dict[str, Any]
    id: str
    line: int | None
    seq: int
    trainable: bool = True
    input_shape: list | None = None  # Keras 2's `input_shape=` on the first layer of a Sequential
    explicit_name: bool = False
    nodes: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class AppObj:
    """A keras.applications model (VGG16 ...): its config, id, frozen inner layers and the inner outputs mentioned."""

    type_name: str
    config: dict[str, Any]
    id: str
    line: int | None
    seq: int
    trainable: bool = True
    frozen: list[str] = field(default_factory=list)
    mentions: dict[str, int] = field(default_factory=dict)  # inner layer name -> order of first mention
    source: Node | None = None  # the node of the application on its own input (feature extraction)
    nodes: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class AppLayer:
    """An inner layer of an application (``vgg16.get_layer("block1_conv1")``, ``vgg16.layers[3]``)."""

    app: AppObj
    name: str


@dataclass(eq=False)
class Node:
    """One call: a layer (or model, or application) applied to input tensors; an Input is a node without inputs."""

    seq: int
    layer: Any
    inputs: list[Tensor]
    line: int | None
    kind: str  # "input", "call" or "source" (an application on its own input)
    outputs: int = 1
    variable: str | None = None


@dataclass(eq=False)
class Tensor:
    """One output of a node: `index` for calls, `inner` (an inner layer name) for an application's source node."""

    node: Node
    index: int = 0
    inner: str | None = None


@dataclass(eq=False)
class ModelObj:
    """A functional model (keras.Model): its name, input and output tensors; Sequential models fill these on first use."""

    id: str
    line: int | None
    seq: int
    inputs: list[Tensor] = field(default_factory=list)
    outputs: list[Tensor] = field(default_factory=list)
    output_keys: list[str] | None = None
    trainable: bool = True
    variable: str | None = None
    compile_args: dict[str, Any] | None = None
    fit_args: dict[str, Any] | None = None
    nodes: list[Node] = field(default_factory=list)  # its calls as a layer of other models


@dataclass(eq=False)
class SequentialObj(ModelObj):
    """A keras.Sequential: its items (an Input first, then layers); inputs and outputs exist once it is used."""

    items: list[Any] = field(default_factory=list)
    built: bool = False
    ast_node: Any = None


class Scope:
    """Names and their values: the module's, or one call of a function (whose parent is where it was defined)."""

    def __init__(self, parent: Scope | None = None) -> None:
        self.names: dict[str, Any] = {}
        self.parent = parent

    def lookup(self, name: str) -> tuple[bool, Any]:
        """(found, value) through the enclosing scopes."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return True, scope.names[name]
            scope = scope.parent
        return False, None


def describe(value: Any) -> str:
    """A short phrase for a value in messages: 'a tensor', 'the layer dense (Dense)', 'an int'."""
    if isinstance(value, Tensor):
        layer = value.node.layer
        return _("the output of '{layer_id}'").format(layer_id=getattr(layer, "id", "?"))
    if isinstance(value, LayerObj):
        return _("the layer '{layer_id}' ({type_name})").format(layer_id=value.id, type_name=value.type_name)
    if isinstance(value, ModelObj):
        return _("the model '{model_id}'").format(model_id=value.id)
    if isinstance(value, AppObj):
        return _("the application '{app_id}' ({type_name})").format(app_id=value.id, type_name=value.type_name)
    if isinstance(value, AppLayer):
        return _("the inner layer '{name}' of '{app_id}'").format(name=value.name, app_id=value.app.id)
    if isinstance(value, KerasRef):
        return f"`{value.path}`"
    if isinstance(value, Opaque):
        return _("{what} (line {line})").format(what=value.what, line=value.line) if value.line else value.what
    if isinstance(value, FunctionValue):
        return _("the function `{name}`").format(name=value.node.name)
    if hasattr(value, "owner") and hasattr(value, "name"):  # a method looked up on a layer or model
        return _("the method `.{name}`").format(name=value.name)
    if isinstance(getattr(value, "path", None), str):  # a Keras object made by a call (optimizer, loss ...)
        return f"`{value.path}(...)`"
    if value is None:
        return "None"
    return _("a {type_name}").format(type_name=type(value).__name__)

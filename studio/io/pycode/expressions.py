"""Expressions: constants, names, arithmetic, containers, attributes, subscripts, comprehensions and calls.

Every expression is computed symbolically from the syntax tree; what cannot be computed that way is an
error at its line and column, never a guess.
"""

from __future__ import annotations

import ast
import builtins
import math
import operator
from typing import Any

import studio.io.pycode.kerasapi as kerasapi
from studio.i18n import N_, _
from studio.io.pycode.values import (
    AppLayer,
    AppObj,
    Builtin,
    CodeError,
    FunctionValue,
    KerasRef,
    LayerObj,
    LimitError,
    ModelObj,
    Opaque,
    Poison,
    Scope,
    Skip,
    Tensor,
    describe,
)

MAX_STEPS = 300_000
# Methods whose data arguments (x, y, validation_data ...) are not needed to read the graph.
DATA_METHODS = frozenset({"fit", "evaluate", "predict", "predict_on_batch", "test_on_batch", "train_on_batch"})
MAX_SEQUENCE = 10_000
MAX_INTEGER = 10**15
# Builtins the parser computes itself (print is read as a line to skip).
BUILTINS = {
    "print": None,
    "len": len,
    "range": range,
    "int": int,
    "float": float,
    "bool": bool,
    "str": str,
    "tuple": tuple,
    "list": list,
    "dict": dict,
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "sum": sum,
}
_ARITHMETIC = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_TENSOR_OPERATORS = {
    ast.Add: "layers.Add()([a, b])",
    ast.Sub: "layers.Subtract()([a, b])",
    ast.Mult: "layers.Multiply()([a, b])",
    ast.MatMult: "layers.Dot(axes=...)([a, b])",
}
_UNSUPPORTED = {
    "Lambda": N_("`lambda` functions are not supported: the studio never runs Python code (a Lambda layer cannot be read either)"),
    "IfExp": N_(
        "conditional expressions (`a if test else b`) are not supported: the graph cannot depend on a condition; write the value you mean"
    ),
    "Compare": N_("comparisons are not supported: the graph cannot depend on a condition"),
    "BoolOp": N_("`and` / `or` are not supported: the graph cannot depend on a condition"),
    "GeneratorExp": N_("generator expressions are not supported; a list comprehension such as [layer.output for layer in model.layers] is"),
    "SetComp": N_("set comprehensions are not supported; a list comprehension such as [layer.output for layer in model.layers] is"),
    "DictComp": N_("dict comprehensions are not supported; a list comprehension such as [layer.output for layer in model.layers] is"),
    "Set": N_("sets are not supported; use a list or a tuple"),
    "Starred": N_("`*` unpacking is not supported; write the items out"),
    "NamedExpr": N_("the walrus operator `:=` is not supported; assign on its own line"),
    "Await": N_("`await` is not supported"),
    "Yield": N_("`yield` is not supported"),
    "YieldFrom": N_("`yield from` is not supported"),
}


def contains_graph(value: Any) -> bool:
    """Whether a value is or holds a tensor, a layer, a model or an application."""
    if isinstance(value, (Tensor, LayerObj, ModelObj, AppObj, AppLayer)):
        return True
    if isinstance(value, (list, tuple)):
        return any(contains_graph(item) for item in value)
    if isinstance(value, dict):
        return any(contains_graph(item) for item in value.values())
    return False


def contains_opaque(value: Any) -> Opaque | None:
    """The first opaque value inside a value, if any."""
    if isinstance(value, Opaque):
        return value
    if isinstance(value, (list, tuple)):
        return next((found for item in value if (found := contains_opaque(item)) is not None), None)
    if isinstance(value, dict):
        return next((found for item in value.values() if (found := contains_opaque(item)) is not None), None)
    return None


def _check_size(value: Any, node: ast.AST) -> Any:
    """Refuse numbers and sequences too large to be a layer argument (they could exhaust memory)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        raise CodeError(
            node,
            _("the number is too large (more than {MAX_INTEGER:,} in size); layer arguments are small numbers").format(
                MAX_INTEGER=MAX_INTEGER
            ),
        )
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_SEQUENCE:
        raise CodeError(
            node,
            _("the value is too long ({value_count:,} items); the limit is {MAX_SEQUENCE:,}").format(
                value_count=len(value), MAX_SEQUENCE=MAX_SEQUENCE
            ),
        )
    return value


class Expressions:
    """Mixin of the reader: computes one expression in a scope."""

    steps: int
    module_scope: Scope
    first_assignment: dict[str, int]
    star_imports: list[str]

    def evaluate(self, node: ast.AST, scope: Scope) -> Any:
        """The value of an expression node (CodeError for what the parser does not support)."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise LimitError(
                node,
                _("reading the code takes more than {MAX_STEPS:,} steps (functions calling functions?); simplify it").format(
                    MAX_STEPS=MAX_STEPS
                ),
            )
        method = getattr(self, f"_expr_{type(node).__name__}", None)
        if method is None:
            kind = type(node).__name__
            message = _(_UNSUPPORTED[kind]) if kind in _UNSUPPORTED else _("`{kind}` expressions are not supported").format(kind=kind)
            raise CodeError(node, message)
        return method(node, scope)

    # --- leaves ---------------------------------------------------------------------------------

    def _expr_Constant(self, node: ast.Constant, scope: Scope) -> Any:
        return node.value

    def _expr_Name(self, node: ast.Name, scope: Scope) -> Any:
        found, value = scope.lookup(node.id)
        if found:
            if isinstance(value, Poison):
                raise Skip
            return value
        if node.id in BUILTINS:
            return Builtin(node.id)
        if node.id in dir(builtins):
            raise CodeError(
                node,
                _(
                    "the Python builtin `{node_id}` is not supported: the parser reads code and never runs "
                    "it (supported builtins: {BUILTINS})"
                ).format(node_id=node.id, BUILTINS=", ".join(sorted(BUILTINS))),
            )
        for module in self.star_imports:
            path = kerasapi.canonical(f"{module}.{node.id}")
            if kerasapi.exists(path):
                return KerasRef(path)
        later = self.first_assignment.get(node.id)
        if later is not None and later >= node.lineno:
            raise CodeError(
                node,
                _("`{node_id}` is used before it is defined (it is first assigned on line {later})").format(node_id=node.id, later=later),
            )
        raise CodeError(node, _("`{node_id}` is not defined").format(node_id=node.id))

    def _expr_JoinedStr(self, node: ast.JoinedStr, scope: Scope) -> str:
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
                continue
            if not isinstance(part, ast.FormattedValue) or part.format_spec is not None or part.conversion != -1:
                raise CodeError(part, _('only plain f-string fields such as f"dense_{index}" are supported (no format specs or !r)'))
            value = self.evaluate(part.value, scope)
            if isinstance(value, Opaque):
                return value
            if not isinstance(value, (int, float, str)) or isinstance(value, bool):
                raise CodeError(part, _("an f-string field must be a number or a string. Received: {value}").format(value=describe(value)))
            parts.append(str(value))
        return _check_size("".join(parts), node)

    # --- containers -----------------------------------------------------------------------------

    def _expr_Tuple(self, node: ast.Tuple, scope: Scope) -> tuple:
        return tuple(self.evaluate(item, scope) for item in node.elts)

    def _expr_List(self, node: ast.List, scope: Scope) -> list:
        return [self.evaluate(item, scope) for item in node.elts]

    def _expr_Dict(self, node: ast.Dict, scope: Scope) -> dict:
        result = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                raise CodeError(value_node, _("`**` unpacking in a dict is not supported; write the items out"))
            key = self.evaluate(key_node, scope)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise CodeError(key_node, _("dict keys must be strings or integers. Received: {key}").format(key=describe(key)))
            result[key] = self.evaluate(value_node, scope)
        return result

    def _expr_ListComp(self, node: ast.ListComp, scope: Scope) -> list:
        shape = "[layer.output for layer in model.layers]"
        if len(node.generators) != 1 or node.generators[0].ifs or node.generators[0].is_async:
            raise CodeError(node, _("only a list comprehension with one `for` and no `if` is supported, e.g. {shape}").format(shape=shape))
        generator = node.generators[0]
        if not isinstance(generator.target, ast.Name):
            raise CodeError(generator.target, _("the comprehension must use one name, e.g. {shape}").format(shape=shape))
        for inner in ast.walk(node.elt):
            is_get_layer = isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "get_layer"
            if isinstance(inner, ast.Call) and not is_get_layer:
                raise CodeError(
                    inner,
                    _("a list comprehension that calls something (a loop that builds layers) is not supported; {shape} is").format(
                        shape=shape
                    ),
                )
        items = self.evaluate(generator.iter, scope)
        if isinstance(items, Opaque):
            return items
        if isinstance(items, range):
            items = list(items)
        if not isinstance(items, (list, tuple)):
            raise CodeError(
                generator.iter,
                _("the comprehension must go over a list (such as model.layers). Received: {items}").format(items=describe(items)),
            )
        _check_size(items, generator.iter)
        inner_scope = Scope(parent=scope)
        values = []
        for item in items:
            inner_scope.names[generator.target.id] = item
            values.append(self.evaluate(node.elt, inner_scope))
        return values

    # --- operators ------------------------------------------------------------------------------

    def _expr_BinOp(self, node: ast.BinOp, scope: Scope) -> Any:
        left = self.evaluate(node.left, scope)
        right = self.evaluate(node.right, scope)
        return self.binary(node, type(node.op), left, right)

    def binary(self, node: ast.AST, operation: type, left: Any, right: Any) -> Any:
        """`left <op> right` for numbers, strings and sequences; an operator on tensors is an error naming the layer to use."""
        if contains_graph(left) or contains_graph(right):
            layer = _TENSOR_OPERATORS.get(operation) or _("a catalogue layer")
            raise CodeError(
                node,
                _(
                    "an arithmetic operator on tensors is a raw operation, which the studio's graph of layers cannot hold; use {layer}"
                ).format(layer=layer),
            )
        if isinstance(left, Opaque) or isinstance(right, Opaque):
            return left if isinstance(left, Opaque) else right
        function = _ARITHMETIC.get(operation)
        numbers = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (left, right))
        if function is not None and numbers:
            if operation is ast.Pow and (abs(right) > 64 or abs(left) > 10**6):
                raise CodeError(node, _("the power is too large; layer arguments are small numbers"))
            try:
                result = function(left, right)
            except (ZeroDivisionError, OverflowError, ValueError) as error:
                raise CodeError(node, _("cannot compute it: {error}").format(error=error)) from None
            if isinstance(result, float) and not math.isfinite(result):
                raise CodeError(node, _("the result is not a finite number"))
            return _check_size(result, node)
        same_sequences = type(left) is type(right) and isinstance(left, (str, list, tuple))
        if operation is ast.Add and same_sequences:
            return _check_size(left + right, node)
        if operation is ast.Mult and isinstance(left, (list, tuple, str)) and isinstance(right, int) and not isinstance(right, bool):
            if len(left) * max(right, 0) > MAX_SEQUENCE:
                raise CodeError(
                    node, _("the repeated sequence would be longer than {MAX_SEQUENCE:,} items").format(MAX_SEQUENCE=MAX_SEQUENCE)
                )
            return left * right
        raise CodeError(
            node,
            _("this operator is not supported on {left} and {right}; only arithmetic on numbers is").format(
                left=describe(left), right=describe(right)
            ),
        )

    def _expr_UnaryOp(self, node: ast.UnaryOp, scope: Scope) -> Any:
        operand = self.evaluate(node.operand, scope)
        if isinstance(operand, Opaque):
            return operand
        if contains_graph(operand):
            raise CodeError(node, _("an operator on a tensor is a raw operation, which the studio's graph of layers cannot hold"))
        if isinstance(operand, (int, float)) and not isinstance(operand, bool):
            if isinstance(node.op, ast.USub):
                return -operand
            if isinstance(node.op, ast.UAdd):
                return operand
        raise CodeError(
            node, _("this operator is not supported on {operand}; only - and + on numbers are").format(operand=describe(operand))
        )

    # --- attributes and subscripts --------------------------------------------------------------

    def _expr_Attribute(self, node: ast.Attribute, scope: Scope) -> Any:
        base = self.evaluate(node.value, scope)
        name = node.attr
        if name.startswith("_"):
            raise CodeError(
                node,
                _("the attribute `{name}` is not supported: the parser does not follow private or special attributes").format(name=name),
            )
        if isinstance(base, KerasRef):
            return kerasapi.attribute(base, name, node)
        if isinstance(base, Opaque):
            return base
        if isinstance(base, Builtin):
            raise CodeError(node, _("attribute access on the builtin `{base_name}` is not supported").format(base_name=base.name))
        return self.graph_attribute(base, name, node)

    def _expr_Subscript(self, node: ast.Subscript, scope: Scope) -> Any:
        base = self.evaluate(node.value, scope)
        key = self._subscript_key(node.slice, scope)
        if isinstance(base, Opaque) or isinstance(key, Opaque):
            return base if isinstance(base, Opaque) else key
        if isinstance(base, Tensor):
            raise CodeError(node, _("indexing or slicing a tensor is a raw operation, which the studio's graph of layers cannot hold"))
        if isinstance(base, (list, tuple, str)):
            if not isinstance(key, slice) and (not isinstance(key, int) or isinstance(key, bool)):
                raise CodeError(node.slice, _("a list index must be an integer. Received: {key}").format(key=describe(key)))
            try:
                return base[key]
            except IndexError:
                raise CodeError(
                    node, _("index {key} is out of range for a list of {base_count}").format(key=key, base_count=len(base))
                ) from None
        if isinstance(base, dict):
            if key not in base:
                raise CodeError(
                    node.slice, _("the key {key!r} is not in the dict; keys: {map}").format(key=key, map=", ".join(map(repr, base)))
                )
            return base[key]
        raise CodeError(node, _("indexing {base} is not supported").format(base=describe(base)))

    def _subscript_key(self, node: ast.AST, scope: Scope) -> Any:
        if not isinstance(node, ast.Slice):
            return self.evaluate(node, scope)
        parts = [None if part is None else self.evaluate(part, scope) for part in (node.lower, node.upper, node.step)]
        for part in parts:
            if isinstance(part, Opaque):
                return part
            if part is not None and (not isinstance(part, int) or isinstance(part, bool)):
                raise CodeError(node, _("slice bounds must be integers. Received: {part}").format(part=describe(part)))
        return slice(*parts)

    # --- calls ----------------------------------------------------------------------------------

    def _expr_Call(self, node: ast.Call, scope: Scope) -> Any:
        callee = self.evaluate(node.func, scope)
        # The data given to fit / evaluate / predict is not needed: a name the snippet does not define there is no error.
        lenient = getattr(callee, "name", None) in DATA_METHODS and not isinstance(callee, (Builtin, KerasRef))
        args = []
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise CodeError(argument, _("`*args` in a call is not supported; write the arguments out"))
            args.append(self._argument(argument, scope, lenient))
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise CodeError(keyword.value, _("`**kwargs` in a call is not supported; write the keyword arguments out"))
            kwargs[keyword.arg] = self._argument(keyword.value, scope, lenient)
        if isinstance(callee, KerasRef):
            return self.call_keras(callee, args, kwargs, node)
        if isinstance(callee, (LayerObj, ModelObj, AppObj)):
            return self.call_layer(callee, args, kwargs, node)
        if isinstance(callee, FunctionValue):
            return self.call_function(callee, args, kwargs, node)
        if isinstance(callee, Builtin):
            return self._call_builtin(callee, args, kwargs, node)
        if isinstance(callee, Opaque):
            if contains_graph(args) or contains_graph(kwargs):
                raise CodeError(
                    node,
                    _("{what} is not part of Keras's functional API; it cannot take a tensor, layer or model here").format(
                        what=callee.what
                    ),
                )
            return callee
        method = self.method_call(callee, args, kwargs, node)
        if method is not NotImplemented:
            return method
        raise CodeError(node, _("{callee} cannot be called").format(callee=describe(callee)))

    def _argument(self, node: ast.AST, scope: Scope, lenient: bool) -> Any:
        """An argument's value; for the data of fit/evaluate/predict, what cannot be read becomes opaque."""
        if not lenient:
            return self.evaluate(node, scope)
        try:
            return self.evaluate(node, scope)
        except CodeError:
            return Opaque(getattr(node, "lineno", None), _("data the snippet does not define"))

    def _call_builtin(self, callee: Builtin, args: list, kwargs: dict, node: ast.Call) -> Any:
        if callee.name == "print":
            return Opaque(node.lineno, "print")
        if contains_graph(args) and callee.name != "len":
            raise CodeError(node, _("`{callee_name}` on a tensor, layer or model is not supported").format(callee_name=callee.name))
        opaque = contains_opaque(args) or contains_opaque(kwargs)
        if opaque is not None:
            return opaque
        if callee.name == "range":
            if not all(isinstance(arg, int) and not isinstance(arg, bool) for arg in args) or kwargs:
                raise CodeError(node, _("range() takes integers"))
            try:
                numbers = range(*args)
            except (TypeError, ValueError) as error:
                raise CodeError(node, _("range() cannot take these arguments: {error}").format(error=error)) from None
            if len(numbers) > MAX_SEQUENCE:
                raise CodeError(node, _("the range is longer than {MAX_SEQUENCE:,} numbers").format(MAX_SEQUENCE=MAX_SEQUENCE))
            return list(numbers)
        try:
            return _check_size(BUILTINS[callee.name](*args, **kwargs), node)
        except (TypeError, ValueError, OverflowError) as error:
            raise CodeError(
                node, _("{callee_name}() cannot take these arguments: {error}").format(callee_name=callee.name, error=error)
            ) from None

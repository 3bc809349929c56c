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
    "print": None, "len": len, "range": range, "int": int, "float": float, "bool": bool, "str": str,
    "tuple": tuple, "list": list, "dict": dict, "min": min, "max": max, "abs": abs, "round": round, "sum": sum,
}
_ARITHMETIC = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_TENSOR_OPERATORS = {
    ast.Add: "layers.Add()([a, b])", ast.Sub: "layers.Subtract()([a, b])", ast.Mult: "layers.Multiply()([a, b])",
    ast.MatMult: "layers.Dot(axes=...)([a, b])",
}
_UNSUPPORTED = {
    "Lambda": "`lambda` functions are not supported: the studio never runs Python code (a Lambda layer cannot be read either)",
    "IfExp": "conditional expressions (`a if test else b`) are not supported: the graph cannot depend on a condition; "
    "write the value you mean",
    "Compare": "comparisons are not supported: the graph cannot depend on a condition",
    "BoolOp": "`and` / `or` are not supported: the graph cannot depend on a condition",
    "GeneratorExp": "generator expressions are not supported; a list comprehension such as [layer.output for layer in model.layers] is",
    "SetComp": "set comprehensions are not supported; a list comprehension such as [layer.output for layer in model.layers] is",
    "DictComp": "dict comprehensions are not supported; a list comprehension such as [layer.output for layer in model.layers] is",
    "Set": "sets are not supported; use a list or a tuple",
    "Starred": "`*` unpacking is not supported; write the items out",
    "NamedExpr": "the walrus operator `:=` is not supported; assign on its own line",
    "Await": "`await` is not supported",
    "Yield": "`yield` is not supported",
    "YieldFrom": "`yield from` is not supported",
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
        raise CodeError(node, f"the number is too large (more than {MAX_INTEGER:,} in size); layer arguments are small numbers")
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_SEQUENCE:
        raise CodeError(node, f"the value is too long ({len(value):,} items); the limit is {MAX_SEQUENCE:,}")
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
            raise LimitError(node, f"reading the code takes more than {MAX_STEPS:,} steps (functions calling functions?); simplify it")
        method = getattr(self, f"_expr_{type(node).__name__}", None)
        if method is None:
            message = _UNSUPPORTED.get(type(node).__name__, f"`{type(node).__name__}` expressions are not supported")
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
                f"the Python builtin `{node.id}` is not supported: the parser reads code and never runs it "
                f"(supported builtins: {', '.join(sorted(BUILTINS))})",
            )
        for module in self.star_imports:
            path = kerasapi.canonical(f"{module}.{node.id}")
            if kerasapi.exists(path):
                return KerasRef(path)
        later = self.first_assignment.get(node.id)
        if later is not None and later >= node.lineno:
            raise CodeError(node, f"`{node.id}` is used before it is defined (it is first assigned on line {later})")
        raise CodeError(node, f"`{node.id}` is not defined")

    def _expr_JoinedStr(self, node: ast.JoinedStr, scope: Scope) -> str:
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
                continue
            if not isinstance(part, ast.FormattedValue) or part.format_spec is not None or part.conversion != -1:
                raise CodeError(part, "only plain f-string fields such as f\"dense_{index}\" are supported (no format specs or !r)")
            value = self.evaluate(part.value, scope)
            if isinstance(value, Opaque):
                return value
            if not isinstance(value, (int, float, str)) or isinstance(value, bool):
                raise CodeError(part, f"an f-string field must be a number or a string. Received: {describe(value)}")
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
                raise CodeError(value_node, "`**` unpacking in a dict is not supported; write the items out")
            key = self.evaluate(key_node, scope)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise CodeError(key_node, f"dict keys must be strings or integers. Received: {describe(key)}")
            result[key] = self.evaluate(value_node, scope)
        return result

    def _expr_ListComp(self, node: ast.ListComp, scope: Scope) -> list:
        shape = "[layer.output for layer in model.layers]"
        if len(node.generators) != 1 or node.generators[0].ifs or node.generators[0].is_async:
            raise CodeError(node, f"only a list comprehension with one `for` and no `if` is supported, e.g. {shape}")
        generator = node.generators[0]
        if not isinstance(generator.target, ast.Name):
            raise CodeError(generator.target, f"the comprehension must use one name, e.g. {shape}")
        for inner in ast.walk(node.elt):
            is_get_layer = isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "get_layer"
            if isinstance(inner, ast.Call) and not is_get_layer:
                raise CodeError(
                    inner, f"a list comprehension that calls something (a loop that builds layers) is not supported; {shape} is"
                )
        items = self.evaluate(generator.iter, scope)
        if isinstance(items, Opaque):
            return items
        if isinstance(items, range):
            items = list(items)
        if not isinstance(items, (list, tuple)):
            raise CodeError(generator.iter, f"the comprehension must go over a list (such as model.layers). Received: {describe(items)}")
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
            layer = _TENSOR_OPERATORS.get(operation, "a catalogue layer")
            raise CodeError(
                node,
                f"an arithmetic operator on tensors is a raw operation, which the studio's graph of layers cannot hold; use {layer}",
            )
        if isinstance(left, Opaque) or isinstance(right, Opaque):
            return left if isinstance(left, Opaque) else right
        function = _ARITHMETIC.get(operation)
        numbers = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (left, right))
        if function is not None and numbers:
            if operation is ast.Pow and (abs(right) > 64 or abs(left) > 10**6):
                raise CodeError(node, "the power is too large; layer arguments are small numbers")
            try:
                result = function(left, right)
            except (ZeroDivisionError, OverflowError, ValueError) as error:
                raise CodeError(node, f"cannot compute it: {error}") from None
            if isinstance(result, float) and not math.isfinite(result):
                raise CodeError(node, "the result is not a finite number")
            return _check_size(result, node)
        same_sequences = type(left) is type(right) and isinstance(left, (str, list, tuple))
        if operation is ast.Add and same_sequences:
            return _check_size(left + right, node)
        if operation is ast.Mult and isinstance(left, (list, tuple, str)) and isinstance(right, int) and not isinstance(right, bool):
            if len(left) * max(right, 0) > MAX_SEQUENCE:
                raise CodeError(node, f"the repeated sequence would be longer than {MAX_SEQUENCE:,} items")
            return left * right
        raise CodeError(node, f"this operator is not supported on {describe(left)} and {describe(right)}; only arithmetic on numbers is")

    def _expr_UnaryOp(self, node: ast.UnaryOp, scope: Scope) -> Any:
        operand = self.evaluate(node.operand, scope)
        if isinstance(operand, Opaque):
            return operand
        if contains_graph(operand):
            raise CodeError(node, "an operator on a tensor is a raw operation, which the studio's graph of layers cannot hold")
        if isinstance(operand, (int, float)) and not isinstance(operand, bool):
            if isinstance(node.op, ast.USub):
                return -operand
            if isinstance(node.op, ast.UAdd):
                return operand
        raise CodeError(node, f"this operator is not supported on {describe(operand)}; only - and + on numbers are")

    # --- attributes and subscripts --------------------------------------------------------------

    def _expr_Attribute(self, node: ast.Attribute, scope: Scope) -> Any:
        base = self.evaluate(node.value, scope)
        name = node.attr
        if name.startswith("_"):
            raise CodeError(node, f"the attribute `{name}` is not supported: the parser does not follow private or special attributes")
        if isinstance(base, KerasRef):
            return kerasapi.attribute(base, name, node)
        if isinstance(base, Opaque):
            return base
        if isinstance(base, Builtin):
            raise CodeError(node, f"attribute access on the builtin `{base.name}` is not supported")
        return self.graph_attribute(base, name, node)

    def _expr_Subscript(self, node: ast.Subscript, scope: Scope) -> Any:
        base = self.evaluate(node.value, scope)
        key = self._subscript_key(node.slice, scope)
        if isinstance(base, Opaque) or isinstance(key, Opaque):
            return base if isinstance(base, Opaque) else key
        if isinstance(base, Tensor):
            raise CodeError(node, "indexing or slicing a tensor is a raw operation, which the studio's graph of layers cannot hold")
        if isinstance(base, (list, tuple, str)):
            if not isinstance(key, slice) and (not isinstance(key, int) or isinstance(key, bool)):
                raise CodeError(node.slice, f"a list index must be an integer. Received: {describe(key)}")
            try:
                return base[key]
            except IndexError:
                raise CodeError(node, f"index {key} is out of range for a list of {len(base)}") from None
        if isinstance(base, dict):
            if key not in base:
                raise CodeError(node.slice, f"the key {key!r} is not in the dict; keys: {', '.join(map(repr, base))}")
            return base[key]
        raise CodeError(node, f"indexing {describe(base)} is not supported")

    def _subscript_key(self, node: ast.AST, scope: Scope) -> Any:
        if not isinstance(node, ast.Slice):
            return self.evaluate(node, scope)
        parts = [None if part is None else self.evaluate(part, scope) for part in (node.lower, node.upper, node.step)]
        for part in parts:
            if isinstance(part, Opaque):
                return part
            if part is not None and (not isinstance(part, int) or isinstance(part, bool)):
                raise CodeError(node, f"slice bounds must be integers. Received: {describe(part)}")
        return slice(*parts)

    # --- calls ----------------------------------------------------------------------------------

    def _expr_Call(self, node: ast.Call, scope: Scope) -> Any:
        callee = self.evaluate(node.func, scope)
        # The data given to fit / evaluate / predict is not needed: a name the snippet does not define there is no error.
        lenient = getattr(callee, "name", None) in DATA_METHODS and not isinstance(callee, (Builtin, KerasRef))
        args = []
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise CodeError(argument, "`*args` in a call is not supported; write the arguments out")
            args.append(self._argument(argument, scope, lenient))
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise CodeError(keyword.value, "`**kwargs` in a call is not supported; write the keyword arguments out")
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
                raise CodeError(node, f"{callee.what} is not part of Keras's functional API; it cannot take a tensor, layer or model here")
            return callee
        method = self.method_call(callee, args, kwargs, node)
        if method is not NotImplemented:
            return method
        raise CodeError(node, f"{describe(callee)} cannot be called")

    def _argument(self, node: ast.AST, scope: Scope, lenient: bool) -> Any:
        """An argument's value; for the data of fit/evaluate/predict, what cannot be read becomes opaque."""
        if not lenient:
            return self.evaluate(node, scope)
        try:
            return self.evaluate(node, scope)
        except CodeError:
            return Opaque(getattr(node, "lineno", None), "data the snippet does not define")

    def _call_builtin(self, callee: Builtin, args: list, kwargs: dict, node: ast.Call) -> Any:
        if callee.name == "print":
            return Opaque(node.lineno, "print")
        if contains_graph(args) and callee.name != "len":
            raise CodeError(node, f"`{callee.name}` on a tensor, layer or model is not supported")
        opaque = contains_opaque(args) or contains_opaque(kwargs)
        if opaque is not None:
            return opaque
        if callee.name == "range":
            if not all(isinstance(arg, int) and not isinstance(arg, bool) for arg in args) or kwargs:
                raise CodeError(node, "range() takes integers")
            try:
                numbers = range(*args)
            except (TypeError, ValueError) as error:
                raise CodeError(node, f"range() cannot take these arguments: {error}") from None
            if len(numbers) > MAX_SEQUENCE:
                raise CodeError(node, f"the range is longer than {MAX_SEQUENCE:,} numbers")
            return list(numbers)
        try:
            return _check_size(BUILTINS[callee.name](*args, **kwargs), node)
        except (TypeError, ValueError, OverflowError) as error:
            raise CodeError(node, f"{callee.name}() cannot take these arguments: {error}") from None

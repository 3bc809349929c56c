"""Statements: imports, assignments, ``def`` and calls of functions, ``layer.trainable = False`` (also in a loop over
layers), and the lines that are skipped (data, plots, prints). Loops that build layers, conditions, classes
and the rest are refused with their line."""

from __future__ import annotations

import ast
from typing import Any

import studio.io.pycode.kerasapi as kerasapi
from studio.i18n import N_, _
from studio.io.pycode.graph import Recorded
from studio.io.pycode.values import (
    AppLayer,
    AppObj,
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

MAX_CALL_DEPTH = 32
_REFUSED = {
    "For": N_(
        "`for` loops are not supported: a loop that builds layers cannot be read without running it; write each layer on its own "
        "line (a loop that only sets `layer.trainable = False` over a model's layers is read)"
    ),
    "AsyncFor": N_("`async for` is not supported"),
    "While": N_("`while` loops are not supported: a loop that builds layers cannot be read without running it; write each layer out"),
    "If": N_(
        "`if` statements are not supported: the graph cannot depend on a condition; keep the branch you mean "
        '(only `if __name__ == "__main__":` is read)'
    ),
    "Try": N_("`try` blocks are not supported; keep the code that builds the model"),
    "TryStar": N_("`try` blocks are not supported; keep the code that builds the model"),
    "ClassDef": N_(
        "class definitions (custom layers, subclassed models) are not supported: the studio builds graphs of catalogue layers "
        "with keras.Model(inputs, outputs)"
    ),
    "AsyncFunctionDef": N_("`async def` is not supported"),
    "AsyncWith": N_("`async with` is not supported"),
    "Global": N_("`global` is not supported"),
    "Nonlocal": N_("`nonlocal` is not supported"),
    "Raise": N_("`raise` is not supported"),
    "Match": N_("`match` statements are not supported: the graph cannot depend on a condition"),
}


def _refused(kind: str) -> str:
    """Why a kind of statement is refused, in the current language."""
    return _(_REFUSED[kind])


class _Return(Exception):
    """`return value` inside a function being read."""

    def __init__(self, value: Any) -> None:
        super().__init__("return")
        self.value = value


def _assigned_names(statement: ast.AST) -> list[str]:
    """The names a statement binds (poisoned when the statement fails)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(alias.asname or alias.name).split(".")[0] for alias in statement.names if alias.name != "*"]
    targets: list[ast.AST] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    elif isinstance(statement, (ast.For, ast.With)):
        if isinstance(statement, ast.For):
            targets = [statement.target]
        else:
            targets = [item.optional_vars for item in statement.items if item.optional_vars]
    return [node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)]


def _is_main_guard(test: ast.AST) -> bool:
    """``__name__ == "__main__"``."""
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


class Statements:
    """Mixin of the reader: runs statements symbolically, keeping going after a failed line at the top level."""

    call_depth: int
    star_imports: list[str]
    called_functions: set[int]

    def run_block(self, statements: list[ast.stmt], scope: Scope) -> None:
        """Read statements one by one; a failed one is an error, and the names it would bind are poisoned."""
        for statement in statements:
            try:
                self.execute(statement, scope)
            except LimitError:
                raise
            except CodeError as error:
                self.error(error)
                self._poison(statement, scope)
            except Skip:
                self._poison(statement, scope)

    def _poison(self, statement: ast.stmt, scope: Scope) -> None:
        for name in _assigned_names(statement):
            scope.names[name] = Poison(statement.lineno)

    def execute(self, statement: ast.stmt, scope: Scope) -> None:
        """Read one statement (CodeError for what is not supported)."""
        self.steps += 1
        kind = type(statement).__name__
        method = getattr(self, f"_stmt_{kind}", None)
        if method is None:
            raise CodeError(statement, _refused(kind) if kind in _REFUSED else _("`{kind}` statements are not supported").format(kind=kind))
        method(statement, scope)

    def skipped(self, statement: ast.AST, reason: str) -> None:
        """List a line as skipped, quoting its start."""
        text = (ast.get_source_segment(self.source, statement) or "").strip().splitlines()
        quoted = text[0] if text else ""
        if len(quoted) > 70:
            quoted = quoted[:67] + "..."
        self.note(statement, "skipped", f"`{quoted}`: {reason}" if quoted else reason)

    # --- imports --------------------------------------------------------------------------------

    def _module_value(self, module: str, statement: ast.AST) -> Any:
        path = kerasapi.module_path(module)
        if kerasapi.is_keras(path) or path == "tensorflow" or path.startswith("tensorflow."):
            return KerasRef(kerasapi.canonical(path))
        return Opaque(statement.lineno, _("the module `{module}`").format(module=module))

    def _stmt_Import(self, statement: ast.Import, scope: Scope) -> None:
        for alias in statement.names:
            if alias.asname:
                value = self._module_value(alias.name, statement)
                scope.names[alias.asname] = value
            else:
                top = alias.name.split(".")[0]
                value = self._module_value(top, statement)
                scope.names[top] = value
            if isinstance(value, Opaque):
                self.skipped(
                    statement,
                    _("the module {alias_name} is not needed to build the graph (nothing is imported)").format(alias_name=alias.name),
                )

    def _stmt_ImportFrom(self, statement: ast.ImportFrom, scope: Scope) -> None:
        module = statement.module or ""
        base = self._module_value(module, statement) if statement.level == 0 else Opaque(statement.lineno, _("a relative import"))
        for alias in statement.names:
            if isinstance(base, Opaque):
                if alias.name != "*":
                    scope.names[alias.asname or alias.name] = Opaque(
                        statement.lineno,
                        _("`{alias_name}` from {value}").format(alias_name=alias.name, value=module or _("a local module")),
                    )
                continue
            if alias.name == "*":
                self.star_imports.append(base.path)
                continue
            scope.names[alias.asname or alias.name] = kerasapi.attribute(base, alias.name, statement)
        if isinstance(base, Opaque):
            self.skipped(
                statement, _("{value} is not needed to build the graph (nothing is imported)").format(value=module or _("the local module"))
            )

    # --- assignments ----------------------------------------------------------------------------

    def _stmt_Assign(self, statement: ast.Assign, scope: Scope) -> None:
        value = self.evaluate(statement.value, scope)
        for target in statement.targets:
            self.assign(target, value, scope)
        if isinstance(value, Opaque) or isinstance(value, tuple) and value and all(isinstance(item, Opaque) for item in value):
            self.skipped(statement, _("data or another value no model needs"))

    def _stmt_AnnAssign(self, statement: ast.AnnAssign, scope: Scope) -> None:
        if statement.value is not None:
            self.assign(statement.target, self.evaluate(statement.value, scope), scope)

    def _stmt_AugAssign(self, statement: ast.AugAssign, scope: Scope) -> None:
        if not isinstance(statement.target, ast.Name):
            raise CodeError(statement, _("augmented assignment (`+=` ...) is supported on names only"))
        current = self.evaluate(
            ast.Name(id=statement.target.id, ctx=ast.Load(), lineno=statement.lineno, col_offset=statement.col_offset), scope
        )
        value = self.binary(statement, type(statement.op), current, self.evaluate(statement.value, scope))
        self.assign(statement.target, value, scope)

    def assign(self, target: ast.AST, value: Any, scope: Scope) -> None:
        """Bind a value to an assignment target (a name, a tuple of names, or ``x.trainable``)."""
        if isinstance(target, ast.Name):
            scope.names[target.id] = value
            self._name_value(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(item, ast.Starred) for item in target.elts):
                raise CodeError(target, _("`*` in an assignment target is not supported"))
            if isinstance(value, Opaque):
                items: list = [value] * len(target.elts)
            elif isinstance(value, (list, tuple)) and len(value) == len(target.elts):
                items = list(value)
            else:
                count = len(value) if isinstance(value, (list, tuple)) else 1
                raise CodeError(
                    target,
                    _("cannot unpack {value} ({count} value(s)) into {elts_count} names").format(
                        value=describe(value), count=count, elts_count=len(target.elts)
                    ),
                )
            for item_target, item in zip(target.elts, items, strict=True):
                self.assign(item_target, item, scope)
        elif isinstance(target, ast.Attribute):
            owner = self.evaluate(target.value, scope)
            if isinstance(owner, Opaque):
                return
            self.set_attribute(owner, target.attr, value, target)
        elif isinstance(target, ast.Subscript):
            owner = self.evaluate(target.value, scope)
            if not isinstance(owner, Opaque):
                raise CodeError(target, _("assigning to an item (`x[...] = ...`) is not supported"))
        else:
            raise CodeError(target, _("this assignment target is not supported ({type_name})").format(type_name=type(target).__name__))

    def _name_value(self, name: str, value: Any) -> None:
        """Remember the first variable a tensor (or a node's list of outputs) or a model is assigned to."""
        if isinstance(value, Tensor) and value.node.variable is None and value.node.kind == "call":
            value.node.variable = name
        elif isinstance(value, list) and value and all(isinstance(item, Tensor) for item in value):
            nodes = {id(item.node) for item in value}
            node = value[0].node
            if len(nodes) == 1 and node.variable is None and node.kind == "call" and len(value) == node.outputs:
                node.variable = name[: -len("_outputs")] if name.endswith("_outputs") and len(name) > 8 else name
        elif isinstance(value, ModelObj) and value.variable is None:
            value.variable = name

    # --- expressions as statements --------------------------------------------------------------

    def _stmt_Expr(self, statement: ast.Expr, scope: Scope) -> None:
        if isinstance(statement.value, ast.Constant):
            return  # a docstring or a bare constant
        value = self.evaluate(statement.value, scope)
        if isinstance(value, Recorded):
            return
        if isinstance(value, Opaque):
            self.skipped(statement, _("not needed to build the graph"))

    def _stmt_Pass(self, statement: ast.Pass, scope: Scope) -> None:
        return

    def _stmt_Delete(self, statement: ast.Delete, scope: Scope) -> None:
        self.skipped(statement, _("`del` does not change the graph"))

    def _stmt_Assert(self, statement: ast.Assert, scope: Scope) -> None:
        self.skipped(statement, _("assertions are not checked"))

    # --- functions ------------------------------------------------------------------------------

    def _stmt_FunctionDef(self, statement: ast.FunctionDef, scope: Scope) -> None:
        if statement.decorator_list:
            raise CodeError(statement.decorator_list[0], _("decorated functions are not supported"))
        arguments = statement.args
        if arguments.vararg or arguments.kwarg:
            raise CodeError(
                statement,
                _("`*args` / `**kwargs` parameters of `{statement_name}` are not supported; name each parameter").format(
                    statement_name=statement.name
                ),
            )
        defaults = [self.evaluate(default, scope) for default in arguments.defaults]
        kw_defaults = [None if default is None else self.evaluate(default, scope) for default in arguments.kw_defaults]
        scope.names[statement.name] = FunctionValue(statement, scope, defaults, kw_defaults)

    def _stmt_Return(self, statement: ast.Return, scope: Scope) -> None:
        if self.call_depth == 0:
            raise CodeError(statement, _("`return` outside a function"))
        raise _Return(None if statement.value is None else self.evaluate(statement.value, scope))

    def call_function(self, function: FunctionValue, args: list, kwargs: dict, node: ast.AST) -> Any:
        """Read a function's body with its parameters bound to the arguments; its return value."""
        if self.call_depth >= MAX_CALL_DEPTH:
            raise CodeError(
                node,
                _("functions call each other more than {MAX_CALL_DEPTH} levels deep (recursion?)").format(MAX_CALL_DEPTH=MAX_CALL_DEPTH),
            )
        self.called_functions.add(id(function.node))
        definition = function.node.args
        name = function.node.name
        positional = [*definition.posonlyargs, *definition.args]
        if len(args) > len(positional):
            raise CodeError(
                node,
                _("`{name}` takes {positional_count} positional argument(s). Received: {args_count}").format(
                    name=name, positional_count=len(positional), args_count=len(args)
                ),
            )
        bound = {parameter.arg: value for parameter, value in zip(positional, args, strict=False)}
        keyword_names = {parameter.arg for parameter in [*definition.args, *definition.kwonlyargs]}
        for key, value in kwargs.items():
            if key not in keyword_names or key in bound:
                raise CodeError(node, _("`{name}` got an unexpected or repeated argument `{key}`").format(name=name, key=key))
            bound[key] = value
        first_default = len(positional) - len(function.defaults)
        for position, parameter in enumerate(positional):
            if parameter.arg not in bound and position >= first_default:
                bound[parameter.arg] = function.defaults[position - first_default]
        for parameter, default in zip(definition.kwonlyargs, function.kw_defaults, strict=True):
            if parameter.arg not in bound and default is not None:
                bound[parameter.arg] = default
        missing = [parameter.arg for parameter in [*positional, *definition.kwonlyargs] if parameter.arg not in bound]
        if missing:
            raise CodeError(node, _("`{name}` is called without {missing}").format(name=name, missing=", ".join(missing)))
        local = Scope(parent=function.scope)
        local.names.update(bound)
        self.call_depth += 1
        try:
            for statement in function.node.body:
                self.execute(statement, local)
        except _Return as returned:
            return returned.value
        finally:
            self.call_depth -= 1
        return None

    # --- blocks that are read -------------------------------------------------------------------

    def _stmt_If(self, statement: ast.If, scope: Scope) -> None:
        if not _is_main_guard(statement.test) or statement.orelse:
            raise CodeError(statement, _refused("If"))
        self.note(statement, "assumption", _('the body of `if __name__ == "__main__":` is read as if the file were run'))
        self._block(statement.body, scope)

    def _stmt_With(self, statement: ast.With, scope: Scope) -> None:
        for item in statement.items:
            context = self.evaluate(item.context_expr, scope)
            if not isinstance(context, Opaque):
                raise CodeError(item.context_expr, _("`with` on {context} is not supported").format(context=describe(context)))
            if item.optional_vars is not None:
                self.assign(item.optional_vars, context, scope)
        self.note(statement, "assumption", _("the body of the `with` block is read; the context itself is not entered"))
        self._block(statement.body, scope)

    def _block(self, statements: list[ast.stmt], scope: Scope) -> None:
        """A nested block: statement by statement at the top level, all or nothing inside a function."""
        if self.call_depth == 0:
            self.run_block(statements, scope)
            return
        for statement in statements:
            self.execute(statement, scope)

    def _stmt_For(self, statement: ast.For, scope: Scope) -> None:
        """Only ``for layer in <layers>: layer.trainable = <bool>`` is read; any other loop is refused."""
        body_ok = (
            isinstance(statement.target, ast.Name)
            and not statement.orelse
            and all(
                isinstance(line, ast.Pass)
                or (
                    isinstance(line, ast.Assign)
                    and len(line.targets) == 1
                    and isinstance(line.targets[0], ast.Attribute)
                    and line.targets[0].attr == "trainable"
                    and isinstance(line.targets[0].value, ast.Name)
                    and line.targets[0].value.id == statement.target.id
                    and isinstance(line.value, ast.Constant)
                    and isinstance(line.value.value, bool)
                )
                for line in statement.body
            )
        )
        if not body_ok:
            raise CodeError(statement, _refused("For"))
        items = self.evaluate(statement.iter, scope)
        if not isinstance(items, (list, tuple)) or not all(isinstance(item, (LayerObj, AppLayer, ModelObj, AppObj)) for item in items):
            raise CodeError(
                statement.iter,
                _("a `for` loop that sets `.trainable` must go over layers (model.layers). Received: {items}").format(
                    items=describe(items)
                ),
            )
        for item in items:
            for line in statement.body:
                if isinstance(line, ast.Assign):
                    self.set_attribute(item, "trainable", line.value.value, line)
        scope.names[statement.target.id] = items[-1] if items else None

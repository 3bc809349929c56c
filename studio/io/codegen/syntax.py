"""Building blocks of generated Python: syntax-tree nodes made only from validated names and literal values.

Nothing from a spec ever becomes source text here. Names (variables, attributes, keyword arguments) must be
plain ASCII Python identifiers, and a keyword argument must also be one the callee accepts; every string,
number or list from a spec becomes an ``ast.Constant`` (or a list/tuple/dict of them). Comments are the one
place where text is written as text: :func:`comment_text` makes it one printable line first.
"""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Iterable

from studio.graph.spec import SpecError
from studio.i18n import _

Expression = ast.expr


def is_identifier(text: object) -> bool:
    """Whether `text` is a plain ASCII Python name that is not a keyword ('conv2d', not 'x-1', 'class' or 'ﬁ')."""
    return isinstance(text, str) and text.isascii() and text.isidentifier() and not keyword.iskeyword(text)


def _checked(text: str, what: str) -> str:
    if not is_identifier(text):
        raise SpecError(
            _("Cannot write {text!r} as a Python {what}; expected a plain name (letters, digits and _)").format(text=text, what=what)
        )
    return text


def name(identifier: str) -> ast.Name:
    """A variable, read."""
    return ast.Name(id=_checked(identifier, "name"), ctx=ast.Load())


def target(identifier: str) -> ast.Name:
    """A variable, assigned."""
    return ast.Name(id=_checked(identifier, "name"), ctx=ast.Store())


def attribute(value: Expression, attr: str, store: bool = False) -> ast.Attribute:
    """``value.attr``."""
    return ast.Attribute(value=value, attr=_checked(attr, "attribute"), ctx=ast.Store() if store else ast.Load())


def path(dotted: str) -> Expression:
    """``keras.layers.Dense`` from its dotted path (every part a plain name)."""
    first, *rest = dotted.split(".")
    node: Expression = name(first)
    for part in rest:
        node = attribute(node, part)
    return node


def keyword_argument(arg: str, value: Expression, accepted: Iterable[str] | None = None, owner: str = "") -> ast.keyword:
    """``arg=value``: `arg` must be a plain name and, when `accepted` is given, one of them."""
    if not is_identifier(arg):
        raise SpecError(_("{owner} cannot take the argument {arg!r}: it is not a Python name").format(owner=owner or _("A call"), arg=arg))
    if accepted is not None and arg not in set(accepted):
        raise SpecError(_("{owner} has no parameter {arg!r}").format(owner=owner or _("A call"), arg=arg))
    return ast.keyword(arg=arg, value=value)


def call(func: Expression | str, args: Iterable[Expression] = (), keywords: Iterable[ast.keyword] = ()) -> ast.Call:
    """``func(*args, **keywords)``; a string `func` is a dotted path."""
    callee = path(func) if isinstance(func, str) else func
    return ast.Call(func=callee, args=list(args), keywords=list(keywords))


def literal(value: object) -> Expression:
    """A JSON-like value as a literal (tuples stay tuples; negative numbers are ``-n`` as Python parses them)."""
    if value is None or isinstance(value, (bool, str)):
        return ast.Constant(value=value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return call("float", [ast.Constant(value=str(value))])
        if value < 0 or (isinstance(value, float) and math.copysign(1.0, value) < 0):
            return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-value))
        return ast.Constant(value=value)
    if isinstance(value, tuple):
        return ast.Tuple(elts=[literal(item) for item in value], ctx=ast.Load())
    if isinstance(value, list):
        return ast.List(elts=[literal(item) for item in value], ctx=ast.Load())
    if isinstance(value, dict):
        return ast.Dict(keys=[ast.Constant(value=str(key)) for key in value], values=[literal(item) for item in value.values()])
    raise SpecError(
        _("Cannot write {value!r} ({type_name}) as Python; expected JSON data (numbers, strings, lists, objects)").format(
            value=value, type_name=type(value).__name__
        )
    )


def tuples(value: object) -> object:
    """Lists -> tuples, recursively (what the catalogue passes Keras for shapes and sizes)."""
    if isinstance(value, (list, tuple)):
        return tuple(tuples(item) for item in value)
    return value


def assign(variable: str | Expression, value: Expression) -> ast.Assign:
    """``variable = value`` (a name, or an attribute/tuple target already in store form)."""
    return ast.Assign(targets=[target(variable) if isinstance(variable, str) else variable], value=value)


def statement(value: Expression) -> ast.Expr:
    """An expression used as a statement (``model.summary()``)."""
    return ast.Expr(value=value)


def comment_text(text: str) -> str:
    """Text made safe for a ``#`` comment: one line, whitespace runs as one space, other invisible characters as ``\\uXXXX``."""
    words = " ".join(text.split())
    return "".join(character if character.isprintable() else f"\\u{ord(character):04x}" for character in words)

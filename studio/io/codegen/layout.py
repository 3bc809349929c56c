"""Generated programs as items (syntax-tree statements, comments, blank lines, functions) and their layout as text.

The text is laid out the way ``ruff format`` / ``black`` lay it out (88 columns, brackets exploded one item
per line with a magic trailing comma). :func:`render` then proves the text is the program: it compiles the
text (never runs it) and requires its syntax tree to equal the tree the items were built from, so no value
that went in as a literal can have become code, whatever it contains.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field

from studio.graph.spec import SpecError
from studio.i18n import _
from studio.io.codegen.syntax import comment_text

LINE_LENGTH = 88
INDENT = "    "
_OPERATORS = {ast.Div: "/", ast.Mult: "*", ast.Add: "+", ast.Sub: "-"}


# --- program items ----------------------------------------------------------------------------------


@dataclass
class Comment:
    """``# text`` (made one printable line); `raw` is for our own fixed text such as ``#!/usr/bin/env python``."""

    text: str
    raw: bool = False


@dataclass
class Blank:
    """Empty lines."""

    count: int = 1


@dataclass
class Trailing:
    """A statement with a comment at the end of its line (``import keras  # noqa: E402``)."""

    statement: ast.stmt
    comment: str


@dataclass
class Function:
    """``def name(params):`` with a one-line docstring and a body of items."""

    name: str
    params: list[str]
    docstring: str
    body: list = field(default_factory=list)


@dataclass
class MainGuard:
    """``if __name__ == "__main__":`` and its body: what runs only when the file is run as a script."""

    body: list = field(default_factory=list)


@dataclass
class Docstring:
    """The module's docstring (several lines, triple-quoted)."""

    text: str


@dataclass
class Verbatim:
    """Our own fixed code, kept with its comments and layout (its statements still belong to the checked tree)."""

    text: str


# --- expressions --------------------------------------------------------------------------------------


def quote(text: str) -> str:
    """A string literal quoted as ruff format quotes it; anything not printable is an escape sequence."""
    mark = "'" if text.count('"') > text.count("'") else '"'
    pieces = []
    for character in text:
        if character == "\\":
            pieces.append("\\\\")
        elif character == mark:
            pieces.append("\\" + mark)
        elif character.isprintable():
            pieces.append(character)
        else:
            pieces.append(repr(character)[1:-1])
    return f"{mark}{''.join(pieces)}{mark}"


def _docstring(text: str, indent: str) -> list[str]:
    """A triple-quoted literal of `text`: line breaks kept, quotes that could end it and invisible characters escaped."""
    pieces = []
    for position, character in enumerate(text):
        if character == "\\":
            pieces.append("\\\\")
        elif character == '"' and (position + 1 == len(text) or text[position + 1] == '"'):
            pieces.append('\\"')
        elif character == "\n" or character.isprintable():
            pieces.append(character)
        else:
            pieces.append(repr(character)[1:-1])
    lines = f'"""{"".join(pieces)}"""'.split("\n")
    return [f"{indent}{line}".rstrip() if line else "" for line in lines]


def flat(node: ast.AST) -> str:
    """An expression on one line."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return quote(node.value) if isinstance(node.value, str) else repr(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return f"-{flat(node.operand)}"
    if isinstance(node, ast.Attribute):
        return f"{flat(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        arguments = [flat(item) for item in node.args] + [f"{item.arg}={flat(item.value)}" for item in node.keywords]
        return f"{flat(node.func)}({', '.join(arguments)})"
    if isinstance(node, ast.List):
        return f"[{', '.join(flat(item) for item in node.elts)}]"
    if isinstance(node, ast.Tuple):
        inner = ", ".join(flat(item) for item in node.elts)
        return f"({inner},)" if len(node.elts) == 1 else f"({inner})"
    if isinstance(node, ast.Dict):
        return "{" + ", ".join(f"{flat(key)}: {flat(value)}" for key, value in zip(node.keys, node.values, strict=True)) + "}"
    if isinstance(node, ast.Subscript):
        return f"{flat(node.value)}[{flat(node.slice)}]"
    if isinstance(node, ast.Slice):
        return f"{'' if node.lower is None else flat(node.lower)}:{'' if node.upper is None else flat(node.upper)}"
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = (f"({flat(side)})" if isinstance(side, ast.BinOp) else flat(side) for side in (node.left, node.right))
        return f"{left} {_OPERATORS[type(node.op)]} {right}"
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
        return f"{flat(node.left)} == {flat(node.comparators[0])}"
    raise TypeError(f"the code generator does not write {type(node).__name__} expressions")


@dataclass
class _Keyword:
    """``name=value`` inside a call."""

    name: str
    value: _Expression


@dataclass
class _Bracketed:
    """``prefix(item, item, ...)``, ``[item, ...]``, ``(item,)``: a comma-separated group in brackets."""

    prefix: str | _Bracketed
    opening: str
    items: list[_Expression] = field(default_factory=list)
    closing: str = ""
    one_tuple: bool = False


_Expression = str | _Keyword | _Bracketed


def _shape(node: ast.AST) -> _Expression:
    """The expression as nested groups that can be laid out (what cannot be split stays one string)."""
    if isinstance(node, ast.Call):
        prefix = _shape(node.func) if isinstance(node.func, ast.Call) else flat(node.func)
        items: list[_Expression] = [_shape(item) for item in node.args]
        items += [_Keyword(item.arg, _shape(item.value)) for item in node.keywords]
        return _Bracketed(prefix, "(", items, ")")
    if isinstance(node, (ast.List, ast.Tuple)):
        opening, closing = ("[", "]") if isinstance(node, ast.List) else ("(", ")")
        return _Bracketed("", opening, [_shape(item) for item in node.elts], closing, one_tuple=isinstance(node, ast.Tuple))
    if isinstance(node, ast.Dict):
        items = [f"{flat(key)}: {flat(value)}" for key, value in zip(node.keys, node.values, strict=True)]
        return _Bracketed("", "{", items, "}")
    return flat(node)


def _flat(expression: _Expression) -> str:
    if isinstance(expression, str):
        return expression
    if isinstance(expression, _Keyword):
        return f"{expression.name}={_flat(expression.value)}"
    inner = ", ".join(_flat(item) for item in expression.items)
    if expression.one_tuple and len(expression.items) == 1:
        inner += ","
    return f"{_flat(expression.prefix)}{expression.opening}{inner}{expression.closing}"


def _layout(expression: _Expression, indent: str, head: str = "", tail: str = "") -> list[str]:
    """Lines of ``head + expression + tail``: one line when it fits, else brackets exploded one item per line."""
    line = f"{indent}{head}{_flat(expression)}{tail}"
    if len(line) <= LINE_LENGTH or isinstance(expression, str):
        return [line]
    if isinstance(expression, _Keyword):
        return _layout(expression.value, indent, f"{head}{expression.name}=", tail)
    if not expression.items:
        if isinstance(expression.prefix, _Bracketed):
            lines = _layout(expression.prefix, indent, head)
            lines[-1] += f"{expression.opening}{expression.closing}{tail}"
            return lines
        return [line]
    if not (isinstance(expression.prefix, _Bracketed) and expression.prefix.items):
        return _exploded(expression, indent, head, tail)
    # A constructor called on tensors: the constructor's arguments go one per line first, then the call's.
    lines = _exploded(expression.prefix, indent, head, "")
    arguments = ", ".join(_flat(item) for item in expression.items)
    closing_line = f"{lines[-1]}{expression.opening}{arguments}{expression.closing}{tail}"
    if len(closing_line) <= LINE_LENGTH:
        return [*lines[:-1], closing_line]
    called = _Bracketed(expression.prefix.closing, expression.opening, expression.items, expression.closing)
    return [*lines[:-1], *_exploded(called, indent, "", tail)]


def _exploded(expression: _Bracketed, indent: str, head: str, tail: str) -> list[str]:
    """A bracketed group with one item per line and a magic trailing comma (ruff format keeps it so)."""
    lines = [f"{indent}{head}{_flat(expression.prefix)}{expression.opening}"]
    for item in expression.items:
        lines += _layout(item, indent + INDENT, "", ",")
    lines.append(f"{indent}{expression.closing}{tail}")
    return lines


# --- statements -----------------------------------------------------------------------------------------


def _assign_target(node: ast.expr) -> str:
    """An assignment target; a tuple of tuples is written without the outer brackets (``(a, b), (c, d) = ...``)."""
    if isinstance(node, ast.Tuple) and len(node.elts) > 1:
        return ", ".join(flat(item) for item in node.elts)
    return flat(node)


def _statement_lines(node: ast.stmt, indent: str) -> list[str]:
    if isinstance(node, ast.Assign):
        head = "".join(f"{_assign_target(item)} = " for item in node.targets)
        return _layout(_shape(node.value), indent, head)
    if isinstance(node, ast.Expr):
        return _layout(_shape(node.value), indent)
    if isinstance(node, ast.Return):
        return _layout(_shape(node.value), indent, "return ") if node.value is not None else [f"{indent}return"]
    if isinstance(node, ast.Import):
        return [f"{indent}import " + ", ".join(alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in node.names)]
    if isinstance(node, ast.ImportFrom):
        names = ", ".join(alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in node.names)
        return [f"{indent}from {node.module} import {names}"]
    raise TypeError(f"the code generator does not write {type(node).__name__} statements")


def _lines(items: list, indent: str) -> list[str]:
    lines: list[str] = []
    for item in items:
        if isinstance(item, Comment) and item.raw:
            lines.append(f"{indent}#{comment_text(item.text)}")
        elif isinstance(item, Comment):
            wrapped = textwrap.wrap(comment_text(item.text), max(LINE_LENGTH - len(indent) - 2, 20), break_on_hyphens=False)
            lines += [f"{indent}# {line}" for line in wrapped] or [f"{indent}#"]
        elif isinstance(item, Blank):
            lines += [""] * item.count
        elif isinstance(item, Trailing):
            statement_lines = _statement_lines(item.statement, indent)
            lines += [*statement_lines[:-1], f"{statement_lines[-1]}  # {comment_text(item.comment)}"]
        elif isinstance(item, Function):
            lines.append(f"{indent}def {item.name}({', '.join(item.params)}):")
            lines += _docstring(item.docstring, indent + INDENT)
            lines += _lines(item.body, indent + INDENT)
        elif isinstance(item, MainGuard):
            lines.append(f'{indent}if __name__ == "__main__":')
            lines += _lines(item.body, indent + INDENT)
        elif isinstance(item, Docstring):
            lines += _docstring(item.text, indent)
        elif isinstance(item, Verbatim):
            lines += [f"{indent}{line}" if line else "" for line in item.text.strip("\n").split("\n")]
        else:
            lines += _statement_lines(item, indent)
    return lines


# --- the checked tree -----------------------------------------------------------------------------------


def _function_node(item: Function) -> ast.FunctionDef:
    params = [ast.arg(arg=param) for param in item.params]
    arguments = ast.arguments(posonlyargs=[], args=params, kwonlyargs=[], kw_defaults=[], defaults=[])
    fields = {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}
    body = [ast.Expr(value=ast.Constant(value=item.docstring)), *statements(item.body)]
    return ast.FunctionDef(name=item.name, args=arguments, body=body, decorator_list=[], returns=None, **fields)


def statements(items: list) -> list[ast.stmt]:
    """The syntax tree of the items (comments and blank lines have none)."""
    found: list[ast.stmt] = []
    for item in items:
        if isinstance(item, (Comment, Blank)):
            continue
        if isinstance(item, Trailing):
            found.append(item.statement)
        elif isinstance(item, Function):
            found.append(_function_node(item))
        elif isinstance(item, MainGuard):
            test = ast.Compare(left=ast.Name(id="__name__", ctx=ast.Load()), ops=[ast.Eq()], comparators=[ast.Constant(value="__main__")])
            found.append(ast.If(test=test, body=statements(item.body), orelse=[]))
        elif isinstance(item, Docstring):
            found.append(ast.Expr(value=ast.Constant(value=item.text)))
        elif isinstance(item, Verbatim):
            found += ast.parse(item.text).body
        else:
            found.append(item)
    return found


def render(items: list) -> str:
    """The program's text, proven to compile to exactly the items' syntax tree (SpecError otherwise; nothing is run)."""
    text = "\n".join(_lines(items, "")) + "\n"
    tree = ast.fix_missing_locations(ast.Module(body=statements(items), type_ignores=[]))
    expected = ast.dump(ast.parse(ast.unparse(tree)))
    try:
        source = text.encode("utf-8")
        compile(source, "<generated>", "exec", dont_inherit=True)  # compiled to check it, never run
        written = ast.dump(ast.parse(source))
    except (SyntaxError, ValueError, UnicodeError) as error:
        raise SpecError(
            _("The generated code does not compile ({error}); the spec holds text that cannot be written as Python").format(error=error)
        ) from error
    if written != expected:
        raise SpecError(_("The generated code does not say what the spec says; the spec holds text that cannot be written as Python"))
    return text

"""``parse_code``: read functional-API Python with the ``ast`` module and return the models it defines.

The code is parsed, never run: no ``exec``, ``eval``, ``compile`` for running, no import of the user's
modules, no pickle. Limits keep any input cheap to refuse: the text size, the nesting depth of the syntax
tree, the number of nodes (``limits().max_nodes``) and the number of evaluation steps.
"""

from __future__ import annotations

import ast
from collections import deque

from studio.i18n import _
from studio.io.pycode.construct import Constructors
from studio.io.pycode.expressions import Expressions
from studio.io.pycode.graph import GraphOps
from studio.io.pycode.result import CodeNote, CodeProblem, ParsedModel, ParseResult
from studio.io.pycode.specs import SpecBuilder
from studio.io.pycode.statements import Statements
from studio.io.pycode.training import training_settings
from studio.io.pycode.values import INPUT_LAYER, CodeError, FunctionValue, LimitError, ModelObj, Scope, Tensor
from studio.limits import describe as describe_limit
from studio.limits import limits

MAX_SOURCE_BYTES = 1_000_000
MAX_NESTING = 100
IMPLICIT_MODEL_NAME = "model"
_PYTHON2_HINTS = ("Missing parentheses in call to", "print ", "exec ")


class Reader(Statements, Expressions, GraphOps, Constructors):
    """The state of one reading: scopes, Keras's name counters, nodes, models, notes and errors."""

    def __init__(self, source: str, tree: ast.Module, max_nodes: int) -> None:
        self.source = source
        self.max_nodes = max_nodes
        self.module_scope = Scope()
        self.errors: list[CodeProblem] = []
        self.notes: list[CodeNote] = []
        self.models: list[ModelObj] = []
        self.all_nodes: list = []
        self.star_imports: list[str] = []
        self.name_counts: dict[str, int] = {}
        self.node_count = 0
        self.sequence = 0
        self.steps = 0
        self.call_depth = 0
        self.called_functions: set[int] = set()
        self.first_assignment = _first_assignments(tree)

    def next_seq(self) -> int:
        """A number that grows with every object made (creation order)."""
        self.sequence += 1
        return self.sequence

    def auto_name(self, prefix: str) -> str:
        """The name Keras gives the next unnamed object with this prefix: 'dense', then 'dense_1', 'dense_2' ..."""
        count = self.name_counts.get(prefix, 0) + 1
        self.name_counts[prefix] = count
        return prefix if count == 1 else f"{prefix}_{count - 1}"

    def note(self, node: ast.AST | None, kind: str, message: str) -> None:
        """Add a note (once per line and message)."""
        note = CodeNote(getattr(node, "lineno", None), kind, message)
        if note not in self.notes:
            self.notes.append(note)

    def error(self, error: CodeError) -> None:
        """Add an error (once per place and message)."""
        problem = CodeProblem(error.line, error.column, error.message)
        if problem not in self.errors:
            self.errors.append(problem)

    def too_many_nodes(self, node: ast.AST | None) -> LimitError:
        """The error for code that makes more nodes than a graph may hold (it stops the reading)."""
        limit = describe_limit("max_nodes", self.max_nodes)
        return LimitError(
            node, _("the code makes more than {max_nodes:,} nodes; the limit is {limit}").format(max_nodes=self.max_nodes, limit=limit)
        )

    # --- the result -----------------------------------------------------------------------------

    def finish(self, filename: str) -> ParseResult:
        """Build the spec of every model found (and of the implicit one, see `_implicit_model`) and collect the result."""
        result = ParseResult(filename)
        for name, value in self.module_scope.names.items():
            if isinstance(value, FunctionValue) and id(value.node) not in self.called_functions:
                self.note(value.node, "skipped", _("`{name}` is defined but never called, so its body is not read").format(name=name))
        builder = SpecBuilder(self)
        for model in self.models:
            self._add_model(result, builder, model)
        implicit = self._implicit_model(builder.covered) if not self.errors else None
        if implicit is not None and self._add_model(result, builder, implicit):
            spec = result.models[-1].spec
            result.models[-1].implicit = True
            self.note(
                None,
                "assumption",
                _(
                    "tensors outside any keras.Model(...) make the model '{spec_name}': its inputs "
                    "({inputs}) and every tensor nothing else uses ({outputs})"
                ).format(spec_name=spec.name, inputs=", ".join(spec.inputs), outputs=", ".join(spec.outputs)),
            )
        if not result.models and not self.errors:
            self.errors.append(
                CodeProblem(
                    None,
                    None,
                    _(
                        "no Keras model found: expected keras.Input(...) with layers called on it, "
                        "keras.Model(inputs=..., outputs=...) or keras.Sequential([...])"
                    ),
                )
            )
        result.notes = sorted(self.notes, key=lambda note: (note.line is None, note.line or 0))
        result.errors = sorted(self.errors, key=lambda problem: (problem.line is None, problem.line or 0, problem.column or 0))
        return result

    def _add_model(self, result: ParseResult, builder: SpecBuilder, model: ModelObj) -> bool:
        """Build one model's spec and add it to the result (its failure becomes an error)."""
        try:
            spec = builder.spec(model)
        except CodeError as error:
            self.error(error)
            return False
        settings, notes = training_settings(model, spec)
        self.notes.extend(notes)
        result.models.append(ParsedModel(model.id, model.variable, spec, model.line, settings))
        return True

    def _implicit_model(self, covered: set[int]) -> ModelObj | None:
        """Calls that belong to no model (the code stops at tensors): the Inputs they need in, every tensor nothing uses out."""
        calls = [node for node in self.all_nodes if node.kind == "call" and id(node) not in covered]
        if not calls:
            return None
        consumed = {(id(tensor.node), tensor.index) for node in calls for tensor in node.inputs}
        outputs = [Tensor(node, index) for node in calls for index in range(node.outputs) if (id(node), index) not in consumed]
        sources: dict[int, object] = {}
        pending = list(calls)
        while pending:
            node = pending.pop()
            if id(node) in sources:
                continue
            sources[id(node)] = node
            pending.extend(tensor.node for tensor in node.inputs)
        starts = sorted((node for node in sources.values() if node.kind in ("input", "source")), key=lambda node: node.seq)
        inputs = [Tensor(node, inner=INPUT_LAYER if node.kind == "source" else None) for node in starts]
        taken = {model.id for model in self.models}
        name = next(
            candidate
            for candidate in [IMPLICIT_MODEL_NAME, *(f"{IMPLICIT_MODEL_NAME}_{n}" for n in range(1, 1000))]
            if candidate not in taken
        )
        return ModelObj(name, None, self.next_seq(), inputs=inputs, outputs=outputs)


def _first_assignments(tree: ast.Module) -> dict[str, int]:
    """The first line that binds each name (to say 'used before it is defined')."""
    first: dict[str, int] = {}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names = [node.id]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [(alias.asname or alias.name).split(".")[0] for alias in node.names]
        for name in names:
            line = getattr(node, "lineno", 0)
            if name not in first or line < first[name]:
                first[name] = line
    return first


def _deepest(tree: ast.AST) -> tuple[int, ast.AST]:
    """The nesting depth of the syntax tree and its deepest node (walked with an explicit stack, no recursion)."""
    deepest, where = 0, tree
    pending: deque[tuple[ast.AST, int, ast.AST]] = deque([(tree, 0, tree)])
    while pending:
        node, depth, placed = pending.pop()
        placed = node if hasattr(node, "lineno") else placed  # contexts (Load, Store) have no position
        if depth > deepest:
            deepest, where = depth, placed
        if depth > MAX_NESTING:
            break
        pending.extend((child, depth + 1, placed) for child in ast.iter_child_nodes(node))
    return deepest, where


def _syntax_problem(error: SyntaxError) -> CodeProblem:
    message = error.msg or "invalid syntax"  # Python's own words, kept as Python wrote them
    text = (error.text or "").strip()
    if any(hint in message for hint in _PYTHON2_HINTS[:1]) or text.startswith(_PYTHON2_HINTS[1:]):
        return CodeProblem(
            error.lineno,
            error.offset,
            _("not valid Python: {message} (this looks like Python 2; the parser reads Python 3 code)").format(message=message),
        )
    return CodeProblem(error.lineno, error.offset, _("not valid Python: {message}").format(message=message))


def parse_code(source: str, filename: str = "<pasted>") -> ParseResult:
    """Read functional-API Python code (never running it) and return the models it defines, with notes and errors."""
    result = ParseResult(filename)
    size = len(source.encode("utf-8", errors="replace"))
    if size > MAX_SOURCE_BYTES:
        limit = f"{MAX_SOURCE_BYTES / 1e6:.0f} MB"
        result.errors.append(
            CodeProblem(
                None, None, _("the code is {size:.1f} MB; the parser reads at most {limit}").format(size=size / 1000000.0, limit=limit)
            )
        )
        return result
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as error:
        result.errors.append(_syntax_problem(error))
        return result
    except (RecursionError, MemoryError):
        result.errors.append(
            CodeProblem(
                None, None, _("the code nests too deeply to be read (more than {MAX_NESTING} levels)").format(MAX_NESTING=MAX_NESTING)
            )
        )
        return result
    except ValueError as error:  # e.g. a NUL character in the text
        result.errors.append(CodeProblem(None, None, _("not valid Python text: {error}").format(error=error)))
        return result
    depth, deepest = _deepest(tree)
    if depth > MAX_NESTING:
        line = getattr(deepest, "lineno", None)
        message = _("expressions nest more than {limit} levels deep; the parser reads at most {limit}").format(limit=MAX_NESTING)
        result.errors.append(CodeProblem(line, None, message))
        return result
    reader = Reader(source, tree, limits().max_nodes)
    try:
        reader.run_block(tree.body, reader.module_scope)
        return reader.finish(filename)
    except LimitError as error:
        result.errors.append(CodeProblem(error.line, error.column, error.message))
        return result
    except RecursionError:
        result.errors.append(CodeProblem(None, None, _("the code nests too deeply to be read")))
        return result

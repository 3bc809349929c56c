"""The SPEC argument of every command: a preset key, a JSON spec file, or a Python file (``.py``) whose
functional-API code is read by :mod:`studio.io.pycode`, never run.

Every SPEC passes the same limits as in the app (:mod:`studio.limits`): size and JSON depth when it is read,
nesting of models and node count once it is a spec, and, for the commands that build it, the parameter count,
counted without allocating a weight before anything is built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.gate import check_count
from studio.graph.checks import check_spec_limits
from studio.graph.presets import resolve_spec as resolve_json_spec
from studio.graph.spec import GraphSpec, Problem, SpecError
from studio.i18n import _


def is_python_file(argument: str) -> bool:
    """Whether a SPEC argument names Python code."""
    return Path(argument).suffix.lower() == ".py"


def parse_python_file(path: str | Path) -> Any:
    """Read a .py file and parse it (a ParseResult); SpecError when the file cannot be read or its code has errors."""
    from studio.io.pycode import MAX_SOURCE_BYTES, parse_code

    path = Path(path)
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            raise SpecError(
                _("'{path}' is {size:.1f} MB; the parser reads at most {limit:.0f} MB").format(
                    path=path, size=path.stat().st_size / 1000000.0, limit=MAX_SOURCE_BYTES / 1000000.0
                )
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise SpecError(_("'{path}' does not exist; expected a .py file of Keras functional-API code").format(path=path)) from error
    except OSError as error:
        raise SpecError(_("Cannot read '{path}': {reason}").format(path=path, reason=error.strerror or error)) from error
    except UnicodeDecodeError as error:
        raise SpecError(_("'{path}' is not UTF-8 text; expected a .py file").format(path=path)) from error
    result = parse_code(text, filename=str(path))
    if result.errors:
        raise SpecError([Problem(None, "code", line) for line in result.error_lines()])
    return result


def parsed_model(path: str | Path, model: str | None = None) -> Any:
    """The model `model` (Keras name or variable; default: the last one) of a .py file, as a ParsedModel."""
    result = parse_python_file(path)
    try:
        return result.model(model)
    except KeyError as error:
        raise SpecError(str(error.args[0])) from None


def _checked(spec: GraphSpec, argument: str) -> GraphSpec:
    """The spec, once its nesting of models and node count are within the limits (LimitExceeded otherwise)."""
    check_spec_limits(spec, source=argument)
    return spec


def resolve_spec(argument: str, model: str | None = None) -> GraphSpec:
    """A preset key, a JSON spec file or a .py file (its last model, or `model`) -> the spec, within the limits."""
    if is_python_file(argument):
        return _checked(parsed_model(argument, model).spec, argument)
    return _checked(resolve_json_spec(argument), argument)


def resolve_spec_and_code_settings(argument: str) -> tuple[GraphSpec, dict | None]:
    """The spec (within the limits), and for a .py file the training settings its compile/fit give (None otherwise)."""
    if is_python_file(argument):
        parsed = parsed_model(argument)
        return _checked(parsed.spec, argument), parsed.training
    return _checked(resolve_json_spec(argument), argument), None


def display_analysis(spec: GraphSpec, argument: str) -> Any:
    """The weight-free analysis of a spec (a BuildResult for summaries and diagrams), refused past the parameter limit.

    Nothing is allocated: the parameters are counted from the shapes, so ``Dense(units=10**9)`` is refused at once.
    """
    from studio.model.analysis import analyze_for_display, param_counts

    result = analyze_for_display(spec)
    check_count(argument, param_counts(result).total, "would have {:,} parameters", "max_params")
    return result


def check_params(spec: GraphSpec, argument: str) -> None:
    """Refuse (LimitExceeded) a spec whose model would have more parameters than allowed, before any weight exists."""
    display_analysis(spec, argument)

"""What a spec must pass before any code is written for it: its structure, and configs whose every key is a
parameter of its layer type (inner layers of Bidirectional / TimeDistributed and nested models included)."""

from __future__ import annotations

from dataclasses import replace

from studio.catalog import types as catalog
from studio.graph.checks import check_structure, nested_spec
from studio.graph.spec import GraphSpec, Problem, SpecError
from studio.i18n import _

MODEL_CONFIG_KEYS = frozenset({"spec"})


def _config_problem(layer_type: str, config: dict, layer_id: str) -> str | None:
    """Why the catalogue refuses a config (an unknown key, a bad value, a bad inner layer), or None."""
    try:
        catalog.coerce_config(layer_type, config, layer_id)
    except (ValueError, TypeError, KeyError) as error:
        return error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    return None


def code_problems(spec: GraphSpec, path: str = "") -> list[Problem]:
    """Every problem that stops code being written, nested models' included (their nodes named ``outer/inner``).

    A layer that is never called is not a problem here: it is simply left out of the code.
    """
    problems = [
        replace(problem, node=f"{path}{problem.node}" if problem.node else path.rstrip("/") or None)
        for problem in check_structure(spec)
        if problem.kind != "unused_layer"
    ]
    for layer in spec.layers:
        node = f"{path}{layer.id}"
        if layer.type == "Model":
            unknown = sorted(set(layer.config) - MODEL_CONFIG_KEYS)
            if unknown:
                problems.append(
                    Problem(node, "bad_parameter", _("Unknown parameter {unknown!r} for Model; valid: spec").format(unknown=unknown[0]))
                )
            nested = nested_spec(layer.config)
            if nested is not None:
                problems += code_problems(nested, f"{node}/")
        elif catalog.canonical_type(layer.type) in catalog.LAYER_TYPES:  # the structure check names unknown types
            message = _config_problem(catalog.canonical_type(layer.type), layer.config, layer.id)
            if message:
                problems.append(Problem(node, "bad_parameter", message))
    return problems


def check_for_code(spec: GraphSpec) -> None:
    """Raise SpecError listing every problem of :func:`code_problems`."""
    problems = code_problems(spec)
    if problems:
        raise SpecError(problems)

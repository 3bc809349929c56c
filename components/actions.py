"""Applying edits safely: every edit runs here, and a refusal becomes a message next to its widget.

Use `apply_edit` inside widget callbacks (`on_click=`/`on_change=`): the spec changes before the page
draws, so everything on the page shows the edited spec. Nothing raised by an edit escapes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from components import state
from components.cache import analysis
from components.text import md
from studio.gate import LimitExceeded, check_count
from studio.graph.checks import check_spec_limits
from studio.graph.edits import EditError, outputs_change
from studio.graph.spec import GraphSpec, SpecError
from studio.limits import Limits, limits

log = logging.getLogger(__name__)


class LimitError(EditError):
    """An edit that would take the graph past one of the app's limits."""


def check_limits(spec: GraphSpec, active: Limits) -> None:
    """Raise LimitError when the graph nests models too deeply or has more nodes than allowed (parameters: `check_params`)."""
    try:
        check_spec_limits(spec, "The graph", active)  # the same check as every file, paste and CLI argument
    except LimitExceeded as error:
        raise LimitError(str(error)) from error


def check_params(params: int, active: Limits) -> None:
    """Raise LimitError when a model has more parameters than allowed."""
    try:
        check_count("The model", params, "would have {:,} parameters", "max_params", active)
    except LimitExceeded as error:
        raise LimitError(str(error)) from error


def error_text(error: BaseException) -> str:
    """A user-facing message for an edit that failed."""
    if isinstance(error, SpecError):
        return "; ".join(problem.text() for problem in error.problems) or str(error)
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    return str(error) or type(error).__name__


def check_new_spec(spec: GraphSpec) -> None:
    """Raise LimitError when the spec is past a limit (nodes before building, parameters after)."""
    active = limits()
    check_limits(spec, active)
    check_params(analysis_params(spec), active)


def analysis_params(spec: GraphSpec) -> int:
    """Total parameters of what builds of a spec (cached)."""
    from studio.model.analysis import param_counts

    return param_counts(analysis(spec)).total


def apply_edit(
    edit: Callable[[GraphSpec], GraphSpec],
    error_key: str,
    label: str,
    select: str | Callable[[GraphSpec], str | None] | None = None,
    source: str | None = None,
) -> bool:
    """Run `edit` on the current spec; on success record it (undo) and select `select`; else show why at `error_key`."""
    before = state.current_spec()
    try:
        new_spec = edit(before)
        check_new_spec(new_spec)
    except (ValueError, TypeError, KeyError, SpecError) as error:
        state.set_error(error_key, error_text(error))
        return False
    except Exception as error:  # noqa: BLE001 - last line of defence: the session must go on
        state.record_failure(f"edit '{label}'", error)
        state.set_error(error_key, f"This edit failed unexpectedly ({type(error).__name__}: {error}); nothing was changed.")
        return False
    state.replace_spec(new_spec, label, source=source)
    chosen = select(new_spec) if callable(select) else select
    if chosen is not None:
        state.select(chosen)
    change = outputs_change(before, new_spec)  # no silent outputs: a change of the model's outputs is always said
    state.notify(f"{label}. {change}" if change else label)
    return True


def show_error(key: str) -> None:
    """The message waiting for widget or form `key` (a refused edit), shown where it is called."""
    message = state.error_for(key)
    if message:
        st.error(md(message), icon=":material/error:")


def undo() -> None:
    """Callback: undo the last edit."""
    label = state.undo()
    state.notify(f"Undid: {label}" if label else "Nothing to undo.", "info")


def redo() -> None:
    """Callback: redo the last undone edit."""
    label = state.redo()
    state.notify(f"Redid: {label}" if label else "Nothing to redo.", "info")

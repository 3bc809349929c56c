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
from studio.graph.checks import check_spec_limits, spec_extent
from studio.graph.edits import EditError, outputs_change
from studio.graph.spec import GraphSpec, SpecError
from studio.i18n import _, ngettext
from studio.limits import Limits, describe, limits

log = logging.getLogger(__name__)


class LimitError(EditError):
    """An edit that would take the graph past one of the app's limits."""


def _limit_text(field: str, active: Limits) -> str:
    return describe(field, getattr(active, field))


def check_limits(spec: GraphSpec, active: Limits) -> None:
    """Raise LimitError when the graph nests models too deeply or has more nodes than allowed (parameters: `check_params`).

    The same check as every file, paste and CLI argument; the message is said here, in the session's language.
    """
    try:
        check_spec_limits(spec, "The graph", active)
    except LimitExceeded as error:
        nodes, depth = spec_extent(spec)
        if error.limit == "max_model_depth":
            message = ngettext(
                "The graph nests models {count} level deep; the limit is {limit}.",
                "The graph nests models {count} levels deep; the limit is {limit}.",
                depth,
            ).format(count=f"{depth:,}", limit=_limit_text(error.limit, active))
        elif error.limit == "max_nodes":
            message = ngettext(
                "The graph has {count} node; the limit is {limit}.", "The graph has {count} nodes; the limit is {limit}.", nodes
            ).format(count=f"{nodes:,}", limit=_limit_text(error.limit, active))
        else:
            message = str(error)
        raise LimitError(message) from error


def check_params(params: int, active: Limits) -> None:
    """Raise LimitError when a model has more parameters than allowed."""
    try:
        check_count("The model", params, "would have {:,} parameters", "max_params", active)
    except LimitExceeded as error:
        message = ngettext(
            "The model would have {count} parameter; the limit is {limit}.",
            "The model would have {count} parameters; the limit is {limit}.",
            params,
        ).format(count=f"{params:,}", limit=_limit_text("max_params", active))
        raise LimitError(message) from error


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
        state.set_error(
            error_key,
            _("This edit failed unexpectedly ({error}); nothing was changed.").format(error=f"{type(error).__name__}: {error}"),
        )
        return False
    state.replace_spec(new_spec, label, source=source)
    chosen = select(new_spec) if callable(select) else select
    if chosen is not None:
        state.select(chosen)
    change = outputs_change(before, new_spec)  # no silent outputs: a change of the model's outputs is always said
    state.notify(_("{edit}. {change}").format(edit=label, change=change) if change else label)
    return True


def show_error(key: str) -> None:
    """The message waiting for widget or form `key` (a refused edit), shown where it is called."""
    message = state.error_for(key)
    if message:
        st.error(md(message), icon=":material/error:")


def undo() -> None:
    """Callback: undo the last edit."""
    label = state.undo()
    state.notify(_("Undid: {edit}").format(edit=label) if label else _("Nothing to undo."), "info")


def redo() -> None:
    """Callback: redo the last undone edit."""
    label = state.redo()
    state.notify(_("Redid: {edit}").format(edit=label) if label else _("Nothing to redo."), "info")

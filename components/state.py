"""The session-state keys pages share (here), and the helpers that read and change the current spec.

Keys that belong to one panel are named at the top of that panel's module, prefixed by its page
("builder.", "train.", "export.", "models.", "runs."); no key is spelled out twice.

Other pages read the model being edited with `current_spec()` (key `SPEC`, a `GraphSpec`; treat it as
read-only and change it only through `replace_spec`, which records undo history). `REVISION` grows by
one on every change, so a page can tell that the spec changed since it last looked.
"""

from __future__ import annotations

import logging

import streamlit as st

from studio.graph.edits import empty_spec
from studio.graph.spec import GraphSpec, spec_from_json
from studio.i18n import _
from studio.limits import limits

# Shared by every page.
log = logging.getLogger(__name__)

SPEC = "studio.spec"  # GraphSpec: the model being edited
SPEC_SOURCE = "studio.spec_source"  # str: where it came from ("preset autoencoder", "file model.json", ...)
REVISION = "studio.revision"  # int: bumped on every change of SPEC
UNDO = "studio.undo"  # list[tuple[str, str]]: (what the edit did, in the language of the edit; spec JSON before it), newest last
REDO = "studio.redo"  # same, for undone edits
ERRORS = "studio.errors"  # dict[str, str]: widget or form key -> message to show next to it
NOTICES = "studio.notices"  # list[tuple[str, str]]: (kind, text, already translated) shown once at the top of the next page run
FAILURES = "studio.failures"  # list[dict]: unexpected errors a page caught and survived (tests assert it stays empty)
CODE_SETTINGS = "studio.code_settings"  # dict: {"key": spec_key of a model opened from code, "training": its compile/fit settings}
QUERY_PRESET_DONE = "studio.query_preset_done"  # str: the ?preset= value already opened in this session

# Builder page.
SELECTED = "builder.selected"  # str | None: id of the node shown in the node editor
# The tab keys hold the open tab's label in the session's language: open a tab with its translated label (_("Code")).
LEFT_TAB = "builder.view.left_tab"  # open view: "Canvas", "Diagram", "Nodes", "Summary" or "Code"
RIGHT_TAB = "builder.view.right_tab"  # open panel: "Node", "Add", "Model" or "From code"
ADD_TAB = "builder.view.add_tab"  # open way of adding: "Layer", "Shared layer", "Nested model", "Application"

# Widgets that show spec content take `widget_key(name)`: "name@<revision>". Every change of the spec
# makes them new widgets, so they show the new spec (a kept key would keep the browser's old value).

PAGES = {
    "gallery": "pages/gallery.py",
    "builder": "pages/builder.py",
    "training": "pages/training.py",
    "export": "pages/export.py",
    "models": "pages/models.py",
    "runs": "pages/runs.py",
}


def init_state() -> None:
    """Create every shared key that is missing; safe to call on every page and every rerun."""
    defaults = {
        SPEC: None,
        SPEC_SOURCE: "new",
        REVISION: 0,
        UNDO: [],
        REDO: [],
        ERRORS: {},
        NOTICES: [],
        QUERY_PRESET_DONE: "",
        FAILURES: [],
        SELECTED: None,
    }
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value
    if st.session_state[SPEC] is None:
        st.session_state[SPEC] = empty_spec()


def current_spec() -> GraphSpec:
    """The model being edited (read-only: change it with `replace_spec`)."""
    init_state()
    return st.session_state[SPEC]


def widget_key(name: str) -> str:
    """The key of a widget showing spec content: 'builder.add_id@7' (new after every change of the spec)."""
    return f"{name}@{st.session_state.get(REVISION, 0)}"


def _push(stack_key: str, label: str, spec: GraphSpec) -> None:
    stack = st.session_state[stack_key]
    stack.append((label, spec.to_json(indent=None)))
    del stack[: max(0, len(stack) - limits().history_size)]


def replace_spec(spec: GraphSpec, label: str, source: str | None = None, record: bool = True) -> None:
    """Make `spec` the current model; `label` says what changed (shown by undo). Records undo history."""
    init_state()
    if record:
        _push(UNDO, label, st.session_state[SPEC])
        st.session_state[REDO] = []
    st.session_state[SPEC] = spec
    if source is not None:
        st.session_state[SPEC_SOURCE] = source
    st.session_state[REVISION] += 1
    st.session_state[ERRORS] = {}
    selected = st.session_state.get(SELECTED)
    if selected is not None and spec.call(selected) is None and spec.layer(selected) is None:
        st.session_state[SELECTED] = None


def _step(from_key: str, to_key: str) -> str | None:
    init_state()
    stack = st.session_state[from_key]
    if not stack:
        return None
    label, text = stack.pop()
    _push(to_key, label, st.session_state[SPEC])
    replace_spec(spec_from_json(text), label, record=False)
    return label


def undo() -> str | None:
    """Go back one edit; returns what was undone, or None when there is nothing to undo."""
    return _step(UNDO, REDO)


def redo() -> str | None:
    """Redo the last undone edit; returns what was redone, or None."""
    return _step(REDO, UNDO)


def can_undo() -> bool:
    """Whether there is an edit to undo."""
    return bool(st.session_state.get(UNDO))


def can_redo() -> bool:
    """Whether there is an undone edit to redo."""
    return bool(st.session_state.get(REDO))


def set_error(key: str, message: str) -> None:
    """Show `message` next to the widget or form `key` on the next run."""
    init_state()
    st.session_state[ERRORS][key] = message


def error_for(key: str) -> str | None:
    """The message waiting for widget or form `key`, if any."""
    return st.session_state.get(ERRORS, {}).get(key)


def notify(text: str, kind: str = "success") -> None:
    """Queue a message ('success', 'info', 'warning', 'error') for the top of the next page run."""
    init_state()
    st.session_state[NOTICES].append((kind, text))


def take_notices() -> list[tuple[str, str]]:
    """The queued messages, emptying the queue."""
    init_state()
    notices = st.session_state[NOTICES]
    st.session_state[NOTICES] = []
    return notices


def select(node_id: str | None) -> None:
    """Keep this node selected in the builder's node editor."""
    st.session_state[SELECTED] = node_id


def open_node(node_id: str) -> None:
    """Callback: select a node and open the node editor on it."""
    st.session_state[SELECTED] = node_id
    st.session_state[RIGHT_TAB] = _("Node")


def record_failure(where: str, error: BaseException) -> None:
    """Keep an unexpected error a page survived (logged in one line, kept in the session where tests look for it)."""
    log.warning("%s failed: %s: %s", where, type(error).__name__, error)
    failures = st.session_state.setdefault(FAILURES, [])
    failures.append({"where": where, "error": type(error).__name__, "message": str(error)})


def failures() -> list[dict]:
    """The unexpected errors this session's pages caught so far."""
    return list(st.session_state.get(FAILURES, []))

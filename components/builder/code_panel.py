"""The From-code panel of the Builder: paste or upload functional-API Python, see the models it defines (read
with `studio.io.pycode`, never run), their shapes, parameters, graph and problems, and open one (undoable)."""

from __future__ import annotations

import hashlib
import logging

import streamlit as st

from components import actions, cache, state
from components.builder.views import summary_column_config, summary_frame
from components.text import md
from studio.i18n import _, current_language, ngettext
from studio.io.diagram import DiagramOptions
from studio.io.pycode import MAX_SOURCE_BYTES, ParsedModel, ParseResult, parse_code
from studio.io.pycode.result import settings_lines
from studio.model.analysis import param_counts
from studio.model.build import spec_key

log = logging.getLogger(__name__)

CODE_KEY = "builder.code.text"  # str: the code in the text area (kept across edits of the spec)
FILENAME_KEY = "builder.code.filename"  # str: the uploaded file's name, "<pasted>" for pasted code
UPLOAD_KEY = "builder.code.upload"
MODEL_KEY = "builder.code.model"  # + "@<hash of the code>": the chosen model's index
OPEN_KEY = "builder.code.open"
CODE_ERROR = "builder.code"
PASTED = "<pasted>"
MAX_ERRORS_SHOWN = 10
PLACEHOLDER = """import keras
from keras import layers

image = keras.Input(shape=(28, 28, 1), name="image")
x = layers.Conv2D(8, 3, activation="relu")(image)
x = layers.GlobalAveragePooling2D()(x)
digit = layers.Dense(10, activation="softmax")(x)
model = keras.Model(image, digit, name="tiny_cnn")
"""


@st.cache_data(max_entries=32, show_spinner=False)
def _parse(text: str, filename: str, language: str) -> ParseResult:
    """The parse of the code (its messages may be translated by the core: cached per language)."""
    return parse_code(text, filename)


def _on_upload() -> None:
    """Callback: put an uploaded .py file's text into the text area."""
    uploaded = st.session_state.get(UPLOAD_KEY)
    if uploaded is None:
        return
    data = uploaded.getvalue()
    if len(data) > MAX_SOURCE_BYTES:
        limit = f"{MAX_SOURCE_BYTES / 1e6:.0f} MB"
        state.set_error(
            CODE_ERROR,
            _("'{name}' is {size} MB; the parser reads at most {limit}.").format(
                name=uploaded.name, size=f"{len(data) / 1e6:.1f}", limit=limit
            ),
        )
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        state.set_error(CODE_ERROR, _("'{name}' is not UTF-8 text; expected a .py file.").format(name=uploaded.name))
        return
    st.session_state[CODE_KEY] = text
    st.session_state[FILENAME_KEY] = uploaded.name


def _open(model: ParsedModel, filename: str) -> None:
    """Callback: make the chosen model the builder's spec (one undoable edit)."""
    spec = model.spec.copy()
    label = _("Opened '{name}' from code").format(name=model.name)
    source = _("code ({file}, model {name})").format(file=filename, name=model.name)
    if actions.apply_edit(lambda _spec: spec, CODE_ERROR, label, source=source):
        st.session_state[state.CODE_SETTINGS] = {"key": spec_key(spec), "training": model.training}  # the Train page starts from them


def _render_errors(result: ParseResult, text: str) -> None:
    """Every error with its line of code and a caret under the column."""
    count = len(result.errors)
    st.error(
        ngettext(
            "{count} line cannot be read; nothing in the code was run.", "{count} lines cannot be read; nothing in the code was run.", count
        ).format(count=f"{count:,}"),
        icon=":material/error:",
    )
    for problem in result.errors[:MAX_ERRORS_SHOWN]:
        st.markdown(f":red[●] {md(problem.text())}")
        excerpt = problem.excerpt(text)
        if excerpt:
            st.code(excerpt, language=None)
    if count > MAX_ERRORS_SHOWN:
        st.caption(_("... and {count} more.").format(count=f"{count - MAX_ERRORS_SHOWN:,}"))


def _choose_model(result: ParseResult, text: str) -> ParsedModel:
    """The model to show: the only one, or the one picked (default: the last, as `python -m studio parse` does)."""
    if len(result.models) == 1:
        return result.models[0]
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    index = st.selectbox(
        _("The code defines {count} models; show").format(count=len(result.models)),
        list(range(len(result.models))),
        index=len(result.models) - 1,
        key=f"{MODEL_KEY}@{digest}",
        format_func=lambda position: result.models[position].label(),
    )
    return result.models[index if index is not None else -1]


def _render_model(model: ParsedModel) -> None:
    """Status, parameter count, shapes, problems and graph of one parsed model (built without weights)."""
    spec = model.spec
    analysis = cache.analysis(spec)
    counts = param_counts(analysis)
    problems = len(analysis.problems)
    if analysis.ok:
        status = _("builds ✓")
    else:
        status = ngettext("does not build: {count} problem", "does not build: {count} problems", problems).format(count=f"{problems:,}")
    nodes = ngettext("{count} node", "{count} nodes", len(spec.calls)).format(count=f"{len(spec.calls):,}")
    parameters = ngettext("{count} parameter", "{count} parameters", counts.total).format(count=f"{counts.total:,}")
    st.markdown(
        _("**{name}**: {nodes}, {parameters}, {status}").format(name=md(spec.name), nodes=nodes, parameters=parameters, status=status)
    )
    for problem in analysis.problems[:MAX_ERRORS_SHOWN]:
        st.markdown(f":red[●] {md(problem.text())}")
    frame = summary_frame(spec, analysis, first=3)  # layer (type), output shape, param #
    st.dataframe(frame, hide_index=True, width="stretch", height=min(36 * (len(frame) + 1) + 2, 320), column_config=summary_column_config())
    with st.expander(_("Graph"), expanded=len(spec.calls) <= 40):
        dot_text, _error = cache.diagram_dot_or_spec_drawing(spec, DiagramOptions(show_shapes=True, expand_nested=False), analysis)
        st.graphviz_chart(dot_text, height="content")
    lines = settings_lines(model.training)
    if lines:
        with st.expander(_("Training settings read from compile/fit")):
            st.markdown("\n".join(f"- {md(line)}" for line in lines))
            st.caption(_("`python -m studio train FILE.py` uses them; the Train page starts from its own defaults."))


def render_from_code_panel() -> None:
    """Paste or upload code; see what it defines; open a model in the builder."""
    st.caption(_("Paste Keras functional-API code (or upload a .py file) to see its graph. The code is read, never run."))
    st.file_uploader(_("Upload a .py file"), type=["py"], key=UPLOAD_KEY, on_change=_on_upload)
    text = st.text_area(
        _("Python code"),
        key=CODE_KEY,
        height=260,
        placeholder=PLACEHOLDER,
        help=_(
            "Read with Python's `ast` module: imports, keras.Input, layers, keras.Model / Sequential, applications, "
            "compile/fit. Updates when the box loses focus (or Ctrl+Enter)."
        ),
    )
    message = state.error_for(CODE_ERROR)
    if message:
        st.error(md(message), icon=":material/error:")
    if not (text or "").strip():
        return
    filename = st.session_state.get(FILENAME_KEY) or PASTED
    result = _parse(text, filename, current_language())
    if result.errors:
        _render_errors(result, text)
    if not result.models:
        return
    model = _choose_model(result, text)
    _render_model(model)
    if result.notes:
        notes = len(result.notes)
        with st.expander(
            ngettext("Notes ({count} line skipped or assumed)", "Notes ({count} lines skipped or assumed)", notes).format(
                count=f"{notes:,}"
            )
        ):
            st.markdown("\n".join(f"- {md(note.text())}" for note in result.notes))
    if result.errors:
        st.warning(_("The model may miss what the lines above would do; fix them before relying on it."), icon=":material/warning:")
    st.button(
        _("Open in builder"),
        key=OPEN_KEY,
        type="primary",
        icon=":material/open_in_new:",
        on_click=_open,
        args=(model, filename),
        help=_("Replace the model being edited with this one (Undo brings the current one back)"),
    )

"""The builder's read-only views of the spec: diagram (with plot_model's options), summary table, code."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from components import cache
from components.code_style import code_style_control
from components.project import file_name_for
from components.text import md
from studio.graph.spec import GraphSpec, SpecError
from studio.i18n import N_, _
from studio.io import diagram
from studio.model.analysis import ParamCounts, param_counts, summary_rows
from studio.model.build import BuildResult

log = logging.getLogger(__name__)

# Diagram option -> (label, default); the keys are DiagramOptions fields (and plot_model's arguments).
DIAGRAM_TOGGLES = {
    "show_shapes": (N_("Shapes"), True),
    "show_dtype": (N_("Dtype"), False),
    "show_layer_names": (N_("Layer names"), True),
    "show_layer_activations": (N_("Activations"), False),
    "show_trainable": (N_("Trainable"), False),
    "expand_nested": (N_("Expand nested"), True),
}
RANKDIR_LABELS = {"TB": N_("Top-down"), "LR": N_("Left-right")}
# The summary table's columns (studio.model.analysis.summary_rows): shown translated.
SUMMARY_COLUMNS = {
    "Layer (type)": N_("Layer (type)"),
    "Output shape": N_("Output shape"),
    "Param #": N_("Param #"),
    "Connected to": N_("Connected to"),
    "Trainable": N_("Trainable"),
}
CODE_STYLE_KEY = "builder.code_style"
DIAGRAM_HEIGHT = 900  # pixels; taller diagrams scroll


def diagram_options(key_prefix: str = "builder.diagram") -> diagram.DiagramOptions:
    """Draw the option toggles and return the chosen `DiagramOptions`."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        values = {
            name: st.toggle(_(label), value=default, key=f"{key_prefix}.{name}", help=f"plot_model({name}=...)")
            for name, (label, default) in DIAGRAM_TOGGLES.items()
        }
        rankdir = (
            st.segmented_control(
                _("Direction"),
                list(RANKDIR_LABELS),
                format_func=lambda rankdir: _(RANKDIR_LABELS[rankdir]),
                default="TB",
                key=f"{key_prefix}.rankdir",
                label_visibility="collapsed",
            )
            or "TB"
        )
    return diagram.DiagramOptions(**values, rankdir=rankdir, dpi=72)


def _render_bytes(spec: GraphSpec, fmt: str, options: diagram.DiagramOptions, result: BuildResult):
    """A zero-argument function drawing the diagram with Graphviz (run only when the user downloads)."""

    def render() -> bytes:
        return diagram.render_diagram(spec, fmt, options, result)

    return render


def render_diagram_panel(spec: GraphSpec, result: BuildResult) -> None:
    """The diagram (Graphviz in the browser), its options, and PNG / SVG / DOT downloads."""
    options = diagram_options()
    if not spec.calls:
        st.info(_("Nothing to draw yet: add an Input from the **Add** panel, or open a preset."), icon=":material/info:")
        return
    dot_text, failure = cache.diagram_dot_or_spec_drawing(spec, options, result)
    if failure:
        st.warning(_("The diagram cannot be drawn ({reason}); a plain drawing of the spec follows.").format(reason=md(failure)))
    st.graphviz_chart(dot_text, height=DIAGRAM_HEIGHT if len(spec.calls) > 12 else "content")
    with st.container(horizontal=True, gap="small"):
        if diagram.graphviz_available():
            st.download_button(
                "PNG",
                _render_bytes(spec, "png", options, result),
                file_name=file_name_for(spec, ".png"),
                mime="image/png",
                key="builder.download_png",
                icon=":material/image:",
                on_click="ignore",
            )
            st.download_button(
                "SVG",
                _render_bytes(spec, "svg", options, result),
                file_name=file_name_for(spec, ".svg"),
                mime="image/svg+xml",
                key="builder.download_svg",
                icon=":material/draw:",
                on_click="ignore",
            )
        st.download_button(
            "DOT",
            dot_text,
            file_name=file_name_for(spec, ".dot"),
            mime="text/vnd.graphviz",
            key="builder.download_dot",
            icon=":material/code:",
            on_click="ignore",
        )
    if not diagram.graphviz_available():
        st.caption(
            _("PNG and SVG downloads need Graphviz's `dot` program, which is not installed here: {hint}.").format(hint=diagram.INSTALL_HINT)
        )


def summary_frame(spec: GraphSpec, result: BuildResult, first: int | None = None) -> pd.DataFrame:
    """Keras's model.summary() rows as a table with translated headers (only the `first` columns when given)."""
    frame = pd.DataFrame(summary_rows(spec, result))
    if first is not None:
        frame = frame.iloc[:, :first]
    return frame.rename(columns=lambda column: _(SUMMARY_COLUMNS.get(column, column)))


def summary_column_config() -> dict:
    """The summary table's column formats, by translated header."""
    return {_("Param #"): st.column_config.NumberColumn(format="localized"), _("Trainable"): st.column_config.CheckboxColumn()}


def render_param_metrics(counts: ParamCounts) -> None:
    """Total / trainable / non-trainable parameters, as Keras's summary ends."""
    cols = st.columns(3)
    cols[0].metric(_("Total params"), f"{counts.total:,}")
    cols[1].metric(_("Trainable params"), f"{counts.trainable:,}")
    cols[2].metric(_("Non-trainable params"), f"{counts.non_trainable:,}")


def render_summary_panel(spec: GraphSpec, result: BuildResult) -> None:
    """Keras's model.summary() as a table, with the parameter totals."""
    if not spec.calls:
        st.info(_("The summary appears once the graph has nodes."), icon=":material/info:")
        return
    if result.ok:
        st.markdown(_('**Model: "{name}"**').format(name=md(spec.name)))
    else:
        st.markdown(_('**Model: "{name}"** — not built yet: fix the problems listed above').format(name=md(spec.name)))
    st.dataframe(summary_frame(spec, result), hide_index=True, width="stretch", column_config=summary_column_config())
    render_param_metrics(param_counts(result))


def render_code_panel(spec: GraphSpec) -> None:
    """The spec as a runnable functional-API script in the chosen style (copy button on the code; download)."""
    if not spec.calls:
        st.info(_("The code appears once the graph has nodes."), icon=":material/info:")
        return
    style = code_style_control(CODE_STYLE_KEY)
    try:
        code = cache.generated_code(spec, style)
    except SpecError as error:
        st.warning(_("Code cannot be generated for this graph: {reason}").format(reason=md(str(error))))
        return
    suffix = "_tutorial.py" if style == "tutorial" else ".py"
    st.download_button(
        _("Download the code (.py)"),
        code,
        file_name=file_name_for(spec, suffix),
        mime="text/x-python",
        key="builder.download_code",
        icon=":material/download:",
        on_click="ignore",
    )
    st.code(code, language="python", line_numbers=True)

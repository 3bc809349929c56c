"""The node list (every call with its shape, parameters and problems) and the list of all problems."""

from __future__ import annotations

import re

import streamlit as st

from components import state
from components.text import code, md
from studio.graph.shapes import shapes_text
from studio.graph.spec import GraphSpec, split_ref
from studio.i18n import _, ngettext
from studio.limits import limits
from studio.model.analysis import node_problems
from studio.model.build import BuildResult

ROW_COLUMNS = [4.6, 3, 1.5, 1.5]


def css_token(node_id: str) -> str:
    """A node id made safe for a CSS class or an HTML id."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", node_id)


def anchor_id(node_id: str) -> str:
    """The HTML id of a node's row in the list (problems link to it)."""
    return f"node-{css_token(node_id)}"


def _roles(spec: GraphSpec, call_id: str) -> list[str]:
    call = spec.call(call_id)
    layer = spec.layer(call.layer)
    roles = []
    if call_id in spec.inputs:
        roles.append(_("model input #{number}").format(number=spec.inputs.index(call_id) + 1))
    outputs = [position for position, ref in enumerate(spec.outputs) if split_ref(ref)[0] == call_id]
    if outputs:
        roles.append(_("model output {numbers}").format(numbers=", ".join(f"#{position + 1}" for position in outputs)))
    sharing = [other.id for other in spec.calls_of(call.layer)]
    if len(sharing) > 1:
        roles.append(
            _("shared layer '{layer}' (call {number} of {count})").format(
                layer=call.layer, number=sharing.index(call_id) + 1, count=len(sharing)
            )
        )
    if layer is not None and not layer.trainable:
        roles.append(_("frozen"))
    return roles


def _visible_ids(spec: GraphSpec, query: str) -> list[str]:
    needle = query.strip().lower()
    ids = []
    for call in spec.calls:
        layer = spec.layer(call.layer)
        text = f"{call.id} {call.layer} {layer.type if layer else ''}".lower()
        if needle in text:
            ids.append(call.id)
    return ids


def render_node_row(spec: GraphSpec, result: BuildResult, call_id: str) -> None:
    """One node: id, type, inputs, output shape, parameters, roles; red with Keras's message when it fails."""
    call = spec.call(call_id)
    layer = spec.layer(call.layer)
    info = result.nodes.get(call_id)
    problems = node_problems(result, spec, call_id)
    selected = st.session_state.get(state.SELECTED) == call_id
    status = "bad" if problems else ("sel" if selected else "ok")
    with st.container(border=True, key=f"node{status}_{css_token(call_id)}"):
        st.html(f'<span id="{anchor_id(call_id)}"></span>')
        cols = st.columns(ROW_COLUMNS, vertical_alignment="center")
        inputs = "← " + ", ".join(call.inputs) if call.inputs else _("no inputs")
        details = " · ".join([inputs, *_roles(spec, call_id)])
        cols[0].markdown(f"**{md(call_id)}** `{layer.type if layer else '?'}`  \n:gray[{md(details)}]")
        cols[1].markdown(f"`{shapes_text(info.output_shapes)}`" if info else (_(":red[not built]") if problems else _(":gray[not built]")))
        params = info.params if info and info.params is not None else None
        cols[2].markdown(f"{params:,}" if params is not None else ":gray[–]")
        cols[3].button(
            _("Edit"),
            key=f"builder.list.edit_{call_id}",
            on_click=state.open_node,
            args=(call_id,),
            type="primary" if selected else "secondary",
            width="stretch",
        )
        for message in problems:
            st.error(md(message), icon=":material/error:")


def render_node_list(spec: GraphSpec, result: BuildResult) -> None:
    """Every node in spec order (filterable, in pages), then layers that no node calls."""
    if not spec.calls and not spec.layers:
        st.info(_("No nodes yet. Add an **Input** from the *Add* panel on the right, or open a preset."), icon=":material/info:")
        return
    query = st.text_input(_("Filter nodes"), key="builder.list.filter", placeholder=_("id or layer type"), label_visibility="collapsed")
    ids = _visible_ids(spec, query or "")
    per_page = limits().nodes_per_page
    pages = max(1, -(-len(ids) // per_page))
    page = 1
    if pages > 1:
        page = st.number_input(
            _("Page (of {pages})").format(pages=pages), min_value=1, max_value=pages, value=1, step=1, key="builder.list.page"
        )
        page = min(int(page), pages)
    header = st.columns(ROW_COLUMNS)
    for column, title in zip(header, (_("Node (layer type)"), _("Output shape"), _("Params"), ""), strict=True):
        column.caption(title)
    for call_id in ids[(page - 1) * per_page : page * per_page]:
        render_node_row(spec, result, call_id)
    if query and not ids:
        st.caption(_("No node matches '{query}'.").format(query=md(query)))
    unused = [layer for layer in spec.layers if not spec.calls_of(layer.id)]
    for layer in unused:
        with st.container(border=True, key=f"nodebad_layer_{css_token(layer.id)}"):
            st.markdown(_("**{layer}** · {type} :gray[(a layer that no node calls)]").format(layer=md(layer.id), type=code(layer.type)))
            for message in [problem.message for problem in result.problems if problem.node == layer.id]:
                st.error(md(message), icon=":material/error:")
            from components.builder.node_editor import delete_layer_callback

            st.button(_("Delete this layer"), key=f"builder.list.delete_layer_{layer.id}", on_click=delete_layer_callback, args=(layer.id,))


def render_problems(spec: GraphSpec, result: BuildResult) -> None:
    """Every problem once, each naming its node with a link to it and a button that opens it in the editor."""
    if not spec.calls and not spec.layers:  # a new, empty model: a start, not a problem
        render_start_here()
        return
    if not result.problems:
        return
    count = len(result.problems)
    with st.container(border=True, key="builder_problems"):
        st.markdown(
            ngettext(
                ":red[**{count} problem** — the model does not build until it is fixed.]",
                ":red[**{count} problems** — the model does not build until they are fixed.]",
                count,
            ).format(count=f"{count:,}")
        )
        for number, problem in enumerate(result.problems[:50]):
            cols = st.columns([8, 1.3], vertical_alignment="center")
            if problem.node is None:
                cols[0].markdown(f":red[●] {md(problem.message)}")
                continue
            call_id = (
                problem.node
                if spec.call(problem.node) is not None
                else next((call.id for call in spec.calls_of(problem.node)), problem.node)
            )
            cols[0].markdown(f":red[●] [**{md(problem.node)}**](#{anchor_id(call_id)}): {md(problem.message)}")
            if spec.call(call_id) is not None:
                cols[1].button(
                    _("Show"),
                    key=f"builder.list.problem_{number}",
                    on_click=state.open_node,
                    args=(call_id,),
                    width="stretch",
                    help=_("Open '{node}' in the node editor").format(node=md(call_id)),
                )
        if count > 50:
            st.caption(_("... and {count} more.").format(count=f"{count - 50:,}"))


def _open_panel(panel: str, add_type: str | None = None) -> None:
    """Callback: open a right-hand panel of the Builder (its translated tab label), and the layer form on a type."""
    from components.builder.add_panel import ADD_TYPE

    st.session_state[state.RIGHT_TAB] = panel
    if add_type is not None:
        st.session_state[state.ADD_TAB] = _("Layer")
        st.session_state[ADD_TYPE] = add_type
        st.session_state.pop("builder.add_group", None)  # no group or search hides the type
        st.session_state.pop("builder.add_filter", None)


def render_start_here() -> None:
    """What a newcomer does first with an empty model: no problem count, three ways in."""
    st.info(
        _(
            "**Start here.** This model is empty; begin in one of three ways:\n\n"
            "1. Open a preset from the **Gallery** and change it.\n"
            "2. Add an **Input** in the **Add** panel, then the layers that follow it.\n"
            "3. Paste functional-API code in **From code** and open it."
        ),
        icon=":material/flag:",
    )
    with st.container(horizontal=True, gap="small", key="builder_start_here"):
        st.page_link(state.PAGES["gallery"], label=_("Open the Gallery"), icon=":material/photo_library:")
        st.button(_("Add an Input"), key="builder.start.add_input", on_click=_open_panel, args=(_("Add"), "Input"), icon=":material/input:")
        st.button(
            _("Paste code"), key="builder.start.from_code", on_click=_open_panel, args=(_("From code"),), icon=":material/content_paste:"
        )

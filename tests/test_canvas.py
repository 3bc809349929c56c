"""The canvas: the spec drawn as nodes and edges (pure), laid out; and its adapter applying intents in the app."""

from __future__ import annotations

from functools import cache

import pytest

from components import state
from studio.graph import blocks, wiring
from studio.graph.intents import apply_intent
from studio.graph.layout import layout_positions, positions_after_change
from studio.graph.naming import unique_id
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import GraphSpec
from studio.model.build import BuildResult, analyze
from studio.model.canvas_view import spec_to_canvas


@cache
def _built(key: str) -> BuildResult:
    return analyze(load_preset(key))


def _inputs(spec: GraphSpec) -> dict[str, list[str]]:
    return {call.id: list(call.inputs) for call in spec.calls}


@pytest.mark.parametrize("key", preset_names())
def test_every_preset_becomes_one_node_per_call_and_one_edge_per_input(key: str) -> None:
    spec = load_preset(key)
    nodes, edges = spec_to_canvas(spec, _built(key), None)
    assert [node.id for node in nodes] == [call.id for call in spec.calls]
    assert len(edges) == sum(len(call.inputs) for call in spec.calls)
    assert {(edge.target, edge.position) for edge in edges} == {(call.id, i) for call in spec.calls for i in range(len(call.inputs))}
    by_id = {node.id: node for node in nodes}
    assert all(edge.source in by_id for edge in edges)
    assert [node.id for node in nodes if node.is_input] == spec.inputs
    assert sum(len(node.output_refs) for node in nodes) == len(spec.outputs)
    assert all(node.shape and node.params is not None and not node.errors for node in nodes)
    for edge in edges:  # laid out top-down
        assert by_id[edge.source].y < by_id[edge.target].y
    corners = {(node.x, node.y) for node in nodes}
    assert len(corners) == len(nodes)


def test_shared_layer_calls_are_linked() -> None:
    nodes, _ = spec_to_canvas(load_preset("shared_embedding"), _built("shared_embedding"), None)
    by_id = {node.id: node for node in nodes}
    assert by_id["feat1"].shared_with == ["feat2"]
    assert by_id["feat2"].shared_with == ["feat1"]
    assert by_id["feat1"].layer == by_id["feat2"].layer == "share_embedding"
    assert by_id["input1"].shared_with == []


def test_node_labels_carry_type_shape_params_and_input_positions() -> None:
    nodes, edges = spec_to_canvas(load_preset("multi_io"), _built("multi_io"), None)
    by_id = {node.id: node for node in nodes}
    assert by_id["lstm"].layer_type == "LSTM"
    assert by_id["lstm"].shape == "(None, 32)"
    assert by_id["lstm"].params == 12416
    assert by_id["priority"].output_refs == ["priority"]
    assert by_id["concatenate"].max_inputs is None and by_id["body"].max_inputs == 0
    labels = {edge.source: edge.label for edge in edges if edge.target == "concatenate"}
    assert labels == {"lstm_1": "1", "lstm": "2", "tag": "3"}
    assert all(edge.label == "" for edge in edges if edge.target != "concatenate")


def test_layout_orders_inputs_to_avoid_crossings() -> None:
    positions = layout_positions(load_preset("multi_io"))
    assert positions["lstm_1"][0] < positions["lstm"][0] < positions["tag"][0]
    assert positions["title"][0] < positions["body"][0]
    rows = {}
    for x, y in positions.values():
        rows.setdefault(y, []).append(x)
    for xs in rows.values():
        xs.sort()
        assert all(right - left >= 210 for left, right in zip(xs, xs[1:], strict=False))


def test_invalid_nodes_carry_their_message() -> None:
    spec = apply_intent(load_preset("mnist_mlp"), {"kind": "delete", "edges": ["dense_1/0"]})
    nodes, edges = spec_to_canvas(spec, analyze(spec), None)
    by_id = {node.id: node for node in nodes}
    assert any("needs exactly 1 input" in message for message in by_id["dense_1"].errors)
    assert len(edges) == 2


def test_delete_one_call_of_a_shared_layer_keeps_the_layer() -> None:
    edited = apply_intent(load_preset("shared_embedding"), {"kind": "delete", "nodes": ["feat2"]})
    assert edited.layer("share_embedding") is not None
    edited = apply_intent(edited, {"kind": "delete", "nodes": ["feat1"]})
    assert edited.layer("share_embedding") is None


def test_move_changes_positions_only() -> None:
    spec = load_preset("mnist_mlp")
    change = {"kind": "move", "positions": {"dense": [400, 90]}}
    edited = apply_intent(spec, change)
    assert edited.to_dict() == spec.to_dict()
    positions = positions_after_change(layout_positions(spec), change, spec, edited)
    assert positions["dense"] == (400.0, 90.0)
    assert positions["img"] == layout_positions(spec)["img"]
    assert positions_after_change(positions, {"kind": "layout"}, spec, edited) == {}


def test_add_node_gets_a_unique_keras_style_id_and_default_config() -> None:
    spec = load_preset("mnist_mlp")
    edited = apply_intent(spec, {"kind": "add_node", "layer_type": "Dense", "inputs": ["dense_2"], "position": [10, 600]})
    assert edited.calls[-1].id == "dense_3" and edited.calls[-1].inputs == ["dense_2"]
    assert edited.layer("dense_3").config == {"units": 32}
    assert unique_id(edited, "dense") == "dense_4"
    positions = positions_after_change(layout_positions(spec), {"kind": "add_node", "position": [10, 600]}, spec, edited)
    assert positions["dense_3"] == (10.0, 600.0)
    pooled = apply_intent(spec, {"kind": "add_node", "layer_type": "GlobalMaxPooling2D"})
    assert pooled.calls[-1].id == "global_max_pooling2d"
    added_input = apply_intent(spec, {"kind": "add_node", "layer_type": "Input"})
    assert added_input.inputs == ["img", "input"] and added_input.call("input").inputs == []


def test_new_nodes_are_placed_near_their_input_without_overlap() -> None:
    spec = load_preset("mnist_mlp")
    stored = layout_positions(spec)
    edited = apply_intent(spec, {"kind": "add_node", "layer_type": "Dense", "inputs": ["dense_1"]})
    positions = layout_positions(edited, stored)
    assert {call_id: positions[call_id] for call_id in stored} == stored
    x, y = positions["dense_3"]
    assert y > stored["dense_1"][1]
    assert all(abs(x - ox) >= 210 or abs(y - oy) >= 90 for ox, oy in stored.values())


def _canvas_app() -> None:
    import streamlit as st

    from components import state
    from components.builder.canvas import render_canvas, render_palette
    from studio.graph.presets import load_preset

    state.init_state()
    if not state.current_spec().calls:
        state.replace_spec(load_preset(st.query_params.get("preset", "mnist_mlp")), "open", record=False)
    spec = state.current_spec()
    if render_palette(spec, key="palette", canvas_key="canvas") or render_canvas(spec, None, key="canvas"):
        st.rerun()


def _app(preset: str = "mnist_mlp"):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_canvas_app, default_timeout=60)
    app.query_params["preset"] = preset
    return app.run()


def _send(app, change: dict, number: int = 1):
    """What the front end does: set the component's value to a new event, then rerun."""
    app.session_state["canvas"] = {"id": f"event-{number}", "change": change}
    return app.run()


def test_palette_adds_through_the_canvas_adapter() -> None:
    app = _app()
    assert not app.exception
    app.text_input(key="palette__query").input("pool").run()
    assert any("MaxPooling2D" in option for option in app.selectbox(key="palette__type").options)
    app.selectbox(key="palette__type").set_value("GlobalAveragePooling1D")
    app.selectbox(key="palette__source").set_value("dense_2")
    app.button(key="palette__add").click().run()
    assert not app.exception
    assert app.session_state[state.SPEC].call("global_average_pooling1d").inputs == ["dense_2"]


@pytest.mark.parametrize(
    ("preset", "change", "form_edit"),
    [
        ("mnist_mlp", {"kind": "add_node", "layer_type": "VGG16"}, lambda spec: blocks.add_application(spec, "VGG16")),
        ("multi_io", {"kind": "connect", "source": "title", "target": "concatenate"},
         lambda spec: wiring.set_inputs(spec, "concatenate", ["lstm_1", "lstm", "tag", "title"])),
        ("mnist_mlp", {"kind": "delete", "edges": ["dense_1/0"]}, lambda spec: wiring.set_inputs(spec, "dense_1", [])),
        ("mnist_mlp", {"kind": "toggle_output", "node": "dense"}, lambda spec: wiring.toggle_output(spec, "dense")),
    ],
)
def test_a_canvas_event_edits_the_app_spec_like_the_forms_and_can_be_undone(preset: str, change: dict, form_edit) -> None:
    app = _send(_app(preset), change)
    assert not app.exception
    assert app.session_state[state.SPEC].to_dict() == form_edit(load_preset(preset)).to_dict()
    assert app.session_state[state.UNDO][-1][0].endswith("on the canvas")
    assert _send(app, change, number=1).session_state[state.SPEC].to_dict() == form_edit(load_preset(preset)).to_dict(), (
        "an event already handled is not applied twice"
    )


def test_deleting_a_used_node_on_the_canvas_offers_cascade_or_reconnect() -> None:
    app = _send(_app(), {"kind": "delete", "nodes": ["dense_1"]})
    assert not app.exception
    assert "Cannot delete 'dense_1': dense_2 uses its output" in app.warning[0].value
    assert app.session_state[state.SPEC].call("dense_1") is not None
    app.button(key="canvas__rewire").click().run()
    assert not app.exception
    spec = app.session_state[state.SPEC]
    assert spec.call("dense_1") is None and spec.call("dense_2").inputs == ["dense"]


def test_sharing_a_layer_on_the_canvas_asks_for_the_new_call_input() -> None:
    app = _send(_app("shared_embedding"), {"kind": "share", "node": "feat1"})
    assert not app.exception
    assert app.button(key="canvas__share_go").disabled
    app.multiselect(key="canvas__share_inputs").set_value(["input1"]).run()
    app.button(key="canvas__share_go").click().run()
    assert not app.exception
    new_call = app.session_state[state.SPEC].calls[-1]
    assert new_call.layer == "share_embedding" and new_call.inputs == ["input1"]


def test_a_refused_canvas_edit_says_why_and_changes_nothing() -> None:
    app = _send(_app("multi_io"), {"kind": "connect", "source": "lstm", "target": "body"})
    assert not app.exception
    assert "'body' is an Input: it starts the graph and takes no inputs" in app.warning[0].value
    assert app.session_state[state.SPEC].to_dict() == load_preset("multi_io").to_dict()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "empty"},
        {
            "name": "dangling",
            "layers": [{"id": "d", "type": "Dense", "config": {"units": 2}}],
            "calls": [{"id": "d", "inputs": ["ghost", "d"]}],
        },
        {
            "name": "loop",
            "layers": [{"id": "a", "type": "Dense"}, {"id": "b", "type": "Dense"}],
            "calls": [{"id": "a", "inputs": ["b"]}, {"id": "b", "inputs": ["a"]}],
            "outputs": ["b"],
        },
        {
            "name": "duplicates",
            "layers": [{"id": "x", "type": "NoSuchLayer"}, {"id": "x", "type": "Dense"}],
            "calls": [{"id": "x", "inputs": []}, {"id": "x", "layer": "missing", "inputs": ["x"]}],
        },
    ],
)
def test_broken_specs_still_draw(data: dict) -> None:
    from studio.graph.spec import spec_from_dict

    spec = spec_from_dict(data)
    result = analyze(spec)
    nodes, edges = spec_to_canvas(spec, result, None)
    assert len(nodes) == len(spec.calls)
    assert all(node.errors for node in nodes)
    assert all(edge.source in {call.id for call in spec.calls} for edge in edges)

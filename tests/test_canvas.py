"""The canvas adapter's pure conversions: spec -> nodes and edges, canvas change -> new spec."""

from __future__ import annotations

from functools import cache

import pytest

from components.canvas import (
    CanvasRefusal,
    apply_canvas_change,
    layout_positions,
    positions_after_change,
    spec_to_canvas,
    unique_id,
)
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import GraphSpec
from studio.model.build import BuildResult, analyze


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
    spec = apply_canvas_change(load_preset("mnist_mlp"), {"kind": "delete", "edges": ["dense_1/0"]})
    nodes, edges = spec_to_canvas(spec, analyze(spec), None)
    by_id = {node.id: node for node in nodes}
    assert any("needs exactly 1 input" in message for message in by_id["dense_1"].errors)
    assert len(edges) == 2


def test_add_edge_appends_to_the_target_inputs_and_returns_a_new_spec() -> None:
    spec = load_preset("multi_io")
    edited = apply_canvas_change(spec, {"kind": "add_edge", "source": "title", "target": "concatenate"})
    assert edited is not spec
    assert edited.call("concatenate").inputs == ["lstm_1", "lstm", "tag", "title"]
    assert spec.call("concatenate").inputs == ["lstm_1", "lstm", "tag"]
    second = apply_canvas_change(load_preset("vgg16_features"), {"kind": "add_node", "layer_type": "Concatenate"})
    wired = apply_canvas_change(second, {"kind": "add_edge", "source": "vgg16", "source_output": 3, "target": "concatenate"})
    assert wired.call("concatenate").inputs == ["vgg16:3"]


@pytest.mark.parametrize(
    ("key", "change", "message"),
    [
        ("mnist_mlp", {"source": "dense", "target": "dense"}, "wire it to itself"),
        ("mnist_mlp", {"source": "dense_2", "target": "dense"}, r"cycle: dense → dense_1 → dense_2 → dense"),
        ("multi_io", {"source": "lstm", "target": "body"}, "'body' is an Input node"),
        ("mnist_mlp", {"source": "img", "target": "dense_1"}, "takes at most 1 input.*delete that edge first"),
        ("mnist_mlp", {"source": "nowhere", "target": "dense"}, "no node 'nowhere'"),
    ],
)
def test_bad_edges_are_refused_with_a_clear_message(key: str, change: dict, message: str) -> None:
    spec = load_preset(key)
    with pytest.raises(CanvasRefusal, match=message):
        apply_canvas_change(spec, {"kind": "add_edge", **change})
    assert spec.to_dict() == load_preset(key).to_dict()


def test_delete_edges_by_position() -> None:
    edited = apply_canvas_change(load_preset("multi_io"), {"kind": "delete", "edges": ["concatenate/0", "concatenate/2"]})
    assert edited.call("concatenate").inputs == ["lstm"]
    with pytest.raises(CanvasRefusal, match="no edge"):
        apply_canvas_change(load_preset("multi_io"), {"kind": "delete", "edges": ["concatenate/7"]})


def test_delete_node_removes_its_edges_layer_and_model_io() -> None:
    spec = load_preset("multi_io")
    edited = apply_canvas_change(spec, {"kind": "delete", "nodes": ["lstm", "tag", "department"]})
    assert "lstm" not in _inputs(edited) and edited.layer("lstm") is None
    assert edited.call("concatenate").inputs == ["lstm_1"]
    assert edited.inputs == ["body", "title"]
    assert edited.outputs == ["priority"]
    assert len(spec.calls) == 10


def test_delete_one_call_of_a_shared_layer_keeps_the_layer() -> None:
    edited = apply_canvas_change(load_preset("shared_embedding"), {"kind": "delete", "nodes": ["feat2"]})
    assert edited.layer("share_embedding") is not None
    edited = apply_canvas_change(edited, {"kind": "delete", "nodes": ["feat1"]})
    assert edited.layer("share_embedding") is None


def test_move_changes_positions_only() -> None:
    spec = load_preset("mnist_mlp")
    change = {"kind": "move", "positions": {"dense": [400, 90]}}
    edited = apply_canvas_change(spec, change)
    assert edited.to_dict() == spec.to_dict()
    positions = positions_after_change(layout_positions(spec), change, spec, edited)
    assert positions["dense"] == (400.0, 90.0)
    assert positions["img"] == layout_positions(spec)["img"]
    assert positions_after_change(positions, {"kind": "layout"}, spec, edited) == {}


def test_add_node_gets_a_unique_keras_style_id_and_default_config() -> None:
    spec = load_preset("mnist_mlp")
    edited = apply_canvas_change(spec, {"kind": "add_node", "layer_type": "Dense", "inputs": ["dense_2"], "position": [10, 600]})
    assert edited.calls[-1].id == "dense_3" and edited.calls[-1].inputs == ["dense_2"]
    assert edited.layer("dense_3").config == {"units": 32}
    assert unique_id(edited, "dense") == "dense_4"
    positions = positions_after_change(layout_positions(spec), {"kind": "add_node", "position": [10, 600]}, spec, edited)
    assert positions["dense_3"] == (10.0, 600.0)
    pooled = apply_canvas_change(spec, {"kind": "add_node", "layer_type": "GlobalMaxPooling2D"})
    assert pooled.calls[-1].id == "global_max_pooling2d"
    added_input = apply_canvas_change(spec, {"kind": "add_node", "layer_type": "Input", "inputs": ["dense"]})
    assert added_input.inputs == ["img", "input"] and added_input.call("input").inputs == []
    with pytest.raises(CanvasRefusal, match="Unknown layer type 'Lambda'"):
        apply_canvas_change(spec, {"kind": "add_node", "layer_type": "Lambda"})


def test_new_nodes_are_placed_near_their_input_without_overlap() -> None:
    spec = load_preset("mnist_mlp")
    stored = layout_positions(spec)
    edited = apply_canvas_change(spec, {"kind": "add_node", "layer_type": "Dense", "inputs": ["dense_1"]})
    positions = layout_positions(edited, stored)
    assert {call_id: positions[call_id] for call_id in stored} == stored
    x, y = positions["dense_3"]
    assert y > stored["dense_1"][1]
    assert all(abs(x - ox) >= 210 or abs(y - oy) >= 90 for ox, oy in stored.values())


def test_share_layer_and_toggle_output() -> None:
    spec = load_preset("mnist_mlp")
    shared = apply_canvas_change(spec, {"kind": "share_layer", "node": "dense_1"})
    assert shared.calls[-1].layer == "dense_1" and shared.calls[-1].id == "dense_1_1"
    nodes, _ = spec_to_canvas(shared, None, None)
    assert {node.id: node.shared_with for node in nodes}["dense_1"] == ["dense_1_1"]
    with pytest.raises(CanvasRefusal, match="cannot be called again"):
        apply_canvas_change(spec, {"kind": "share_layer", "node": "img"})
    toggled = apply_canvas_change(spec, {"kind": "toggle_output", "node": "dense_1"})
    assert toggled.outputs == ["dense_2", "dense_1"]
    assert apply_canvas_change(toggled, {"kind": "toggle_output", "node": "dense_1"}).outputs == ["dense_2"]
    with pytest.raises(CanvasRefusal, match="Unknown canvas change 'explode'"):
        apply_canvas_change(spec, {"kind": "explode"})


def test_palette_and_canvas_render_in_apptest() -> None:
    from streamlit.testing.v1 import AppTest

    def script() -> None:
        import streamlit as st

        from components.canvas import render_canvas, render_palette
        from studio.graph.presets import load_preset

        spec = st.session_state.setdefault("spec", load_preset("mnist_mlp"))
        added = render_palette(spec, key="palette")
        if added is not None:
            st.session_state.spec = added
            st.rerun()
        render_canvas(spec, None, key="canvas")
        st.write(",".join(call.id for call in st.session_state.spec.calls))

    app = AppTest.from_function(script, default_timeout=60).run()
    assert not app.exception
    app.text_input(key="palette__query").input("pool").run()
    assert any("MaxPooling2D" in option for option in app.selectbox(key="palette__type").options)
    app.selectbox(key="palette__type").set_value("GlobalAveragePooling1D")
    app.selectbox(key="palette__source").set_value("dense_2")
    app.button(key="palette__add").click().run()
    assert not app.exception
    assert app.session_state["spec"].call("global_average_pooling1d").inputs == ["dense_2"]


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

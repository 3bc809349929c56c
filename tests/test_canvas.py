"""The canvas: the spec drawn as nodes and edges (pure), laid out; and its adapter applying intents in the app."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import pytest

from components import state
from studio.graph import blocks, edits, wiring
from studio.graph.intents import apply_intent
from studio.graph.layout import layout_positions
from studio.graph.naming import unique_id
from studio.graph.presets import load_preset, preset_names
from studio.graph.spec import GraphSpec, SpecError, spec_from_dict, spec_from_json
from studio.model.build import BuildResult, analyze, spec_key
from studio.model.canvas_view import palette, spec_to_canvas

FRONTEND = Path(__file__).resolve().parents[1] / "components" / "builder" / "canvas_frontend"
SOURCES = ("package.json", "package-lock.json", "build.mjs", "index.html", "src")  # as build.mjs hashes them


def _sources_hash() -> str:
    paths = sorted(
        path.relative_to(FRONTEND).as_posix()
        for name in SOURCES
        for path in ([FRONTEND / name] if (FRONTEND / name).is_file() else (FRONTEND / name).rglob("*"))
        if path.is_file()
    )
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.encode() + b"\0" + (FRONTEND / path).read_bytes() + b"\0")
    return digest.hexdigest()


def test_the_committed_bundle_is_the_build_of_the_committed_source() -> None:
    """build/manifest.json records the sources' hash at build time; rebuild with scripts/build_canvas.sh when this fails."""
    manifest = json.loads((FRONTEND / "build" / "manifest.json").read_text())
    assert manifest["sources_sha256"] == _sources_hash(), "canvas sources changed since the bundle was built: run scripts/build_canvas.sh"
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((FRONTEND / "build" / name).read_bytes()).hexdigest() == digest, f"build/{name} was changed by hand"
    assert set(manifest["files"]) == {"canvas.js", "canvas.css", "index.html"}
    package = json.loads((FRONTEND / "package.json").read_text())
    versions = {**package["dependencies"], **package["devDependencies"]}
    assert all(version[0].isdigit() for version in versions.values()), f"exact versions only: {versions}"
    assert versions["@xyflow/react"].startswith("12.")
    bundle = (FRONTEND / "build" / "canvas.js").read_text()
    page = (FRONTEND / "build" / "index.html").read_text()
    assert 'src="canvas.js"' in page and 'href="canvas.css"' in page and "//" not in page  # no CDN, nothing from the network
    assert not any(host in bundle for host in ("unpkg.com", "jsdelivr", "cdnjs", "fonts.googleapis")), "the canvas loads nothing at runtime"
    assert len(bundle) < 2_000_000
    assert "node_modules/" in (FRONTEND.parents[2] / ".gitignore").read_text()


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


def test_positions_live_in_the_spec_and_survive_json_exactly() -> None:
    spec = apply_intent(load_preset("mnist_mlp"), {"kind": "move", "positions": {"dense": [400, 90]}})
    spec = apply_intent(spec, {"kind": "layout", "direction": "LR"})
    spec = apply_intent(spec, {"kind": "move", "positions": {"img": [-10, 5]}})
    assert spec.layout["direction"] == "LR" and spec.layout["positions"]["img"] == [-10, 5]
    assert spec_from_json(spec.to_json()).to_dict() == spec.to_dict()
    assert layout_positions(spec)["img"] == (-10.0, 5.0)
    assert spec.model_dict() == load_preset("mnist_mlp").model_dict()
    assert spec_key(spec) == spec_key(load_preset("mnist_mlp")), "the layout never makes Keras build again"
    renamed = edits.rename(spec, "dense", "hidden")
    assert renamed.layout["positions"]["hidden"] == spec.layout["positions"]["dense"]


@pytest.mark.parametrize(
    "layout",
    [{"direction": "up"}, {"positions": {"a": [1]}}, {"positions": {"a": ["x", 1]}}, {"zoom": 2}, [1, 2]],
)
def test_a_bad_layout_is_refused_with_a_clear_message(layout: object) -> None:
    data = {**load_preset("mnist_mlp").to_dict(), "layout": layout}
    with pytest.raises(SpecError, match="layout"):
        spec_from_dict(data)


def test_left_right_layout_puts_depth_along_x() -> None:
    spec = apply_intent(load_preset("multi_io"), {"kind": "layout", "direction": "LR"})
    positions = layout_positions(spec)
    assert positions["title"][0] < positions["embedding_1"][0] < positions["lstm_1"][0] < positions["concatenate"][0]
    assert positions["priority"][0] == positions["department"][0] and positions["priority"][1] != positions["department"][1]


def test_add_node_gets_a_unique_keras_style_id_and_default_config() -> None:
    spec = load_preset("mnist_mlp")
    edited = apply_intent(spec, {"kind": "add_node", "layer_type": "Dense", "inputs": ["dense_2"], "position": [10, 600]})
    assert edited.calls[-1].id == "dense_3" and edited.calls[-1].inputs == ["dense_2"]
    assert edited.layer("dense_3").config == {"units": 32}
    assert unique_id(edited, "dense") == "dense_4"
    assert layout_positions(edited)["dense_3"] == (10.0, 600.0)
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
    from components.builder.canvas import render_canvas
    from studio.graph.presets import load_preset

    state.init_state()
    if not state.current_spec().calls:
        state.replace_spec(load_preset(st.query_params.get("preset", "mnist_mlp")), "open", record=False)
    spec = state.current_spec()
    if render_canvas(spec, None, key="canvas"):
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


def test_selecting_undo_and_redo_from_the_canvas() -> None:
    app = _send(_app(), {"kind": "select", "node": "dense_1"})
    assert not app.exception
    assert app.session_state[state.SELECTED] == "dense_1" and app.session_state[state.RIGHT_TAB] == "Node"
    app = _send(app, {"kind": "set_param", "node": "dense_1", "name": "units", "value": 128}, number=2)
    assert app.session_state[state.SPEC].layer("dense_1").config["units"] == 128
    app = _send(app, {"kind": "undo"}, number=3)
    assert app.session_state[state.SPEC].to_dict() == load_preset("mnist_mlp").to_dict()
    app = _send(app, {"kind": "redo"}, number=4)
    assert app.session_state[state.SPEC].layer("dense_1").config["units"] == 128


def test_moves_change_the_layout_without_an_undo_step_and_new_nodes_are_selected() -> None:
    app = _send(_app(), {"kind": "move", "positions": {"dense": [400, 90]}})
    assert not app.exception
    spec = app.session_state[state.SPEC]
    assert spec.layout["positions"]["dense"] == [400, 90] and spec.model_dict() == load_preset("mnist_mlp").model_dict()
    assert app.session_state[state.UNDO] == []
    app = _send(app, {"kind": "add_node", "layer_type": "Dropout", "inputs": ["dense_2"], "position": [0, 900]}, number=2)
    spec = app.session_state[state.SPEC]
    assert spec.call("dropout").inputs == ["dense_2"] and spec.layout["positions"]["dropout"] == [0, 900]
    assert app.session_state[state.SELECTED] == "dropout"
    assert spec.outputs == ["dropout"]
    assert any("Outputs now: dropout (was dense_2)" in notice for _, notice in app.session_state[state.NOTICES])


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
    assert "Cannot delete 'dense_1': dense_2 uses its output" in app.warning[0].value.replace("\\", "")
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
    assert "'body' is an Input: it starts the graph and takes no inputs" in app.warning[0].value.replace("\\", "")
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


def test_nodes_show_key_parameters_outputs_pins_and_hints() -> None:
    spec = apply_intent(load_preset("mnist_mlp"), {"kind": "toggle_output", "node": "dense"})  # pin an inner node
    spec = apply_intent(spec, {"kind": "add_node", "layer_type": "Dense", "inputs": ["dense"], "as_output": False})
    nodes, _ = spec_to_canvas(spec, analyze(spec))
    by_id = {node.id: node for node in nodes}
    assert [(param["name"], param["value"]) for param in by_id["dense"].key_params] == [("units", 32), ("activation", "relu")]
    assert by_id["dense"].pinned == ["dense"] and by_id["dense_2"].output_refs == ["dense_2"] and by_id["dense_2"].pinned == []
    assert by_id["dense_3"].unpinned == ["dense_3"] and by_id["dense_3"].output_refs == []
    assert [param["name"] for param in by_id["img"].key_params] == ["shape", "dtype"]
    image = apply_intent(load_preset("mnist_mlp"), {"kind": "add_node", "layer_type": "Input", "config": {"shape": [28, 28, 1]}})
    image = apply_intent(image, {"kind": "add_node", "layer_type": "Dense", "inputs": ["input"]})
    nodes, _ = spec_to_canvas(image, analyze(image))
    hinted = next(node for node in nodes if node.id == "dense_3")
    assert hinted.hints and "Flatten" in hinted.hints[0] and "(None, 28, 28, 1)" in hinted.hints[0]


def test_applications_get_one_handle_per_exposed_output_and_nested_models_show_their_inside() -> None:
    nodes, _ = spec_to_canvas(load_preset("vgg16_features"), _built("vgg16_features"))
    vgg = next(node for node in nodes if node.layer_type == "VGG16")
    assert vgg.output_count == 23 and len(vgg.output_labels) == 23 and vgg.output_labels[0] != "output 0"
    nodes, _ = spec_to_canvas(load_preset("autoencoder"), _built("autoencoder"))
    encoder = next(node for node in nodes if node.layer_type == "Model")
    assert encoder.inner and " · Conv2D" in " ".join(encoder.inner)


def test_the_palette_lists_favourites_every_group_and_the_presets() -> None:
    groups = palette()
    names = [group["group"] for group in groups]
    assert names[0] == "Favourites" and names[-1] == "Models" and "Merge" in names and "Applications" in names
    assert [item["type"] for item in groups[0]["items"]][:2] == ["Input", "Dense"]
    assert {item["preset"] for item in groups[-1]["items"]} == set(preset_names())
    assert all(item["search"] == item["search"].lower() for group in groups for item in group["items"])

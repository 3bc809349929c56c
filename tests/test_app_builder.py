"""AppTest of the builder: hand wiring through the forms, problems on their nodes, undo/redo, projects,
and bad input that must never break the page or lose work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shown_text import shown
from streamlit.testing.v1 import AppTest

from components import state
from studio.graph.edits import empty_spec
from studio.graph.presets import load_preset
from studio.model.build import spec_key

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 300


def open_builder(spec=None, left: str | None = None, right: str | None = None) -> AppTest:
    """The builder page with `spec` as the current model (the app runs once first, as a visit would)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = spec if spec is not None else empty_spec()
    at.run()
    if left:
        at.session_state[state.LEFT_TAB] = left
    if right:
        at.session_state[state.RIGHT_TAB] = right
    at.switch_page("pages/builder.py").run()
    assert not at.exception
    return at


def wkey(at: AppTest, name: str) -> str:
    """The key of a widget showing spec content, at the current revision of the spec."""
    return f"{name}@{at.session_state[state.REVISION]}"


def current(at: AppTest):
    return at.session_state[state.SPEC]


def submit(at: AppTest, label: str) -> AppTest:
    """Click a form's submit button by its label and rerun."""
    buttons = [button for button in at.button if button.label == label]
    assert buttons, f"no button {label!r}; buttons: {[button.label for button in at.button]}"
    buttons[0].click().run()
    assert not at.exception
    return at


def block(at: AppTest, key: str):
    """The container with this key (st.container(key=...))."""
    found = []

    def visit(node) -> None:
        if getattr(node, "key", None) == key:
            found.append(node)
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)
    assert found, f"no container {key!r}"
    return found[0]


def errors_in(node) -> list[str]:
    return [shown(element.value) for element in node.error]


@pytest.fixture
def downloads(monkeypatch):
    """Read what a download button would send: records the media files AppTest stores."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test as app_test_module

    storages: list[MemoryMediaFileStorage] = []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            storages.append(self)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Recording)

    def read(button) -> bytes:
        return storages[-1].get_file(button.proto.url.rsplit("/", 1)[-1]).content

    return read


# --- hand wiring --------------------------------------------------------------------------------


def add_layer(at: AppTest, layer_type: str, **fields) -> AppTest:
    """Choose a type in the palette, fill its form fields (widget key suffix -> value), press Add."""
    at.selectbox(key="builder.add_type").select(layer_type).run()
    for name, value in fields.items():
        key = wkey(at, "builder.add_id" if name == "id" else f"builder.add_param.{layer_type}.{name}")
        widget = next(w for kind in ("text_input", "number_input", "selectbox", "checkbox") for w in getattr(at, kind) if w.key == key)
        widget.set_value(value)
    return submit(at, f"Add {layer_type}")


def test_tutorial_mnist_mlp_wired_by_hand_gives_27882_parameters():
    at = open_builder()
    assert at.session_state[state.RIGHT_TAB] == "Add"
    add_layer(at, "Input", id="img", shape="784")
    add_layer(at, "Dense", units=32, activation="relu")
    add_layer(at, "Dense", units=64, activation="relu")
    add_layer(at, "Dense", units=10, activation="softmax")
    spec = current(at)
    assert [(call.id, call.inputs) for call in spec.calls] == [
        ("img", []), ("dense", ["img"]), ("dense_1", ["dense"]), ("dense_2", ["dense_1"]),
    ]
    assert spec.inputs == ["img"] and spec.outputs == ["dense_2"]
    assert [metric.value for metric in at.metric if metric.label == "Total params"] == ["27,882"]
    assert [metric.value for metric in at.metric if metric.label == "Status"] == ["Builds ✓"]
    assert spec.to_dict()["layers"] == load_preset("mnist_mlp").to_dict()["layers"]


def test_each_node_shows_its_shape_and_parameters():
    at = open_builder(load_preset("mnist_mlp"), left="Nodes")
    row = block(at, "nodeok_dense")
    assert "`(None, 32)`" in [markdown.value for markdown in row.markdown]
    assert "25,120" in [markdown.value for markdown in row.markdown]


def test_shape_mismatch_shows_keras_message_on_that_node():
    at = open_builder(load_preset("mnist_mlp"), left="Nodes", right="Add")
    at.selectbox(key="builder.add_type").select("Add").run()
    at.multiselect(key=wkey(at, "builder.add_inputs")).set_value(["dense", "dense_1"])
    submit(at, "Add Add")
    assert current(at).call("add").inputs == ["dense", "dense_1"]
    row_errors = errors_in(block(at, "nodebad_add"))
    assert row_errors and "(None, 32), (None, 64)" in row_errors[0]
    assert not errors_in(block(at, "nodeok_dense_1")), "the other nodes stay clean"
    problems = block(at, "builder_problems")
    assert any("add" in markdown.value and "(None, 32)" in markdown.value for markdown in problems.markdown)
    # "Show" opens the failing node in the editor, with the same message on top.
    at.button(key="builder.list.problem_0").click().run()
    assert at.session_state[state.RIGHT_TAB] == "Node" and at.session_state[state.SELECTED] == "add"
    assert any("(None, 32), (None, 64)" in error.value for error in at.error)


def test_a_bad_parameter_is_shown_on_its_node_and_undo_restores():
    at = open_builder(load_preset("mnist_mlp"), left="Nodes")
    at.session_state[state.SELECTED] = "dense"
    at.session_state[state.RIGHT_TAB] = "Node"
    at.run()
    at.number_input(key=wkey(at, "builder.edit.dense.param.units")).set_value(0)
    submit(at, "Apply parameters")
    assert current(at).layer("dense").config["units"] == 0
    assert any("positive integer" in message for message in errors_in(block(at, "nodebad_dense")))
    assert [metric.value for metric in at.metric if metric.label == "Status"] != ["Builds ✓"]
    at.button(key="builder.undo").click().run()
    assert current(at).layer("dense").config["units"] == 32
    assert [metric.value for metric in at.metric if metric.label == "Status"] == ["Builds ✓"]


def test_unparseable_text_is_refused_on_its_field_and_nothing_changes():
    at = open_builder(load_preset("autoencoder"), right="Node")
    at.session_state[state.SELECTED] = "img"
    at.run()
    before = spec_key(current(at))
    at.text_input(key=wkey(at, "builder.edit.img.param.shape")).input("twenty-eight")
    submit(at, "Apply parameters")
    assert spec_key(current(at)) == before
    messages = [shown(error.value) for error in at.error]
    assert any("`shape` of Input must be a shape" in message for message in messages)
    assert any("Nothing was changed" in message for message in messages)
    assert at.text_input(key=wkey(at, "builder.edit.img.param.shape")).value == "twenty-eight", "the typed text is kept"


def test_undo_and_redo():
    at = open_builder()
    add_layer(at, "Input", id="img", shape="784")
    add_layer(at, "Dense", units=8)
    assert len(current(at).calls) == 2
    at.button(key="builder.undo").click().run()
    assert [call.id for call in current(at).calls] == ["img"]
    at.button(key="builder.undo").click().run()
    assert current(at).calls == []
    assert at.button(key="builder.undo").disabled
    at.button(key="builder.redo").click().run()
    at.button(key="builder.redo").click().run()
    assert [call.id for call in current(at).calls] == ["img", "dense"]
    assert at.button(key="builder.redo").disabled


def test_rename_delete_and_outputs_from_the_node_editor():
    at = open_builder(load_preset("mnist_mlp"), right="Node")
    at.session_state[state.SELECTED] = "dense_1"
    at.run()
    at.text_input(key=wkey(at, "builder.edit.dense_1.new_id")).set_value("hidden")
    at.button(key=wkey(at, "builder.edit.dense_1.rename_button")).click().run()
    assert current(at).call("dense_2").inputs == ["hidden"] and at.session_state[state.SELECTED] == "hidden"
    at.button(key=wkey(at, "builder.edit.hidden.delete_button")).click().run()
    assert any("Cannot delete 'hidden': dense_2 uses its output" in shown(error.value) for error in at.error)
    assert current(at).call("hidden") is not None
    at.radio(key=wkey(at, "builder.edit.hidden.delete_mode")).set_value("rewire")
    at.button(key=wkey(at, "builder.edit.hidden.delete_button")).click().run()
    assert current(at).call("hidden") is None and current(at).call("dense_2").inputs == ["dense"]
    at.session_state[state.SELECTED] = "dense"
    at.run()
    at.checkbox(key=wkey(at, "builder.edit.dense.output_dense")).check().run()
    assert current(at).outputs == ["dense_2", "dense"]


def test_wiring_a_node_to_itself_is_refused_on_the_wiring_form():
    at = open_builder(load_preset("mnist_mlp"), right="Node")
    at.session_state[state.SELECTED] = "dense_1"
    at.run()
    before = spec_key(current(at))
    at.multiselect(key=wkey(at, "builder.edit.dense_1.inputs")).set_value(["dense_1"])
    submit(at, "Apply wiring")
    assert spec_key(current(at)) == before
    assert any("cannot take its own output" in error.value for error in at.error)


def test_inputs_keep_their_order_and_can_be_reordered():
    at = open_builder(load_preset("mnist_mlp"), right="Add")
    at.selectbox(key="builder.add_type").select("Concatenate").run()
    at.multiselect(key=wkey(at, "builder.add_inputs")).set_value(["dense_1", "dense"])
    submit(at, "Add Concatenate")
    assert current(at).call("concatenate").inputs == ["dense_1", "dense"]
    at.session_state[state.RIGHT_TAB] = "Node"
    at.run()
    at.button(key=wkey(at, "builder.edit.concatenate.down_0")).click().run()
    assert current(at).call("concatenate").inputs == ["dense", "dense_1"]


def test_shared_layer_nested_model_and_application_from_the_add_panel():
    at = open_builder()
    add_layer(at, "Input", id="img", shape="28, 28, 1")
    at.session_state[state.ADD_TAB] = "Nested model"
    at.run()
    at.selectbox(key=wkey(at, "builder.nested_preset")).select("encoder")
    at.button(key="builder.nested_add").click().run()
    at.selectbox(key=wkey(at, "builder.nested_preset")).select("decoder")
    at.button(key="builder.nested_add").click().run()
    spec = current(at)
    assert [call.id for call in spec.calls] == ["img", "encoder", "decoder"] and spec.outputs == ["decoder"]
    assert [metric.value for metric in at.metric if metric.label == "Total params"] == ["28,241"]
    at.session_state[state.ADD_TAB] = "Shared layer"
    at.run()
    at.selectbox(key=wkey(at, "builder.shared_layer")).select("encoder")
    at.multiselect(key=wkey(at, "builder.shared_inputs")).set_value(["decoder"])
    at.text_input(key=wkey(at, "builder.shared_id")).set_value("re_encoded")
    at.button(key="builder.shared_add").click().run()
    spec = current(at)
    assert spec.call("re_encoded").layer == "encoder" and spec.outputs == ["re_encoded"]
    assert [metric.value for metric in at.metric if metric.label == "Total params"] == ["28,241"], "shared weights count once"
    at.session_state[state.ADD_TAB] = "Application"
    at.run()
    at.selectbox(key=wkey(at, "builder.app_type")).select("VGG16").run()
    at.checkbox(key=wkey(at, "builder.app_include_top")).uncheck()
    at.text_input(key=wkey(at, "builder.app_input_shape")).set_value("32, 32, 3").run()
    at.multiselect(key=wkey(at, "builder.app_outputs")).set_value(["block1_pool", "block3_pool"])
    at.multiselect(key=wkey(at, "builder.app_frozen")).set_value(["block1_conv1"])
    at.button(key="builder.app_add").click().run()
    spec = current(at)
    assert spec.layer("vgg16").config["outputs"] == ["block1_pool", "block3_pool"]
    assert "vgg16" in spec.inputs and spec.outputs[-2:] == ["vgg16", "vgg16:1"]
    assert not at.exception


# --- projects -----------------------------------------------------------------------------------


def test_save_project_downloads_the_spec_json(downloads):
    at = open_builder(load_preset("multi_io"))
    button = at.get("download_button")
    saved = [element for element in button if element.proto.label.startswith("Save project")]
    assert saved
    data = downloads(saved[0])
    assert json.loads(data) == load_preset("multi_io").to_dict()


def test_open_project_by_upload():
    at = open_builder(load_preset("mnist_mlp"))
    uploader = at.file_uploader[0]
    uploader.upload("autoencoder.json", load_preset("autoencoder").to_json().encode(), "application/json").run()
    assert not at.exception
    assert current(at).name == "autoencoder"
    assert at.session_state[state.SPEC_SOURCE] == "file autoencoder.json"
    at.button(key="builder.undo").click().run()
    assert current(at).name == "mnist model"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.json", b"this is not json", "Not valid JSON"),
        ("list.json", b"[1, 2]", "must be a JSON object"),
        ("picture.json", b"\x89PNG\r\n\x1a\n\x00\x00", "not text"),
        ("model.json", json.dumps({"name": "m", "layers": [{"type": "Dense"}]}).encode(), "needs a non-empty string `id`"),
    ],
)
def test_open_project_that_is_not_a_spec_keeps_the_work(name, data, message):
    at = open_builder(load_preset("mnist_mlp"))
    before = spec_key(current(at))
    at.file_uploader[0].upload(name, data, "application/json").run()
    assert not at.exception
    assert spec_key(current(at)) == before
    errors = [shown(error.value) for error in at.error]
    assert any(message in error and "Your current work is unchanged" in error for error in errors), errors


def test_pasting_a_10000_node_spec_names_the_limit():
    at = open_builder(load_preset("mnist_mlp"))
    calls = [{"id": "x", "layer": "x", "inputs": []}] + [{"id": f"n{i}", "layer": "d", "inputs": ["x"]} for i in range(10_000)]
    huge = {"name": "huge", "layers": [{"id": "x", "type": "Input", "config": {"shape": [3]}},
                                       {"id": "d", "type": "Dense", "config": {"units": 1}}],
            "calls": calls, "inputs": ["x"], "outputs": ["n0"]}
    at.text_area(key=wkey(at, "builder.paste_text")).set_value(json.dumps(huge))
    at.button(key="builder.open_pasted").click().run()
    assert not at.exception
    assert current(at).name == "mnist model"
    assert any("10,001 nodes; the limit is max nodes per graph = 500" in error.value for error in at.error)


def test_an_empty_graph_and_deleting_everything_are_fine():
    at = open_builder(load_preset("mnist_mlp"), left="Summary", right="Node")
    at.session_state[state.SELECTED] = "img"
    at.run()
    at.radio(key=wkey(at, "builder.edit.img.delete_mode")).set_value("cascade")
    at.button(key=wkey(at, "builder.edit.img.delete_button")).click().run()
    assert current(at).calls == [] and current(at).layers == []
    assert not at.exception
    assert any("This model is empty" in info.value for info in at.info)
    for view in ("Diagram", "Nodes", "Code"):
        at.session_state[state.LEFT_TAB] = view
        at.run()
        assert not at.exception


def test_a_broken_spec_in_state_never_breaks_the_page():
    spec = load_preset("mnist_mlp")
    spec.calls[3].inputs = ["dense_2"]  # wired to itself, as a hand-edited file could say
    spec.layers[1].config = {"units": "many"}
    spec.outputs.append("ghost")
    at = open_builder(spec, left="Nodes")
    assert not at.exception
    assert any("wired to itself" in message for message in errors_in(block(at, "nodebad_dense_2")))
    assert any("positive integer" in message for message in errors_in(block(at, "nodebad_dense")))
    assert any("ghost" in markdown.value for markdown in block(at, "builder_problems").markdown)
    for view in ("Diagram", "Summary", "Code"):
        at.session_state[state.LEFT_TAB] = view
        at.run()
        assert not at.exception, view


def test_an_unknown_layer_type_is_reported_on_its_node():
    spec = load_preset("mnist_mlp")
    spec.layers[2].type = "Dense3000"
    at = open_builder(spec, left="Nodes", right="Node")
    at.session_state[state.SELECTED] = "dense_1"
    at.run()
    assert not at.exception
    assert any("unknown layer type 'Dense3000'" in message for message in errors_in(block(at, "nodebad_dense_1")))
    assert any("is not a layer type this app knows" in warning.value for warning in at.warning)
    at.radio(key=wkey(at, "builder.edit.dense_1.delete_mode")).set_value("rewire")
    at.button(key=wkey(at, "builder.edit.dense_1.delete_button")).click().run()
    assert [metric.value for metric in at.metric if metric.label == "Status"] == ["Builds ✓"]


@pytest.mark.expected_app_failure
def test_a_builder_crash_is_shown_kindly_and_recorded_for_tests(monkeypatch) -> None:
    import components.builder.node_list

    def broken(*_args, **_kwargs):
        raise RuntimeError("the problem list broke")

    monkeypatch.setattr(components.builder.node_list, "render_problems", broken)
    at = open_builder(load_preset("mnist_mlp"))
    assert any("Something went wrong while drawing the builder" in error.value for error in at.error)
    assert at.session_state[state.FAILURES] == [{"where": "builder", "error": "RuntimeError", "message": "the problem list broke"}]

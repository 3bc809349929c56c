"""Diagrams: Keras's drawing of built models, the spec drawing of broken ones, PNG/SVG rendering."""

from __future__ import annotations

import shutil
import subprocess

import pydot
import pytest

from studio.graph.presets import load_preset
from studio.graph.spec import spec_from_dict
from studio.io import diagram
from studio.io.diagram import (
    FAILED_FILL,
    NOT_BUILT_FILL,
    DiagramError,
    DiagramOptions,
    diagram_dot,
    format_for_path,
    graphviz_available,
    model_dot,
    render_diagram,
    render_dot_text,
    spec_dot,
)
from studio.model.build import analyze, build_model

needs_graphviz = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed")


def _spec(layers: list[tuple[str, str, dict]], calls: list[tuple[str, str, list[str]]], inputs: list[str], outputs: list[str]):
    return spec_from_dict(
        {
            "name": "broken",
            "layers": [{"id": layer_id, "type": layer_type, "config": config} for layer_id, layer_type, config in layers],
            "calls": [{"id": call_id, "layer": layer_id, "inputs": refs} for call_id, layer_id, refs in calls],
            "inputs": inputs,
            "outputs": outputs,
        }
    )


def _parsed(dot_text: str) -> pydot.Dot:
    graphs = pydot.graph_from_dot_data(dot_text)
    assert graphs, "pydot could not parse the DOT text"
    return graphs[0]


def _node_by_first_label_line(graph: pydot.Dot, first_line: str) -> pydot.Node:
    for node in graph.get_nodes():
        label = (node.get("label") or "").strip('"')
        if label.split("\\n")[0] == first_line:
            return node
    raise AssertionError(f"no node whose label starts with {first_line!r}")


def _unquoted(node: pydot.Node, attribute: str) -> str | None:
    value = node.get(attribute)
    return value.strip('"') if isinstance(value, str) else value


@pytest.fixture(scope="module")
def mnist_model():
    return build_model(load_preset("mnist_mlp"))


@pytest.fixture(scope="module")
def autoencoder_model():
    return build_model(load_preset("autoencoder"))


@pytest.fixture(scope="module")
def vgg_result():
    result = analyze(load_preset("vgg16_features"))
    assert result.ok, result.problems
    return result


@pytest.fixture(scope="module")
def dense_into_conv():
    """Dense gives a 1-D feature vector (None, 8); Conv2D needs 4-D input, so 'conv' fails and 'head' is never built."""
    spec = _spec(
        [
            ("img", "Input", {"shape": [16]}),
            ("dense", "Dense", {"units": 8}),
            ("conv", "Conv2D", {"filters": 4, "kernel_size": 3}),
            ("head", "Dense", {"units": 2}),
        ],
        [("img", "img", []), ("dense", "dense", ["img"]), ("conv", "conv", ["dense"]), ("head", "head", ["conv"])],
        ["img"],
        ["head"],
    )
    return spec, analyze(spec)


# --- model_dot (Keras's drawing) ------------------------------------------------------------------


def test_model_dot_names_every_layer_with_its_shapes(mnist_model):
    text = model_dot(mnist_model, DiagramOptions())
    for name in ("img", "dense", "dense_1", "dense_2"):
        assert f"<b>{name}</b>" in text
    assert "(None, 784)" in text and "(None, 32)" in text and "(None, 10)" in text
    assert "(Dense)" in text and "(InputLayer)" in text
    assert "dpi=72" in text
    _parsed(text)


def test_expand_nested_draws_the_layers_inside_nested_models(autoencoder_model):
    expanded = model_dot(autoencoder_model, DiagramOptions(expand_nested=True))
    collapsed = model_dot(autoencoder_model, DiagramOptions(expand_nested=False))
    assert "conv2d_transpose_3" in expanded and "cluster_encoder" in expanded and "cluster_decoder" in expanded
    assert "conv2d_transpose_3" not in collapsed and "cluster_" not in collapsed
    assert "<b>encoder</b>" in collapsed and "<b>decoder</b>" in collapsed
    _parsed(expanded)


@pytest.mark.parametrize(
    ("options", "marker", "shown"),
    [
        (DiagramOptions(rankdir="LR"), "rankdir=LR", True),
        (DiagramOptions(show_shapes=False), "Output shape", False),
        (DiagramOptions(show_layer_names=False), "<b>dense_1</b>", False),
        (DiagramOptions(show_layer_activations=True), "Activation: <b>relu</b>", True),
        (DiagramOptions(show_dtype=True), "Output dtype: <b>float32</b>", True),
        (DiagramOptions(show_trainable=True), "<b>Trainable</b>", True),
        (DiagramOptions(dpi=144), "dpi=144", True),
    ],
)
def test_each_option_changes_the_keras_drawing(mnist_model, options, marker, shown):
    default = model_dot(mnist_model, DiagramOptions())
    text = model_dot(mnist_model, options)
    assert (marker in text) is shown
    assert (marker in default) is not shown


@pytest.mark.parametrize(("field", "value"), [("rankdir", "BT"), ("dpi", 0), ("dpi", 7.5)])
def test_diagram_options_reject_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        DiagramOptions(**{field: value})


def test_diagram_dot_draws_a_valid_spec_with_keras():
    text = diagram_dot(load_preset("mnist_mlp"))
    assert "(InputLayer)" in text and "<b>dense_2</b>" in text


def test_multi_output_application_is_drawn_flat(vgg_result):
    text = diagram_dot(vgg_result.spec, DiagramOptions(), vgg_result)
    assert "<b>block5_conv3</b>" in text and "<b>predictions</b>" in text and "(VGG16)" not in text
    _parsed(text)
    drawing = spec_dot(vgg_result.spec, DiagramOptions(), vgg_result)
    node = _node_by_first_label_line(_parsed(drawing), "vgg16")
    assert "(23 outputs)" in _unquoted(node, "label")
    assert "model output #1, #2, #3, ... (23 in all)" in _unquoted(node, "label")


# --- spec_dot (drawing of a spec that does not build) ----------------------------------------------


def test_shape_mismatch_marks_the_failing_node_and_the_ones_after_it(dense_into_conv):
    spec, result = dense_into_conv
    assert [problem.node for problem in result.problems] == ["conv"]
    text = diagram_dot(spec, DiagramOptions(), result)
    assert text == spec_dot(spec, DiagramOptions(), result)
    graph = _parsed(text)
    conv = _node_by_first_label_line(graph, "conv")
    assert _unquoted(conv, "fillcolor") == FAILED_FILL
    assert _unquoted(conv, "tooltip") == result.problems[0].message.splitlines()[0]
    assert "error: Conv2D cannot take (None, 8)" in _unquoted(conv, "label")
    head = _node_by_first_label_line(graph, "head")
    assert _unquoted(head, "fillcolor") == NOT_BUILT_FILL
    assert "model output #1" in _unquoted(head, "label") and _unquoted(head, "peripheries") == "2"
    dense = _node_by_first_label_line(graph, "dense")
    assert _unquoted(dense, "fillcolor") == "white" and "output: (None, 8)" in _unquoted(dense, "label")
    without_shapes = _parsed(spec_dot(spec, DiagramOptions(show_shapes=False), result))
    assert "output:" not in _unquoted(_node_by_first_label_line(without_shapes, "dense"), "label")


def test_incompatible_concatenate_is_marked_and_its_inputs_numbered():
    spec = _spec(
        [("left", "Input", {"shape": [4, 4]}), ("right", "Input", {"shape": [3, 5]}), ("join", "Concatenate", {})],
        [("left", "left", []), ("right", "right", []), ("join", "join", ["left", "right"])],
        ["left", "right"],
        ["join"],
    )
    result = analyze(spec)
    assert [problem.node for problem in result.problems] == ["join"]
    graph = _parsed(spec_dot(spec, DiagramOptions(), result))
    join = _node_by_first_label_line(graph, "join")
    assert _unquoted(join, "fillcolor") == FAILED_FILL
    names = {node.get_name(): _unquoted(node, "label").split("\\n")[0] for node in graph.get_nodes() if node.get("label")}
    edges = {(names[edge.get_source()], names[edge.get_destination()]): _unquoted(edge, "label") for edge in graph.get_edges()}
    assert edges == {("left", "join"): "input 0", ("right", "join"): "input 1"}


def test_shared_layer_calls_share_a_colour_and_say_so():
    spec = load_preset("shared_embedding")
    graph = _parsed(spec_dot(spec, DiagramOptions(), analyze(spec)))
    first, second = (_node_by_first_label_line(graph, call_id) for call_id in ("feat1", "feat2"))
    assert "shared: layer share_embedding (call 1 of 2)" in _unquoted(first, "label")
    assert "shared: layer share_embedding (call 2 of 2)" in _unquoted(second, "label")
    assert _unquoted(first, "fillcolor") == _unquoted(second, "fillcolor") != "white"
    assert _unquoted(_node_by_first_label_line(graph, "input1"), "fillcolor") == "white"


def test_structural_problems_are_drawn_without_a_build():
    spec = _spec(
        [("img", "Input", {"shape": [4]}), ("dense", "Dense", {"units": 2}), ("spare", "Dense", {"units": 1})],
        [("img", "img", []), ("dense", "dense", ["img", "ghost:1"])],
        ["img"],
        [],
    )
    text = spec_dot(spec)
    graph = _parsed(text)
    missing = _node_by_first_label_line(graph, "missing: ghost")
    assert _unquoted(missing, "style") == "dashed"
    assert _unquoted(_node_by_first_label_line(graph, "dense"), "fillcolor") == FAILED_FILL
    spare = _node_by_first_label_line(graph, "layer spare")
    assert "never called" in _unquoted(spare, "label") and _unquoted(spare, "fillcolor") == FAILED_FILL
    title = graph.get_attributes().get("label") or graph.get_graph_defaults()[0]["label"]
    assert "the model has no outputs" in title
    assert "input 1, from output 1" in text


def test_odd_characters_are_escaped_into_valid_dot():
    spec = load_preset("mnist_mlp")
    spec.name = 'say "hi" \\ back\nslash'
    spec.layers[1].type = 'Dense"Weird'
    text = spec_dot(spec)
    graph = _parsed(text)
    assert _node_by_first_label_line(graph, "dense")
    if graphviz_available():
        completed = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True, timeout=60, check=False)
        assert completed.returncode == 0, completed.stderr
        assert b"say &quot;hi&quot;" in completed.stdout


# --- rendering -------------------------------------------------------------------------------------


def test_dot_format_needs_no_graphviz(monkeypatch, mnist_model):
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    assert graphviz_available() is False
    assert render_diagram(mnist_model, "dot").decode().startswith("digraph G {")
    assert render_diagram(load_preset("mnist_mlp"), "dot").decode().startswith("digraph G {")


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_missing_graphviz_is_a_clear_diagram_error(monkeypatch, mnist_model, fmt):
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    for subject in (mnist_model, load_preset("mnist_mlp")):
        with pytest.raises(DiagramError) as caught:
            render_diagram(subject, fmt)
        message = str(caught.value)
        assert "Graphviz is not installed" in message and fmt.upper() in message
        assert "apt-get install graphviz" in message and "brew install graphviz" in message and "winget install graphviz" in message


def test_unknown_format_and_suffix_are_diagram_errors(mnist_model):
    with pytest.raises(DiagramError, match="Unknown diagram format 'pdf'; expected one of: dot, png, svg"):
        render_diagram(mnist_model, "pdf")
    with pytest.raises(DiagramError, match="from its suffix '.txt'"):
        format_for_path("model.txt")
    with pytest.raises(DiagramError, match="GraphSpec or a keras.Model. Received: str"):
        render_diagram("mnist_mlp", "dot")
    assert [format_for_path(name) for name in ("a.dot", "b.GV", "c.png", "d.svg")] == ["dot", "dot", "png", "svg"]


@needs_graphviz
def test_png_and_svg_of_a_model(mnist_model, autoencoder_model):
    png = render_diagram(mnist_model, "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    svg = render_diagram(autoencoder_model, "svg", DiagramOptions(expand_nested=True, rankdir="LR"))
    assert b"<svg" in svg and b"conv2d_transpose_3" in svg


@needs_graphviz
def test_png_and_svg_of_a_spec_that_does_not_build(dense_into_conv):
    spec, result = dense_into_conv
    assert render_diagram(spec, "png", result=result).startswith(b"\x89PNG")
    svg = render_diagram(spec, "svg", result=result)
    assert b"<svg" in svg and b"error: Conv2D cannot take" in svg and FAILED_FILL.encode() in svg


@needs_graphviz
def test_large_application_renders(vgg_result):
    svg = render_diagram(vgg_result.model, "svg")
    assert b"<svg" in svg and b"block5_pool" in svg


@needs_graphviz
def test_graphviz_failure_is_a_diagram_error():
    with pytest.raises(DiagramError, match="Graphviz failed to draw the diagram as SVG"):
        render_dot_text("digraph { a -> }", "svg")


def test_graphviz_hint_names_every_platform():
    commands = ("apt-get install graphviz", "brew install graphviz", "winget install graphviz")
    assert all(command in diagram.INSTALL_HINT for command in commands)


def test_the_app_falls_back_to_the_spec_drawing_when_drawing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from components import cache

    spec = load_preset("mnist_mlp")
    spec.name = "drawing that fails"  # a spec no other test caches
    options = DiagramOptions()

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("pydot is broken")

    monkeypatch.setattr(diagram, "diagram_dot", broken)
    dot_text, failure = cache.diagram_dot_or_spec_drawing(spec, options, analyze(spec))
    assert failure == "RuntimeError: pydot is broken"
    assert dot_text == spec_dot(spec, options) and "dense_2" in dot_text
    monkeypatch.undo()
    dot_text, failure = cache.diagram_dot_or_spec_drawing(spec, options, analyze(spec))
    assert failure is None and "(InputLayer)" in dot_text  # Keras's own drawing again

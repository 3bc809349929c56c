"""The one shape formatter (studio.graph.shapes): Keras's summary notation, whatever the size types, and the views that use it."""

from __future__ import annotations

import numpy as np
import pytest

from studio.graph.shapes import MAX_SHAPES_SHOWN, shape_text, shapes_text


@pytest.mark.parametrize(
    ("shape", "text"),
    [((None, 32), "(None, 32)"), ((784,), "(784,)"), ((), "()"), ((None, 28, 28, 1), "(None, 28, 28, 1)"), ([None, 8], "(None, 8)")],
)
def test_one_shape_reads_like_a_python_tuple(shape, text: str) -> None:
    assert shape_text(shape) == text


def test_python_ints_read_as_keras_summary_does() -> None:
    for shape in [(None, 32), (784,), (None, None, 64)]:
        assert shape_text(shape) == str(shape)


def test_numpy_sizes_read_as_plain_numbers() -> None:
    shape = tuple(np.array([28, 28, 1])[:2]) + (np.int32(3),)
    assert str(shape) != "(28, 28, 3)"  # what str(tuple) would have shown (numpy 2: np.int64(28))
    assert shape_text(shape) == "(28, 28, 3)"


def test_several_shapes_are_joined_and_long_lists_cut() -> None:
    assert shapes_text([(None, 32), (None, 10)]) == "(None, 32), (None, 10)"
    assert shapes_text([(None, i) for i in range(MAX_SHAPES_SHOWN)]) == "(None, 0), (None, 1), (None, 2)"
    assert shapes_text([(None, 8)] * 23) == "(None, 8), (None, 8), ... (23 outputs)"
    assert shapes_text([(None, 8)] * 23, limit=None).count("(None, 8)") == 23
    assert shapes_text([(None, 8), (None, 4)], limit=1) == "(None, 8), ... (2 outputs)"


def test_no_shapes() -> None:
    assert shapes_text([]) == "-" and shapes_text([], empty="") == ""


def test_the_views_show_the_same_text() -> None:
    from studio.graph.presets import load_preset
    from studio.io.diagram import spec_dot
    from studio.model.analysis import analyze_for_display, ref_label, summary_rows

    spec = load_preset("vgg16_features")
    result = analyze_for_display(spec)  # no weights: VGG16's shapes in a moment
    outputs = next(info.output_shapes for info in result.nodes.values() if len(info.output_shapes) > MAX_SHAPES_SHOWN)
    text = shapes_text(outputs)
    assert text.endswith(f"... ({len(outputs)} outputs)")
    assert text in [row["Output shape"] for row in summary_rows(spec, result)]
    assert f"output: {text}" in spec_dot(spec, result=result).replace("\\n", "\n")
    ref = spec.inputs[0]
    assert ref_label(spec, result, ref).endswith(shape_text(result.nodes[ref].output_shapes[0]))

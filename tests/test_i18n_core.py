"""The core's messages (graph checks, edit refusals, limits, layer catalogue) follow the language in use and keep the node names."""

from __future__ import annotations

import re

import pytest

from studio.catalog import table
from studio.gate import LimitExceeded, check_count
from studio.graph import deletion, edits
from studio.graph.checks import check_structure
from studio.graph.spec import SpecError, spec_from_json
from studio.i18n import use_language
from studio.limits import describe

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _mlp():
    spec = edits.add_layer(edits.empty_spec("mlp"), "Input", node_id="img")
    spec = edits.add_layer(spec, "Dense", ["img"], node_id="hidden")
    return edits.add_layer(spec, "Dense", ["hidden"], node_id="logits")


def test_a_shape_mismatch_problem_is_chinese_and_names_the_node_and_keeps_keras_words():
    from studio.model.build import analyze

    spec = edits.add_layer(edits.empty_spec("bad"), "Input", node_id="img", config={"shape": [28, 28]})
    spec = edits.add_layer(spec, "Input", node_id="vec", config={"shape": [10]})
    spec = edits.add_layer(spec, "Add", ["img", "vec"], node_id="merged")
    with use_language("zh"):
        problems = [problem for problem in analyze(spec).problems if problem.kind == "shape"]
    assert problems, "the Add of (28, 28) and (10,) is a shape problem"
    text = problems[0].text()
    assert CHINESE.search(text) and "'merged'" in text and "Keras 原文：" in text, text
    with use_language("en"):
        english = [problem for problem in analyze(spec).problems if problem.kind == "shape"][0].text()
    assert english.startswith("Node 'merged': Add cannot take (None, 28, 28), (None, 10): ") and not CHINESE.search(english)


def test_a_structural_problem_is_chinese_and_keeps_the_node_name():
    spec = _mlp()
    spec.calls[-1].inputs = ["nowhere"]
    with use_language("zh"):
        texts = [problem.text() for problem in check_structure(spec)]
    text = next(text for text in texts if "nowhere" in text)
    assert CHINESE.search(text) and "'logits'" in text


def test_a_refused_delete_is_chinese_and_names_the_node_and_its_users():
    with use_language("zh"), pytest.raises(edits.NodeInUseError) as refused:
        deletion.delete_node(_mlp(), "hidden")
    message = str(refused.value)
    assert CHINESE.search(message) and "'hidden'" in message and "logits" in message
    with use_language("en"), pytest.raises(edits.NodeInUseError, match="Cannot delete 'hidden': logits uses its output"):
        deletion.delete_node(_mlp(), "hidden")


def test_a_limit_exceeded_is_chinese_and_names_the_file_the_limit_and_the_variable():
    with use_language("zh"), pytest.raises(LimitExceeded) as refused:
        check_count("big.json", 10_001, "has {count} nodes", "max_nodes")
    message = str(refused.value)
    assert CHINESE.search(message) and "'big.json'" in message and "10,001" in message and "KFS_MAX_NODES" in message
    with use_language("en"):
        assert describe("max_nodes", 500) == "max nodes per graph = 500 (set KFS_MAX_NODES to change it)"


def test_an_edit_refusal_and_a_bad_spec_speak_the_language_at_the_time_they_are_made():
    with use_language("zh"), pytest.raises(SpecError) as chinese:
        spec_from_json("{")
    with use_language("en"), pytest.raises(SpecError) as english:
        spec_from_json("{")
    assert CHINESE.search(str(chinese.value)) and str(english.value).startswith("Not valid JSON:")


def test_the_layer_catalogue_translates_groups_summaries_and_common_help():
    from studio.catalog import types

    dense = types.get_layer_type("Dense")
    with use_language("en"):
        assert table.group_label(dense.group) == "Core" and dense.summary == "Just your regular densely-connected NN layer."
        assert dense.param("units").help == "Positive integer, dimensionality of the output space."
    with use_language("zh"):
        assert CHINESE.search(table.group_label(dense.group)) and CHINESE.search(dense.summary)
        assert CHINESE.search(dense.param("units").help) and CHINESE.search(types.get_layer_type("Conv2D").param("kernel_size").help)
        for param in dense.params:  # every help is translated or quotes Keras's own words
            assert CHINESE.search(param.help) or param.help.startswith("Keras 原文："), (param.name, param.help)


def test_help_without_a_translation_quotes_keras_in_chinese():
    from studio.catalog import types

    param = types.get_layer_type("Dense").param("kernel_constraint")
    assert param.help_id is None
    with use_language("en"):
        assert param.help == param.doc
    with use_language("zh"):
        assert param.help.startswith("Keras 原文：") and param.doc in param.help


def test_every_translated_help_key_names_a_real_parameter():
    from studio.catalog import params, types

    for key in params.TRANSLATED_HELP:
        scope, _colon, name = key.rpartition(":")
        owners = [layer for layer in types.LAYER_TYPES.values() if not scope or scope in (layer.name, layer.group)]
        assert any(param.name == name for layer in owners for param in layer.params), key

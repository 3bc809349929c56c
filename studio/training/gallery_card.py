"""Compute a preset's Gallery card: build it without weights, draw it, write its tutorial-style code (imports Keras).

The card is kept and read back by :mod:`studio.graph.preset_cards`, which never imports Keras.
"""

from __future__ import annotations

from studio.graph.preset_cards import PresetCard
from studio.graph.spec import GraphSpec
from studio.io.codegen.roundtrip import parse_back_problem
from studio.io.diagram import DiagramOptions, diagram_dot
from studio.model.analysis import analyze_for_display, param_counts
from studio.training.script import tutorial_code

GALLERY_DIAGRAM = DiagramOptions(show_shapes=True, expand_nested=False, dpi=72)  # nested models as one box: readable


def compute_card(key: str, spec: GraphSpec) -> PresetCard:
    """The card of a spec under a card key (see `studio.graph.preset_cards.card_key`)."""
    result = analyze_for_display(spec)
    code = tutorial_code(spec)
    return PresetCard(
        key=key,
        total_params=param_counts(result).total,
        nodes=len(spec.calls),
        inputs=len(spec.inputs),
        outputs=len(spec.outputs),
        ok=result.ok,
        dot=diagram_dot(spec, GALLERY_DIAGRAM, result),
        code=code,
        parse_back_problem=parse_back_problem(spec, code),
    )

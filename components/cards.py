"""The Gallery's preset cards, once per process and without TensorFlow when they were computed before.

A card read from disk (`studio.graph.preset_cards`) needs no Keras, so the Gallery draws while TensorFlow is
still loading; a card that must be computed (another Keras version) imports it then, once.
"""

from __future__ import annotations

import streamlit as st

from studio.graph import preset_cards
from studio.graph.presets import load_preset


def _compute(key: str, spec):
    from studio.training.gallery_card import compute_card

    return compute_card(key, spec)


@st.cache_resource(max_entries=32, show_spinner=False)
def preset_card(key: str) -> preset_cards.PresetCard:
    """The card of a shipped preset (shared by every session: read it, never change it)."""
    return preset_cards.card(load_preset(key), _compute)

"""Rewrite studio/data/preset_cards.json: the Gallery's cards of every preset, for the pinned Keras (run after changing a preset,
the diagram or the code generator; tests/test_preset_cards.py fails until it is run).

    .venv/bin/python scripts/preset_cards.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.backend import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

from studio.graph.preset_cards import write_shipped_cards  # noqa: E402
from studio.graph.presets import load_preset, preset_names  # noqa: E402
from studio.training.gallery_card import compute_card  # noqa: E402

if __name__ == "__main__":
    print(write_shipped_cards([load_preset(key) for key in preset_names()], compute_card))

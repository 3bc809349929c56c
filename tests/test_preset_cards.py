"""The Gallery's cards: shipped for the pinned Keras and current, read without Keras, computed and kept for a new spec."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from studio.graph import preset_cards
from studio.graph.presets import load_preset, preset_names

ROOT = Path(__file__).resolve().parents[1]
_OBJECT_IDS = re.compile(r"\b\d{9,}\b")  # pydot names nodes by Python object ids


def _comparable(card: preset_cards.PresetCard) -> dict:
    return {**dataclasses.asdict(card), "dot": _OBJECT_IDS.sub("N", card.dot)}


@pytest.mark.parametrize("key", preset_names())
def test_the_shipped_card_of_each_preset_is_current(key):
    from studio.training.gallery_card import compute_card

    spec = load_preset(key)
    stored = preset_cards.stored_card(spec)
    assert stored is not None, "run scripts/preset_cards.py (a preset, Keras or the code generator changed)"
    fresh = compute_card(preset_cards.card_key(spec), spec)
    assert _comparable(stored) == _comparable(fresh)


def test_the_tutorial_counts_are_on_the_cards():
    totals = [preset_cards.stored_card(load_preset(key)).total_params for key in preset_names()]
    assert totals == [27_882, 18_672, 9_569, 28_241, 368_097, 6_400, 138_357_544]


def test_reading_a_card_loads_no_keras():
    code = (
        "import sys; from studio.graph.presets import load_preset; from studio.graph.preset_cards import stored_card; "
        "card = stored_card(load_preset('mnist_mlp')); "
        "print(card.total_params, 'keras' in sys.modules, 'tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["27882", "False", "False"]


def test_a_changed_spec_is_computed_once_and_kept_in_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path))
    spec = load_preset("mnist_mlp")
    spec = dataclasses.replace(spec, name="changed_mlp")
    assert preset_cards.stored_card(spec) is None
    calls = []

    def compute(key, graph):
        from studio.training.gallery_card import compute_card

        calls.append(graph.name)
        return compute_card(key, graph)

    first = preset_cards.card(spec, compute)
    again = preset_cards.card(spec, compute)
    assert calls == ["changed_mlp"], "the second call reads the kept card"
    assert first == again and first.total_params == 27_882
    assert (tmp_path / "preset_cards.json").is_file()


def test_a_damaged_cache_file_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path))
    (tmp_path / "preset_cards.json").write_text("{not json")
    spec = dataclasses.replace(load_preset("mnist_mlp"), name="other_mlp")
    assert preset_cards.stored_card(spec) is None
    from studio.training.gallery_card import compute_card

    assert preset_cards.card(spec, compute_card).nodes == len(spec.calls)

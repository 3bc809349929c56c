"""What the Gallery shows of each preset (counts, diagram, tutorial-style code), computed once and kept on disk.

The first page must draw before TensorFlow has loaded, and every session would compute the same thing:
so the cards are computed ahead, keyed by the preset's content and the Keras version, and read back as
plain JSON without importing Keras. Computing a card needs Keras: the caller passes the function that does it
(``studio.training.gallery_card.compute_card``), so this module stays Keras-free. The repository ships the cards for its pinned Keras
(``studio/data/preset_cards.json``, rewritten by ``scripts/preset_cards.py``); another Keras version computes them once
and keeps them in the user's cache folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from studio.graph.spec import GraphSpec
from studio.paths import cache_dir

log = logging.getLogger(__name__)
SHIPPED = Path(__file__).resolve().parents[1] / "data" / "preset_cards.json"
FORMAT = 1


@dataclass(frozen=True)
class PresetCard:
    """One Gallery card: the facts, the diagram's DOT text and the generated code of a preset."""

    key: str
    total_params: int
    nodes: int
    inputs: int
    outputs: int
    ok: bool
    dot: str
    code: str
    parse_back_problem: str | None


@cache
def keras_version() -> str:
    """The installed Keras version, read without importing Keras."""
    try:
        return metadata.version("keras")
    except metadata.PackageNotFoundError:
        return "unknown"


def card_key(spec: GraphSpec) -> str:
    """The cache key of a preset's card: its content and the Keras version that computed it."""
    content = json.dumps(spec.model_dict(), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"{FORMAT}|{keras_version()}|{content}".encode()).hexdigest()


def user_cache_file() -> Path:
    """Where cards computed on this machine are kept (STUDIO_CACHE_DIR, else the user's cache folder)."""
    return cache_dir() / "preset_cards.json"


def _read(path: Path) -> dict[str, PresetCard]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {item["key"]: PresetCard(**item) for item in data["cards"]}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("Ignoring the preset cards in %s: %s", path, error)
        return {}


def _write(path: Path, cards: dict[str, PresetCard]) -> None:
    payload = {"format": FORMAT, "cards": [asdict(card) for _key, card in sorted(cards.items())]}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    temporary.replace(path)


def stored_card(spec: GraphSpec) -> PresetCard | None:
    """The card of a preset if it was computed before (shipped or cached) for this content and Keras; never imports Keras."""
    key = card_key(spec)
    for path in (SHIPPED, user_cache_file()):
        card = _read(path).get(key)
        if card is not None:
            return card
    return None


def card(spec: GraphSpec, compute: Callable[[str, GraphSpec], PresetCard]) -> PresetCard:
    """The preset's card: stored if there is one, else computed now and kept in the user's cache folder."""
    found = stored_card(spec)
    if found is not None:
        return found
    computed = compute(card_key(spec), spec)
    try:
        path = user_cache_file()
        cards = _read(path)
        cards[computed.key] = computed
        _write(path, cards)
    except OSError as error:  # a read-only home: the card is still shown, just not kept
        log.warning("Could not keep the preset card: %s", error)
    return computed


def write_shipped_cards(specs: list[GraphSpec], compute: Callable[[str, GraphSpec], PresetCard], path: Path = SHIPPED) -> Path:
    """Compute every preset's card and write the file the repository ships (for its pinned Keras)."""
    cards = {}
    for spec in specs:
        key = card_key(spec)
        cards[key] = compute(key, spec)
    _write(path, cards)
    return path

"""The tutorial's example graphs, shipped as JSON specs in ``presets/``; never mutated by use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from studio.graph.spec import GraphSpec, SpecError, load_spec, spec_from_json
from studio.i18n import _
from studio.paths import presets_dir

PRESETS_DIR = presets_dir()
PRESET_ORDER = ("mnist_mlp", "encoder", "decoder", "autoencoder", "multi_io", "shared_embedding", "vgg16_features")


@dataclass(frozen=True)
class PresetInfo:
    """What the gallery shows of a preset before building it."""

    key: str
    name: str
    section: str
    description: str


def preset_names() -> list[str]:
    """Keys of the shipped presets, in the tutorial's order."""
    found = {path.stem for path in PRESETS_DIR.glob("*.json")}
    return [key for key in PRESET_ORDER if key in found] + sorted(found - set(PRESET_ORDER))


@cache
def _preset_text(key: str) -> str:
    return (PRESETS_DIR / f"{key}.json").read_text(encoding="utf-8")


def load_preset(key: str) -> GraphSpec:
    """A fresh copy of a preset's spec; an unknown key raises SpecError listing the valid ones."""
    if key not in preset_names():
        raise SpecError(_("Unknown preset '{key}'. Expected one of: {valid}").format(key=key, valid=", ".join(preset_names())))
    return spec_from_json(_preset_text(key))


def preset_info(key: str) -> PresetInfo:
    """Name, tutorial section and description (in the current language) of a preset."""
    spec = load_preset(key)
    return PresetInfo(key=key, name=spec.name, section=spec.section, description=_(spec.description) if spec.description else "")


def resolve_spec(argument: str) -> GraphSpec:
    """A preset key or a path to a JSON spec file -> the spec."""
    if argument in preset_names():
        return load_preset(argument)
    path = Path(argument)
    if path.suffix.lower() != ".json" and not path.exists():
        message = _("'{argument}' is neither a preset ({presets}) nor a JSON spec file")
        raise SpecError(message.format(argument=argument, presets=", ".join(preset_names())))
    return load_spec(path)

"""The default training data of a model, and why: the tutorial's data for its presets (kept for a modified
preset while it still fits, and when it does not, exactly what no longer fits), else a guess from the shapes.

This module holds what the choice is made from (the tutorial's data per preset, why, how a modified preset is
recognised); :mod:`studio.training.default_data` makes the choice, with the data check that needs the loaders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from studio.graph.spec import GraphSpec
from studio.i18n import N_, _

MNIST_SHAPES = ((784,), (28, 28), (28, 28, 1))
APPLICATIONS = ("VGG16", "VGG19", "ResNet50", "MobileNetV2")
PRESET_DATA: dict[str, str | None] = {
    "mnist_mlp": "mnist",
    "encoder": "mnist",  # the 16 numbers of the code read as scores of the digits (see PRESET_REASONS)
    "decoder": "mnist_thumbnails",
    "autoencoder": "mnist_autoencoder",
    "multi_io": "tickets",
    "shared_embedding": "shared_ints",
    "vgg16_features": None,
}
NOT_TRAINABLE_MESSAGE = N_(
    "'{name}' is a feature extractor ({outputs} outputs, one per inner layer): it is used as it is, not trained. "
    "There is no default data to train it against; inspect its outputs in the Builder, or upload data with a "
    "target for every output."
)
# Why each preset trains on its default data (the Train page shows it under the data choice).
PRESET_REASONS = {
    "mnist_mlp": N_(
        "The tutorial's data for this model: MNIST digits and their labels. The softmax output gives the probability of each digit."
    ),
    "encoder": N_(
        "The encoder alone is a feature extractor: its output is a code of 16 numbers, not an answer. No data has a "
        "target for such a code, so the default trains it on the digit labels: the 16 numbers are read as scores (logits) "
        "of 16 classes, of which only the first 10 are digits and the other 6 are never the right answer. It learns a code "
        "that tells the digits apart, and its accuracy is that of a digit classifier; sample predictions show the scores "
        "turned into probabilities with softmax. For a code that keeps the image itself, as in the tutorial, train the "
        "**autoencoder** example instead: its target is its own input (mean squared error)."
    ),
    "decoder": N_(
        "The decoder alone has no encoder to give it a code: each digit shrunk to 4x4 pixels (16 numbers) stands in for "
        "the code, and the decoder learns to draw the 28x28 digit back from it (mean squared error)."
    ),
    "autoencoder": N_(
        "Autoencoder training: each image is its own target, and the loss (mean squared error) measures how well the "
        "model draws the image back from its 16-number code. No labels are used."
    ),
    "multi_io": N_(
        "The tutorial's synthetic tickets: random word ids, tags and labels, so the losses show how two outputs train "
        "together with their loss weights (1.0 and 0.2), not real learning."
    ),
    "shared_embedding": N_(
        "Synthetic word ids: the target of each id is its row in a hidden table, so the one shared Embedding learns "
        "that table from both inputs at once."
    ),
}


@dataclass
class DefaultData:
    """The default data of a model and why; for a modified preset, what of the tutorial's data no longer fits."""

    key: str | None
    preset: str | None = None  # the preset the model is, or was made from
    modified: bool = False  # made from the preset, not the preset itself
    reason: str = ""
    misfits: list[str] = field(default_factory=list)


@cache
def _preset_models() -> dict[str, tuple[dict[str, Any], str, str, str]]:
    """Preset key -> (model dict, name, section, description); plain data from the shipped files (no translated text)."""
    from studio.graph.presets import load_preset, preset_names
    from studio.graph.spec import SpecError

    found = {}
    for key in preset_names():
        try:
            preset = load_preset(key)
        except SpecError:  # a file in presets/ that is not a model spec is no preset to compare with
            continue
        found[key] = (preset.model_dict(), preset.name, preset.section, preset.description)
    return found


def preset_of(spec: GraphSpec) -> str | None:
    """The key of the preset this spec is (unchanged), or None."""
    wanted = spec.model_dict()
    return next((key for key, (model, *_rest) in _preset_models().items() if model == wanted), None)


def origin_preset(spec: GraphSpec) -> str | None:
    """The preset this spec is, or was made from (same tutorial section, and the same name or description), or None."""
    exact = preset_of(spec)
    if exact is not None or not spec.section:
        return exact
    for key, (_model, name, section, description) in _preset_models().items():
        if section == spec.section and (name == spec.name or (description and description == spec.description)):
            return key
    return None


def preset_title(key: str) -> str:
    """The model name of a preset as the tutorial writes it ('mnist model', 'encoder')."""
    return _preset_models()[key][1]


def input_shapes(spec: GraphSpec) -> list[tuple[tuple, str]] | None:
    shapes = []
    for ref in spec.inputs:
        layer = spec.layer_of(ref)
        if layer is None or layer.type != "Input":
            return None
        shapes.append((tuple(layer.config.get("shape") or ()), str(layer.config.get("dtype") or "float32")))
    return shapes


def guess_from_shapes(spec: GraphSpec, output_shapes: list[tuple] | None) -> str | None:
    """MNIST for one MNIST-shaped input; its autoencoder form when the output has the input's shape; else None."""
    if len(spec.inputs) != 1 or len(spec.outputs) != 1:
        return None
    shapes = input_shapes(spec)
    if not shapes or shapes[0][0] not in MNIST_SHAPES:
        return None
    if output_shapes and tuple(output_shapes[0][1:]) == shapes[0][0]:
        return "mnist_autoencoder"
    return "mnist"


def not_trainable_message(spec: GraphSpec) -> str | None:
    """Why a spec has no default training data (a feature extractor such as the VGG16 preset), or None."""
    extractor = any(layer.type in APPLICATIONS for layer in spec.layers) and len(spec.outputs) > 2
    if preset_of(spec) == "vgg16_features" or extractor:
        return _(NOT_TRAINABLE_MESSAGE).format(name=spec.name, outputs=len(spec.outputs))
    return None

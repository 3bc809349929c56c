"""Feature maps: pick layers of any model, build the tutorial's ``feat_ext_model`` from them, run it on
a sample or an uploaded image, and turn the activations into image grids and bar-chart data."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from studio.i18n import N_, _

SCALINGS = ("unit", "raw", "caffe")
# Marked for the catalogue: show them with `_(SCALING_HELP[scaling])`.
SCALING_HELP = {
    "unit": N_("pixels / 255, in [0, 1] (what the studio's MNIST models are trained on)"),
    "raw": N_("pixels as 0..255"),
    "caffe": N_("VGG16's ImageNet preprocessing (keras.applications.vgg16.preprocess_input: BGR, mean subtracted)"),
}


class InspectError(Exception):
    """An image or a layer choice that cannot be used; the message says what and why."""


@dataclass(frozen=True)
class LayerChoice:
    """One pickable layer output: its label, layer name and type, and per-sample output shape."""

    label: str
    layer: str
    type: str
    shape: tuple

    @property
    def kind(self) -> str:
        """How the activations are shown: 'image' (H, W, C), 'sequence' (T, F), 'vector' (N,) or 'other'."""
        return {3: "image", 2: "sequence", 1: "vector"}.get(len(self.shape), "other")


@dataclass
class FeatureMap:
    """The activations of one picked layer (batch axis first)."""

    choice: LayerChoice
    values: np.ndarray

    @property
    def label(self) -> str:
        """The picked label."""
        return self.choice.label


def _model_node_keys(model: keras.Model) -> set[str] | None:
    nodes = getattr(model, "_nodes", None)
    return set(nodes) if isinstance(nodes, (set, list, tuple)) else None


def layer_outputs(model: keras.Model) -> list[tuple[LayerChoice, Any]]:
    """Every output tensor of every layer call in this model, labelled (``name``, ``name[call 2]``, ``name:1``)."""
    keys = _model_node_keys(model)
    found: list[tuple[LayerChoice, Any]] = []
    for layer in model.layers:
        nodes = [
            node for index, node in enumerate(layer._inbound_nodes) if keys is None or f"{id(layer)}_ib-{index}" in keys
        ]  # fmt: skip
        for call, node in enumerate(nodes):
            tensors = list(node.output_tensors)
            for position, tensor in enumerate(tensors):
                label = layer.name + (f"[call {call + 1}]" if len(nodes) > 1 else "") + (f":{position}" if len(tensors) > 1 else "")
                shape = tuple(tensor.shape[1:])
                found.append((LayerChoice(label, layer.name, type(layer).__name__, shape), tensor))
    return found


def layer_choices(model: keras.Model) -> list[LayerChoice]:
    """The layer outputs a user can pick, in the model's layer order."""
    return [choice for choice, _tensor in layer_outputs(model)]


def extraction_model(model: keras.Model, labels: list[str] | None = None) -> tuple[keras.Model, list[LayerChoice]]:
    """``keras.Model(model.inputs, [layer.output ...])`` for the picked labels (all layers when None)."""
    available = layer_outputs(model)
    by_label = {choice.label: (choice, tensor) for choice, tensor in available}
    wanted = [choice.label for choice, _tensor in available] if labels is None else list(labels)
    unknown = [label for label in wanted if label not in by_label]
    if unknown:
        names = ", ".join(choice.label for choice, _tensor in available[:12])
        message = _("Model '{model}' has no layer output {unknown}; it has: {names} ...")
        raise InspectError(message.format(model=model.name, unknown=", ".join(map(repr, unknown)), names=names))
    if not wanted:
        raise InspectError(_("Pick at least one layer to show its feature maps"))
    picked = [by_label[label] for label in wanted]
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    extractor = keras.Model(inputs=inputs, outputs=[tensor for _choice, tensor in picked], name=f"{model.name}_features")
    return extractor, [choice for choice, _tensor in picked]


def feature_maps(model: keras.Model, inputs: list[np.ndarray] | np.ndarray, labels: list[str] | None = None) -> list[FeatureMap]:
    """Run the extraction model of the picked layers on the inputs; one array per picked layer."""
    extractor, choices = extraction_model(model, labels)
    arrays = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if len(arrays) != len(model.inputs):
        message = _("Model '{model}' has {count} inputs; received {received} arrays")
        raise InspectError(message.format(model=model.name, count=len(model.inputs), received=len(arrays)))
    outputs = extractor(arrays[0] if len(arrays) == 1 else arrays, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [FeatureMap(choice, np.asarray(output)) for choice, output in zip(choices, outputs, strict=True)]


# --- images in --------------------------------------------------------------------------------


def _target_layout(shape: tuple) -> tuple[int | None, int | None, int, bool]:
    """(height, width, channels, flatten) for a per-sample input shape an image can be turned into."""
    if len(shape) == 3 and shape[-1] in (1, 3, None):
        return shape[0], shape[1], shape[2] or 3, False
    if len(shape) == 2:
        return shape[0], shape[1], 1, False
    if len(shape) == 1 and shape[0] is not None and math.isqrt(shape[0]) ** 2 == shape[0]:
        side = math.isqrt(shape[0])
        return side, side, 1, True
    message = _("An image cannot be fed to an input of shape {shape}; expected (H, W, 1 or 3), (H, W) or a square size such as (784,)")
    raise InspectError(message.format(shape=shape))


def prepare_image(image: bytes | np.ndarray | Any, input_shape: tuple, scaling: str = "unit", invert: bool = False) -> np.ndarray:
    """An uploaded image (bytes, PIL image or array) resized and converted to one batch for this input shape."""
    from PIL import Image, UnidentifiedImageError

    if scaling not in SCALINGS:
        raise InspectError(_("Unknown scaling {scaling}; expected one of {valid}").format(scaling=repr(scaling), valid=", ".join(SCALINGS)))
    if isinstance(image, (bytes, bytearray)):
        try:
            picture = Image.open(io.BytesIO(image))
            picture.load()
        except (UnidentifiedImageError, OSError, ValueError) as error:
            message = _("The file is not an image that Pillow can read (PNG, JPEG, BMP, GIF ...): {error}").format(error=error)
            raise InspectError(message) from error
    elif isinstance(image, np.ndarray):
        array = image if image.dtype == np.uint8 else np.clip(image * (255.0 if image.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        picture = Image.fromarray(array.squeeze())
    else:
        picture = image
    height, width, channels, flatten = _target_layout(tuple(input_shape))
    picture = picture.convert("L" if channels == 1 else "RGB")
    size = (width or picture.width, height or picture.height)  # a None side keeps the image's own size
    if picture.size != size:
        picture = picture.resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(picture, dtype=np.float32)
    if invert:
        pixels = 255.0 - pixels
    if pixels.ndim == 2 and len(input_shape) == 3:
        pixels = pixels[..., None]
    if scaling == "unit":
        pixels = pixels / 255.0
    elif scaling == "caffe":
        if channels != 3:
            raise InspectError(_("The 'caffe' (VGG16) preprocessing needs a 3-channel (RGB) input"))
        pixels = keras.applications.vgg16.preprocess_input(pixels.copy())
    if flatten:
        pixels = pixels.reshape(-1)
    return pixels[None].astype(np.float32)


# --- activations out --------------------------------------------------------------------------


@dataclass
class ImageGrid:
    """Channels of one activation tiled into one grayscale image."""

    image: np.ndarray  # uint8, 2-D
    channels: int
    shown: int
    columns: int


def normalize_channels(activation: np.ndarray) -> np.ndarray:
    """Each channel of (H, W, C) scaled to 0..255 on its own (a constant channel becomes 0)."""
    array = activation.astype(np.float32)
    low = array.min(axis=(0, 1), keepdims=True)
    span = array.max(axis=(0, 1), keepdims=True) - low
    scaled = np.where(span > 0, (array - low) / np.where(span > 0, span, 1.0), 0.0)
    return (scaled * 255.0).round().astype(np.uint8)


def activation_grid(activation: np.ndarray, max_channels: int = 64, columns: int | None = None, gap: int = 1) -> ImageGrid:
    """One sample's conv activation (H, W, C) or (H, W) -> a grid image of its first channels."""
    if activation.ndim == 2:
        activation = activation[..., None]
    if activation.ndim != 3:
        raise InspectError(_("An image grid needs an activation of shape (H, W, C); received {shape}").format(shape=activation.shape))
    height, width, channels = activation.shape
    shown = max(1, min(channels, max_channels))
    columns = columns or math.ceil(math.sqrt(shown))
    rows = math.ceil(shown / columns)
    tiles = normalize_channels(activation[:, :, :shown])
    grid = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), 255, dtype=np.uint8)
    for index in range(shown):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        grid[top : top + height, left : left + width] = tiles[:, :, index]
    return ImageGrid(grid, channels, shown, columns)


def sequence_image(activation: np.ndarray) -> np.ndarray:
    """One sample's (T, F) activation as a heat-map image (time down, features across), uint8."""
    if activation.ndim != 2:
        raise InspectError(_("A sequence image needs an activation of shape (T, F); received {shape}").format(shape=activation.shape))
    return normalize_channels(activation[:, :, None])[:, :, 0]


def dense_bars(activation: np.ndarray, class_names: list[str] | None = None, top: int | None = None) -> dict[str, list]:
    """One sample's vector output -> bar-chart columns ``unit``, ``value`` (the ``top`` largest when given)."""
    vector = np.asarray(activation, dtype=np.float64).reshape(-1)
    order = np.arange(len(vector))
    if top is not None and top < len(vector):
        order = np.sort(np.argsort(vector)[::-1][:top])
    names = [class_names[i] if class_names and i < len(class_names) else str(i) for i in order]
    return {"unit": names, "value": [float(vector[i]) for i in order]}


def load_vgg16(imagenet: bool = False) -> tuple[keras.Model, str]:
    """VGG16 with random weights, or ImageNet weights when Keras can download (or has cached) them; and which weights.

    The second item is marked for the catalogue but not translated (callers cache the model): show it with `_()`.
    """
    if not imagenet:
        return keras.applications.VGG16(weights=None), N_("random weights (weights=None): activations show structure, not learned features")
    try:
        model = keras.applications.VGG16(weights="imagenet")
    except Exception as error:  # noqa: BLE001 - urllib/HTTP/hash errors all mean "not available here"
        message = _(
            "ImageNet weights for VGG16 (528 MB) could not be downloaded: {error}. "
            "Use random weights, or run once with network access so Keras caches them in ~/.keras/models."
        )
        raise InspectError(message.format(error=str(error).splitlines()[0][:200])) from error
    return model, N_("ImageNet weights")

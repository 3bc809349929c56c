"""Feature maps: the tutorial's feat_ext_model on VGG16, layer choices of any model, images in, grids and bars out."""

from __future__ import annotations

import io

import keras
import numpy as np
import pytest
from PIL import Image

from studio.graph.presets import load_preset
from studio.model import features
from studio.model.build import build_model

VGG16_SHAPES = [
    (224, 224, 3),
    *[(224, 224, 64)] * 2, (112, 112, 64),
    *[(112, 112, 128)] * 2, (56, 56, 128),
    *[(56, 56, 256)] * 3, (28, 28, 256),
    *[(28, 28, 512)] * 3, (14, 14, 512),
    *[(14, 14, 512)] * 3, (7, 7, 512),
    (25088,), (4096,), (4096,), (1000,),
]  # fmt: skip


def _png(size: tuple[int, int] = (300, 200), mode: str = "RGB") -> bytes:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def vgg16_features() -> keras.Model:
    """The vgg16_features preset (VGG16 with random weights, 138M parameters): built once."""
    return build_model(load_preset("vgg16_features"))


def test_vgg16_features_on_one_image_gives_23_arrays_of_the_right_shapes(vgg16_features: keras.Model) -> None:
    image = features.prepare_image(_png(), vgg16_features.inputs[0].shape[1:], scaling="caffe")
    assert image.shape == (1, 224, 224, 3)
    maps = features.feature_maps(vgg16_features, image)  # every layer, as the tutorial's feature_list
    assert len(maps) == 23
    assert [feature_map.values.shape[1:] for feature_map in maps] == VGG16_SHAPES
    assert [feature_map.label for feature_map in maps][:4] == ["input_layer", "block1_conv1", "block1_conv2", "block1_pool"]
    assert maps[-1].choice.kind == "vector" and maps[1].choice.kind == "image"
    np.testing.assert_allclose(maps[-1].values.sum(), 1.0, rtol=1e-4)  # softmax over the 1000 classes
    # The same 23 tensors are the preset model's own outputs.
    outputs = vgg16_features(image, training=False)
    assert all(np.allclose(np.asarray(out), feature_map.values, atol=1e-4) for out, feature_map in zip(outputs, maps, strict=True))


def test_picked_layers_only(vgg16_features: keras.Model) -> None:
    extractor, choices = features.extraction_model(vgg16_features, ["block3_conv1", "fc2"])
    assert [choice.shape for choice in choices] == [(56, 56, 256), (4096,)]
    assert len(extractor.outputs) == 2
    with pytest.raises(features.InspectError, match="has no layer output 'block9_conv1'"):
        features.extraction_model(vgg16_features, ["block9_conv1"])
    with pytest.raises(features.InspectError, match="at least one layer"):
        features.extraction_model(vgg16_features, [])


def test_grid_of_a_conv_activation(vgg16_features: keras.Model) -> None:
    image = features.prepare_image(_png(), (224, 224, 3), scaling="caffe")
    (conv,) = features.feature_maps(vgg16_features, image, ["block5_conv3"])
    grid = features.activation_grid(conv.values[0], max_channels=16)
    assert grid.channels == 512 and grid.shown == 16 and grid.columns == 4
    assert grid.image.shape == (4 * 14 + 3, 4 * 14 + 3) and grid.image.dtype == np.uint8


def test_mnist_model_on_an_uploaded_image_and_its_bars() -> None:
    model = build_model(load_preset("mnist_mlp"))
    image = features.prepare_image(_png((50, 40)), (784,), scaling="unit", invert=True)
    assert image.shape == (1, 784) and 0.0 <= image.min() and image.max() <= 1.0
    maps = features.feature_maps(model, image)
    assert [feature_map.label for feature_map in maps] == ["img", "dense", "dense_1", "dense_2"]
    bars = features.dense_bars(maps[-1].values[0], class_names=[str(i) for i in range(10)])
    assert bars["unit"] == [str(i) for i in range(10)] and len(bars["value"]) == 10
    top = features.dense_bars(maps[2].values[0], top=5)
    assert len(top["unit"]) == 5 and min(top["value"]) >= np.sort(maps[2].values[0])[-5]


def test_shared_and_nested_layers_are_labelled_per_call() -> None:
    shared = features.layer_choices(build_model(load_preset("shared_embedding")))
    assert [choice.label for choice in shared] == ["input1", "input2", "share_embedding[call 1]", "share_embedding[call 2]"]
    nested = build_model(load_preset("autoencoder"))
    assert [choice.label for choice in features.layer_choices(nested)] == ["img", "encoder", "decoder"]
    maps = features.feature_maps(nested, np.zeros((1, 28, 28, 1), "float32"), ["encoder", "decoder"])
    assert [feature_map.values.shape for feature_map in maps] == [(1, 16), (1, 28, 28, 1)]


def test_image_preparation_shapes() -> None:
    assert features.prepare_image(_png(mode="L"), (28, 28, 1)).shape == (1, 28, 28, 1)
    assert features.prepare_image(_png(), (28, 28)).shape == (1, 28, 28)
    assert features.prepare_image(_png((64, 48)), (None, None, 3)).shape == (1, 48, 64, 3)
    digit = np.zeros((28, 28), np.uint8)
    digit[10:18, 12:16] = 255
    assert features.prepare_image(digit, (784,))[0].max() == 1.0


@pytest.mark.parametrize(
    ("data", "shape", "scaling", "message"),
    [
        (b"this is text, not a picture", (28, 28, 1), "unit", "not an image that Pillow can read"),
        (None, (10,), "unit", "cannot be fed to an input of shape"),
        (None, (28, 28, 1), "caffe", "needs a 3-channel"),
        (None, (28, 28, 1), "fancy", "Unknown scaling"),
    ],
)
def test_unusable_images_say_why(data: bytes | None, shape: tuple, scaling: str, message: str) -> None:
    with pytest.raises(features.InspectError, match=message):
        features.prepare_image(data if data is not None else _png(), shape, scaling=scaling)


def test_normalized_channels_and_sequence_images() -> None:
    activation = np.stack([np.full((3, 3), 5.0), np.arange(9.0).reshape(3, 3)], axis=-1)
    scaled = features.normalize_channels(activation)
    assert scaled[..., 0].max() == 0 and scaled[..., 1].min() == 0 and scaled[..., 1].max() == 255
    assert features.sequence_image(np.arange(12.0).reshape(4, 3)).shape == (4, 3)
    with pytest.raises(features.InspectError, match=r"\(H, W, C\)"):
        features.activation_grid(np.zeros(5))


def test_imagenet_weights_unavailable_offline_say_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(**_: object) -> None:
        raise OSError("URL fetch failure on https://storage.googleapis.com/...: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.applications, "VGG16", offline)
    with pytest.raises(features.InspectError, match=r"could not be downloaded: URL fetch failure.*Use random weights"):
        features.load_vgg16(imagenet=True)

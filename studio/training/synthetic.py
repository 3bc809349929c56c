"""The tutorial's synthetic data: section 3's tickets and section 4's word ids for the shared Embedding.

Split out of :mod:`studio.training.datasets`, which re-exports these names.
"""

from __future__ import annotations

import numpy as np

from studio.i18n import _
from studio.training.dataset_base import SYNTHETIC, Dataset

# The tutorial's section 3 constants.
NUM_WORDS = 2000
NUM_TAGS = 12
NUM_DEPARTMENTS = 4
TITLE_WORDS = 10
BODY_WORDS = 100
TICKET_SAMPLES = 1280


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
        name=_("Synthetic tickets (tutorial section 3)"),
        source=SYNTHETIC,
        x_train=[split[0](a) for a in arrays[0]],
        y_train=[split[0](a) for a in arrays[1]],
        x_test=[split[1](a) for a in arrays[0]],
        y_test=[split[1](a) for a in arrays[1]],
        input_names=["body", "title", "tag"],
        output_names=["priority", "department"],
        notes=[
            _(
                "random word ids below {words}, random 0/1 tags and labels, as in the tutorial (seed {seed}); "
                "{test} extra samples drawn the same way are the test set"
            ).format(words=NUM_WORDS, seed=seed, test=num_test),
        ],
    )


def shared_ints(seed: int = 0, num_samples: int = TICKET_SAMPLES, num_test: int = 256, length: int = 10, vocabulary: int = 100) -> Dataset:
    """Two int sequences; each target is the sequence looked up in a hidden random 64-wide table."""

    rng = np.random.default_rng(seed)
    table = rng.normal(0.0, 0.5, size=(vocabulary, 64)).astype("float32")
    total = num_samples + num_test
    first, second = (rng.integers(vocabulary, size=(total, length)).astype("int32") for _index in range(2))
    targets = [table[first], table[second]]
    return Dataset(
        key="shared_ints",
        name=_("Synthetic word ids -> hidden embedding"),
        source=SYNTHETIC,
        x_train=[first[:num_samples], second[:num_samples]],
        y_train=[t[:num_samples] for t in targets],
        x_test=[first[num_samples:], second[num_samples:]],
        y_test=[t[num_samples:] for t in targets],
        input_names=["input1", "input2"],
        output_names=["feat1", "feat2"],
        notes=[
            _(
                "random ids below {vocabulary}, {length} per sequence (seed {seed}); the target of each id is its row "
                "of a hidden random table, so the one shared Embedding learns that table from both inputs at once"
            ).format(vocabulary=vocabulary, length=length, seed=seed),
        ],
    )

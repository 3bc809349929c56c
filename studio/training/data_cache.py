"""The dataset a worker process used last, kept for its next run (the run after a measurement, or after another run
of the same data, starts without loading it again)."""

from __future__ import annotations

import os
from typing import Any

_DATASETS: dict[tuple, Any] = {}  # one entry: the last dataset loaded, by key


def cached_dataset(key: str, seed: int, prefer_offline: bool) -> Any:
    """The dataset with this key, loaded once per worker while it stays the one in use (None when it cannot be
    loaded: the job then loads it itself and reports why it cannot)."""
    from studio.training.datasets import load_dataset

    cache_key = (key, seed, prefer_offline, os.environ.get("STUDIO_MNIST_NPZ"), os.environ.get("STUDIO_OFFLINE"))
    if cache_key not in _DATASETS:
        try:
            dataset = load_dataset(key, seed=seed, prefer_offline=prefer_offline)
        except Exception:  # noqa: BLE001 - reported by the job, with its message
            return None
        _DATASETS.clear()
        _DATASETS[cache_key] = dataset
    return _DATASETS[cache_key]

"""Limits and tunables of the app, in one place; each can be overridden by an environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass

# Environment variable -> (Limits field, default, unit shown to users).
_ENVIRONMENT = {
    "KFS_MAX_NODES": ("max_nodes", 500),
    "KFS_MAX_PARAMS": ("max_params", 200_000_000),
    "KFS_MAX_UPLOAD_MB": ("max_upload_mb", 5),
    "KFS_HISTORY_SIZE": ("history_size", 50),
    "KFS_NODES_PER_PAGE": ("nodes_per_page", 40),
}


@dataclass(frozen=True)
class Limits:
    """What one graph, one upload and one session may hold."""

    max_nodes: int = 500
    max_params: int = 200_000_000
    max_upload_mb: int = 5
    history_size: int = 50
    nodes_per_page: int = 40

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return self.max_upload_mb * 1024 * 1024


LIMIT_LABELS = {
    "max_nodes": ("max nodes per graph", "KFS_MAX_NODES"),
    "max_params": ("max parameters per model", "KFS_MAX_PARAMS"),
    "max_upload_mb": ("max upload size (MB)", "KFS_MAX_UPLOAD_MB"),
    "history_size": ("undo steps kept", "KFS_HISTORY_SIZE"),
    "nodes_per_page": ("nodes listed per page", "KFS_NODES_PER_PAGE"),
}


def limits() -> Limits:
    """The limits in force: defaults, overridden by positive integer environment variables."""
    values: dict[str, int] = {}
    for variable, (field_name, _default) in _ENVIRONMENT.items():
        text = os.environ.get(variable, "").replace("_", "").strip()
        if text.isdigit() and int(text) > 0:
            values[field_name] = int(text)
    return Limits(**values)


def describe(field_name: str, value: int) -> str:
    """'max nodes per graph = 500 (KFS_MAX_NODES)'."""
    label, variable = LIMIT_LABELS[field_name]
    return f"{label} = {value:,} (set {variable} to change it)"

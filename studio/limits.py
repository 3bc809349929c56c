"""Limits and tunables of the app and the command line, in one place; each can be overridden by an environment variable.

Every way in (an upload, a pasted spec, a project file, a CLI argument, a data file) is checked against
these by :mod:`studio.gate` before it is read into memory or built.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from studio.i18n import N_, _

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one graph, one file and one session may hold."""

    max_nodes: int = 500
    max_params: int = 200_000_000
    max_upload_mb: int = 5
    max_model_mb: int = 200
    max_data_mb: int = 100
    max_unpacked_mb: int = 1024
    max_json_depth: int = 200
    max_model_depth: int = 20
    max_data_values: int = 64_000_000
    history_size: int = 50
    nodes_per_page: int = 40
    training_workers: int = 0  # 0: one per two CPU cores (see studio.training.queue.default_workers)

    @property
    def max_upload_bytes(self) -> int:
        """The size limit of a spec or project (JSON) in bytes."""
        return self.max_upload_mb * MB


# Limits field -> (what it limits, as users read it: translate it with `_()` where shown; the environment variable
# that overrides it).
LIMIT_LABELS = {
    "max_nodes": (N_("max nodes per graph"), "KFS_MAX_NODES"),
    "max_params": (N_("max parameters per model"), "KFS_MAX_PARAMS"),
    "max_upload_mb": (N_("max size of a spec, project or model config (MB)"), "KFS_MAX_UPLOAD_MB"),
    "max_model_mb": (N_("max model file size (MB)"), "KFS_MAX_MODEL_MB"),
    "max_data_mb": (N_("max data file size (MB)"), "KFS_MAX_DATA_MB"),
    "max_unpacked_mb": (N_("max unpacked size of a .keras, .h5 or .npz file (MB)"), "KFS_MAX_UNPACKED_MB"),
    "max_json_depth": (N_("max JSON nesting depth"), "KFS_MAX_JSON_DEPTH"),
    "max_model_depth": (N_("max depth of models nested in models"), "KFS_MAX_MODEL_DEPTH"),
    "max_data_values": (N_("max values in a data file (samples x features)"), "KFS_MAX_DATA_VALUES"),
    "history_size": (N_("undo steps kept"), "KFS_HISTORY_SIZE"),
    "nodes_per_page": (N_("nodes listed per page"), "KFS_NODES_PER_PAGE"),
    "training_workers": (N_("trainings run at once (0: one per two CPU cores)"), "KFS_TRAINING_WORKERS"),
}
assert set(LIMIT_LABELS) == {item.name for item in fields(Limits)}, "every limit needs a label and a variable"


def limits() -> Limits:
    """The limits in force: defaults, overridden by positive integer environment variables (``10_000`` is read too)."""
    values: dict[str, int] = {}
    for field_name, (_label, variable) in LIMIT_LABELS.items():
        text = os.environ.get(variable, "").replace("_", "").strip()
        if text.isdigit() and int(text) > 0:
            values[field_name] = int(text)
    return Limits(**values)


def describe(field_name: str, value: int) -> str:
    """'max nodes per graph = 500 (set KFS_MAX_NODES to change it)', in the current language."""
    label, variable = LIMIT_LABELS[field_name]
    return _("{label} = {value} (set {variable} to change it)").format(label=_(label), value=f"{value:,}", variable=variable)


def limit_label(field_name: str) -> str:
    """What a limit limits, in the current language ('max nodes per graph')."""
    return _(LIMIT_LABELS[field_name][0])

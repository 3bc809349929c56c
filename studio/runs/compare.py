"""Comparing two stored runs (standard library only): what differs in architecture (by layer id and
call id, nested models layer by layer), settings and data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.i18n import N_, _
from studio.runs.store import RunRecord, RunStore, plain, spec_dict

# What kind of difference, as people read it (the ``kind`` field keeps the English id).
DIFFERENCE_KINDS = {
    "setting": N_("setting"),
    "dataset": N_("dataset"),
    "name": N_("name"),
    "layer removed": N_("layer removed"),
    "layer added": N_("layer added"),
    "layer type": N_("layer type"),
    "layer config": N_("layer config"),
    "trainable": N_("trainable"),
    "call added": N_("call added"),
    "call removed": N_("call removed"),
    "wiring": N_("wiring"),
    "inputs": N_("inputs"),
    "outputs": N_("outputs"),
}


def kind_label(kind: str) -> str:
    """A difference's kind in the current language; an unknown one as it is."""
    return _(DIFFERENCE_KINDS[kind]) if kind in DIFFERENCE_KINDS else kind


@dataclass(frozen=True)
class Difference:
    """One difference between two runs: where, what kind, and the value in run A and in run B."""

    where: str
    kind: str
    before: Any
    after: Any


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> ``{"a.b.c": leaf}`` (lists are leaves)."""
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def diff_values(a: dict[str, Any], b: dict[str, Any], kind: str = "setting", prefix: str = "") -> list[Difference]:
    """Key-by-key differences of two nested dicts (missing on one side shows as None)."""
    flat_a, flat_b = _flatten(plain(a), prefix), _flatten(plain(b), prefix)
    keys = sorted(set(flat_a) | set(flat_b))
    return [Difference(key, kind, flat_a.get(key), flat_b.get(key)) for key in keys if flat_a.get(key) != flat_b.get(key)]


def diff_specs(a: Any, b: Any, prefix: str = "") -> list[Difference]:
    """What differs between two specs, by layer id and call id (nested models compared layer by layer)."""
    a, b = plain(spec_dict(a)), plain(spec_dict(b))
    layers_a = {layer["id"]: layer for layer in a.get("layers", [])}
    layers_b = {layer["id"]: layer for layer in b.get("layers", [])}
    differences: list[Difference] = []
    if a.get("name") != b.get("name"):
        differences.append(Difference(prefix + "(model name)", "name", a.get("name"), b.get("name")))
    for layer_id in [*layers_a, *(key for key in layers_b if key not in layers_a)]:
        where = prefix + layer_id
        first, second = layers_a.get(layer_id), layers_b.get(layer_id)
        if second is None:
            differences.append(Difference(where, "layer removed", first["type"], None))
        elif first is None:
            differences.append(Difference(where, "layer added", None, second["type"]))
        elif first["type"] != second["type"]:
            differences.append(Difference(where, "layer type", first["type"], second["type"]))
        elif first["type"] == "Model":
            differences += diff_specs(first["config"].get("spec", {}), second["config"].get("spec", {}), where + "/")
        else:
            differences += diff_values(first.get("config", {}), second.get("config", {}), "layer config", where)
        if first and second and first.get("trainable", True) != second.get("trainable", True):
            differences.append(Difference(where + ".trainable", "trainable", first.get("trainable", True), second.get("trainable", True)))
    calls_a = {call["id"]: call for call in a.get("calls", [])}
    calls_b = {call["id"]: call for call in b.get("calls", [])}
    for call_id in [*calls_a, *(key for key in calls_b if key not in calls_a)]:
        first, second = calls_a.get(call_id), calls_b.get(call_id)
        if first is None or second is None:
            if call_id not in layers_a or call_id not in layers_b:  # a layer's own call: already reported
                kind = "call added" if first is None else "call removed"
                differences.append(Difference(prefix + call_id, kind, first and first["inputs"], second and second["inputs"]))
        elif first["inputs"] != second["inputs"] or first["layer"] != second["layer"]:
            differences.append(Difference(prefix + call_id, "wiring", first, second))
    for key in ("inputs", "outputs"):
        if a.get(key) != b.get(key):
            differences.append(Difference(prefix + f"(model {key})", key, a.get(key), b.get(key)))
    return differences


@dataclass
class RunComparison:
    """Two runs side by side: architecture, settings, dataset and final metrics."""

    first: RunRecord
    second: RunRecord
    architecture: list[Difference]
    settings: list[Difference]
    dataset: list[Difference]

    @property
    def same_architecture(self) -> bool:
        """Whether both runs trained the same graph."""
        return not self.architecture


def compare_runs(store: RunStore, first_id: str, second_id: str) -> RunComparison:
    """What differs between two stored runs."""
    first, second = store.get_run(first_id), store.get_run(second_id)
    return RunComparison(
        first=first,
        second=second,
        architecture=diff_specs(first.spec, second.spec),
        settings=diff_values(first.settings, second.settings, "setting"),
        dataset=diff_values(first.dataset, second.dataset, "dataset"),
    )


# --- the backend a run trained on, and training it again on the other one --------------------------------------------

# Keys the training job adds to a run's settings (the choice itself is the setting ``backend``); runs recorded before
# backends could be chosen have none of them.
BACKEND_KEYS = ("backend_used", "backend_reason", "device")
OTHER_BACKEND = {"tensorflow": "jax", "jax": "tensorflow"}
USER_FILE_SOURCE = "user file"  # studio.training.dataset_base.USER_FILE: the data was uploaded, and is not kept
OFFLINE_SOURCE = "offline sample"  # studio.training.dataset_base.OFFLINE_SAMPLE


@dataclass(frozen=True)
class RunBackend:
    """Which Keras backend trained a run, on which device and why; None where the record does not say."""

    backend: str | None
    device: str | None
    reason: str | None
    choice: str | None  # the setting: fastest, tensorflow or jax

    @property
    def other(self) -> str | None:
        """The backend to train on again for a comparison, or None when this run's backend is not known."""
        return OTHER_BACKEND.get(self.backend or "")


def run_backend(settings: dict[str, Any]) -> RunBackend:
    """What a run's recorded settings say about its backend."""

    def text(name: str) -> str | None:
        value = settings.get(name)
        return str(value) if isinstance(value, str) and value else None

    return RunBackend(text("backend_used"), text("device"), text("backend_reason"), text("backend"))


def rerun_settings(settings: dict[str, Any], backend: str) -> dict[str, Any]:
    """A run's compile settings as plain data to train it again on ``backend`` (what the job recorded is left out)."""
    again = {name: value for name, value in plain(settings).items() if name not in BACKEND_KEYS}
    again["backend"] = backend
    return again


@dataclass(frozen=True)
class RerunData:
    """The data to train a run again on: a dataset key, and whether the run used the offline sample."""

    key: str | None
    prefer_offline: bool = False

    @property
    def available(self) -> bool:
        """Whether the data can be had again (an uploaded file is not kept)."""
        return self.key is not None


def rerun_data(dataset: dict[str, Any]) -> RerunData:
    """The data a run was trained on, as a dataset key to load again (None for an uploaded file)."""
    key = dataset.get("key")
    if not isinstance(key, str) or not key or key.startswith("file:") or dataset.get("source") == USER_FILE_SOURCE:
        return RerunData(None)
    return RerunData(key, prefer_offline=dataset.get("source") == OFFLINE_SOURCE)


def run_speed(record: RunRecord) -> dict[str, float]:
    """How long a run's fit took, from its per-epoch history: ``fit_seconds`` (every epoch), ``first_epoch_seconds``
    (with the compiling of the train step) and ``later_epoch_seconds`` (the mean of the others); only what is known."""
    times = [float(row["epoch_time_s"]) for row in record.history if isinstance(row.get("epoch_time_s"), (int, float))]
    if not times:
        return {}
    speed = {"fit_seconds": sum(times), "first_epoch_seconds": times[0]}
    if len(times) > 1:
        speed["later_epoch_seconds"] = sum(times[1:]) / len(times[1:])
    return speed

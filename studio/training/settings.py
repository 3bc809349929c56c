"""Compile and fit settings (optimizer, per-output loss, weight and metrics, batch size, epochs ...),
with the tutorial's defaults per preset and a JSON form. Loss names are always Keras's full names:
the alias ``"mse"`` breaks reloading an ``.h5`` file with ``compile=True`` in Keras 3."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from studio.graph.spec import GraphSpec

OPTIMIZERS = ("RMSprop", "Adam", "SGD", "AdamW", "Adagrad", "Nadam")
LOSSES = (
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
    "kl_divergence",
)
LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "kld": "kl_divergence", "huber_loss": "huber"}
CLASSIFICATION_LOSSES = LOSSES[:3]
METRICS = (
    "accuracy",
    "sparse_categorical_accuracy",
    "categorical_accuracy",
    "binary_accuracy",
    "mean_absolute_error",
    "mean_squared_error",
    "root_mean_squared_error",
)
METRIC_ALIASES = {"acc": "accuracy", "mae": "mean_absolute_error", "mse": "mean_squared_error", "rmse": "root_mean_squared_error"}
LOGIT_LOSS_CLASSES = {
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "binary_crossentropy": "BinaryCrossentropy",
}


class SettingsError(ValueError):
    """Settings that cannot be used; the message names the field, what was expected and what was received."""


@dataclass
class OutputSettings:
    """How one output is trained: its loss (full Keras name), loss weight and metrics."""

    name: str
    loss: str = "mean_squared_error"
    loss_weight: float = 1.0
    metrics: list[str] = field(default_factory=list)
    from_logits: bool = False


@dataclass
class CompileSettings:
    """Everything ``compile`` and ``fit`` need besides the model and the data."""

    optimizer: str = "RMSprop"
    learning_rate: float = 0.001
    outputs: list[OutputSettings] = field(default_factory=list)
    batch_size: int = 64
    epochs: int = 5
    validation_split: float = 0.2
    shuffle: bool = True
    seed: int = 0
    early_stopping: bool = False
    patience: int = 2
    best_checkpoint: bool = False
    steps_per_execution: int = 0  # 0: chosen so that the charts update several times a second
    jit_compile: bool = False  # XLA; measured slower than plain graphs on CPU for these models
    validation_batch_size: int = 0  # 0: max(batch_size, 1024); changes speed only, not results

    @property
    def monitor(self) -> str:
        """What early stopping and the best checkpoint watch."""
        return "val_loss" if self.validation_split > 0 else "loss"

    def losses(self) -> list[str]:
        """The loss name of every output, in order."""
        return [output.loss for output in self.outputs]

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return asdict(self)

    def to_json(self) -> str:
        """JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def validate(self, num_outputs: int | None = None) -> None:
        """Raise SettingsError for the first unusable value."""
        _check(self.optimizer in OPTIMIZERS, "optimizer", f"one of {', '.join(OPTIMIZERS)}", self.optimizer)
        _check(
            isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate <= 10,
            "learning_rate",
            "a number in (0, 10]",
            self.learning_rate,
        )
        _check(_positive_int(self.batch_size, 1_000_000), "batch_size", "a whole number from 1 to 1,000,000", self.batch_size)
        _check(_positive_int(self.epochs, 10_000), "epochs", "a whole number from 1 to 10,000", self.epochs)
        _check(
            isinstance(self.validation_split, (int, float)) and 0 <= self.validation_split < 1,
            "validation_split",
            "a number in [0, 1)",
            self.validation_split,
        )
        _check(_positive_int(self.patience, 10_000), "patience", "a whole number of epochs >= 1", self.patience)
        _check(
            self.steps_per_execution == 0 or _positive_int(self.steps_per_execution, 10_000),
            "steps_per_execution",
            "0 (auto) or 1..10,000",
            self.steps_per_execution,
        )
        _check(
            self.validation_batch_size == 0 or _positive_int(self.validation_batch_size, 1_000_000),
            "validation_batch_size",
            "0 (auto) or >= 1",
            self.validation_batch_size,
        )
        if num_outputs is not None and len(self.outputs) != num_outputs:
            raise SettingsError(
                f"The model has {num_outputs} output(s) but the settings describe {len(self.outputs)}; reset the compile settings"
            )
        for output in self.outputs:
            _check(output.loss in LOSSES, f"outputs['{output.name}'].loss", f"a full loss name ({', '.join(LOSSES)})", output.loss)
            _check(
                isinstance(output.loss_weight, (int, float)) and output.loss_weight >= 0,
                f"outputs['{output.name}'].loss_weight",
                "a number >= 0",
                output.loss_weight,
            )
            for metric in output.metrics:
                _check(metric in METRICS, f"outputs['{output.name}'].metrics", f"names from {', '.join(METRICS)}", metric)


def _positive_int(value: Any, upper: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= upper


def _check(condition: bool, name: str, expected: str, received: Any) -> None:
    if not condition:
        raise SettingsError(f"`{name}` must be {expected}. Received: {name.split('.')[-1]}={received!r}")


def normalize_loss(name: str) -> str:
    """Full Keras loss name for an alias (``mse`` -> ``mean_squared_error``)."""
    return LOSS_ALIASES.get(name.strip().lower(), name.strip().lower())


def settings_from_dict(data: Any) -> CompileSettings:
    """Read settings from plain data (unknown keys and bad values raise SettingsError)."""
    if not isinstance(data, dict):
        raise SettingsError(f"Compile settings must be a JSON object. Received: {type(data).__name__}")
    known = {f.name for f in fields(CompileSettings)}
    unknown = set(data) - known
    if unknown:
        raise SettingsError(f"Unknown compile settings {sorted(unknown)}; expected some of {sorted(known)}")
    values = dict(data)
    outputs = []
    for item in values.pop("outputs", []):
        if not isinstance(item, dict) or "name" not in item:
            raise SettingsError(f"Each output setting needs a `name`. Received: {item!r}")
        extra = set(item) - {f.name for f in fields(OutputSettings)}
        if extra:
            raise SettingsError(f"Unknown output settings {sorted(extra)} for '{item['name']}'")
        output = OutputSettings(**item)
        output.loss = normalize_loss(str(output.loss))
        output.metrics = [METRIC_ALIASES.get(m, m) for m in output.metrics]
        outputs.append(output)
    settings = CompileSettings(outputs=outputs, **values)
    settings.validate()
    return settings


def settings_from_json(text: str) -> CompileSettings:
    """Read settings from JSON text."""
    try:
        return settings_from_dict(json.loads(text))
    except json.JSONDecodeError as error:
        raise SettingsError(f"Compile settings are not valid JSON: {error.msg} at line {error.lineno}") from error


def _output_activation(spec: GraphSpec, ref: str) -> tuple[str, int | None]:
    layer = spec.layer_of(ref.split(":")[0])
    if layer is None:
        return "", None
    return str(layer.config.get("activation") or ""), layer.config.get("units")


def guess_output(spec: GraphSpec, ref: str, autoencoder: bool) -> OutputSettings:
    """A sensible loss and metric for one output of a spec that is not a preset."""
    activation, units = _output_activation(spec, ref)
    if not autoencoder and activation == "softmax":
        return OutputSettings(ref, "sparse_categorical_crossentropy", 1.0, ["accuracy"])
    if not autoencoder and activation == "sigmoid" and units == 1:
        return OutputSettings(ref, "binary_crossentropy", 1.0, ["binary_accuracy"])
    return OutputSettings(ref, "mean_squared_error", 1.0, ["mean_absolute_error"])


def default_settings(spec: GraphSpec, dataset_key: str | None = None) -> CompileSettings:
    """The tutorial's settings for a preset (RMSprop, batch 64, 5 epochs, split 0.2), else a guess per output."""
    from studio.training.datasets import preset_of

    preset = preset_of(spec)
    names = list(spec.outputs)
    if preset == "mnist_mlp":
        outputs = [OutputSettings(names[0], "sparse_categorical_crossentropy", 1.0, ["accuracy"])]
    elif preset == "encoder":  # the 16 codes read as logits of the 10 digit classes (see datasets.PRESET_DATA)
        outputs = [OutputSettings(names[0], "sparse_categorical_crossentropy", 1.0, ["accuracy"], from_logits=True)]
    elif preset in ("decoder", "autoencoder"):
        outputs = [OutputSettings(names[0], "mean_squared_error", 1.0, ["mean_absolute_error"])]
    elif preset == "multi_io":
        outputs = [
            OutputSettings("priority", "binary_crossentropy", 1.0, []),
            OutputSettings("department", "categorical_crossentropy", 0.2, []),
        ]
        return CompileSettings("RMSprop", 1e-3, outputs, batch_size=32, epochs=5, validation_split=0.0)
    elif preset == "shared_embedding":
        outputs = [OutputSettings(name, "mean_squared_error", 1.0, ["mean_absolute_error"]) for name in names]
    else:
        autoencoder = bool(dataset_key and dataset_key.endswith("_autoencoder"))
        outputs = [guess_output(spec, name, autoencoder) for name in names]
    return CompileSettings(outputs=outputs)


def compile_arguments(settings: CompileSettings, steps_per_execution: int = 1) -> dict[str, Any]:
    """Keyword arguments for ``model.compile`` (a single loss for one output, like the tutorial; lists otherwise)."""
    import keras

    optimizer = keras.optimizers.get({"class_name": settings.optimizer, "config": {"learning_rate": float(settings.learning_rate)}})
    losses: list[Any] = []
    for output in settings.outputs:
        if output.from_logits and output.loss in LOGIT_LOSS_CLASSES:
            losses.append(getattr(keras.losses, LOGIT_LOSS_CLASSES[output.loss])(from_logits=True))
        else:
            losses.append(output.loss)
    metrics = [list(output.metrics) for output in settings.outputs]
    single = len(settings.outputs) == 1
    arguments: dict[str, Any] = {
        "optimizer": optimizer,
        "loss": losses[0] if single else losses,
        "metrics": metrics[0] if single else metrics,
        "steps_per_execution": steps_per_execution,
        "jit_compile": bool(settings.jit_compile),
    }
    if not single:
        arguments["loss_weights"] = [float(output.loss_weight) for output in settings.outputs]
    return arguments

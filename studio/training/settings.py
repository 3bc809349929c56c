"""Compile and fit settings (optimizer, per-output loss, weight and metrics, batch size, epochs ...),
with the tutorial's defaults per preset and a JSON form. Loss names are always Keras's full names:
the alias ``"mse"`` breaks reloading an ``.h5`` file with ``compile=True`` in Keras 3."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from studio.graph.spec import GraphSpec
from studio.i18n import _
from studio.training.backends import check_choice, default_choice

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
    jit_compile: bool = False  # TensorFlow's XLA, measured slower than plain graphs on CPU here; JAX always compiles
    validation_batch_size: int = 0  # 0: max(batch_size, 1024); changes speed only, not results
    backend: str = field(default_factory=default_choice)  # fastest (measured), tensorflow or jax; see studio.training.backends

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
        _check(self.optimizer in OPTIMIZERS, "optimizer", _("one of {names}").format(names=", ".join(OPTIMIZERS)), self.optimizer)
        _check(
            isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate <= 10,
            "learning_rate",
            _("a number in (0, 10]"),
            self.learning_rate,
        )
        _check(_positive_int(self.batch_size, 1_000_000), "batch_size", _("a whole number from 1 to 1,000,000"), self.batch_size)
        _check(_positive_int(self.epochs, 10_000), "epochs", _("a whole number from 1 to 10,000"), self.epochs)
        _check(
            isinstance(self.validation_split, (int, float)) and 0 <= self.validation_split < 1,
            "validation_split",
            _("a number in [0, 1)"),
            self.validation_split,
        )
        _check(_positive_int(self.patience, 10_000), "patience", _("a whole number of epochs >= 1"), self.patience)
        _check(
            self.steps_per_execution == 0 or _positive_int(self.steps_per_execution, 10_000),
            "steps_per_execution",
            _("0 (auto) or 1..10,000"),
            self.steps_per_execution,
        )
        _check(
            self.validation_batch_size == 0 or _positive_int(self.validation_batch_size, 1_000_000),
            "validation_batch_size",
            _("0 (auto) or >= 1"),
            self.validation_batch_size,
        )
        problem = check_choice(self.backend)
        if problem:
            raise SettingsError(_("`backend`: {problem}").format(problem=problem))
        if num_outputs is not None and len(self.outputs) != num_outputs:
            raise SettingsError(
                _("The model has {outputs} output(s) but the settings describe {settings}; reset the compile settings").format(
                    outputs=num_outputs, settings=len(self.outputs)
                )
            )
        for output in self.outputs:
            field_name = f"outputs['{output.name}']"
            _check(
                output.loss in LOSSES, f"{field_name}.loss", _("a full loss name ({names})").format(names=", ".join(LOSSES)), output.loss
            )
            _check(
                isinstance(output.loss_weight, (int, float)) and output.loss_weight >= 0,
                f"{field_name}.loss_weight",
                _("a number >= 0"),
                output.loss_weight,
            )
            for metric in output.metrics:
                _check(metric in METRICS, f"{field_name}.metrics", _("names from {names}").format(names=", ".join(METRICS)), metric)


def _positive_int(value: Any, upper: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= upper


def _check(condition: bool, name: str, expected: str, received: Any) -> None:
    if not condition:
        raise SettingsError(
            _("`{name}` must be {expected}. Received: {field}={value}").format(
                name=name, expected=expected, field=name.split(".")[-1], value=repr(received)
            )
        )


def normalize_loss(name: str) -> str:
    """Full Keras loss name for an alias (``mse`` -> ``mean_squared_error``)."""
    return LOSS_ALIASES.get(name.strip().lower(), name.strip().lower())


def settings_from_dict(data: Any) -> CompileSettings:
    """Read settings from plain data (unknown keys and bad values raise SettingsError)."""
    if not isinstance(data, dict):
        raise SettingsError(_("Compile settings must be a JSON object. Received: {type}").format(type=type(data).__name__))
    known = {f.name for f in fields(CompileSettings)}
    unknown = set(data) - known
    if unknown:
        raise SettingsError(
            _("Unknown compile settings {unknown}; expected some of {known}").format(unknown=sorted(unknown), known=sorted(known))
        )
    values = dict(data)
    outputs = []
    for item in values.pop("outputs", []):
        if not isinstance(item, dict) or "name" not in item:
            raise SettingsError(_("Each output setting needs a `name`. Received: {item}").format(item=repr(item)))
        extra = set(item) - {f.name for f in fields(OutputSettings)}
        if extra:
            raise SettingsError(_("Unknown output settings {unknown} for '{name}'").format(unknown=sorted(extra), name=item["name"]))
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
        raise SettingsError(
            _("Compile settings are not valid JSON: {message} at line {line}").format(message=error.msg, line=error.lineno)
        ) from error


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


def _preset_settings(preset: str | None, names: list[str]) -> CompileSettings | None:
    """The tutorial's settings of a preset (RMSprop, batch 64, 5 epochs, split 0.2) for outputs of these names, or None."""
    if preset == "mnist_mlp":
        outputs = [OutputSettings(names[0], "sparse_categorical_crossentropy", 1.0, ["accuracy"])]
    elif preset == "encoder":  # the 16 codes read as logits of the digit classes (see defaults.PRESET_REASONS)
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
        return None
    return CompileSettings(outputs=outputs)


def _kept_output(spec: GraphSpec, preset_spec: GraphSpec, kept: OutputSettings, notes: list[str]) -> OutputSettings:
    """A preset's output settings for the same output of a modified spec: the same loss and weight; from_logits
    follows the output's activation when the softmax or sigmoid was removed or added (and a note says so)."""
    output = replace(kept, metrics=list(kept.metrics))
    before, _units = _output_activation(preset_spec, kept.name)
    now, _units = _output_activation(spec, kept.name)
    if output.loss not in LOGIT_LOSS_CLASSES or before == now:
        return output
    squashing = ("softmax", "sigmoid")
    if now in squashing and output.from_logits:
        output.from_logits = False
        notes.append(
            _("Output '{name}' now ends in {activation}: its loss {loss} reads probabilities (from_logits off).").format(
                name=output.name, activation=now, loss=output.loss
            )
        )
    elif now not in squashing and not output.from_logits:
        output.from_logits = True
        notes.append(
            _("Output '{name}' has no {activation} any more: its loss {loss} now reads the outputs as logits (from_logits=True).").format(
                name=output.name, activation=before, loss=output.loss
            )
        )
    return output


def settings_report(spec: GraphSpec, dataset_key: str | None = None) -> tuple[CompileSettings, list[str]]:
    """The default settings of a spec and notes on what of a preset's settings no longer fits.

    A preset gets the tutorial's settings. A modified preset (see :func:`studio.training.defaults.origin_preset`)
    trained on the preset's data keeps them for every output still there (loss, loss weight, metrics; batch size,
    epochs and split too); each output that is gone or new is named. Anything else: a guess per output.
    """
    from studio.graph.presets import load_preset
    from studio.training.defaults import PRESET_DATA, origin_preset, preset_of

    names = list(spec.outputs)
    exact = preset_of(spec)
    if exact is not None:
        return _preset_settings(exact, names) or CompileSettings(outputs=[guess_output(spec, name, False) for name in names]), []
    autoencoder = bool(dataset_key and dataset_key.endswith("_autoencoder"))
    guessed = CompileSettings(outputs=[guess_output(spec, name, autoencoder) for name in names])
    origin = origin_preset(spec)
    if origin is None or PRESET_DATA.get(origin) is None or dataset_key not in (None, PRESET_DATA[origin]):
        return guessed, []
    preset_spec = load_preset(origin)
    tutorial = _preset_settings(origin, list(preset_spec.outputs))
    if tutorial is None:
        return guessed, []
    by_name = {output.name: output for output in tutorial.outputs}
    notes: list[str] = []
    outputs = []
    for name, guess in zip(names, guessed.outputs, strict=True):
        if name in by_name:
            outputs.append(_kept_output(spec, preset_spec, by_name[name], notes))
        else:
            outputs.append(guess)
            notes.append(
                _("Output '{name}' is new (not in the tutorial's model): its loss is guessed, {loss} with weight {weight}.").format(
                    name=name, loss=guess.loss, weight=f"{guess.loss_weight:g}"
                )
            )
    for gone in [output for output in tutorial.outputs if output.name not in names]:
        notes.append(
            _("The tutorial's output '{name}' is gone, and with it its loss {loss} (weight {weight}).").format(
                name=gone.name, loss=gone.loss, weight=f"{gone.loss_weight:g}"
            )
        )
    return replace(tutorial, outputs=outputs), notes


def default_settings(spec: GraphSpec, dataset_key: str | None = None) -> CompileSettings:
    """The tutorial's settings for a preset (also a modified one, output by output), else a guess per output."""
    return settings_report(spec, dataset_key)[0]


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
        # Under JAX, jit_compile=False means op-by-op eager execution (a debugging mode, ~40x slower here): always jit.
        "jit_compile": bool(settings.jit_compile) or keras.backend.backend() == "jax",
    }
    if not single:
        arguments["loss_weights"] = [float(output.loss_weight) for output in settings.outputs]
    return arguments

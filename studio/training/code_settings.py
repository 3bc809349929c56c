"""Training settings read from code (``model.compile`` / ``model.fit``, see :mod:`studio.io.pycode.training`)
merged over the defaults: what the code sets wins, what it leaves out keeps the studio's default."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from studio.graph.spec import GraphSpec
from studio.i18n import _
from studio.training.settings import (
    METRIC_ALIASES,
    OPTIMIZERS,
    CompileSettings,
    SettingsError,
    default_settings,
    normalize_loss,
)

_PLAIN_KEYS = ("learning_rate", "batch_size", "epochs", "validation_split", "shuffle")


def _optimizer(name: str) -> str:
    """'rmsprop' / 'RMSprop' -> 'RMSprop' (SettingsError for an optimizer the studio does not offer)."""
    for known in OPTIMIZERS:
        if known.lower() == str(name).lower():
            return known
    raise SettingsError(
        _("`optimizer` must be one of {names}. Received: optimizer={name}").format(names=", ".join(OPTIMIZERS), name=repr(name))
    )


def settings_from_code(spec: GraphSpec, code: dict[str, Any] | None, dataset_key: str | None = None) -> tuple[CompileSettings, list[str]]:
    """The default settings of the spec with the code's compile/fit settings on top, and what could not be used."""
    settings = default_settings(spec, dataset_key)
    if not code:
        return settings, []
    merged = replace(settings, outputs=[replace(output) for output in settings.outputs])
    try:
        if "optimizer" in code:
            merged.optimizer = _optimizer(code["optimizer"])
        for key in _PLAIN_KEYS:
            if key in code:
                setattr(merged, key, code[key])
        for output, given in zip(merged.outputs, code.get("outputs", []), strict=False):
            if "loss" in given:
                output.loss = normalize_loss(str(given["loss"]))
            if "loss_weight" in given:
                output.loss_weight = given["loss_weight"]
            if "metrics" in given:
                output.metrics = [METRIC_ALIASES.get(metric, metric) for metric in given["metrics"]]
            if "from_logits" in given:
                output.from_logits = bool(given["from_logits"])
        merged.validate(num_outputs=len(spec.outputs))
    except SettingsError as error:
        return settings, [
            _("the code's compile/fit settings cannot be used ({reason}); the defaults are used instead").format(reason=error)
        ]
    return merged, []

"""``model.compile(...)`` and ``model.fit(...)`` arguments -> training settings as plain data.

The result has the shape of the training settings' JSON form (``optimizer``, ``learning_rate``,
``outputs: [{name, loss, loss_weight, metrics, from_logits}]``, ``batch_size``, ``epochs``,
``validation_split``, ``shuffle``) with only the keys the code sets; output names are the spec's output
references. Names are kept as written (``"mse"``, ``"rmsprop"``): the training layer normalises and checks them.
"""

from __future__ import annotations

from typing import Any

import studio.io.pycode.kerasapi as kerasapi
from studio.graph.naming import snake_case
from studio.graph.spec import GraphSpec, split_ref
from studio.i18n import _
from studio.io.pycode.construct import KerasCall
from studio.io.pycode.result import CodeNote
from studio.io.pycode.values import KerasRef, ModelObj, describe

_SINGULAR = {"optimizers": "optimizer", "losses": "loss", "metrics": "metric"}
_FIT_KEYS = {"batch_size": int, "epochs": int, "validation_split": float, "shuffle": bool}


class _Unreadable(Exception):
    """A compile/fit value the parser cannot turn into a setting."""


def _name(value: Any, module: str) -> tuple[str, dict]:
    """A loss / metric / optimizer given as a string, a Keras function, or a Keras object: (snake name, its keyword args)."""
    if isinstance(value, str):
        return value, {}
    if isinstance(value, KerasRef) and value.path.startswith(f"keras.{module}."):
        last = value.path.rsplit(".", 1)[-1]
        return (last if last.islower() or module == "optimizers" else snake_case(last)), {}
    if isinstance(value, KerasCall) and value.path.startswith(f"keras.{module}."):
        names = kerasapi.positional_names(value.path)
        arguments = {**dict(zip(names, value.args, strict=False)), **value.kwargs}
        name = kerasapi.class_name(value.path)
        return (name if module == "optimizers" else snake_case(name)), arguments
    raise _Unreadable(
        _("the {SINGULAR} is given as {value}; a name or a keras.{module} object is read").format(
            SINGULAR=_SINGULAR[module], value=describe(value), module=module
        )
    )


def _per_output(value: Any, keys: list[str], what: str) -> list[Any] | None:
    """One value per output from a single value, a list (in output order) or a dict keyed by output names."""
    if isinstance(value, dict):
        unknown = [key for key in value if key not in keys]
        if unknown:
            raise _Unreadable(
                _("{what} names {map}, which are not outputs ({keys})").format(
                    what=what, map=", ".join(map(repr, unknown)), keys=", ".join(keys)
                )
            )
        return [value.get(key) for key in keys]
    if isinstance(value, (list, tuple)) and what != "metrics":
        if len(value) != len(keys):
            raise _Unreadable(
                _("{what} lists {value_count} values for {keys_count} outputs").format(
                    what=what, value_count=len(value), keys_count=len(keys)
                )
            )
        return list(value)
    return [value] * len(keys)


def _output_keys(model: ModelObj, spec: GraphSpec) -> list[str]:
    """The names Keras gives the outputs: the dict keys of `outputs=`, else the layers that make them."""
    if model.output_keys and len(model.output_keys) == len(spec.outputs):
        return list(model.output_keys)
    keys = []
    for ref in spec.outputs:
        call = spec.call(split_ref(ref)[0])
        keys.append(call.layer if call is not None else ref)
    return keys


def _metrics(value: Any) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else [value]
    return [_name(item, "metrics")[0] for item in items if item is not None]


def _compile(arguments: dict, keys: list[str], refs: list[str]) -> dict:
    settings: dict[str, Any] = {}
    optimizer = arguments.get("optimizer")
    if optimizer is not None:
        name, options = _name(optimizer, "optimizers")
        settings["optimizer"] = name
        rate = options.get("learning_rate", options.get("lr"))
        if isinstance(rate, (int, float)) and not isinstance(rate, bool):
            settings["learning_rate"] = float(rate)
    outputs: list[dict[str, Any]] = [{"name": ref} for ref in refs]
    if arguments.get("loss") is not None:
        for output, loss in zip(outputs, _per_output(arguments["loss"], keys, "loss"), strict=True):
            if loss is not None:
                name, options = _name(loss, "losses")
                output["loss"] = name
                if options.get("from_logits") is True:
                    output["from_logits"] = True
    if arguments.get("loss_weights") is not None:
        for output, weight in zip(outputs, _per_output(arguments["loss_weights"], keys, "loss_weights"), strict=True):
            if isinstance(weight, (int, float)) and not isinstance(weight, bool):
                output["loss_weight"] = float(weight)
    metrics = arguments.get("metrics")
    if metrics is not None:
        nested = isinstance(metrics, (list, tuple)) and metrics and all(isinstance(item, (list, tuple)) for item in metrics)
        if isinstance(metrics, dict) or nested:
            per_output = _per_output(metrics if isinstance(metrics, dict) else list(metrics), keys, "metric lists")
        else:
            per_output = [metrics] * len(keys)
        for output, value in zip(outputs, per_output, strict=True):
            if value is not None:
                output["metrics"] = _metrics(value)
    if any(len(output) > 1 for output in outputs):
        settings["outputs"] = outputs
    return settings


def _fit(arguments: dict) -> tuple[dict, list[str]]:
    settings: dict[str, Any] = {}
    unread = []
    for key, kind in _FIT_KEYS.items():
        if key not in arguments or arguments[key] is None:
            continue
        value = arguments[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
            settings[key] = value
        else:
            unread.append(key)
    return settings, unread


def training_settings(model: ModelObj, spec: GraphSpec) -> tuple[dict, list[CodeNote]]:
    """The settings that `model.compile` / `model.fit` in the code give this model, and notes on what could not be read."""
    settings: dict[str, Any] = {}
    notes: list[CodeNote] = []
    if model.compile_args is not None:
        arguments = dict(model.compile_args)
        line = arguments.pop("__line__", None)
        try:
            settings.update(_compile(arguments, _output_keys(model, spec), list(spec.outputs)))
        except _Unreadable as reason:
            notes.append(
                CodeNote(
                    line,
                    "assumption",
                    _("the compile settings of '{model_id}' are not used: {reason}").format(model_id=model.id, reason=reason),
                )
            )
        else:
            ignored = sorted(set(arguments) - {"optimizer", "loss", "loss_weights", "metrics"})
            if ignored:
                notes.append(
                    CodeNote(line, "skipped", _("compile arguments not used by the studio: {ignored}").format(ignored=", ".join(ignored)))
                )
    if model.fit_args is not None:
        arguments = dict(model.fit_args)
        line = arguments.pop("__line__", None)
        values, unread = _fit(arguments)
        settings.update(values)
        if unread:
            notes.append(
                CodeNote(line, "assumption", _("fit arguments not read (not constants): {unread}").format(unread=", ".join(unread)))
            )
    return settings, notes

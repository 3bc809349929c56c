"""The layer catalogue: palette types, their parameters (derived from Keras) and layer construction."""

from __future__ import annotations

import functools
from collections.abc import Callable

from studio.backend import import_tensorflow_quietly

import_tensorflow_quietly()

import keras  # noqa: E402

from studio.catalog.params import (  # noqa: E402
    HELP_FALLBACK,
    LayerType,
    Param,
    check_value,
    derive_params,
    docstring_summary,
    scalar_form,
    to_json,
)
from studio.catalog.table import (  # noqa: E402
    ALIASES,
    APPLICATION_TYPES,
    ARITY,
    GROUPS,
    PLAIN_LAYERS,
    RECURRENT_TYPES,
    SUMMARIES,
    canonical_type,
    default_config,
    group_label,
    palette_groups,
)
from studio.i18n import _  # noqa: E402

__all__ = [
    "APPLICATION_TYPES",
    "COMMON_KEYWORDS",
    "LAYER_TYPES",
    "LayerType",
    "Param",
    "application_layer_names",
    "canonical_type",
    "coerce_config",
    "config_from_layer",
    "create_input",
    "create_layer",
    "default_config",
    "get_layer_type",
    "palette_groups",
    "search_types",
]

# Base-layer keywords every plain layer accepts although the palette form does not show them.
COMMON_KEYWORDS = ("trainable", "dtype")
_APPLICATION_EXTRAS = (
    Param("outputs", "json", None, False, None, HELP_FALLBACK["outputs"]),
    Param("frozen", "json", [], False, None, HELP_FALLBACK["frozen"]),
)


def _keras_target(type_name: str) -> Callable:
    """The Keras class or factory behind a catalogue type."""
    if type_name == "Input":
        return keras.Input
    if type_name in APPLICATION_TYPES:
        return getattr(keras.applications, type_name)
    return getattr(keras.layers, type_name)


def _build_catalogue() -> dict[str, LayerType]:
    """Derive every palette entry from Keras."""
    types: dict[str, LayerType] = {}
    for group, names in GROUPS.items():
        for type_name in names:
            minimum, maximum = ARITY.get(type_name, (1, 1))
            if type_name == "Model":
                types[type_name] = LayerType(type_name, group, SUMMARIES["Model"], (), minimum, maximum)
                continue
            target = _keras_target(type_name)
            if type_name in APPLICATION_TYPES:
                params = derive_params(type_name, target, frozenset({"weights"}), _APPLICATION_EXTRAS)
            else:
                params = derive_params(type_name, target, frozenset({"dtype"} if type_name == "Input" else ()))
            types[type_name] = LayerType(type_name, group, docstring_summary(target), params, minimum, maximum)
    return types


LAYER_TYPES: dict[str, LayerType] = _build_catalogue()
_SEARCH_TEXT = {
    name: " ".join([name, entry.group, entry.doc, *(alias for alias, target in ALIASES.items() if target == name)]).lower()
    for name, entry in LAYER_TYPES.items()
}
# Types that may be wrapped by TimeDistributed: single-input plain layers.
_WRAPPABLE = {
    "Bidirectional": tuple(sorted(RECURRENT_TYPES)),
    "TimeDistributed": tuple(name for name in PLAIN_LAYERS if ARITY.get(name, (1, 1)) == (1, 1)),
}


def get_layer_type(name: str) -> LayerType:
    """Look up a catalogue entry by name or alias (KeyError naming the valid types if unknown)."""
    canonical = canonical_type(name)
    if canonical not in LAYER_TYPES:
        raise KeyError(_("Unknown layer type '{type}'; valid types: {valid}").format(type=name, valid=", ".join(LAYER_TYPES)))
    return LAYER_TYPES[canonical]


def search_types(query: str) -> list[str]:
    """Type names whose name, alias, group or summary (in English or the current language) contains `query` (case-insensitive)."""
    needle = query.strip().lower()
    return [
        name
        for name, haystack in _SEARCH_TEXT.items()
        if needle in haystack or needle in f"{group_label(LAYER_TYPES[name].group)} {LAYER_TYPES[name].summary}".lower()
    ]


def coerce_config(type_name: str, config: dict, name: str | None = None) -> dict:
    """Validate a JSON spec config and turn it into constructor kwargs (lists -> tuples, nested layers built).

    `name` (the node name) only serves to name a wrapper's inner layer `f"{name}_inner"`.
    For applications the result keeps the spec-only keys `outputs` and `frozen`.
    """
    layer_type = get_layer_type(type_name)
    if not isinstance(config, dict):
        raise TypeError(_("The config of a {type} must be a dict. Received: {value}").format(type=layer_type.name, value=repr(config)))
    params = {param.name: param for param in layer_type.params}
    common = () if layer_type.group in ("Inputs", "Applications", "Models") else COMMON_KEYWORDS
    for key in config:
        if key not in params and key not in common:
            message = _("Unknown parameter '{key}' for {type}; valid: {valid}")
            raise ValueError(message.format(key=key, type=layer_type.name, valid=", ".join(params) or _("(none)")))
    missing = [param for param in layer_type.params if param.required and param.name not in config]
    if missing:
        details = "; ".join(f"'{param.name}' ({param.help})" for param in missing)
        raise ValueError(_("Missing required parameter(s) for {type}: {details}").format(type=layer_type.name, details=details))
    kwargs: dict = {}
    for key, value in config.items():
        param = params.get(key)
        if param is None:
            expected = bool if key == "trainable" else str
            if not isinstance(value, expected):
                message = _("`{key}` must be a {kind}. Received: {key}={value}")
                raise ValueError(message.format(key=key, kind=expected.__name__, value=repr(value)))
            kwargs[key] = value
        elif param.kind == "layer":
            kwargs[key] = _inner_layer(layer_type.name, value, name)
        elif key in ("outputs", "frozen"):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                message = _("`{key}` must be a list of inner layer names. Received: {key}={value}")
                raise ValueError(message.format(key=key, value=repr(value)))
            kwargs[key] = list(value)
        else:
            kwargs[key] = check_value(layer_type.name, param, value)
    return kwargs


def _inner_layer(wrapper: str, value: object, outer_name: str | None) -> keras.layers.Layer:
    """Build the layer wrapped by Bidirectional / TimeDistributed from {"type", "config"[, "name"]}."""
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("type"), str)
        or not isinstance(value.get("config", {}), dict)
        or set(value) - {"type", "config", "name"}
    ):
        raise ValueError(
            _("`layer` of {wrapper} must be a dict like {example}. Received: layer={value}").format(
                wrapper=wrapper, example='{"type": "LSTM", "config": {"units": 32}}', value=repr(value)
            )
        )
    inner_type = canonical_type(value["type"])
    if inner_type not in _WRAPPABLE[wrapper]:
        raise ValueError(
            _("`layer` of {wrapper} must be one of {valid}. Received: type={value}").format(
                wrapper=wrapper, valid=", ".join(_WRAPPABLE[wrapper]), value=repr(value["type"])
            )
        )
    inner_name = value.get("name") or (f"{outer_name}_inner" if outer_name else None)
    try:
        return create_layer(inner_type, value.get("config", {}), inner_name)
    except (ValueError, TypeError) as error:
        raise _rethrow(error, _("`layer` of {wrapper}").format(wrapper=wrapper)) from error


def _rethrow(error: Exception, context: str) -> Exception:
    """Prefix a Keras ValueError/TypeError with the node it came from, keeping its type (and Keras's words)."""
    message = _("{context}: {keras_error}")
    return (ValueError if isinstance(error, ValueError) else TypeError)(message.format(context=context, keras_error=error))


def create_layer(type_name: str, config: dict, name: str) -> keras.layers.Layer:
    """Instantiate a Keras layer from a spec config (constructor kwargs, JSON data)."""
    layer_type = get_layer_type(type_name)
    if layer_type.name == "Model":
        raise ValueError(_("'Model' nodes hold a nested graph spec; the graph builder handles nested models"))
    if layer_type.name in APPLICATION_TYPES:
        return _create_application(layer_type.name, config, name)
    kwargs = coerce_config(layer_type.name, config, name)
    layer_class = keras.layers.InputLayer if layer_type.name == "Input" else getattr(keras.layers, layer_type.name)
    try:
        return layer_class(**kwargs, name=name)
    except (ValueError, TypeError) as error:
        raise _rethrow(error, f"{layer_type.name} '{name}'") from error


def create_input(config: dict, name: str) -> keras.KerasTensor:
    """Create the `keras.Input` tensor of an Input node, with the catalogue's validation."""
    kwargs = coerce_config("Input", config)
    try:
        return keras.Input(**kwargs, name=name)
    except (ValueError, TypeError) as error:
        raise _rethrow(error, f"Input '{name}'") from error


def _create_application(type_name: str, config: dict, name: str) -> keras.Model:
    """Build a keras.applications model, exposing the requested inner outputs and freezing layers."""
    kwargs = coerce_config(type_name, config)
    outputs, frozen = kwargs.pop("outputs", None), kwargs.pop("frozen", [])
    kwargs.setdefault("weights", None)
    try:
        application = _build_application(type_name, kwargs)
    except (ValueError, TypeError) as error:
        raise _rethrow(error, f"{type_name} '{name}'") from error
    except Exception as error:  # noqa: BLE001 - Keras raises a bare Exception when a download fails
        if kwargs["weights"] != "imagenet":
            raise
        message = _("ImageNet weights for {type} could not be downloaded ({error}); use weights=None for random initialisation")
        raise ValueError(message.format(type=type_name, error=error)) from error
    names = [layer.name for layer in application.layers]
    unknown = [layer_name for layer_name in [*(outputs or []), *frozen] if layer_name not in names]
    if unknown:
        message = _("{type} '{name}' has no inner layer named {unknown}; valid names include {some}, ..., {last} ({count} in all)")
        unknown_names, some = ", ".join(map(repr, unknown)), ", ".join(names[1:6])
        raise ValueError(message.format(type=type_name, name=name, unknown=unknown_names, some=some, last=names[-1], count=len(names)))
    for layer_name in frozen:
        application.get_layer(layer_name).trainable = False
    tensors = [application.get_layer(layer_name).output for layer_name in outputs] if outputs else application.outputs
    inputs = application.inputs
    return keras.Model(
        inputs=inputs[0] if len(inputs) == 1 else inputs,
        outputs=tensors[0] if len(tensors) == 1 else tensors,
        name=name,
    )


def application_layer_names(type_name: str, config: dict) -> list[str]:
    """Inner layer names of an application (for picking `outputs` / `frozen`), built once with weights=None."""
    layer_type = get_layer_type(type_name)
    if layer_type.name not in APPLICATION_TYPES:
        message = _("{type} is not an application; applications: {valid}")
        raise ValueError(message.format(type=layer_type.name, valid=", ".join(sorted(APPLICATION_TYPES))))
    kwargs = coerce_config(layer_type.name, config)
    include_top = kwargs.get("include_top", True)
    input_shape = kwargs.get("input_shape")
    pooling = None if include_top else kwargs.get("pooling")
    return list(_application_layer_names(layer_type.name, include_top, input_shape, pooling, kwargs.get("alpha", 1.0)))


@functools.lru_cache(maxsize=32)
def _application_layer_names(
    type_name: str, include_top: bool, input_shape: tuple | None, pooling: str | None, alpha: float
) -> tuple[str, ...]:
    """Cached inner layer names of one application variant."""
    extra = {"alpha": alpha} if type_name == "MobileNetV2" else {}
    application = _build_application(
        type_name, {"include_top": include_top, "weights": None, "input_shape": input_shape, "pooling": pooling, **extra}
    )
    return tuple(layer.name for layer in application.layers)


def _build_application(type_name: str, kwargs: dict) -> keras.Model:
    """Call the keras.applications factory; its auto-named input layer is renamed `input_layer` (stable names)."""
    application = _keras_target(type_name)(**kwargs)
    for layer in application.layers:
        if isinstance(layer, keras.layers.InputLayer) and len(application.inputs) == 1:
            layer.name = "input_layer"
    return application


# get_config keys left out of round-trip comparisons: `trainable` lives on the spec's layer entry, a wrapper
# sets `zero_output_for_mask` on its inner RNN by itself, and a built wrapper adds its inner layer's `build_config`.
_IGNORED_KEYS = frozenset({"trainable", "zero_output_for_mask", "build_config"})


def _comparable(value: object) -> object:
    """A layer's get_config as JSON, recursively without keys that are not part of a catalogue config."""
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items() if key not in _IGNORED_KEYS}
    return to_json(value) if not isinstance(value, (list, tuple)) else [_comparable(item) for item in value]


def _recreated(type_name: str, config: dict, name: str) -> object:
    """Comparable get_config of the layer `create_layer` makes from `config` (None if it fails)."""
    try:
        return _comparable(create_layer(type_name, config, name).get_config())
    except (ValueError, TypeError):
        return None


@functools.cache
def _reference_config(type_name: str) -> dict:
    """Comparable get_config of the starter layer of a type: the Keras defaults in serialised form."""
    return _comparable(create_layer(type_name, default_config(type_name), "reference").get_config())


def config_from_layer(layer: keras.layers.Layer) -> tuple[str, dict]:
    """Inverse for the importer: a live Keras layer -> (type name, minimal config)."""
    type_name = type(layer).__name__
    if isinstance(layer, keras.layers.InputLayer):
        return "Input", _input_config(layer)
    if type_name not in PLAIN_LAYERS or getattr(keras.layers, type_name) is not type(layer):
        if isinstance(layer, keras.Model):
            message = _("Layer '{name}' is a {type}, which is a nested model (import it as a 'Model' node); supported types: {valid}")
        else:
            message = _("Layer '{name}' is a {type}, which is not in the catalogue; supported types: {valid}")
        raise ValueError(message.format(name=layer.name, type=type_name, valid=", ".join(PLAIN_LAYERS)))
    layer_type = LAYER_TYPES[type_name]
    target = _comparable(layer.get_config())
    reference = _reference_config(type_name)
    full: dict = {"dtype": layer.dtype_policy.name} if layer.dtype_policy.name != "float32" else {}
    for param in layer_type.params:
        if param.kind == "layer":
            full[param.name] = _inner_config(layer)
        elif param.name in target:
            full[param.name] = target[param.name]
    optional = [param.name for param in layer_type.params if not param.required and param.kind != "layer"]
    # Fast path: drop what equals the starter layer's value; if that no longer round-trips (a value implied
    # by another, like pooling strides by pool_size), start again from everything.
    config = {key: value for key, value in full.items() if key not in optional or value != reference.get(key)}
    if _recreated(type_name, config, layer.name) != target:
        config = full
    for key in [key for key in optional if key in config]:
        trial = {other: value for other, value in config.items() if other != key}
        if _recreated(type_name, trial, layer.name) == target:
            config = trial
    for key in [param.name for param in layer_type.params if param.kind == "int_or_tuple" and param.name in config]:
        scalar = scalar_form(config[key])  # [3, 3] -> 3 when Keras expands it back the same way
        if scalar is not None and _recreated(type_name, {**config, key: scalar}, layer.name) == target:
            config[key] = scalar
    if _recreated(type_name, config, layer.name) != target:
        differing = sorted(key for key, value in target.items() if key != "name" and reference.get(key) != value)
        message = _("Layer '{name}' ({type}) cannot be represented exactly by the catalogue; check its settings: {keys}")
        raise ValueError(message.format(name=layer.name, type=type_name, keys=", ".join(differing)))
    return type_name, config


def _inner_config(wrapper: keras.layers.Layer) -> dict:
    """The nested {"type", "config"[, "name"]} form of a wrapper's inner layer."""
    inner = wrapper.forward_layer if isinstance(wrapper, keras.layers.Bidirectional) else wrapper.layer
    inner_type, inner_config = config_from_layer(inner)
    nested = {"type": inner_type, "config": inner_config}
    inner_name = inner.name
    if isinstance(wrapper, keras.layers.Bidirectional) and inner_name.startswith("forward_"):
        inner_name = inner_name[len("forward_") :]
    if inner_name != f"{wrapper.name}_inner":
        nested["name"] = inner_name
    return nested


def _input_config(layer: keras.layers.InputLayer) -> dict:
    """Minimal Input config of an InputLayer."""
    layer_config = layer.get_config()
    batch_shape = list(layer_config["batch_shape"])
    config: dict = {"shape": batch_shape[1:]}
    if batch_shape[0] is not None:
        config["batch_size"] = batch_shape[0]
    if layer_config.get("dtype", "float32") != "float32":
        config["dtype"] = layer_config["dtype"]
    if layer_config.get("sparse"):
        config["sparse"] = True
    if _recreated("Input", config, layer.name) != _comparable(layer_config):
        message = _("Input '{name}' cannot be represented exactly (ragged or optional inputs are not supported)")
        raise ValueError(message.format(name=layer.name))
    return config

"""Typed widgets for a layer's parameters (defaults and help from the catalogue), and reading them back.

Draw with `render_param_widgets` inside a form; read with `collect_config` in the submit callback.
Text fields that do not parse get their message right under them (error key = widget key).
"""

from __future__ import annotations

import math

import streamlit as st

from components import state
from components.text import md
from studio.catalog import types as catalog
from studio.catalog.params import Param
from studio.catalog.values import KIND_HINTS, format_value, parse_param_text
from studio.i18n import DEFAULT_LANGUAGE, _, current_language, keras_says, ngettext

# Parameters shown before "More parameters" (besides required ones and ones already set).
MAIN_PARAMS = frozenset(
    {
        "activation",
        "padding",
        "strides",
        "return_sequences",
        "pool_size",
        "dtype",
        "include_top",
        "weights",
        "input_shape",
        "pooling",
        "classes",
        "axis",
        "merge_mode",
        "size",
        "use_bias",
    }
)
# Application keys edited by their own widgets (inner-layer pickers), not as plain parameters.
SPECIAL_KEYS = frozenset({"outputs", "frozen"})


def shown_params(type_name: str) -> list[Param]:
    """The parameters a form shows for a type (application inner-layer pickers excluded)."""
    return [param for param in catalog.get_layer_type(type_name).params if param.name not in SPECIAL_KEYS]


# The browser's numbers are doubles: st.number_input refuses integers beyond 2**53 - 1
# (StreamlitJSNumberBoundsError), so larger ones are edited as text.
BROWSER_MAX_INT = 2**53 - 1


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def fits_number_input(value: object) -> bool:
    """Whether st.number_input can show this value (an int within ±(2**53 - 1), or a finite float)."""
    if _is_int(value):
        return abs(value) <= BROWSER_MAX_INT
    return isinstance(value, float) and math.isfinite(value)


def _choice_index(choices: tuple, value: object) -> int | None:
    for index, choice in enumerate(choices):
        if type(choice) is type(value) and choice == value:
            return index
    return None


def _choice_label(choice: object) -> str:
    return "None" if choice is None else str(choice)


def _widget_kind(param: Param, value: object) -> str:
    """Which widget shows this value: a value that does not fit the kind's widget falls back to text."""
    if param.kind == "bool" and isinstance(value, bool):
        return "checkbox"
    if param.kind == "choice" and _choice_index(param.choices or (), value) is not None:
        return "selectbox"
    if param.kind == "int" and _is_int(value) and fits_number_input(value):
        return "int"
    if param.kind == "float" and fits_number_input(value):
        return "float"
    return "text"


def _help(param: Param) -> str:
    default = (
        ""
        if param.required
        else " " + _("Default: {value}.").format(value=_choice_label(param.default) if param.default is not None else "None")
    )
    hint = " " + _("Enter {hint}.").format(hint=_(KIND_HINTS[param.kind])) if param.kind in KIND_HINTS and param.kind != "str" else ""
    shown = param.help  # in the session's language: the catalogue's translation, or Keras's words marked as Keras's
    if current_language() != DEFAULT_LANGUAGE and shown.startswith(keras_says("")):
        return f"{hint}{default}\n\n{shown}".strip()  # Keras's own words last, after the app's sentences
    return f"{shown}{hint}{default}"


def _draw(param: Param, value: object, key: str) -> None:
    label = f"{param.name} *" if param.required else param.name
    kind = _widget_kind(param, value)
    if kind == "checkbox":
        st.checkbox(label, value=value, key=key, help=_help(param))
    elif kind == "selectbox":
        st.selectbox(label, param.choices, index=_choice_index(param.choices, value), format_func=_choice_label, key=key, help=_help(param))
    elif kind == "int":
        st.number_input(label, value=value, step=1, key=key, help=_help(param))
    elif kind == "float":
        st.number_input(label, value=float(value), step=0.01, format="%g", key=key, help=_help(param))
    else:
        placeholder = _("required") if param.required else _("default: {value}").format(value=format_value(param, param.default) or "None")
        st.text_input(label, value=format_value(param, value), key=key, help=_help(param), placeholder=placeholder)
    message = state.error_for(key)
    if message:
        st.error(md(message), icon=":material/error:")


def _value_in(config: dict, param: Param) -> object:
    return config[param.name] if param.name in config else param.default


def param_key(key_prefix: str, name: str) -> str:
    """The widget key of one parameter field: '<prefix>.<name>@<revision>'."""
    return state.widget_key(f"{key_prefix}.{name}")


def render_param_widgets(type_name: str, config: dict, key_prefix: str, show_all: bool = False) -> None:
    """One widget per parameter, filled from `config`; rarely used ones go under 'More parameters'."""
    params = shown_params(type_name)
    main = [param for param in params if show_all or param.required or param.name in config or param.name in MAIN_PARAMS]
    more = [param for param in params if param not in main]
    for param in main:
        _draw(param, _value_in(config, param), param_key(key_prefix, param.name))
    if more:
        with st.expander(_("More parameters ({count})").format(count=len(more))):
            for param in more:
                _draw(param, _value_in(config, param), param_key(key_prefix, param.name))


def _normalised(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return [_normalised(item) for item in value]
    return value


def _same(left: object, right: object) -> bool:
    """Equal as JSON values (tuples = lists; True is not 1)."""
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return _normalised(left) == _normalised(right)


def collect_config(type_name: str, old_config: dict, key_prefix: str) -> tuple[dict, dict[str, str]]:
    """Read the widgets back: (new config, {widget key: message} for fields that do not parse).

    A value equal to Keras's default is left out unless it was set before; keys the form does not
    show (trainable, dtype, an application's outputs/frozen) are kept.
    """
    params = shown_params(type_name)
    names = {param.name for param in params}
    config = {key: value for key, value in old_config.items() if key not in names}
    errors: dict[str, str] = {}
    for param in params:
        key = param_key(key_prefix, param.name)
        if key not in st.session_state:
            if param.name in old_config:
                config[param.name] = old_config[param.name]
            continue
        raw = st.session_state[key]
        if isinstance(raw, str) and _widget_kind(param, _value_in(old_config, param)) == "text":
            try:
                value = parse_param_text(type_name, param, raw)
            except ValueError as error:
                errors[key] = str(error)
                continue
        else:
            value = raw
        if isinstance(value, float) and param.kind == "int" and value.is_integer():
            value = int(value)
        if value is None:
            continue
        if param.name in old_config and _same(old_config[param.name], value):
            config[param.name] = old_config[param.name]
        elif param.required or not _same(value, param.default):
            config[param.name] = value
    return config, errors


def show_errors(errors: dict[str, str], form_key: str) -> bool:
    """Record field messages (and a summary at `form_key`); True when there were any."""
    for key, message in errors.items():
        state.set_error(key, message)
    if errors:
        state.set_error(
            form_key,
            ngettext(
                "Nothing was changed: {count} field needs a fix (marked below).",
                "Nothing was changed: {count} fields need a fix (marked below).",
                len(errors),
            ).format(count=len(errors)),
        )
    return bool(errors)

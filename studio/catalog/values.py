"""Parameter values as form text and back (pure): '28, 28, 1' <-> [28, 28, 1], with clear errors.

Text fields accept Python or JSON spelling: `(3, 3)`, `[3, 3]`, `3, 3`, `None`/`null`, `True`/`true`.
"""

from __future__ import annotations

import json
import re

from studio.catalog.params import Param, check_value
from studio.i18n import N_, _

_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_PYTHON_WORDS = {"None": "null", "True": "true", "False": "false"}

# What a field of each kind takes (marked for the catalogue: shown as _(KIND_HINTS[kind])).
KIND_HINTS = {
    "shape": N_("a shape without the batch size, e.g. 28, 28, 1 (None for any length)"),
    "int_or_tuple": N_("an integer or a tuple, e.g. 3 or 3, 3"),
    "int_list": N_("a list of integers, e.g. 2, 1"),
    "optional_int": N_("an integer, or empty for None"),
    "optional_float": N_("a number, or empty for None"),
    "layer": N_('the wrapped layer, e.g. {"type": "LSTM", "config": {"units": 32}}'),
    "json": N_("a JSON value: a name such as glorot_uniform, a number, a list or an object"),
    "str": N_("text"),
}
A_VALUE = N_("a value")


def _must_be_message() -> str:
    return _("`{name}` of {type} must be {hint}. Received: {received}")


def _pythonic_to_json(text: str) -> str:
    """Turn Python literal spelling into JSON: () -> [], None -> null, single quotes -> double."""
    converted = text.replace("(", "[").replace(")", "]")
    converted = re.sub(r"\b(None|True|False)\b", lambda match: _PYTHON_WORDS[match.group(1)], converted)
    if "'" in converted and '"' not in converted:
        converted = converted.replace("'", '"')
    converted = re.sub(r",\s*([\]}])", r"\1", converted)  # trailing comma: (784,) -> [784]
    return converted


def parse_literal(text: str) -> object:
    """Parse form text as a JSON/Python literal; a bare comma list becomes a list. ValueError if it is not one."""
    stripped = text.strip()
    if stripped == "":
        raise ValueError("empty")
    candidates = [stripped, _pythonic_to_json(stripped)]
    if not stripped.startswith(("[", "(", "{")) and "," in stripped:
        candidates.append(_pythonic_to_json(f"[{stripped.rstrip(',')}]"))
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    raise ValueError(f"cannot read {text!r}")


def parse_param_text(type_name: str, param: Param, text: str) -> object:
    """The JSON value a text field holds, checked against the parameter's kind.

    Empty text means "not set" (None), which is refused for a required parameter.
    """
    stripped = (text or "").strip()
    hint = _(KIND_HINTS.get(param.kind, A_VALUE))
    if stripped == "" or stripped in ("None", "null"):
        if param.required:
            raise ValueError(_("`{name}` is required: enter {hint}.").format(name=param.name, hint=hint))
        return None
    if param.kind == "str":
        return stripped
    try:
        value = parse_literal(stripped)
    except ValueError:
        if param.kind == "json" and _BARE_WORD.match(stripped):
            return stripped  # a Keras name such as glorot_uniform or l2
        raise ValueError(_must_be_message().format(name=param.name, type=type_name, hint=hint, received=repr(stripped))) from None
    if param.kind == "shape" and isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if param.kind == "int_list" and isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if param.kind in ("optional_float",) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if param.kind == "layer" and not isinstance(value, dict):
        raise ValueError(_must_be_message().format(name=param.name, type=type_name, hint=hint, received=repr(stripped)))
    if param.kind != "json":
        check_value(type_name, param, value)  # raises ValueError naming the parameter and the value
    return value


def format_value(param: Param, value: object) -> str:
    """The text a text field shows for a value ('' for None)."""
    if value is None:
        return ""
    if param.kind in ("shape", "int_list", "int_or_tuple") and isinstance(value, (list, tuple)):
        if all(not isinstance(item, (list, tuple, dict)) for item in value):
            return ", ".join("None" if item is None else str(item) for item in value)
        return json.dumps(value)
    if isinstance(value, str):
        return value
    return json.dumps(value)

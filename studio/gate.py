"""The input gate: what every way in (uploads, pasted text, project files, CLI arguments, data files) must pass
before it is read into memory, parsed or built.

The measures are taken as cheaply as the format allows: the size on disk from ``stat``, the unpacked size
from a zip archive's directory (no member is read), the JSON nesting depth from a flat scan of the brackets
(no recursion, so 100,000 nested arrays are one clear refusal). Each refusal is a :class:`LimitExceeded`
naming the user's file, what was measured, the limit and the environment variable that changes it; the
limits themselves live in :mod:`studio.limits`. Model-, spec- and data-specific measures (layers, nesting
of models, parameters, samples x features) are taken by their readers and compared here.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

from studio.i18n import N_, _
from studio.limits import MB, Limits, describe, limits

_JSON_SYNTAX = re.compile(r'[\[\]{}"\\]')


class LimitExceeded(ValueError):
    """An input past one of the limits; the message names the input, the limit and how to change it."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class Description(str):
    """A source that is a description ('the pasted text', 'the model config inside ...'), not a file name: shown as it is."""


def described(text: str) -> Description:
    """Mark a (translated) description of an input so that messages show it as it is, not quoted like a file name."""
    return Description(text)


def named(source: str) -> str:
    """How a message names an input: a file name in quotes, a description ('the pasted text', 'The graph') as it is."""
    if isinstance(source, Description) or source.startswith(("the ", "The ")):
        return str(source)
    return _("'{name}'").format(name=source)


def refusal(source: str, measured: str, field: str, active: Limits | None = None) -> LimitExceeded:
    """The error for an input past limit `field`: "'x.json' has 10,001 nodes; the limit is max nodes per graph = 500 (...)."."""
    value = getattr(active or limits(), field)
    message = _("{source} {measured}; the limit is {limit}.").format(source=named(source), measured=measured, limit=describe(field, value))
    return LimitExceeded(message, field)


def check_count(source: str, amount: int, measured: str, field: str, active: Limits | None = None) -> None:
    """Refuse when `amount` is past limit `field`; `measured` says what was counted: a message marked with ``N_``,
    translated here, with the amount as ``{count}`` (``N_("has {count} nodes")``; the older ``'has {:,} nodes'`` works too)."""
    active = active or limits()
    if amount > getattr(active, field):
        raise refusal(source, _(measured).format(amount, count=f"{amount:,}"), field, active)


# What check_bytes says of a size, by its verb.
_SIZE_TEXTS = {"is": N_("is {size} MB"), "unpacks to": N_("unpacks to {size} MB"), "unpack to": N_("unpack to {size} MB")}


def check_bytes(source: str, size: int, field: str, active: Limits | None = None, verb: str = "is") -> None:
    """Refuse a size in bytes past a limit given in MB ('max_model_mb', 'max_unpacked_mb', ...)."""
    active = active or limits()
    if size > getattr(active, field) * MB:
        amount = f"{size / MB:,.1f}"
        measured = _(_SIZE_TEXTS[verb]).format(size=amount) if verb in _SIZE_TEXTS else f"{verb} {amount} MB"
        raise refusal(source, measured, field, active)


def read_file(path: str | Path, field: str, source: str | None = None, active: Limits | None = None) -> bytes:
    """A file's bytes, after checking its size on disk against limit `field` (OSError when it cannot be read)."""
    path = Path(path)
    check_bytes(source or path.name, path.stat().st_size, field, active)
    return path.read_bytes()


def read_json_text(path: str | Path, source: str | None = None, active: Limits | None = None) -> str:
    """A JSON file's text, after checking its size on disk and its nesting depth (left for the caller to parse)."""
    source = source or str(path)
    text = read_file(path, "max_upload_mb", source, active).decode("utf-8-sig")
    check_json_depth(text, source, active)
    return text


def json_depth(text: str, stop_above: int | None = None) -> int:
    """How deeply a JSON text nests arrays and objects, from a flat scan (no recursion); stops early above `stop_above`."""
    depth = deepest = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_SYNTAX.finditer(text):
        position, char = match.start(), match.group()
        if position == escaped_at:
            continue
        if in_string:
            if char == "\\":
                escaped_at = position + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    break
        elif char in "]}":
            depth -= 1
    return deepest


def check_json_depth(text: str, source: str, active: Limits | None = None) -> None:
    """Refuse JSON that nests arrays and objects deeper than the limit (checked before any parser recurses)."""
    active = active or limits()
    if json_depth(text, stop_above=active.max_json_depth) > active.max_json_depth:
        measured = _("nests JSON more than {count} levels deep").format(count=f"{active.max_json_depth:,}")
        raise refusal(source, measured, "max_json_depth", active)


def load_json(data: str | bytes, source: str, active: Limits | None = None) -> Any:
    """Parse JSON after checking its size and nesting depth; json.JSONDecodeError or UnicodeDecodeError when it is not JSON."""
    active = active or limits()
    if len(data) > active.max_upload_bytes:  # characters <= bytes: a cheap first look at pasted text
        check_bytes(source, len(data), "max_upload_mb", active)
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    check_bytes(source, len(text.encode("utf-8")), "max_upload_mb", active)
    check_json_depth(text, source, active)
    try:
        return json.loads(text)
    except RecursionError:  # only when the depth limit was set above what Python can parse
        raise refusal(source, _("nests JSON too deeply for Python to read"), "max_json_depth", active) from None


def check_archive(archive: zipfile.ZipFile, source: str, active: Limits | None = None) -> dict[str, int]:
    """Refuse a zip (.keras, .npz) whose directory declares more unpacked bytes than allowed; {member: unpacked size}.

    Nothing is decompressed: Python's zipfile reads at most the declared size of a member, so the directory is a bound.
    """
    sizes: dict[str, int] = {}
    for info in archive.infolist():
        sizes[info.filename] = sizes.get(info.filename, 0) + info.file_size
    check_bytes(source, sum(sizes.values()), "max_unpacked_mb", active, verb="unpacks to")
    return sizes

"""Tensor shapes as text, the way Keras's ``model.summary()`` writes them: '(None, 32)', '(784,)'.

One formatter for every view (node list, node form, summary table, diagram, build and data messages). No Keras here.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from studio.i18n import ngettext

MAX_SHAPES_SHOWN = 3


def _size_text(size: object) -> str:
    if size is None:
        return "None"
    return str(int(size)) if isinstance(size, numbers.Integral) else str(size)  # numpy ints print as plain numbers


def shape_text(shape: Sequence) -> str:
    """One shape as Python writes a tuple of plain numbers: '(None, 32)', '(784,)', '()'."""
    sizes = [_size_text(size) for size in shape]
    return "(" + ", ".join(sizes) + ("," if len(sizes) == 1 else "") + ")"


def shapes_text(shapes: Sequence[Sequence], limit: int | None = MAX_SHAPES_SHOWN, empty: str = "-") -> str:
    """Several shapes joined by commas; past ``limit`` the first ``limit - 1`` and a count: '(None, 8), (None, 8), ... (23 outputs)'."""
    if not shapes:
        return empty
    texts = [shape_text(shape) for shape in shapes]
    if limit is None or len(texts) <= limit:
        return ", ".join(texts)
    more = ngettext("{count} output", "{count} outputs", len(texts)).format(count=len(texts))
    return ", ".join(texts[: max(limit - 1, 1)]) + f", ... ({more})"

"""Text for a terminal: user strings (model names, run ids, error messages) with their control characters made visible.

A model name can hold escape codes (``\\x1b[31m`` colours the terminal, ``\\x1b]0;...\\x07`` retitles the window,
``\\r`` overwrites the line, ``\\x07`` rings the bell) and bidirectional overrides that reorder what is shown.
:func:`printable` writes each of them as its Python escape (``\\x1b``, ``\\r``, ``\\u202e``), so the terminal
shows them instead of obeying them.
"""

from __future__ import annotations

import unicodedata


def _visible(char: str) -> str:
    if char in "\t\n\r":
        return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: object) -> str:
    """The text with every control or format character (C0, DEL, C1, bidi overrides, zero-width) written as its escape."""
    return "".join(_visible(char) if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in str(text))

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


def _terminal_text(text: str) -> str:
    """What a command may write: line breaks and tabs kept, a leading carriage return kept (progress lines), the rest visible."""
    head = "\r" if text.startswith("\r") else ""
    body = text[len(head) :]
    return head + "".join(
        char if char in "\n\t" else _visible(char) if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in body
    )


class TerminalStream:
    """A text stream that writes control characters as escapes; everything else is the wrapped stream's."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        """Write `text` with its control characters made visible."""
        return self._stream.write(_terminal_text(text))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

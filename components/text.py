"""Text helpers for Streamlit Markdown."""

from __future__ import annotations

_MARKDOWN_SPECIALS = frozenset("\\*[]<>$|~#")


def compact_count(number: int) -> str:
    """'27,882' below a million, '138.36M' above (for metrics that must fit a narrow box)."""
    if abs(number) < 1_000_000:
        return f"{number:,}"
    if abs(number) < 1_000_000_000:
        return f"{number / 1e6:.2f}M"
    return f"{number / 1e9:.2f}B"


def plural(count: int, word: str) -> str:
    """'1 node', '3 nodes'."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def md(text: str) -> str:
    """Escape what Streamlit's Markdown would interpret in user or Keras text ($ math, [links], <html>, *, |, ~, #).

    Backticks stay, so `code` in Keras's messages still shows as code.
    """
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in str(text))

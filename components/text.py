"""Text helpers for Streamlit Markdown: user and Keras text shown as text, never as Markdown or HTML.

Streamlit renders Markdown (CommonMark + GitHub's extensions) with a few extras of its own: ``$math$``,
``:color[text]`` directives, ``:emoji:`` and ``:material/icon:`` short codes, and bare ``http://``,
``www.`` and ``name@host`` addresses turned into links. A backslash makes any ASCII punctuation
literal in CommonMark; the short codes and bare addresses are matched on the text *after* the
backslashes are gone, so :func:`md` breaks them with an invisible word joiner instead.
"""

from __future__ import annotations

import html
import re

# Every character that starts Markdown or HTML anywhere in a line ("!" needs "[", "(" needs "]").
_MARKDOWN_SPECIALS = frozenset("\\`*_[]<>$|~#&")
WORD_JOINER = "\u2060"  # zero-width, not a space: a copy of the text reads the same
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
# Where Streamlit would see a short code (":smile:", ":material/home:"), a link ("http://", "www.") or a mail address.
_LINK_OR_SHORTCODE = re.compile(r"(?<=:)(?=[\w+/-])|(?i:(?<=www))(?=\.)|(?<=@)(?=[\w-])")
# What would start a list, a quote or a heading when the text begins a line ("- x", "+ x", "1. x", "2) x").
_BLOCK_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))")


def compact_count(number: int) -> str:
    """'27,882' below a million, '138.36M' above (for metrics that must fit a narrow box)."""
    if abs(number) < 1_000_000:
        return f"{number:,}"
    if abs(number) < 1_000_000_000:
        return f"{number / 1e6:.2f}M"
    return f"{number / 1e9:.2f}B"


def one_line(text: object) -> str:
    """The text with every line break made a space (a name or message shown inside a sentence)."""
    return _LINE_BREAKS.sub(" ", str(text))


def md(text: object) -> str:
    """User or Keras text for a Markdown string (st.markdown, st.caption, st.error, labels): shown exactly as written.

    Escapes Markdown and HTML (``* _ ` [ ] < > $ | ~ # & \\``), breaks Streamlit's short codes and bare
    links, keeps a leading "-", "+", "1." or indent from starting a list or code block, and puts everything on one line.
    """
    text = _LINK_OR_SHORTCODE.sub(WORD_JOINER, one_line(text))
    text = "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in text)
    text = _BLOCK_START.sub(_escape_block_start, text)
    # Leading spaces would make an indented code block: the first one goes in as a character reference.
    return f"&#{ord(text[0])};{text[1:]}" if text[:1] in (" ", "\t") else text


def _escape_block_start(match: re.Match) -> str:
    spaces, marker = match.group(1), match.group(2)
    return f"{spaces}{marker}\\" if marker[0].isdigit() else f"{spaces}\\{marker}"


def code(text: object) -> str:
    """User text as an inline code span (`like this`) that no backtick inside can close early."""
    text = one_line(text).replace(":material/", f":{WORD_JOINER}material/")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") or not text.strip() else text
    return f"{fence}{padded}{fence}"


def plotly_text(text: object) -> str:
    """User text for a Plotly title, legend or axis label (Plotly reads <b>, <a href> and <br> in them): tags shown as text."""
    return html.escape(one_line(text), quote=False)

"""What a page shows, read the way the browser reads it: every Markdown string of an AppTest page (bodies,
captions, alerts, labels, help, radio options, image captions, progress text), rendered by a CommonMark
parser with raw HTML on, plus the checks that user text stayed text (no image, link, bold, HTML tag or
Streamlit short code came out of it, and no bare address GitHub's Markdown would turn into a link)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from markdown_it import MarkdownIt

WORD_JOINER = "\u2060"  # components.text.WORD_JOINER: invisible, so a reader never sees it

HOSTILE_NAME = "**bold** ![img](http://x/y.png) <b>x</b> [link](http://e.com)"
MARKDOWN_FIELDS = frozenset({"body", "label", "help", "text", "caption", "placeholder"})
PLAIN_PROTOS = frozenset({"Text", "Code", "Json", "Exception", "Arrow", "ArrowNamedDataFrame", "PlotlyChart", "GraphVizChart"})
PLAIN_FIELDS = frozenset({"placeholder", "value", "default"})  # input contents: shown as typed, never as Markdown

_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_TAG = re.compile(r"<[^>]+>")
_BARE_LINK = re.compile(r"http://(x/y\.png|e\.com)")


def rendered(source: str) -> str:
    """The HTML a CommonMark renderer (raw HTML allowed, GFM tables and strikethrough) makes of a Markdown string."""
    return _PARSER.render(source)


def shown(source: str) -> str:
    """The text a reader sees of a Markdown string (tags dropped, entities decoded, invisible joiners removed)."""
    return html.unescape(_TAG.sub("", rendered(source))).replace(WORD_JOINER, "").strip()


def _fields(message, path: str = "") -> Iterator[tuple[str, str]]:
    for descriptor, value in message.ListFields():
        name = descriptor.name
        if descriptor.message_type is not None:
            items = [value] if hasattr(value, "ListFields") else list(value)
            for item in items:
                if type(item).__name__ not in PLAIN_PROTOS:
                    yield from _fields(item, f"{path}{name}.")
        elif isinstance(value, str) and name in MARKDOWN_FIELDS and name not in PLAIN_FIELDS:
            yield f"{path}{name}", value
        elif name == "options" and type(message).__name__ == "Radio":
            yield from ((f"{path}options", str(option)) for option in value)


def markdown_strings(at) -> list[tuple[str, str]]:
    """(where, Markdown source) of every string the page renders as Markdown, sidebar included."""
    found: list[tuple[str, str]] = []

    def visit(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and type(proto).__name__ not in PLAIN_PROTOS:
            found.extend((f"{type(proto).__name__}.{where}", value) for where, value in _fields(proto))
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)
    return found


def plain_strings(at) -> list[str]:
    """Strings the page shows as plain text: st.text, st.code, dataframe cells, selectbox and multiselect options."""
    texts = [element.value for element in at.text] + [element.value for element in at.code]
    for frame in at.dataframe:
        texts.extend(str(cell) for cell in frame.value.astype(str).to_numpy().ravel())
        texts.extend(str(column) for column in frame.value.columns)
    for widget in [*at.selectbox, *at.multiselect]:
        texts.extend(str(option) for option in widget.options)
    return texts


def markdown_problems(source: str) -> list[str]:
    """What of the hostile name in this Markdown string would not show as text: its image, links, bold, HTML tag, bare links."""
    out = rendered(source)
    problems = []
    if "<img" in out:
        problems.append("an image")
    if re.search(r'<a href="[^"#][^"]*(e\.com|x/y\.png)', out):
        problems.append("a link")
    if "<strong>bold</strong>" in out:
        problems.append("bold text")
    if re.search(r"<b>", out):
        problems.append("an HTML tag")
    text = html.unescape(_TAG.sub("", out))
    if _BARE_LINK.search(text):
        problems.append("a bare address GitHub Markdown would link")
    return problems


def check_page_shows_literally(at, name: str = HOSTILE_NAME) -> None:
    """Every Markdown string of the page is free of Markdown from user text, and ``name`` is shown as written somewhere."""
    strings = markdown_strings(at)
    bad = [(where, source, problems) for where, source in strings if (problems := markdown_problems(source))]
    lines = [f"  {where}: {source!r} -> {problems}" for where, source, problems in bad]
    assert not bad, "user text rendered as Markdown:\n" + "\n".join(lines)
    visible = [shown(source) for _, source in strings] + plain_strings(at)
    assert any(name in text for text in visible), f"{name!r} is not shown as written; shown: {visible}"

"""Find text a page shows in the wrong language: English sentences on a Chinese page, Chinese on an English one.

Scans what a reader sees (every Markdown string: bodies, labels, help, captions, alerts, tab and button
labels; selectbox, multiselect and radio options; table headers; Plotly titles), with inline code
removed (identifiers, shapes and Keras names are code, the same in both languages).

On a Chinese page a string without any Chinese that holds two or more English words is untranslated,
and so is a run of four English words inside a Chinese sentence. Single words (Dense, Keras, MNIST,
ReLU) and identifiers (dense_1, Conv2D, (None, 784)) are not sentences and pass.
"""

from __future__ import annotations

import html
import json
import re

from tests.shown_text import WORD_JOINER, markdown_strings, rendered

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
WORD = r"[A-Za-z][a-z]+"
TWO_WORDS = re.compile(rf"(?<![\w/.]){WORD}[ \t]+{WORD}(?![\w/])")
FOUR_WORDS = re.compile(rf"(?<![\w/.]){WORD}(?:[ \t,]+{WORD}){{3,}}(?![\w/])")
KERAS_QUOTE = re.compile(r"Keras 原文：.*", re.S)  # studio.i18n.keras_says in Chinese: Keras's own words follow
_CODE = re.compile(r"<code>.*?</code>|<pre>.*?</pre>", re.S)
_TAG = re.compile(r"<[^>]+>")

# Names that are the same in both languages: products, datasets, the tutorial's own model names.
SAME_IN_BOTH = (
    "Keras Functional Studio",
    "mnist model",
    "Keras Functional",
    "TensorFlow Playground",
    "Teachable Machine",
    "Neural Network Console",
    "English",
)


def visible_texts(at) -> list[tuple[str, str]]:
    """(where, text a reader sees without inline code) of everything a page shows that could be a sentence."""
    texts = []
    for where, source in markdown_strings(at):
        shown = html.unescape(_TAG.sub(" ", _CODE.sub(" ", rendered(source)))).replace(WORD_JOINER, "")
        texts.append((where, shown))
    for widget in [*at.selectbox, *at.multiselect, *at.radio]:
        texts.extend((f"options of {widget.key or widget.label}", str(option)) for option in widget.options)
    for frame in at.dataframe:
        texts.extend(("table header", str(column)) for column in frame.value.columns)
    for chart in at.get("plotly_chart"):
        texts.extend(("chart", title) for title in _plotly_titles(chart.proto.spec))
    return texts


def _plotly_titles(spec: str) -> list[str]:
    try:
        figure = json.loads(spec)
    except ValueError:
        return []
    found: list[str] = []

    def visit(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("title", "text", "name") and isinstance(value, str):
                    found.append(value)
                else:
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(figure.get("layout", {}))
    visit([{"name": trace.get("name")} for trace in figure.get("data", []) if isinstance(trace, dict)])
    return found


def _without_names(text: str, extra: tuple[str, ...]) -> str:
    for name in (*SAME_IN_BOTH, *extra):
        text = text.replace(name, " ")
    return text


def english_left(at, same_in_both: tuple[str, ...] = ()) -> list[str]:
    """What a Chinese page still shows in English ('where: text'); pass names of the user's own things as same_in_both."""
    found = []
    for where, text in visible_texts(at):
        plain = _without_names(KERAS_QUOTE.sub(" ", text), same_in_both)
        if CJK.search(plain):
            match = FOUR_WORDS.search(plain)
        else:
            match = TWO_WORDS.search(plain)
        if match:
            found.append(f"{where}: {text.strip()[:160]!r} ({match.group(0)!r})")
    return found


def chinese_left(at) -> list[str]:
    """What an English page shows in Chinese ('where: text'), the language switch's own '中文' aside."""
    found = []
    for where, text in visible_texts(at):
        if CJK.search(text.replace("中文", "").replace("语言", "")):
            found.append(f"{where}: {text.strip()[:160]!r}")
    return found

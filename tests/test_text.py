"""Text is text: the Markdown escaper shows user and Keras text exactly as written (underscores included),
inline code cannot be closed early, Plotly labels show tags as text, numbers beyond the browser's 2**53 are
edited as text, and the terminal gets control characters as visible escapes."""

from __future__ import annotations

import pytest
from shown_text import HOSTILE_NAME, markdown_problems, rendered, shown

from components.builder.param_form import BROWSER_MAX_INT, fits_number_input
from components.text import code, md, plotly_text
from studio.cli.terminal import printable
from studio.graph.edits import EditError, check_new_id, empty_spec
from studio.training.ownership import clean_run_name

ID_RULES = "Id '1x' is not valid: it must start with a letter or '_' and use only letters, digits, '_', '.', '-'."

TEXTS = [
    ID_RULES,
    HOSTILE_NAME,
    "__init__ and _private_ and a_b_c",
    "- a list? + another * and a third",
    "1. numbered 2) too",
    "# heading ## and `code` and ``double``",
    "> quote | table | cell ~~strike~~ ~sub~",
    "$x^2$ and $$y$$ cost $5",
    ":smile: :material/home: :red[coloured] :blue-background[x]",
    "see www.example.com or mail me@example.com or https://example.com/a_b",
    "&amp; &lt;b&gt; &#42; <script>alert(1)</script> <!-- comment -->",
    "back\\slash \\* \\_ and a trailing backslash\\",
    "line one\nline two\r\n\n# a heading on line three\n- a list item",
    "    four spaces first",
    "***",
    "",
]


def test_the_id_rules_read_as_written_underscores_included() -> None:
    with pytest.raises(EditError) as refused:
        check_new_id(empty_spec(), "1x")
    assert str(refused.value) == ID_RULES, "the message the builder shows for a bad id"
    assert shown(md(ID_RULES)) == ID_RULES
    assert "start with a letter or '_' and use only letters, digits, '_', '.', '-'" in shown(md(ID_RULES))


@pytest.mark.parametrize("text", TEXTS)
def test_md_shows_text_as_written(text: str) -> None:
    escaped = md(text)
    assert shown(escaped) == " ".join(text.split("\n")).replace("\r ", " ").replace("\r", " ").strip()
    out = rendered(escaped)
    assert out.count("<p>") <= 1 and not any(tag in out for tag in ("<h", "<ul", "<ol", "<blockquote", "<pre", "<hr", "<table"))
    assert not any(tag in out for tag in ("<em>", "<strong>", "<del>", "<img", "<a ", "<code>", "<script", "<b>", "<!--"))


@pytest.mark.parametrize("where", ["{}", "**{}**", "### {}", "- {}", ":gray[{}]", "Model **{}** · 3 nodes", "'{}' does not build"])
def test_md_inside_the_apps_own_markdown(where: str) -> None:
    source = where.format(md(HOSTILE_NAME))
    assert not markdown_problems(source)
    assert HOSTILE_NAME in shown(source)


def test_md_breaks_what_streamlit_would_link_or_turn_into_icons() -> None:
    escaped = md("www.x.com http://e.com a@b.co :smile: :material/home:")
    for pattern in ("www.", "http://", "a@b", ":smile:", ":material/"):
        assert pattern not in escaped, pattern  # Streamlit matches these after the backslashes are gone


def test_md_puts_everything_on_one_line_and_keeps_non_ascii() -> None:
    assert md("a\nb\u2028c") == "a b c"
    assert md("Ünïcødé → 模型") == "Ünïcødé → 模型"


@pytest.mark.parametrize("text", ["plain", "a`b", "``", "`start", "end`", "x ``` y", ":material/home:", "a_b*c"])
def test_code_spans_cannot_be_closed_early(text: str) -> None:
    out = rendered(code(text))
    assert out.count("<code>") == 1
    assert shown(code(text)).replace("\u2060", "") == text.strip() or text in shown(code(text))


def test_plotly_labels_show_tags_as_text() -> None:
    assert plotly_text("<b>x</b> <a href='http://e.com'>y</a>\nz") == "&lt;b&gt;x&lt;/b&gt; &lt;a href='http://e.com'&gt;y&lt;/a&gt; z"


def test_numbers_beyond_2_53_go_to_a_text_field() -> None:
    assert fits_number_input(32) and fits_number_input(BROWSER_MAX_INT) and fits_number_input(-BROWSER_MAX_INT)
    assert not fits_number_input(BROWSER_MAX_INT + 1) and not fits_number_input(10**30) and not fits_number_input(-(10**400))
    assert fits_number_input(1e300) and not fits_number_input(float("inf")) and not fits_number_input(float("nan"))
    assert not fits_number_input(True) and not fits_number_input("12")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("red\x1b[31mmodel\x1b[0m", "red\\x1b[31mmodel\\x1b[0m"),
        ("over\rwrite", "over\\rwrite"),
        ("bell\x07 title\x1b]0;pwned\x07", "bell\\x07 title\\x1b]0;pwned\\x07"),
        ("two\nlines\tand tab", "two\\nlines\\tand tab"),
        ("c1 \x9b31m del \x7f", "c1 \\x9b31m del \\x7f"),
        ("bidi \u202etxt.exe zero\u200bwidth", "bidi \\u202etxt.exe zero\\u200bwidth"),
        ("Ünïcødé → 模型 fine", "Ünïcødé → 模型 fine"),
    ],
)
def test_printable_writes_control_characters_as_escapes(text: str, expected: str) -> None:
    assert printable(text) == expected
    assert not any(ord(char) < 32 or 127 <= ord(char) < 160 for char in printable(text))


def test_run_names_lose_control_characters_and_length() -> None:
    assert clean_run_name("  Ada\x1b[31m \n Lovelace\u202e ") == "Ada[31m Lovelace"
    assert len(clean_run_name("x" * 500)) == 60 and clean_run_name(None) == ""

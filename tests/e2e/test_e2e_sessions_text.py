"""In a real browser: (1) text escaped by ``components.text.md`` reads exactly as written in Streamlit's own
Markdown renderer (no image, link, bold, list, code block, math, emoji or icon comes out of it); (2) a run
belongs to its tab: another browser opening ``/?job=<id>`` sees the refusal and no progress or Stop, while a
reload of the owner's tab (a new Streamlit session, same address) finds the run and stops it.

One small wrapper serves both: ``?view=text`` draws the texts, anything else runs ``pages/training.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import streamlit_server, wait_for_app

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "**bold** ![img](http://x/y.png) <b>x</b> [link](http://e.com)",
    "start with a letter or '_' and use only letters, digits, '_', '.', '-'",
    "__init__ and _a_b_ and *star*",
    "- not a list",
    "1. not a list either",
    "    not code",
    "# not a heading ~~not struck~~ `not code`",
    "$x^2$ costs $5 and $$y$$",
    ":smile: :material/home: :red[not red]",
    "www.example.com http://e.com me@example.com",
    "&amp; &lt;b&gt; <script>alert(1)</script>",
]
WRAPPER = """
import json
import runpy
import streamlit as st
from components import state
from components.text import md
from studio.graph.presets import load_preset

if st.query_params.get("view") == "text":
    for number, text in enumerate(json.loads({texts!r})):
        with st.container(key=f"text_{{number}}"):
            st.markdown(md(text))
        with st.container(key=f"caption_{{number}}"):
            st.caption(f"Model **{{md(text)}}** · 3 nodes")
    st.stop()
state.init_state()
if not st.session_state[state.SPEC].calls:
    st.session_state[state.SPEC] = load_preset("mnist_mlp")
runpy.run_path({page!r}, run_name="__main__")
"""
FORBIDDEN = "img, a, strong, em, b, del, code, pre, ul, ol, li, h1, h2, h3, blockquote, script, .katex, [data-testid='stIconMaterial']"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("sessions_text")
    script = folder / "sessions_text_app.py"
    script.write_text(WRAPPER.format(texts=json.dumps(TEXTS), page=str(ROOT / "pages" / "training.py")))
    with streamlit_server(script, folder, extra_env={"STUDIO_OFFLINE": "1", "STUDIO_RUNS_DIR": str(folder / "runs")}) as served:
        yield served


def test_escaped_text_reads_as_written_in_streamlits_renderer(page, url):
    page.goto(f"{url}/?view=text")
    wait_for_app(page)
    for number, text in enumerate(TEXTS):
        for kind, expected in (("text", text), ("caption", f"Model {text} · 3 nodes")):
            box = page.locator(f".st-key-{kind}_{number} [data-testid='stElementContainer']").first
            expect(box).to_be_visible()
            shown = box.evaluate("element => element.innerText").replace("\u2060", "").replace("\xa0", " ")
            assert " ".join(shown.split()) == " ".join(expected.split()), (kind, text, shown)
            made = box.evaluate(f"element => [...element.querySelectorAll({FORBIDDEN!r})].map(node => node.outerHTML)")
            allowed = ["<strong>"] if kind == "caption" else []
            assert [html for html in made if not any(html.startswith(start) for start in allowed)] == [], (kind, text, made)
            if kind == "caption":
                assert len(made) == 1, (text, made)  # only the page's own **bold** around the name


def test_another_browser_cannot_watch_or_stop_a_run_but_a_reload_of_its_tab_can(browser, url):
    owner = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    other = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    try:
        owner.goto(url)
        wait_for_app(owner)
        epochs = owner.get_by_label("Epochs", exact=True)
        epochs.fill("300")
        epochs.press("Enter")
        wait_for_app(owner)
        owner.get_by_test_id("stBaseButton-primary").filter(has_text="Train").click()
        owner.wait_for_selector('[data-testid="stProgress"]', timeout=90_000)
        owner.wait_for_function("() => new URL(location.href).searchParams.get('key')", timeout=30_000)
        query = parse_qs(urlparse(owner.url).query)
        job_id = query["job"][0]

        other.goto(f"{url}/?job={job_id}")
        wait_for_app(other)
        expect(other.get_by_text("This address names a training run that this browser session did not start").first).to_be_visible()
        assert other.locator('[data-testid="stProgress"]').count() == 0
        assert other.get_by_test_id("stBaseButton-secondary").filter(has_text="Stop").is_disabled()

        owner.reload()  # a new Streamlit session with the same address
        wait_for_app(owner)
        owner.wait_for_selector('[data-testid="stProgress"]', timeout=60_000)
        stop = owner.get_by_test_id("stBaseButton-secondary").filter(has_text="Stop")
        expect(stop).to_be_enabled()
        stop.click()
        expect(owner.get_by_text("Stopped by the user", exact=False).first).to_be_visible(timeout=90_000)
    finally:
        owner.context.close()
        other.context.close()

"""The node canvas in a real browser: wire, refuse, select, delete and move with the mouse.

Runs ``tests/e2e/canvas_app.py`` (a preset, the palette, the canvas and the calls as JSON) with its own
Streamlit server (started with conftest.py's helper) and Debian's chromium.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).resolve().parent / "canvas_app.py"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CANVAS = 'iframe[title="components.builder.canvas.keras_canvas"]'

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM}")


@pytest.fixture(scope="module")
def canvas_server(start_streamlit, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Streamlit server running the canvas test app on a free port (conftest's server helper); yields its base URL."""
    with start_streamlit(APP, tmp_path_factory.mktemp("canvas_server")) as url:
        yield url


@pytest.fixture(scope="module")
def canvas_browser(request: pytest.FixtureRequest) -> Iterator[object]:
    """Headless Debian chromium: the session's shared ``browser`` from conftest.py when there is one, else our own.

    (Two sync Playwright instances cannot run at once in one thread, so never start a second one.)
    """
    try:
        shared = request.getfixturevalue("browser")
    except pytest.FixtureLookupError:
        shared = None
    if shared is not None:
        yield shared
        return
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_preset(canvas_server: str, canvas_browser: object) -> Iterator:
    """Open the test app on a preset in a fresh session; returns (page, canvas frame)."""
    contexts = []

    def opener(preset: str):
        context = canvas_browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{canvas_server}/?preset={preset}")
        page.wait_for_selector('[data-testid="stApp"]')
        frame = page.frame_locator(CANVAS)
        expect(frame.locator(".node").first).to_be_visible(timeout=120_000)
        return page, frame

    yield opener
    for context in contexts:
        context.close()


def _centre(box: dict) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=15)
    page.mouse.up()


def _calls_json(page):
    return page.get_by_test_id("stCode")


def test_dragging_an_edge_appends_an_input(open_preset) -> None:
    page, frame = open_preset("multi_io")
    expect(_calls_json(page)).to_contain_text('"concatenate": ["lstm_1", "lstm", "tag"]')
    source = frame.get_by_test_id("source-handle-title-0").bounding_box()
    target = frame.get_by_test_id("target-handle-concatenate").bounding_box()
    _drag(page, _centre(source), _centre(target))
    expect(_calls_json(page)).to_contain_text('"concatenate": ["lstm_1", "lstm", "tag", "title"]', timeout=30_000)
    expect(frame.get_by_test_id("edge-concatenate/3")).to_be_attached(timeout=30_000)


def test_an_edge_into_an_input_is_refused_with_a_message(open_preset) -> None:
    page, frame = open_preset("multi_io")
    source = frame.get_by_test_id("source-handle-lstm-0").bounding_box()
    target = frame.get_by_test_id("node-body").bounding_box()
    _drag(page, _centre(source), _centre(target))
    expect(page.get_by_test_id("stAlert")).to_contain_text("'body' is an Input: it starts the graph", timeout=30_000)
    expect(_calls_json(page)).to_contain_text('"body": []')
    expect(_calls_json(page)).to_contain_text('"concatenate": ["lstm_1", "lstm", "tag"]')


def test_select_delete_and_move(open_preset) -> None:
    page, frame = open_preset("mnist_mlp")
    edge = frame.locator('[data-testid="edge-dense_1/0"] .edge-line').bounding_box()  # a vertical line: zero width
    page.mouse.click(*_centre(edge))
    expect(frame.get_by_test_id("edge-dense_1/0")).to_have_class("edge selected")
    frame.get_by_test_id("canvas-delete").click()
    expect(_calls_json(page)).to_contain_text('"dense_1": []', timeout=30_000)
    expect(frame.get_by_test_id("node-problem-dense_1")).to_contain_text("needs exactly 1 input", timeout=30_000)

    node = frame.get_by_test_id("node-dense_2")
    before = node.evaluate("element => element.style.left")
    box = node.bounding_box()
    start = (box["x"] + 40, box["y"] + 12)
    _drag(page, start, (start[0] + 260, start[1] + 30))
    expect(node).not_to_have_css("left", before, timeout=10_000)
    moved = node.evaluate("element => [element.style.left, element.style.top]")

    source = frame.get_by_test_id("source-handle-dense-0").bounding_box()
    target = frame.get_by_test_id("target-handle-dense_1").bounding_box()
    _drag(page, _centre(source), _centre(target))
    expect(_calls_json(page)).to_contain_text('"dense_1": ["dense"]', timeout=30_000)
    expect(frame.get_by_test_id("node-problem-dense_1")).to_have_count(0, timeout=30_000)
    assert frame.get_by_test_id("node-dense_2").evaluate("element => [element.style.left, element.style.top]") == moved

    box = frame.get_by_test_id("node-dense_2").bounding_box()
    page.mouse.click(box["x"] + 40, box["y"] + 12)
    page.keyboard.press("Delete")
    expect(_calls_json(page)).not_to_contain_text('"dense_2"', timeout=30_000)
    expect(page.get_by_text('outputs: []')).to_be_visible(timeout=30_000)

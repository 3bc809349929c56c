"""The React Flow canvas in a real browser: build the tutorial's models on the canvas alone, modify one, ordered merge
slots, undo/redo by keyboard, click-to-select both ways and a 10-node graph on a 1280x720 projector.

Runs ``tests/e2e/canvas_app.py`` (a preset or an empty model, the canvas, then the calls, outputs, parameter count
and the built model's merge inputs as text) with its own Streamlit server, and the whole app for the Builder page.
Every user action (a drag, a connect, a parameter edit, a click, a key) goes through ``Actions``, which counts them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import wait_for_app

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
PlaywrightTimeout = playwright_api.TimeoutError

APP = Path(__file__).resolve().parent / "canvas_app.py"
CANVAS = 'iframe[title="components.builder.canvas.keras_canvas"]'
WAIT = 60_000  # ms; a loaded 2-core machine can take this long to draw a rerun


@pytest.fixture(scope="module")
def canvas_server(start_streamlit, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Streamlit server running the canvas test app on a free port; yields its base URL."""
    with start_streamlit(APP, tmp_path_factory.mktemp("canvas_server")) as url:
        yield url


class Actions:
    """The user's actions on the canvas, counted: drags, connects, parameter edits, clicks and keys."""

    def __init__(self, page, frame) -> None:
        self.page, self.frame, self.count = page, frame, 0

    def _centre(self, locator) -> tuple[float, float]:
        locator.wait_for(state="attached", timeout=WAIT)  # (a vertical edge has no width: never "visible")
        box = locator.bounding_box()
        for _ in range(100):  # drawn a moment later while the canvas takes a new picture
            if box is not None:
                break
            self.page.wait_for_timeout(100)
            box = locator.bounding_box()
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def _drag(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        self.count += 1
        self.page.mouse.move(*start)
        self.page.mouse.down()
        self.page.mouse.move(*end, steps=12)
        self.page.mouse.up()

    def drop(self, item: str, where) -> None:
        """Drag palette item `item` onto a node or an edge (a locator), or onto a point of the pane (x, y fractions)."""
        start = self._centre(self.frame.get_by_test_id(f"palette-{item}"))
        if isinstance(where, tuple):
            box = self.frame.locator(".react-flow__pane").bounding_box()
            end = (box["x"] + box["width"] * where[0], box["y"] + box["height"] * where[1])
        else:
            end = self._centre(where)
        self._drag(start, end)

    def connect(self, source: str, target: str) -> None:
        """Drag from handle `source` (a test id) onto handle or node `target` (a test id)."""
        self._drag(self._centre(self.frame.get_by_test_id(source)), self._centre(self.frame.get_by_test_id(target)))

    def drag_to_pane(self, source: str, where: tuple[float, float]) -> None:
        """Drag from handle `source` onto empty space (x, y fractions of the pane)."""
        box = self.frame.locator(".react-flow__pane").bounding_box()
        end = (box["x"] + box["width"] * where[0], box["y"] + box["height"] * where[1])
        self._drag(self._centre(self.frame.get_by_test_id(source)), end)

    def type_param(self, node: str, name: str, text: str) -> None:
        """Type a key parameter on the node and press Enter."""
        self.count += 1
        field = self.frame.get_by_test_id(f"param-{node}-{name}")
        field.fill(text)
        field.press("Enter")

    def choose_param(self, node: str, name: str, value: str) -> None:
        """Choose a key parameter's value from the node's list."""
        self.count += 1
        self.frame.get_by_test_id(f"param-{node}-{name}").select_option(value)

    def search(self, text: str) -> None:
        """Type in the palette's search box."""
        self.count += 1
        self.frame.get_by_test_id("palette-search").fill(text)

    def click(self, test_id: str) -> None:
        """Click something on the canvas (a node's title, a picker entry, a button)."""
        self.count += 1
        self.frame.get_by_test_id(test_id).click()

    def key(self, keys: str) -> None:
        """Press a key on the canvas."""
        self.count += 1
        self.page.keyboard.press(keys)


@pytest.fixture
def canvas(canvas_server: str, browser) -> Iterator:
    """Open the test app on a preset (or "empty") in a fresh session; returns (page, actions)."""
    contexts = []

    def opener(preset: str):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{canvas_server}/?preset={preset}")
        page.wait_for_selector('[data-testid="stApp"]')
        frame = page.frame_locator(CANVAS)
        expect(frame.get_by_test_id("palette")).to_be_visible(timeout=120_000)
        return page, Actions(page, frame)

    yield opener
    for context in contexts:
        context.close()


def _calls(page) -> dict:
    return json.loads(page.get_by_test_id("stCode").inner_text())


def _wait_calls(page, expected: dict) -> None:
    expect(page.get_by_test_id("stCode")).to_contain_text(json.dumps(expected)[1:-1], timeout=WAIT)


def _caption(page, prefix: str):
    return page.get_by_test_id("stCaptionContainer").filter(has_text=prefix)


def test_the_mlp_is_built_on_the_canvas_alone_in_at_most_10_actions(canvas) -> None:
    page, act = canvas("empty")
    act.drop("Input", (0.5, 0.15))
    _wait_calls(page, {"input": []})
    for source, node, units, activation in (("input", "dense", None, "relu"), ("dense", "dense_1", "64", "relu"),
                                            ("dense_1", "dense_2", "10", "softmax")):
        act.drop("Dense", act.frame.get_by_test_id(f"node-{source}"))  # dropped on a node: its new consumer
        expect(act.frame.get_by_test_id(f"param-{node}-activation")).to_be_visible(timeout=WAIT)
        if units:
            act.type_param(node, "units", units)
            expect(act.frame.get_by_test_id(f"param-{node}-units")).to_have_value(units, timeout=WAIT)
        act.choose_param(node, "activation", activation)
        expect(act.frame.get_by_test_id(f"param-{node}-activation")).to_have_value(activation, timeout=WAIT)
    expect(_caption(page, "params:")).to_contain_text("params: 27,882 · builds", timeout=WAIT)
    assert _calls(page) == {"input": [], "dense": ["input"], "dense_1": ["dense"], "dense_2": ["dense_1"]}
    expect(_caption(page, "outputs:")).to_contain_text('outputs: ["dense_2"]')  # honest: one output, not three
    assert act.count <= 10, act.count


def test_the_shared_embedding_is_built_on_the_canvas_alone(canvas) -> None:
    page, act = canvas("empty")
    for node, where in (("input", (0.3, 0.15)), ("input_1", (0.7, 0.15))):
        act.drop("Input", where)
        expect(act.frame.get_by_test_id(f"param-{node}-shape")).to_be_visible(timeout=WAIT)
        act.type_param(node, "shape", "None")
        expect(act.frame.get_by_test_id(f"param-{node}-shape")).to_have_value("None", timeout=WAIT)
        act.choose_param(node, "dtype", "int32")
        expect(act.frame.get_by_test_id(f"param-{node}-dtype")).to_have_value("int32", timeout=WAIT)
    act.drop("Embedding", act.frame.get_by_test_id("node-input"))
    expect(act.frame.get_by_test_id("param-embedding-input_dim")).to_be_visible(timeout=WAIT)
    act.type_param("embedding", "input_dim", "100")
    expect(act.frame.get_by_test_id("param-embedding-input_dim")).to_have_value("100", timeout=WAIT)
    act.drag_to_pane("source-handle-input_1-0", (0.75, 0.75))  # an output dragged to empty space: pick its consumer
    act.click("picker-share-embedding")  # ... another call of the same Embedding layer (shared weights)
    _wait_calls(page, {"input": [], "input_1": [], "embedding": ["input"], "embedding_1": ["input_1"]})
    expect(_caption(page, "params:")).to_contain_text("params: 6,400 · builds", timeout=WAIT)
    expect(_caption(page, "outputs:")).to_contain_text('outputs: ["embedding", "embedding_1"]')
    expect(act.frame.get_by_test_id("node-embedding_1")).to_contain_text("shared ×2")
    assert act.count == 10, act.count


def test_section_3_model_is_modified_on_the_canvas(canvas) -> None:
    page, act = canvas("multi_io")
    act.drop("Dropout", act.frame.get_by_test_id("rf__edge-lstm/0").locator(".react-flow__edge-path"))  # onto an edge
    expect(page.get_by_test_id("stCode")).to_contain_text('"lstm": ["dropout"]', timeout=WAIT)
    expect(page.get_by_test_id("stCode")).to_contain_text('"dropout": ["embedding"]')
    act.drop("Dense", act.frame.get_by_test_id("node-concatenate"))  # a third head: an end, so an output
    expect(_caption(page, "outputs:")).to_contain_text('outputs: ["priority", "department", "dense"]', timeout=WAIT)
    expect(act.frame.get_by_test_id("output-badge-dense")).to_be_visible()
    expect(_caption(page, "params:")).to_contain_text("builds")
    assert act.count == 2
    act.connect("source-handle-lstm-0", "node-body")  # bad input: an edge into an Input is refused, nothing lost
    expect(page.get_by_test_id("stAlert")).to_contain_text("is an Input: it starts the graph", timeout=WAIT)
    expect(page.get_by_test_id("stCode")).to_contain_text('"body": []')
    page.wait_for_timeout(1000)  # the message above moved the canvas down: it takes its new height and fits again
    act.connect("source-handle-department-0", "target-handle-concatenate-3")  # a cycle: refused, named
    expect(page.get_by_test_id("stAlert")).to_contain_text("would make a cycle", timeout=WAIT)
    expect(page.get_by_test_id("stCode")).to_contain_text('"concatenate": ["lstm_1", "lstm", "tag"]')


def test_merge_slots_are_ordered_and_undo_redo_work_by_keyboard(canvas) -> None:
    page, act = canvas("empty")
    act.drop("Input", (0.3, 0.1))
    _wait_calls(page, {"input": []})
    act.drop("Input", (0.7, 0.1))
    _wait_calls(page, {"input": [], "input_1": []})
    act.search("subtract")  # not a favourite: found by searching the palette
    act.drop("Subtract", (0.5, 0.6))
    _wait_calls(page, {"input": [], "input_1": [], "subtract": []})
    act.connect("source-handle-input_1-0", "target-handle-subtract-0")  # first slot: input_1
    _wait_calls(page, {"subtract": ["input_1"]})
    act.connect("source-handle-input-0", "target-handle-subtract-1")  # second slot: input
    _wait_calls(page, {"subtract": ["input_1", "input"]})
    expect(_caption(page, "merges:")).to_contain_text('"subtract": ["input_1", "input"]', timeout=WAIT)
    act.connect("source-handle-input-0", "target-handle-subtract-0")  # onto an occupied slot: replaces it
    _wait_calls(page, {"subtract": ["input", "input"]})
    act.connect("source-handle-input_1-0", "target-handle-subtract-1")
    _wait_calls(page, {"subtract": ["input", "input_1"]})
    expect(_caption(page, "merges:")).to_contain_text('"subtract": ["input", "input_1"]', timeout=WAIT)  # Keras's order follows

    act.click("node-subtract")  # focus the canvas, then undo and redo by keyboard
    act.key("Control+z")
    _wait_calls(page, {"subtract": ["input", "input"]})
    act.key("Control+z")
    _wait_calls(page, {"subtract": ["input_1", "input"]})
    act.key("Control+Shift+z")
    _wait_calls(page, {"subtract": ["input", "input"]})
    act.key("Control+d")  # duplicate the selected node
    _wait_calls(page, {"subtract_1": ["input", "input"]})
    act.key("Delete")
    expect(page.get_by_test_id("stCode")).not_to_contain_text("subtract_1", timeout=WAIT)


def _canvas_node(page, node_id: str):
    return page.frame_locator(CANVAS).get_by_test_id(f"node-{node_id}")


def test_click_to_select_both_ways_and_a_10_node_graph_fits_1280x720(browser, app_url) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.goto(f"{app_url}/builder?preset=multi_io")
        wait_for_app(page)
        expect(_canvas_node(page, "lstm")).to_be_visible(timeout=WAIT)
        _canvas_node(page, "lstm").locator(".title").click()  # canvas -> Node editor
        picker = page.get_by_role("combobox", name="Node")
        expect(picker).to_have_value("lstm · LSTM", timeout=WAIT)
        expect(_canvas_node(page, "lstm")).to_have_class(re.compile("selected"))

        wait_for_app(page)  # the canvas click reruns the page; the picker is drawn anew
        option = page.get_by_role("option", name=re.compile(r"^priority · Dense"))
        for _ in range(3):  # a rerun that lands while the list opens closes it again: open it once more
            picker.click()  # Node editor -> canvas
            try:
                option.wait_for(timeout=5_000)
                break
            except PlaywrightTimeout:
                wait_for_app(page)
        option.click()
        expect(_canvas_node(page, "priority")).to_have_class(re.compile("selected"), timeout=WAIT)
        expect(_canvas_node(page, "lstm")).not_to_have_class(re.compile("selected"))

        page.get_by_text("Present", exact=True).click()  # the canvas alone, for a projector
        wait_for_app(page)
        expect(_canvas_node(page, "department")).to_be_visible(timeout=WAIT)
        page.wait_for_timeout(800)  # the canvas fits its graph once it has its height
        for node in ("body", "title", "tag", "embedding", "embedding_1", "lstm", "lstm_1", "concatenate", "priority", "department"):
            box = _canvas_node(page, node).bounding_box()
            assert box is not None and box["x"] >= 0 and box["y"] >= 0, (node, box)
            assert box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 720, (node, box)
        assert page.evaluate("() => window.scrollY") == 0
    finally:
        context.close()

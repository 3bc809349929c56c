"""A newcomer's first journey, in Chinese, in the real browser: Learn -> lesson 1 -> open the MLP in the Builder ->
train it -> draw a digit on the pad -> the model's predicted label appears."""

from __future__ import annotations

import pytest

from studio.i18n import translate_in
from tests.e2e.conftest import wait_for_app

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

CJK_RANGE = "[\u4e00-\u9fff]"


def zh(message: str) -> str:
    """The Chinese the page shows for an English message id."""
    return translate_in("zh", message)


def _draw_a_one(page) -> None:
    """A vertical stroke on the drawing pad (the pad is a canvas; its upper layer takes the mouse)."""
    pad = page.locator("canvas.upper-canvas").first
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None, "the drawing pad is not on the page"
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    for step in range(1, 13):
        page.mouse.move(x + step * 0.5, box["y"] + box["height"] * (0.2 + step * 0.05))
    page.mouse.up()


def test_a_chinese_newcomer_learns_trains_and_tries_the_model(page, app_url):
    page.goto(f"{app_url}/?lang=zh")
    wait_for_app(page)
    expect(page.get_by_role("button", name=zh("Start lesson 1"))).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]')).to_contain_text(zh("Learn"))

    page.get_by_role("button", name=zh("Start lesson 1")).click()
    wait_for_app(page)
    open_builder = zh("Open {model} in the Builder").format(model="mnist model")
    page.get_by_role("button", name=open_builder).click()
    wait_for_app(page)
    expect(page.get_by_text("27,882").first).to_be_visible(timeout=90_000)

    page.locator('[data-testid="stSidebarNav"]').get_by_text(zh("Train"), exact=True).click()  # same session
    wait_for_app(page)
    epochs = page.get_by_label(zh("Epochs"), exact=True)
    epochs.fill("2")
    epochs.press("Enter")
    wait_for_app(page)
    page.get_by_test_id("stBaseButton-primary").filter(has_text=zh("Train")).first.click()
    expect(page.get_by_role("heading", name=zh("Try it"))).to_be_visible(timeout=180_000)
    wait_for_app(page)

    _draw_a_one(page)
    prediction = page.locator('[data-testid="stMetric"]').filter(has_text=zh("Prediction"))
    expect(prediction).to_be_visible(timeout=90_000)
    value = prediction.locator('[data-testid="stMetricValue"]').inner_text().strip()
    assert value in [str(digit) for digit in range(10)], value
    expect(page.get_by_text(zh("What the model sees (28x28)")).first).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)

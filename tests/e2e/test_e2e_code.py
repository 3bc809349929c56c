"""Code -> graph in a real browser: paste functional-API code, see its graph, open it, train it one epoch."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import wait_for_app

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

GRAPH = '[data-testid="stGraphVizChart"] svg'
# Our own small snippet in the usual tf.keras spelling: a digit classifier on flat 28x28 images.
SNIPPET = """import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

pixels = keras.Input(shape=(784,), name="pixels")
hidden = layers.Dense(48, activation="relu", name="hidden")(pixels)
digits = layers.Dense(10, activation="softmax", name="digits")(hidden)
model = keras.Model(inputs=pixels, outputs=digits, name="pasted_mlp")
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()
"""


def test_pasted_code_becomes_a_graph_that_opens_and_trains(page, app_url):
    page.goto(f"{app_url}/builder")
    wait_for_app(page)
    page.get_by_role("tab", name="From code", exact=True).first.click()
    wait_for_app(page)
    editor = page.get_by_role("textbox", name="Python code")
    editor.fill(SNIPPET)
    editor.press("Control+Enter")
    wait_for_app(page)
    expect(page.locator(GRAPH).first).to_be_visible(timeout=60_000)
    assert "hidden" in page.locator(GRAPH).first.text_content()
    expect(page.get_by_text("38,170 parameters").first).to_be_visible()  # 784*48+48 + 48*10+10
    page.get_by_role("button", name="Open in builder").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="pasted_mlp")).to_be_visible()
    expect(page.get_by_text("Builds ✓", exact=True)).to_be_visible()

    page.get_by_role("link", name="Train").first.click()
    wait_for_app(page)
    epochs = page.get_by_label("Epochs", exact=True)
    epochs.fill("1")
    epochs.press("Enter")
    wait_for_app(page)
    page.get_by_test_id("stBaseButton-primary").filter(has_text="Train").click()
    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=90_000)
    expect(page.get_by_text(re.compile("Finished after 1 complete epoch")).first).to_be_visible(timeout=180_000)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)

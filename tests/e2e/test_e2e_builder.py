"""The gallery and the builder in a real browser (headless chromium): few tests, one shared server."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import wait_for_app

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

GRAPH = '[data-testid="stGraphVizChart"] svg'


def open_tab(page, name: str) -> None:
    """Click a tab by its label and wait for the rerun it starts."""
    page.get_by_role("tab", name=name, exact=True).first.click()
    wait_for_app(page)


def test_gallery_loads_with_every_preset(page, app_url):
    page.goto(f"{app_url}/gallery")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible()
    expect(page.get_by_role("button", name="Open in builder")).to_have_count(7)
    page.wait_for_selector(GRAPH, timeout=60_000)
    expect(page.get_by_text("27,882").first).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_opening_the_autoencoder_draws_its_nested_encoder_and_decoder(page, app_url):
    page.goto(f"{app_url}/gallery")
    wait_for_app(page)
    page.get_by_role("button", name="Open in builder").nth(3).click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="autoencoder")).to_be_visible()
    open_tab(page, "Diagram")
    graph = page.locator(GRAPH).first
    expect(graph).to_be_visible(timeout=60_000)
    text = graph.text_content()
    for name in ("img", "encoder", "decoder", "conv2d_3", "conv2d_transpose_3"):
        assert name in text, f"{name!r} missing from the diagram"
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_a_bad_parameter_typed_in_the_form_shows_an_error_on_its_node(page, app_url):
    page.goto(f"{app_url}/builder?preset=mnist_mlp")
    wait_for_app(page)
    open_tab(page, "Nodes")
    page.locator('[class*="st-key-nodeok_dense "], [class*="st-key-nodeok_dense"]').first.get_by_role("button", name="Edit").click()
    wait_for_app(page)
    units = page.locator('input[aria-label="units *"]')
    units.fill("0")
    page.get_by_role("button", name="Apply parameters").click()
    wait_for_app(page)
    bad_row = page.locator('[class*="st-key-nodebad_dense"]').first
    expect(bad_row).to_be_visible()
    expect(bad_row.locator('[data-testid="stAlertContentError"]')).to_contain_text("positive integer")
    expect(page.get_by_text("1 problem", exact=False).first).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


@pytest.mark.parametrize(("label", "check"), [("PNG", lambda data: data.startswith(b"\x89PNG\r\n\x1a\n")),
                                              ("SVG", lambda data: b"<svg" in data[:2000] and data.rstrip().endswith(b"</svg>"))])
def test_diagram_downloads_are_valid_images(page, app_url, tmp_path, label, check):
    page.goto(f"{app_url}/builder?preset=mnist_mlp")
    wait_for_app(page)
    open_tab(page, "Diagram")
    with page.expect_download(timeout=90_000) as download_info:
        page.get_by_role("button", name=label, exact=True).click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    data = target.read_bytes()
    assert download.suggested_filename == f"mnist_model.{label.lower()}"
    assert check(data), data[:200]
    if label == "PNG":
        from PIL import Image

        with Image.open(target) as image:
            assert image.width > 100 and image.height > 200

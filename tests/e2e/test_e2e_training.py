"""The training page in a real browser: Train, the live Plotly chart gains points while it runs, Stop ends it.

Serves a small wrapper (written to a temporary folder) that puts the mnist_mlp preset into the session
and runs ``pages/training.py``, so the test needs neither the navigation of ``app.py`` nor other pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import streamlit_server, wait_for_app

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = """
import runpy
import streamlit as st
from components import state
from studio.graph.presets import load_preset

state.init_state()
if not st.session_state[state.SPEC].calls:
    st.session_state[state.SPEC] = load_preset("mnist_mlp")
runpy.run_path({page!r}, run_name="__main__")
"""
CHART = '[data-testid="stPlotlyChart"]'
POINTS = """() => {
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')];
    return charts.reduce((total, chart) => total + (chart.data || []).reduce((n, trace) => n + (trace.x || []).length, 0), 0);
}"""


@pytest.fixture(scope="module")
def training_url(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("training_page")
    script = folder / "training_app.py"
    script.write_text(WRAPPER.format(page=str(ROOT / "pages" / "training.py")))
    with streamlit_server(script, folder, extra_env={"STUDIO_OFFLINE": "1"}) as url:
        yield url


def test_live_chart_gains_points_and_stop_ends_the_run(page, training_url):
    page.goto(training_url)
    wait_for_app(page)
    expect(page.get_by_text("MNIST (offline sample)", exact=False).first).to_be_visible()
    epochs = page.get_by_label("Epochs", exact=True)
    epochs.fill("40")
    epochs.press("Enter")
    batch = page.get_by_label("Batch size", exact=True)
    batch.fill("16")
    batch.press("Enter")
    wait_for_app(page)
    page.get_by_test_id("stBaseButton-primary").filter(has_text="Train").click()
    page.wait_for_selector(CHART, timeout=90_000)
    page.wait_for_function(f"() => ({POINTS})() >= 3", timeout=90_000)
    first = page.evaluate(POINTS)
    page.wait_for_function(f"() => ({POINTS})() > {first}", timeout=30_000)  # the chart gains points while it runs
    expect(page.get_by_text(re.compile(r"Epoch \d+/40"))).to_be_visible()
    page.get_by_test_id("stBaseButton-secondary").filter(has_text="Stop").click()
    expect(page.get_by_text("Stopped by the user", exact=False).first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Evaluation on the test set")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name=re.compile("Download model.keras"))).to_be_visible()

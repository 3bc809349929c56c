"""The Export page in a real browser: train for one epoch, save and check the files, download the .h5
(``page.expect_download()``) and reload it with Keras: same predictions as the app's check promised.

Serves a small wrapper (written to a temporary folder) with two pages, Train and Export, and the
mnist_mlp preset in the session, so the test does not depend on which pages ``app.py`` lists.
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
import streamlit as st
from components import state
from studio.graph.presets import load_preset

st.set_page_config(layout="wide")
pages = [
    st.Page({training!r}, title="Train", url_path="training", default=True),
    st.Page({export!r}, title="Export", url_path="export"),
]
page = st.navigation(pages)
state.init_state()
if not st.session_state[state.SPEC].calls:
    st.session_state[state.SPEC] = load_preset("mnist_mlp")
page.run()
"""


@pytest.fixture(scope="module")
def export_url(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("export_pages")
    script = folder / "export_app.py"
    script.write_text(WRAPPER.format(training=str(ROOT / "pages" / "training.py"), export=str(ROOT / "pages" / "export.py")))
    with streamlit_server(script, folder, extra_env={"STUDIO_OFFLINE": "1", "STUDIO_RUNS_DIR": str(folder / "runs")}) as url:
        yield url


def test_trained_model_downloads_as_h5_and_reloads(page, export_url, tmp_path):
    import keras
    import numpy as np

    page.goto(export_url)
    wait_for_app(page)
    epochs = page.get_by_label("Epochs", exact=True)
    epochs.fill("1")
    epochs.press("Enter")
    wait_for_app(page)
    page.get_by_test_id("stBaseButton-primary").filter(has_text="Train").click()
    expect(page.get_by_text("Evaluation on the test set")).to_be_visible(timeout=180_000)
    page.get_by_role("link", name="Export").click()  # in-app navigation keeps the session (and its job)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Export")).to_be_visible()
    page.get_by_role("button", name=re.compile("Save and check .keras and .h5")).click()
    expect(page.get_by_text(re.compile(r"^\.h5: reloaded in a fresh Python process"))).to_be_visible(timeout=180_000)
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name=re.compile(r"Download \.h5")).click()
    download = download_info.value
    assert download.suggested_filename == "mnist_model.h5"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    model = keras.models.load_model(path, safe_mode=True)
    assert model.count_params() == 27_882
    digits = np.random.default_rng(0).random((3, 784)).astype("float32")
    probabilities = np.asarray(model(digits, training=False))
    assert probabilities.shape == (3, 10) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)

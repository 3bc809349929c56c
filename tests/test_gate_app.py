"""The app's ways in pass the same gate (issue 12): pasted and uploaded specs, nested-model spec files, model uploads
and data files past a limit get one message naming the limit and the file, the work is unchanged, nothing escapes to
the page; an uploaded data file lives in its session only and is released with it."""

from __future__ import annotations

import gc
import io
import json
import re
import weakref
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from components import state
from components.training.settings import UPLOADED_DATA
from studio.graph.presets import load_preset
from studio.model.build import spec_key
from tests import hostile
from tests.test_app_builder import current, open_builder, wkey

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300
JSON_LIMIT = "nests JSON more than 200 levels deep; the limit is max JSON nesting depth = 200 (set KFS_MAX_JSON_DEPTH to change it)."


def plain(markdown: str) -> str:
    """A message as the reader sees it (Markdown escapes and invisible joiners dropped)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def errors(at: AppTest) -> list[str]:
    return [plain(element.value) for element in at.error]


def test_pasting_json_arrays_100000_deep_names_the_limit_and_keeps_the_work() -> None:
    at = open_builder(load_preset("mnist_mlp"))
    before = spec_key(current(at))
    at.text_area(key=wkey(at, "builder.paste_text")).set_value(hostile.deep_json_arrays(100_000))
    at.button(key="builder.open_pasted").click().run()
    assert not at.exception
    assert spec_key(current(at)) == before
    assert any(f"the pasted text {JSON_LIMIT} Your current work is unchanged." in error for error in errors(at)), errors(at)


def test_opening_a_project_nesting_models_150_deep_names_the_file_and_the_limit() -> None:
    at = open_builder(load_preset("mnist_mlp"))
    before = spec_key(current(at))
    at.file_uploader[0].upload("deep models.json", json.dumps(hostile.nested_models(150)).encode(), "application/json").run()
    assert not at.exception
    assert spec_key(current(at)) == before
    assert any(f"'deep models.json' {JSON_LIMIT}" in error for error in errors(at)), errors(at)


def test_pasting_models_nested_past_the_model_depth_limit_is_refused() -> None:
    at = open_builder(load_preset("mnist_mlp"))
    at.text_area(key=wkey(at, "builder.paste_text")).set_value(json.dumps(hostile.nested_models(25)))
    at.button(key="builder.open_pasted").click().run()
    assert not at.exception and current(at).name == "mnist model"
    assert any("the pasted text nests models 25 levels deep; the limit is max depth of models nested in models = 20" in error
               for error in errors(at)), errors(at)


def test_inserting_a_nested_model_file_that_would_pass_the_depth_limit_is_refused() -> None:
    at = open_builder(load_preset("mnist_mlp"), right="Add")
    at.session_state[state.ADD_TAB] = "Nested model"
    at.run()
    at.radio(key=wkey(at, "builder.nested_source")).set_value("Spec file").run()
    at.file_uploader(key=wkey(at, "builder.nested_upload")).upload(
        "twenty.json", json.dumps(hostile.nested_models(20)).encode(), "application/json"
    ).run()
    at.multiselect(key=wkey(at, "builder.nested_inputs")).set_value([])
    at.button(key="builder.nested_add").click().run()
    assert not at.exception and current(at).name == "mnist model" and len(current(at).calls) == 4
    assert any("The graph nests models 21 levels deep; the limit is max depth of models nested in models = 20" in error
               for error in errors(at)), errors(at)


def test_a_model_upload_whose_config_is_8_mb_is_refused_on_the_models_page(tmp_path) -> None:
    path = tmp_path / "tiny.keras"
    hostile.small_keras_model().save(path)
    config = json.dumps(hostile.keras_config(path.read_bytes())).encode()
    padded = hostile.rewrite_keras_archive(path.read_bytes(), {"config.json": config}, pad={"config.json": 8 * 2**20})
    at = AppTest.from_file(str(ROOT / "pages" / "models.py"), default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("mnist_mlp")
    at.run()
    at.file_uploader(key="models.upload").set_value(("padded.keras", padded, "application/octet-stream"))
    at.run()
    assert not at.exception
    assert errors(at) == [
        "the model config inside 'padded.keras' is 8.0 MB; the limit is max size of a spec, project or model config (MB) = 5 "
        "(set KFS_MAX_UPLOAD_MB to change it)."
    ]


def _data_page() -> None:
    from components.training.settings import render_data_choice
    from studio.graph.presets import load_preset

    render_data_choice(load_preset("mnist_mlp"), None, "t")


def _upload_data(name: str, data: bytes) -> AppTest:
    at = AppTest.from_function(_data_page, default_timeout=TIMEOUT).run()
    at.selectbox(key="train.dataset.t").select("upload").run()
    at.file_uploader(key="train.upload.t").set_value((name, data, "application/octet-stream"))
    return at.run()


def test_the_tiny_npz_of_zeros_is_refused_on_the_train_page() -> None:
    at = _upload_data("zeros.npz", hostile.zeros_npz())
    assert not at.exception
    assert any(error.startswith("'zeros.npz' holds 240,000,000 values (samples x features over all its arrays); the limit is max values")
               for error in errors(at)), errors(at)


def test_uploaded_data_stays_in_its_session_and_is_released_with_it() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, x=np.random.default_rng(0).random((50, 784), np.float32), y=np.arange(50) % 10)
    at = _upload_data("digits.npz", buffer.getvalue())
    assert not at.exception and not at.error
    dataset = at.session_state[UPLOADED_DATA][1]
    assert dataset.name == "digits.npz"
    released = weakref.ref(dataset)
    other = AppTest.from_function(_data_page, default_timeout=TIMEOUT).run()
    assert UPLOADED_DATA not in other.session_state  # another session never sees it
    del dataset, at
    gc.collect()
    assert released() is None, "the session ended but its uploaded data is still held (a process-wide cache?)"

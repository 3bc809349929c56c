"""AppTest of the code styles (issue 10, item 5): the Gallery shows each preset's code in the tutorial's style, labelled
truthfully and checked to parse back to the same graph; the Builder's Code tab and the Export page offer both styles."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from components import state
from components.builder.views import CODE_STYLE_KEY
from components.export.downloads import CODE_STYLE_KEY as EXPORT_STYLE_KEY
from studio.graph.presets import load_preset, preset_names
from tests.test_app_export import downloads  # noqa: F401, F811 - the fixture, shared

ROOT = Path(__file__).resolve().parents[1]
APP, EXPORT = str(ROOT / "app.py"), str(ROOT / "pages" / "export.py")
TIMEOUT = 300
LABEL = "**Functional-API code for this model, in the tutorial's style**"


def test_the_gallery_shows_tutorial_style_code_that_parses_back() -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/gallery.py").run()
    assert not at.exception
    assert [markdown.value for markdown in at.markdown].count(LABEL) == len(preset_names())
    assert not any("The tutorial's code for it" in markdown.value for markdown in at.markdown)
    assert [caption.value for caption in at.caption].count("✓ parses back to the same graph") == len(preset_names())
    assert not at.warning
    first = at.code[0].value
    assert "from tensorflow import keras" in first and 'h1 = layers.Dense(32, activation="relu")(inputs)' in first
    assert 'if __name__ == "__main__":' in first and "model.fit(" in first
    multi_io = at.code[preset_names().index("multi_io")].value
    assert "model.compile(" in multi_io and "model.fit(x_train, y_train, batch_size=32, epochs=5)" in multi_io


def test_the_code_tab_switches_between_the_styles() -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("mnist_mlp")
    at.run()
    at.session_state[state.LEFT_TAB] = "Code"
    at.switch_page("pages/builder.py").run()
    assert not at.exception
    assert 'dense = layers.Dense(32, activation="relu", name="dense")(img)' in at.code[0].value
    at.segmented_control(key=CODE_STYLE_KEY).set_value("tutorial").run()
    assert not at.exception
    code = at.code[0].value
    assert "from tensorflow import keras" in code and "h1 = layers.Dense(32" in code and 'if __name__ == "__main__":' in code


def test_the_export_page_offers_the_code_in_either_style(downloads: dict) -> None:  # noqa: F811 - the shared fixture
    at = AppTest.from_file(EXPORT, default_timeout=TIMEOUT)
    at.session_state[state.SPEC] = load_preset("multi_io")
    at.run()
    assert not at.exception
    assert b"import keras\n" in downloads["model.py"]
    at.segmented_control(key=EXPORT_STYLE_KEY).set_value("tutorial").run()
    assert not at.exception
    assert "export.code" in {button.key for button in at.download_button}
    code = downloads["model_tutorial.py"].decode("utf-8")
    assert "from tensorflow import keras" in code and "batch_size=32, epochs=5" in code

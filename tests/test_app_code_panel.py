"""AppTest of the Builder's From-code panel: paste or upload code, see its models (parsed, never run), pick one,
open it (undoable); errors show their line; nothing in the code runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

from shown_text import shown
from streamlit.testing.v1 import AppTest

from components import state
from components.builder.code_panel import CODE_KEY, OPEN_KEY, UPLOAD_KEY
from studio.graph.presets import load_preset
from tests.test_app_builder import current, open_builder

PANEL = "From code"
RESIDUAL = textwrap.dedent("""
    import keras
    from keras import layers

    picture = keras.Input(shape=(16, 16, 3), name="picture")
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(picture)
    y = layers.Conv2D(8, 3, padding="same")(x)
    joined = layers.add([x, y])
    pooled = layers.GlobalAveragePooling2D()(joined)
    classes = layers.Dense(4, activation="softmax", name="classes")(pooled)
    model = keras.Model(picture, classes, name="tiny_residual")
    model.summary()
""")
TWO_MODELS = textwrap.dedent("""
    import keras
    inner_in = keras.Input(shape=(6,), name="inner_in")
    scorer = keras.Model(inner_in, keras.layers.Dense(1, name="score")(inner_in), name="scorer")
    outer_in = keras.Input(shape=(6,), name="outer_in")
    ranker = keras.Model(outer_in, scorer(outer_in), name="ranker")
""")


def panel(spec=None) -> AppTest:
    return open_builder(spec if spec is not None else load_preset("mnist_mlp"), right=PANEL)


def paste(at: AppTest, code: str) -> AppTest:
    at.text_area(key=CODE_KEY).input(code).run()
    assert not at.exception
    return at


def texts(at: AppTest) -> str:
    return "\n".join([*(shown(element.value) for element in at.markdown), *(shown(element.value) for element in at.error),
                      *(element.value for element in at.code), *(shown(element.value) for element in at.warning)])


def test_pasted_code_shows_its_model_and_opens_in_the_builder_undoably() -> None:
    at = paste(panel(), RESIDUAL)
    shown = texts(at)
    assert "tiny_residual" in shown and "builds ✓" in shown and "844 parameters" in shown  # 224 + 584 + 36
    assert any("Graph" in expander.label for expander in at.expander)
    before = current(at).to_dict()
    at.button(key=OPEN_KEY).click().run()
    assert not at.exception
    opened = current(at)
    assert opened.name == "tiny_residual" and opened.call("add").inputs == ["conv2d", "conv2d_1"]
    assert "code" in at.session_state[state.SPEC_SOURCE]
    at.button(key="builder.undo").click().run()
    assert current(at).to_dict() == before


def test_several_models_can_be_picked_and_the_last_is_shown_first() -> None:
    at = paste(panel(), TWO_MODELS)
    picker = next(box for box in at.selectbox if box.label.startswith("The code defines 2 models"))
    assert picker.value == 1 and "ranker" in texts(at)
    picker.set_value(0).run()
    assert "scorer" in texts(at)
    at.button(key=OPEN_KEY).click().run()
    assert current(at).name == "scorer"


def test_errors_show_their_line_and_nothing_opens(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    code = f"import os\nimport keras\nos.system('touch {marker}')\nx = keras.Input((3,))\n"
    code += "for i in range(2):\n    x = keras.layers.Dense(2)(x)\n"
    at = paste(panel(), code)
    shown = texts(at)
    assert "line 5, column 1: `for` loops are not supported" in shown
    assert "   5 | for i in range(2):" in shown
    assert not [button for button in at.button if button.key == OPEN_KEY]
    assert not marker.exists()


def test_an_uploaded_py_file_fills_the_box() -> None:
    at = panel()
    at.file_uploader(key=UPLOAD_KEY).set_value(("residual.py", RESIDUAL.encode("utf-8"), "text/x-python")).run()
    assert not at.exception
    assert at.text_area(key=CODE_KEY).value == RESIDUAL
    assert "tiny_residual" in texts(at)


def test_an_empty_box_shows_nothing_but_the_box() -> None:
    at = panel()
    assert not at.exception
    assert not [button for button in at.button if button.key == OPEN_KEY]


def test_a_model_opened_from_code_trains_with_the_codes_compile_and_fit_settings() -> None:
    from studio.model.build import spec_key

    snippet = (
        "import keras\nfrom keras import layers\n"
        "x = keras.Input(shape=(784,), name='x')\ny = layers.Dense(10, activation='softmax', name='y')(x)\n"
        "model = keras.Model(x, y, name='coded')\n"
        "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "model.fit(x_train, y_train, batch_size=32, epochs=3)\n"
    )
    at = open_builder(right="From code")
    at.text_area(key=CODE_KEY).input(snippet).run()
    at.button(key=OPEN_KEY).click().run()
    assert not at.exception
    spec = at.session_state[state.SPEC]
    assert at.session_state[state.CODE_SETTINGS]["key"] == spec_key(spec)
    at.switch_page("pages/training.py").run()
    assert not at.exception
    assert any("start from the code" in caption.value for caption in at.caption)
    values = {widget.label: widget.value for widget in at.number_input}
    assert values["Epochs"] == 3 and values["Batch size"] == 32
    assert [box.value for box in at.selectbox if box.label == "Optimizer"] == ["Adam"]

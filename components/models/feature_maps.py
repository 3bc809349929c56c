"""Inspect / feature maps: pick a model (VGG16 random or ImageNet, this session's trained model, an uploaded
one, the builder's model) and its layers, feed a dataset sample, an uploaded image or noise, and show
each layer's activations as an image grid (conv), a heat map (sequences) or a bar chart (dense)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from components.text import md
from studio.i18n import N_, _, ngettext
from studio.model.features import (
    SCALING_HELP,
    SCALINGS,
    InspectError,
    activation_grid,
    dense_bars,
    feature_maps,
    layer_choices,
    prepare_image,
)

log = logging.getLogger(__name__)

SOURCE = "models.fm.source"
RESULT = "models.state.fm_result"  # rendered activations of the last run (small images and bar data only)
VGG_RANDOM, VGG_IMAGENET, TRAINED, UPLOADED, BUILDER = "vgg16", "vgg16_imagenet", "trained", "uploaded", "builder"
SOURCES = {
    VGG_RANDOM: N_("VGG16, random weights"),
    VGG_IMAGENET: N_("VGG16, ImageNet weights (528 MB download)"),
    TRAINED: N_("This session's trained model"),
    UPLOADED: N_("The uploaded model"),
    BUILDER: N_("The builder's model (untrained)"),
}
SAMPLE, IMAGE, NOISE = "sample", "image", "noise"
MAX_LAYERS = 12
MAX_CHANNELS = 64
MAX_BARS = 64


@st.cache_resource(show_spinner=False, max_entries=2)
def _vgg16(imagenet: bool) -> tuple[Any, str]:
    from studio.model.features import load_vgg16

    return load_vgg16(imagenet)


def pick_model(trained: Any, uploaded: Any, builder: Any) -> tuple[Any, str, str] | None:
    """The chosen model, its source key and a note (None, with a message shown, when it is not available)."""
    available = {TRAINED: trained, UPLOADED: uploaded, BUILDER: builder}
    first = next((key for key in (TRAINED, UPLOADED, BUILDER) if available[key] is not None), None)
    index = list(SOURCES).index(first) if first else None  # VGG16 (138M parameters) is built only when picked
    source = st.radio(_("Model"), list(SOURCES), index=index, format_func=lambda key: _(SOURCES[key]), horizontal=True, key=SOURCE)
    if source is None:
        st.caption(_("Pick a model: VGG16 as in the tutorial's section 5, or one of yours."))
        return None
    if source in (VGG_RANDOM, VGG_IMAGENET):
        try:
            with st.spinner(_("Building VGG16 (138M parameters) ...")):
                model, note = _vgg16(source == VGG_IMAGENET)
        except InspectError as error:
            st.error(md(error), icon=":material/cloud_off:")
            return None
        return model, source, note
    model = available[source]
    if model is None:
        missing = {
            TRAINED: _("No trained model in this session: train one on the Train page (it can be inspected mid-run too)."),
            UPLOADED: _("No model uploaded: upload a .keras or .h5 file in the Upload tab."),
            BUILDER: _("The builder's model is empty or does not build."),
        }
        st.info(missing[source])
        return None
    notes = {TRAINED: _("trained weights"), UPLOADED: _("the uploaded weights"), BUILDER: _("random initial weights")}
    return model, source, notes[source]


def _image_input(model: Any) -> bool:
    shape = tuple(model.inputs[0].shape[1:])
    return len(model.inputs) == 1 and (len(shape) in (2, 3) or (len(shape) == 1 and shape[0] in (784,)))


@st.cache_resource(show_spinner=False, max_entries=1)
def _mnist_test() -> np.ndarray:
    from studio.training.datasets import load_dataset

    return load_dataset("mnist").x_test[0]


def pick_input(model: Any, source: str, key: str) -> list[np.ndarray] | None:
    """One batch for the model: a MNIST test digit, an uploaded image, or random noise as in the tutorial."""
    from studio.io.model_files import sample_inputs

    image_like = _image_input(model)
    choices = [SAMPLE, IMAGE, NOISE] if image_like else [NOISE]
    labels = {SAMPLE: _("A MNIST test digit"), IMAGE: _("An uploaded image"), NOISE: _("Random noise (as the tutorial)")}
    kind = st.radio(_("Input"), choices, format_func=labels.get, horizontal=True, key=f"models.fm.input.{key}")
    if not image_like:
        st.caption(_("This model's inputs are not images, so it is fed random samples shaped like them."))
        return sample_inputs(model, count=1)
    shape = tuple(model.inputs[0].shape[1:])
    columns = st.columns(3)
    default = SCALINGS.index("caffe") if source in (VGG_RANDOM, VGG_IMAGENET) else 0
    scaling = columns[0].selectbox(
        _("Pixel scaling"), SCALINGS, index=default, format_func=lambda s: f"{s}: {_(SCALING_HELP[s])}", key=f"models.fm.scaling.{key}"
    )
    invert = columns[1].checkbox(_("Invert (dark digit on white paper)"), key=f"models.fm.invert.{key}")
    try:
        if kind == SAMPLE:
            with st.spinner(_("Loading MNIST ...")):
                digits = _mnist_test()
            index = columns[2].number_input(_("Digit number"), 0, len(digits) - 1, 0, key=f"models.fm.sample.{key}")
            return [prepare_image(digits[int(index)], shape, scaling, invert)]
        if kind == IMAGE:
            upload = st.file_uploader(_("Image"), type=["png", "jpg", "jpeg", "bmp", "gif", "webp"], key=f"models.fm.image.{key}")
            if upload is None:
                st.caption(_("Upload a picture; it is resized and converted to the model's input shape."))
                return None
            return [prepare_image(upload.getvalue(), shape, scaling, invert)]
    except InspectError as error:
        st.error(md(error))
        return None
    rng = np.random.default_rng(0)
    return [rng.random((1, *(size or 32 for size in shape))).astype("float32")]


def compute(model: Any, inputs: list[np.ndarray], labels: list[str]) -> list[dict]:
    """Activations of the picked layers, turned into what is drawn (grids, heat maps, bars)."""
    from studio.model.features import sequence_image

    shown = []
    for feature_map in feature_maps(model, inputs, labels):
        sample = feature_map.values[0]
        item: dict = {
            "label": feature_map.label,
            "type": feature_map.choice.type,
            "shape": tuple(sample.shape),
            "kind": feature_map.choice.kind,
        }
        if item["kind"] == "image":
            grid = activation_grid(sample, MAX_CHANNELS)
            item.update(image=grid.image, note=_("{shown} of {channels} channels").format(shown=grid.shown, channels=grid.channels))
        elif item["kind"] == "sequence":
            item.update(image=sequence_image(sample), note=_("time steps down, features across"))
        elif item["kind"] == "vector":
            top = MAX_BARS if sample.size > MAX_BARS else None
            if top:
                note = _("the {count} largest of {size}").format(count=MAX_BARS, size=sample.size)
            else:
                note = ngettext("{count} unit", "{count} units", sample.size).format(count=sample.size)
            item.update(bars=dense_bars(sample, top=top), note=note)
        shown.append(item)
    return shown


def _bar_figure(bars: dict) -> go.Figure:
    figure = go.Figure(go.Bar(x=bars["unit"], y=bars["value"]))
    figure.update_layout(height=220, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis={"type": "category", "title": _("unit")})
    return figure


def render_results(shown: list[dict]) -> None:
    """Each picked layer: a grid, heat map or bar chart, with its shape."""
    for index, item in enumerate(shown):
        caption = _("{label} ({type}) · output {shape} · {note}").format(
            label=md(item["label"]), type=md(item["type"]), shape=item["shape"], note=item.get("note", "")
        )
        if "image" in item:
            st.image(item["image"], caption=caption, clamp=True)
        elif "bars" in item:
            st.caption(caption)
            st.plotly_chart(_bar_figure(item["bars"]), key=f"models.fm.bars.{index}", config={"displayModeBar": False})
        else:
            st.caption(_("{caption} (not drawn)").format(caption=caption))


def render_feature_maps(trained: Any, uploaded: Any, builder: Any) -> None:
    """The whole Inspect tab."""
    picked = pick_model(trained, uploaded, builder)
    if picked is None:
        return
    model, source, note = picked
    parameters = ngettext("{count} parameter", "{count} parameters", model.count_params()).format(count=f"{model.count_params():,}")
    st.caption(_("{name}: {note}; {parameters}.").format(name=md(model.name), note=note, parameters=parameters))
    key = f"{source}.{model.name}"
    choices = layer_choices(model)
    labels = [choice.label for choice in choices]
    preferred = [label for label in ("block1_conv1", "block3_conv1", "block5_conv3", "predictions") if label in labels]
    default = preferred or [choice.label for choice in choices if choice.type != "InputLayer"][:4]
    layers = st.multiselect(
        _("Layers (up to {count}): the tutorial's feat_ext_model = keras.Model(model.inputs, [layer.output ...])").format(count=MAX_LAYERS),
        labels, default=default, max_selections=MAX_LAYERS, key=f"models.fm.layers.{key}",
    )  # fmt: skip
    inputs = pick_input(model, source, key)
    if st.button(_("Show feature maps"), key="models.fm.run", type="primary", disabled=not layers or inputs is None):
        try:
            with st.spinner(_("Running the extraction model ...")):
                st.session_state[RESULT] = {"key": key, "shown": compute(model, inputs, layers)}
        except (InspectError, ValueError) as error:
            st.error(_("The feature maps cannot be computed: {error}").format(error=md(error)))
    result = st.session_state.get(RESULT)
    if result and result["key"] == key:
        render_results(result["shown"])

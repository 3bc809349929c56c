"""The "Try it" panel: one view per kind of model (image classifier, autoencoder, ticket model, any other),
each feeding the model one input a person made and showing every output. Used by the Train and Models pages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.text import md, plotly_text
from components.tryit.images import digit_input, show_digit, show_message
from studio.i18n import N_, _
from studio.model import tryit
from studio.model.tryit import Reading, Signature, TryItError

MAX_BARS = 64
RANDOM, TYPED = "random", "typed"
FILL = {RANDOM: N_("Random sample"), TYPED: N_("Type the numbers")}
KIND_TEXT = {
    tryit.CLASSIFIER: N_("An image classifier: draw a digit or upload a picture and see what the model predicts."),
    tryit.AUTOENCODER: N_("An autoencoder (image in, image out): draw a digit and see how the model rebuilds it."),
    tryit.TICKETS: N_("The ticket model: type a title and a body, pick tags, and see the priority and department it predicts."),
    tryit.OTHER: N_("Fill each input from a small form or a random sample and see each output."),
}


def _bar_figure(names: list[str], values: np.ndarray, percent: bool, title: str, x_title: str) -> go.Figure:
    top = int(np.argmax(values)) if len(values) else -1
    colours = ["#d62728" if index == top else "#1f77b4" for index in range(len(values))]
    text = [f"{value:.0%}" for value in values] if percent else None
    figure = go.Figure(go.Bar(x=[plotly_text(name) for name in names], y=values, marker_color=colours, text=text, textposition="outside"))
    y_axis = {"title": _("probability") if percent else _("value")}
    if percent:
        y_axis.update(range=[0, 1.12], tickformat=".0%")
    figure.update_layout(
        title=plotly_text(title), height=280, margin={"l": 10, "r": 10, "t": 40, "b": 10}, yaxis=y_axis,
        xaxis={"type": "category", "title": x_title},
    )  # fmt: skip
    return figure


def _chart(figure: go.Figure, key: str) -> None:
    st.plotly_chart(figure, key=key, config={"displayModeBar": False})


def _probabilities_chart(reading: Reading, names: list[str], key: str, title: str, x_title: str) -> None:
    percent = reading.kind in (tryit.PROBABILITIES, tryit.INDEPENDENT, tryit.SOFTMAXED)
    _chart(_bar_figure(names, reading.values, percent, title, x_title), key)
    if reading.note:
        st.caption(md(reading.note))


def _run(model: Any, inputs: list[np.ndarray]) -> list[np.ndarray] | None:
    try:
        return tryit.predict(model, inputs)
    except TryItError as error:
        st.error(md(error), icon=":material/error:")
        return None


# --- image classifier ---------------------------------------------------------------------------------------


def _digit_and_outputs(model: Any, signature: Signature, found) -> list | None:
    """The model's outputs for a drawn or uploaded digit; None (with the message shown) when there are none."""
    if found.digit is None:
        show_message(found)
        return None
    return _run(model, [found.digit.as_input(signature.inputs[0].shape)])


def _classifier(model: Any, signature: Signature, key: str) -> None:
    left, right = st.columns([3, 2])
    with left:
        found = digit_input(key)
    outputs = _digit_and_outputs(model, signature, found)
    if outputs is None:
        return
    port = signature.outputs[0]
    reading = tryit.interpret(port, outputs[0])
    names = tryit.class_names(len(reading.values))
    with right:
        show_digit(found.digit, _("What the model sees (28x28)"))
        value = f"{reading.values[reading.top]:.0%}" if reading.kind != tryit.SCORES else f"{reading.values[reading.top]:.3g}"
        st.metric(_("Prediction"), names[reading.top], help=_("The class with the highest value."))
        st.caption(_("Confidence: {value}").format(value=value))
    title = _("Probability of each class") if reading.kind != tryit.SCORES else _("Score of each class")
    _probabilities_chart(reading, names, f"tryit.{key}.bars", title, _("class"))


# --- autoencoder --------------------------------------------------------------------------------------------


def _display_image(values: np.ndarray) -> tuple[np.ndarray, str]:
    """An output image scaled into 0..1 for showing (with a note when it was rescaled)."""
    image = np.asarray(values, dtype=np.float64)
    low, high = float(image.min(initial=0.0)), float(image.max(initial=0.0))
    if low >= 0.0 and high <= 1.0:
        return image, ""
    if high - low < 1e-12:
        return np.zeros_like(image), _("Every pixel of the output is {value:.3g}.").format(value=low)
    note = _("Values from {low:.3g} to {high:.3g}, stretched to black..white for display.").format(low=low, high=high)
    return (image - low) / (high - low), note


def _autoencoder(model: Any, signature: Signature, key: str) -> None:
    found = digit_input(key)
    outputs = _digit_and_outputs(model, signature, found)
    if outputs is None:
        return
    reconstruction = np.asarray(outputs[0][0], dtype=np.float64).reshape(28, 28)
    shown, note = _display_image(np.clip(reconstruction, 0.0, None) if reconstruction.max() <= 1.5 else reconstruction)
    error = float(np.mean((np.clip(reconstruction, 0, 1) - found.digit.pixels) ** 2))
    left, right = st.columns(2)
    with left:
        show_digit(found.digit, _("Your drawing, as the model sees it"))
    with right:
        st.image(tryit.enlarge(shown, 6), caption=_("The model's reconstruction"), width=168)
        if note:
            st.caption(md(note))
    st.caption(_("Mean squared difference between the two: {error:.4f} (0 is a perfect copy).").format(error=error))


# --- the ticket model ---------------------------------------------------------------------------------------


def _tickets(model: Any, signature: Signature, key: str) -> None:
    from studio.training.datasets import BODY_WORDS, NUM_TAGS, NUM_WORDS, TITLE_WORDS

    data = tryit.TicketData(title_words=TITLE_WORDS, body_words=BODY_WORDS, vocabulary=NUM_WORDS, tags=NUM_TAGS)
    ports = tryit.ticket_ports(signature)
    tag_count = signature.inputs[ports.tags].size or data.tags
    title = st.text_input(_("Title"), key=f"tryit.{key}.title", placeholder=_("Printer on the second floor is jammed"))
    body = st.text_area(
        _("Body"), key=f"tryit.{key}.body", height=100, placeholder=_("Since this morning every print job stops with a paper jam."),
    )  # fmt: skip
    tags = st.multiselect(
        _("Tags"), list(range(tag_count)), format_func=lambda tag: _("Tag {number}").format(number=tag + 1), key=f"tryit.{key}.tags",
    )  # fmt: skip
    try:
        made = tryit.ticket_inputs(signature, title, body, tags, data)
    except TryItError as error:
        st.error(md(error))
        return
    st.caption(
        _(
            "Each word becomes a number below the vocabulary size by hashing it (the same word always gets the same number); "
            "the title keeps its last {title} words and the body its last {body}, padded with 0 in front."
        ).format(title=made.arrays[ports.title].shape[1], body=made.arrays[ports.body].shape[1])
    )
    for note in made.notes:
        st.caption(md(note))
    outputs = _run(model, made.arrays)
    if outputs is None:
        return
    left, right = st.columns(2)
    if ports.priority is not None:
        reading = tryit.interpret(signature.outputs[ports.priority], outputs[ports.priority])
        with left:
            value = float(reading.values.reshape(-1)[0])
            shown = f"{value:.0%}" if reading.kind in (tryit.INDEPENDENT, tryit.PROBABILITIES) else f"{value:.3g}"
            st.metric(_("Priority"), shown, help=_("The priority head's output: 0 is low, 1 (100 %) is high."))
            if reading.note:
                st.caption(md(reading.note))
    if ports.department is not None:
        reading = tryit.interpret(signature.outputs[ports.department], outputs[ports.department])
        names = [_("Department {number}").format(number=index + 1) for index in range(len(reading.values.reshape(-1)))]
        with right:
            if reading.top is not None:
                st.metric(_("Department"), names[reading.top])
        _probabilities_chart(reading, names, f"tryit.{key}.department", _("Department"), "")
    st.caption(
        _(
            "The tutorial trains this model on random word ids and random labels, so its answers show how the inputs flow "
            "through the model, not real ticket triage."
        )
    )


# --- any other model ----------------------------------------------------------------------------------------


def _input_form(signature: Signature, key: str) -> list[np.ndarray] | None:
    seed = int(st.number_input(_("Random sample number"), 0, 1_000_000, 0, key=f"tryit.{key}.seed"))
    arrays: list[np.ndarray] = []
    failed = False
    for index, port in enumerate(signature.inputs):
        sample = tryit.random_input(port, seed + index)
        shape = tryit.concrete_shape(port)
        label = _("Input {name} · shape {shape}").format(name=md(port.name), shape=shape)
        if not tryit.formable(port):
            st.caption(_("{label}: a random sample ({count:,} numbers are too many to type).").format(label=label, count=sample.size))
            arrays.append(sample)
            continue
        fill = st.radio(
            label, list(FILL), format_func=lambda value: _(FILL[value]), horizontal=True, key=f"tryit.{key}.fill.{index}",
        )  # fmt: skip
        if fill == RANDOM:
            st.caption(md(tryit.format_values(sample)))
            arrays.append(sample)
            continue
        text = st.text_area(
            _("Numbers for {name}").format(name=md(port.name)), value=tryit.format_values(sample), key=f"tryit.{key}.values.{index}",
            help=_("Separated by commas, spaces or new lines, in row order."),
        )  # fmt: skip
        try:
            arrays.append(tryit.parse_values(text, port))
        except TryItError as error:
            st.error(md(error))
            failed = True
    return None if failed else arrays


def _values_table(values: np.ndarray) -> pd.DataFrame:
    flat = np.asarray(values).reshape(-1)
    shown = flat[:MAX_BARS]
    return pd.DataFrame({_("position"): range(len(shown)), _("value"): shown})


def _show_reading(reading: Reading, key: str) -> None:
    st.markdown(_("**Output {name}** · shape {shape}").format(name=md(reading.name), shape=reading.shape))
    if reading.kind == tryit.IMAGE:
        image, note = _display_image(reading.values)
        st.image(tryit.enlarge(image, max(1, 168 // max(image.shape[:2]))) if image.ndim == 2 or image.shape[-1] == 1 else image)
        if note:
            st.caption(md(note))
        return
    values = reading.values
    if values.ndim == 1 and values.size <= MAX_BARS:
        names = [str(index) for index in range(values.size)]
        title = _("Probabilities") if reading.kind != tryit.SCORES else _("Values")
        _probabilities_chart(reading, names, f"tryit.{key}.out.{reading.name}", title, _("unit"))
        return
    flat = values.reshape(-1)
    st.caption(
        _("{count:,} numbers · min {low:.4g} · mean {mean:.4g} · max {high:.4g}; the first {shown} below.").format(
            count=flat.size, low=float(flat.min()), mean=float(flat.mean()), high=float(flat.max()), shown=min(MAX_BARS, flat.size)
        )
    )
    st.dataframe(_values_table(values), hide_index=True, key=f"tryit.{key}.table.{reading.name}", height=220)


def _other(model: Any, signature: Signature, key: str) -> None:
    inputs = _input_form(signature, key)
    if inputs is None:
        return
    outputs = _run(model, inputs)
    if outputs is None:
        return
    used = set()
    for index, (port, batch) in enumerate(zip(signature.outputs, outputs, strict=False)):
        name = port.name if port.name not in used else f"{port.name} ({index + 1})"
        used.add(port.name)
        reading = tryit.interpret(tryit.Port(name, port.shape, port.dtype, activation=port.activation), batch, as_probabilities=False)
        _show_reading(reading, f"{key}.{index}")


VIEWS = {tryit.CLASSIFIER: _classifier, tryit.AUTOENCODER: _autoencoder, tryit.TICKETS: _tickets, tryit.OTHER: _other}


@st.fragment
def render_try_it(model: Any, key: str) -> None:
    """The whole "Try it" panel for a model (a fragment: drawing or typing reruns only this panel)."""
    try:
        signature = tryit.signature_of(model)
    except Exception as error:  # noqa: BLE001 - a model Keras cannot describe is not worth the page
        st.error(_("This model's inputs and outputs cannot be read: {error}").format(error=md(error)))
        return
    kind = tryit.kind_of(signature)
    st.caption(_(KIND_TEXT[kind]))
    VIEWS[kind](model, signature, f"{key}.{kind}")

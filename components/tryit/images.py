"""Where a digit comes from: the drawing pad (streamlit-drawable-canvas) or an uploaded picture.

The pad is ``streamlit_drawable_canvas.st_canvas`` (0.13, built on Streamlit's components v2): white ink on a
black square, sent back on every stroke, with its own toolbar (undo, redo, clear). Whatever comes in goes
through :func:`studio.model.tryit.preprocess_digit`; every problem is a message, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from components.text import md
from studio.i18n import N_, _
from studio.model.tryit import MAX_IMAGE_BYTES, Digit, EmptyDrawing, TryItError, enlarge, preprocess_digit

PAD_SIZE = 224
STROKE = 18
DRAW, UPLOAD = "draw", "upload"
SOURCES = {DRAW: N_("Draw"), UPLOAD: N_("Upload a picture")}
IMAGE_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]


@dataclass
class DigitInput:
    """The digit made from the pad or the upload (None when there is none yet), and what to say instead."""

    digit: Digit | None
    message: str = ""
    level: str = "info"  # how to show the message: info (nothing yet), warning (no ink), error (unreadable)


def pad_key(key: str) -> str:
    """The session key of the drawing pad of a "Try it" panel (tests put a drawing there)."""
    return f"tryit.{key}.pad"


def _pad(key: str) -> np.ndarray | None:
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(
        stroke_width=STROKE, stroke_color="#FFFFFF", background_color="#000000", height=PAD_SIZE, width=PAD_SIZE,
        drawing_mode="freedraw", update_streamlit=True, return_image_data=True, key=pad_key(key),
    )  # fmt: skip
    objects = (result.json_data or {}).get("objects") or []
    if not objects:
        return None
    try:
        return result.image_data
    except (ValueError, OSError) as error:  # a damaged image from the browser
        raise TryItError(_("The drawing could not be read: {error}").format(error=error)) from error


def digit_input(key: str) -> DigitInput:
    """A radio (draw or upload) and the pad or the uploader; the digit as the model sees it, or a message."""
    source = st.radio(
        _("Input"), list(SOURCES), format_func=lambda value: _(SOURCES[value]), horizontal=True, key=f"tryit.{key}.source",
        label_visibility="collapsed",
    )  # fmt: skip
    try:
        if source == DRAW:
            drawing = _pad(key)
            st.caption(_("Draw one digit with the mouse (or a finger); the answer updates after every stroke."))
            if drawing is None:
                return DigitInput(None, _("Nothing is drawn yet: draw a digit on the black square."))
            return DigitInput(preprocess_digit(drawing))
        upload = st.file_uploader(
            _("Picture of a digit"), type=IMAGE_TYPES, key=f"tryit.{key}.upload", max_upload_size=MAX_IMAGE_BYTES // (1024 * 1024),
            help=_("A photo or scan of one handwritten digit; dark ink on light paper is inverted automatically."),
        )  # fmt: skip
        if upload is None:
            return DigitInput(None, _("Upload a picture of one digit (PNG, JPEG, GIF, BMP or WebP)."))
        return DigitInput(preprocess_digit(upload.getvalue(), upload.name))
    except EmptyDrawing as error:
        return DigitInput(None, str(error), "warning")
    except TryItError as error:
        return DigitInput(None, str(error), "error")


def show_message(found: DigitInput) -> None:
    """The message of a DigitInput without a digit, at its level."""
    if found.message:
        getattr(st, found.level)(md(found.message))


def show_digit(digit: Digit, caption: str) -> None:
    """The 28x28 image exactly as the model gets it, blown up with square pixels."""
    st.image(enlarge(digit.pixels, 6), caption=caption, width=168)
    if digit.inverted:
        st.caption(_("Dark ink on light paper: inverted to a white digit on black, like MNIST."))

"""The code style picker shared by the Builder's Code tab and the Export page: "studio" or "tutorial"."""

from __future__ import annotations

import streamlit as st

from studio.i18n import N_, _

CODE_STYLES = {"studio": N_("Studio"), "tutorial": N_("Tutorial")}
CODE_STYLE_HELP = N_(
    "Studio: `import keras`, every layer named, variables named after the nodes; the model only. "
    "Tutorial: `from tensorflow import keras`, short variable names (inputs, h1, h2, outputs), layer names only where "
    "they differ from the ones Keras gives, and the data, compile, fit and evaluate lines with the tutorial's settings "
    'under `if __name__ == "__main__":` (importing the file builds the model without training it).'
)


def code_style_control(key: str) -> str:
    """Draw the picker and return the chosen style ("studio" when nothing is picked)."""
    style = st.segmented_control(
        _("Code style"),
        list(CODE_STYLES),
        format_func=lambda style: _(CODE_STYLES[style]),
        default="studio",
        key=key,
        help=_(CODE_STYLE_HELP),
    )
    return style or "studio"

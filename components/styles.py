"""The app's few CSS rules: failing nodes red, the selected node highlighted (by container key classes)."""

from __future__ import annotations

import streamlit as st

CSS = """
<style>
[class*="st-key-nodebad_"] { border-color: #e03131 !important; background: #fff5f5; }
[class*="st-key-nodesel_"] { border-color: #1c7ed6 !important; background: #f1f7ff; }
[class*="st-key-builder_problems"] { border-color: #e03131 !important; background: #fff5f5; }
[class*="st-key-gallery_card_"] { background: #fcfcfd; }
</style>
"""


def inject_styles() -> None:
    """Add the app's CSS to the page (takes no space)."""
    st.html(CSS)

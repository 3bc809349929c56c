"""Keras Functional Studio: learn the Keras functional API by building models visually.

Run with `streamlit run app.py`. Adding a page is one line in PAGES.
"""

from __future__ import annotations

import gc
import logging

import streamlit as st

from components.i18n import init_language, language_switch
from studio.i18n import _, ngettext

st.set_page_config(page_title="Keras Functional Studio", page_icon=":material/hub:", layout="wide")
init_language()  # before any message is translated

PAGES = [
    st.Page("pages/gallery.py", title=_("Gallery"), icon=":material/photo_library:", default=True),
    st.Page("pages/builder.py", title=_("Builder"), icon=":material/account_tree:"),
    st.Page("pages/training.py", title=_("Train"), icon=":material/model_training:"),
    st.Page("pages/export.py", title=_("Export"), icon=":material/download:"),
    st.Page("pages/models.py", title=_("Models"), icon=":material/upload_file:"),
    st.Page("pages/runs.py", title=_("Runs"), icon=":material/history:"),
]
page = st.navigation(PAGES)  # before the heavy imports, so the menu shows while TensorFlow loads
with st.sidebar:
    language_switch()

with st.spinner(_("Starting Keras and TensorFlow (first visit only) ...")):
    from components import cache, state
    from components.project import open_query_preset
    from components.styles import inject_styles
    from components.text import md
    from studio.model.analysis import param_counts

log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def _freeze_startup_objects() -> bool:
    """Once per process: move the objects of the imports (TensorFlow, Keras) out of the garbage collector's way.

    Streamlit calls `keras.backend.clear_session()` (a full `gc.collect()`) after every script run; with
    TensorFlow's objects frozen that collection takes milliseconds instead of most of a second.
    """
    gc.collect()
    gc.freeze()
    return True


def render_notices() -> None:
    """Messages queued by callbacks (edits done, undo, a bad link): toasts, or warnings that stay."""
    for kind, text in state.take_notices():
        if kind in ("warning", "error"):
            getattr(st, kind)(md(text), icon=":material/warning:")
        else:
            st.toast(md(text), icon=":material/check_circle:" if kind == "success" else ":material/info:")


def render_sidebar() -> None:
    """The current model at a glance, on every page."""
    spec = state.current_spec()
    with st.sidebar:
        st.caption(_("Current model"))
        if not spec.calls:
            st.markdown(_("**{name}** · empty").format(name=md(spec.name)))
            return
        try:
            result = cache.analysis(spec)
        except Exception as error:  # noqa: BLE001 - the sidebar must never break a page
            log.warning("Sidebar analysis failed: %s", error)
            st.markdown(f"**{md(spec.name)}**")
            return
        count = len(result.problems)
        status = _("builds") if result.ok else ngettext("{count} problem", "{count} problems", count).format(count=count)
        nodes = ngettext("{count} node", "{count} nodes", len(spec.calls)).format(count=f"{len(spec.calls):,}")
        params = _("{count} params").format(count=f"{param_counts(result).total:,}")
        st.markdown(f"**{md(spec.name)}**  \n{nodes} · {params} · {status}")


_freeze_startup_objects()
state.init_state()
inject_styles()
if open_query_preset() and page.url_path != "builder":
    st.switch_page(state.PAGES["builder"])
render_sidebar()
render_notices()
page.run()

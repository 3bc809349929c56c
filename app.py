"""Keras Functional Studio: learn the Keras functional API by building models visually.

Run with `streamlit run app.py`. Adding a page is one line in PAGES.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading

import streamlit as st

from components.i18n import init_language, language_switch
from studio.i18n import _, ngettext

st.set_page_config(page_title="Keras Functional Studio", page_icon=":material/hub:", layout="wide")
init_language()  # before any message is translated

PAGES = [
    st.Page("pages/learn.py", title=_("Learn"), icon=":material/school:", default=True),
    st.Page("pages/gallery.py", title=_("Gallery"), icon=":material/photo_library:"),
    st.Page("pages/builder.py", title=_("Builder"), icon=":material/account_tree:"),
    st.Page("pages/training.py", title=_("Train"), icon=":material/model_training:"),
    st.Page("pages/export.py", title=_("Export"), icon=":material/download:"),
    st.Page("pages/models.py", title=_("Models"), icon=":material/upload_file:"),
    st.Page("pages/runs.py", title=_("Runs"), icon=":material/history:"),
]
page = st.navigation(PAGES)  # before the heavy imports, so the menu shows while TensorFlow loads
with st.sidebar:
    language_switch()

from components import state  # noqa: E402 - light: no TensorFlow
from components.styles import inject_styles  # noqa: E402
from components.text import md  # noqa: E402

log = logging.getLogger(__name__)
HEAVY_MODULES = ("components.cache", "studio.model.analysis")  # what every model page needs: Keras and TensorFlow
LIGHT_PAGES = ("", "learn", "gallery")  # drawn without TensorFlow (the Gallery reads its cards from disk)


def _load_keras() -> None:
    """Import Keras and TensorFlow, then move their objects out of the garbage collector's way.

    Streamlit calls `keras.backend.clear_session()` (a full `gc.collect()`) after every script run; with
    TensorFlow's objects frozen that collection takes milliseconds instead of most of a second.
    """
    try:
        for module in HEAVY_MODULES:
            __import__(module)
    except Exception as error:  # noqa: BLE001 - the page that needs them imports them again and reports it
        log.warning("Loading Keras in the background failed: %s", error)
        return
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False)
def _start_loading_keras() -> threading.Thread:
    """Once per process, after the first page is drawn: load TensorFlow in the background while the user reads."""
    loader = threading.Thread(target=_load_keras, name="load-keras", daemon=True)
    loader.start()
    return loader


def keras_loaded() -> bool:
    """Whether the heavy imports are done (a page that needs them would not wait)."""
    return all(module in sys.modules for module in HEAVY_MODULES) and not _start_loading_keras().is_alive()


def wait_for_keras() -> None:
    """Before a page that builds models: wait for the background load, showing why."""
    if keras_loaded():
        return
    with st.spinner(_("Starting Keras and TensorFlow (first visit only) ...")):
        _start_loading_keras().join()
        for module in HEAVY_MODULES:
            __import__(module)


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
            wait_for_keras()
            from components import cache
            from studio.model.analysis import param_counts

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


state.init_state()
inject_styles()
if st.query_params.get("preset"):
    wait_for_keras()
    from components.project import open_query_preset

    if open_query_preset() and page.url_path != "builder":
        st.switch_page(state.PAGES["builder"])
if page.url_path not in LIGHT_PAGES:
    wait_for_keras()
render_sidebar()
render_notices()
page.run()
_start_loading_keras()  # after the page is drawn: the import would otherwise slow the first page down (the GIL)

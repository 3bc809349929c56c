"""Make sure every page runs inside app.py's navigation, even on a fresh server.

Streamlit treats a `pages/` folder as its legacy multipage mode until some session calls
`st.navigation`; until then a first visit to `/builder` would run `pages/builder.py` on its own,
without app.py (no wide layout, no shared state set-up, no `?preset=`, no sidebar). Each page calls
`run_inside_app()` first: in that legacy mode it switches to navigation mode (as `st.navigation`
does), runs app.py in place, which opens the requested page, and ends this run.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

APP_SCRIPT = Path(__file__).resolve().parents[1] / "app.py"


def run_inside_app() -> None:
    """When Streamlit ran this page file directly (legacy `pages/` mode), run it through app.py instead."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without this internal: nothing to fix
        return
    if not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False  # what st.navigation itself does
    code = compile(APP_SCRIPT.read_text(encoding="utf-8"), str(APP_SCRIPT), "exec")
    exec(code, {"__name__": "__main__", "__file__": str(APP_SCRIPT)})  # noqa: S102 - our own entry script
    st.stop()  # app.py has drawn the requested page; this file's own run ends here

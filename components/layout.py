"""Layout helpers: tabs that run only the selected tab's content (the others cost nothing on a rerun)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st


def lazy_tabs(names: list[str], draw: dict[str, Callable[[], None]], key: str, default: str | None = None) -> str:
    """Tabs whose hidden content is not run; `st.session_state[key]` holds (and can set) the open tab's label."""
    if st.session_state.get(key) not in names:
        st.session_state.pop(key, None)
    chosen = default if default in names else names[0]
    tabs = st.tabs(names, key=key, on_change="rerun", default=chosen)
    opened = next((name for name, tab in zip(names, tabs, strict=True) if tab.open), chosen)
    for name, tab in zip(names, tabs, strict=True):
        if name == opened:
            with tab:
                draw[name]()
    return opened

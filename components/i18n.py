"""The session's language: `?lang=zh` / `?lang=en` in any URL, the sidebar switch, else the server's
(`kfs app --lang`, KFS_DEFAULT_LANGUAGE), else the browser's language.

`init_language()` runs first on every script run (app.py), before any message is translated; it tells
`studio.i18n` to read the session's choice, so callbacks, pages and the core all speak the same
language. The switch writes `?lang=` into the address, so a copied link opens in the same language.
"""

from __future__ import annotations

import streamlit as st

from studio.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, app_default_language, normalize_language, set_language_resolver

LANGUAGE = "studio.language"  # str: "en" or "zh", the session's language
QUERY_KEY = "lang"
SWITCH = "studio.language_switch"  # the sidebar switch's widget key


def _session_language() -> str | None:
    """The language of the session whose script is running in this thread (None outside a script run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    return st.session_state.get(LANGUAGE)


def _browser_language() -> str | None:
    try:
        return normalize_language(st.context.locale)
    except Exception:  # noqa: BLE001 - no browser context (tests, a bare script run)
        return None


def init_language() -> str:
    """Settle this run's language (URL, then the session's choice, the server's, the browser's) and return it."""
    set_language_resolver(_session_language)
    asked = normalize_language(st.query_params.get(QUERY_KEY))
    if asked:
        st.session_state[LANGUAGE] = asked
    elif normalize_language(st.session_state.get(LANGUAGE)) is None:
        st.session_state[LANGUAGE] = app_default_language() or _browser_language() or DEFAULT_LANGUAGE
    return st.session_state[LANGUAGE]


def language() -> str:
    """The session's language ("en" or "zh")."""
    return normalize_language(st.session_state.get(LANGUAGE)) or DEFAULT_LANGUAGE


def _switched() -> None:
    chosen = normalize_language(st.session_state.get(SWITCH))
    if chosen:
        st.session_state[LANGUAGE] = chosen
        st.query_params[QUERY_KEY] = chosen


def language_switch() -> None:
    """The sidebar's 中文 / English switch (each name in its own language, so anyone can find theirs)."""
    st.session_state[SWITCH] = language()
    st.segmented_control(
        "Language / 语言",
        options=list(LANGUAGES),
        format_func=LANGUAGE_NAMES.get,
        key=SWITCH,
        on_change=_switched,
        label_visibility="collapsed",
        width="stretch",
    )

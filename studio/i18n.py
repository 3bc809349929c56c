"""The message catalogue: every user-facing string in English (the message id) and Simplified Chinese.

The catalogue is GNU gettext: ``studio/locale/zh/LC_MESSAGES/messages.po`` is the source (edited by
people, extracted and compiled with Babel by ``scripts/i18n.py``), the ``.mo`` beside it is what the
standard library's :mod:`gettext` reads at run time, so the app needs no extra package for it.

Mark a string with ``_("...")`` where it is shown, ``N_("...")`` where it is defined at import time
(translate it with ``_`` when shown), ``ngettext(one, many, n)`` for counts. Placeholders are named
(``_("{count} nodes").format(count=n)``) so a translation can put them in its own order.

Which language: an explicit :func:`use_language` / :func:`set_language` (the CLI from ``LANG``, a
training thread from the session that started it) wins; otherwise the resolver a front end registers
(the app: the session's choice); otherwise English.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext
import os
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
APP_LANGUAGE_VARIABLE = "KFS_DEFAULT_LANGUAGE"  # the app's language for a session whose URL and browser say nothing
DOMAIN = "messages"

_explicit: contextvars.ContextVar[str | None] = contextvars.ContextVar("kfs_language", default=None)
_resolver: Callable[[], str | None] | None = None


def normalize_language(value: object) -> str | None:
    """'zh', 'zh-CN', 'zh_CN.UTF-8', 'ZH' -> 'zh'; 'en-US' -> 'en'; anything else -> None."""
    if not isinstance(value, str) or not value.strip():
        return None
    head = value.strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    return head if head in LANGUAGES else None


def language_from_environment(environ: dict[str, str] | None = None) -> str:
    """The language the POSIX locale variables ask for (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), else English."""
    environ = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for part in environ.get(name, "").split(":"):
            found = normalize_language(part)
            if found:
                return found
    return DEFAULT_LANGUAGE


def app_default_language(environ: dict[str, str] | None = None) -> str | None:
    """The language the server was started in (``kfs app --lang zh`` sets KFS_DEFAULT_LANGUAGE), or None."""
    environ = os.environ if environ is None else environ
    return normalize_language(environ.get(APP_LANGUAGE_VARIABLE, ""))


def set_language_resolver(resolver: Callable[[], str | None] | None) -> None:
    """Let a front end say which language the current request wants (called on every lookup; must not raise)."""
    global _resolver
    _resolver = resolver


def set_language(language: str | None) -> None:
    """Use this language in the current thread or context from now on (None: back to the resolver)."""
    _explicit.set(normalize_language(language) if language else None)


@contextlib.contextmanager
def use_language(language: str | None) -> Iterator[None]:
    """Use this language inside the block (a training thread started by a Chinese session speaks Chinese)."""
    token = _explicit.set(normalize_language(language) if language else None)
    try:
        yield
    finally:
        _explicit.reset(token)


def current_language() -> str:
    """The language messages are shown in right now."""
    explicit = _explicit.get()
    if explicit:
        return explicit
    if _resolver is not None:
        try:
            found = normalize_language(_resolver())
        except Exception:  # noqa: BLE001 - a resolver outside its front end's context falls back to English
            found = None
        if found:
            return found
    return DEFAULT_LANGUAGE


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language (English is the message ids themselves)."""
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


def _(message: str) -> str:
    """The message in the current language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural message for a count, in the current language."""
    return translations(current_language()).ngettext(singular, plural, count)


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "mark now, translate when shown"
    """Mark a string for the catalogue without translating it (a constant translated where it is shown)."""
    return message


def keras_says(text: object) -> str:
    """Keras's own message (an error, a docstring) kept as Keras wrote it, introduced in the current language."""
    return _("Keras says: {message}").format(message=text)


def translate_in(language: str, message: str) -> str:
    """The message in a given language, whatever the current one is."""
    return translations(normalize_language(language) or DEFAULT_LANGUAGE).gettext(message)

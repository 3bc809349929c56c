"""Where the app's own files are: the folder holding app.py, pages/, components/ and presets/.

In the repository (or an editable install) that is the parent of the studio package. A wheel installs
those files as data under ``share/keras-functional-studio``: beside the environment's other data
(``pip install``), or beside the studio package itself (``pip install --target``).
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

SHARE_NAME = "keras-functional-studio"
_PACKAGE = Path(__file__).resolve().parent


def _candidates() -> list[Path]:
    return [
        _PACKAGE.parent,
        Path(sysconfig.get_path("data")) / "share" / SHARE_NAME,
        _PACKAGE.parent / "share" / SHARE_NAME,
    ]


def app_root() -> Path:
    """The folder with app.py, pages/, components/ and presets/ (the repository root when run from it)."""
    for folder in _candidates():
        if (folder / "app.py").is_file() and (folder / "presets").is_dir():
            return folder
    return _PACKAGE.parent


def app_script() -> Path:
    """The Streamlit entry script, app.py."""
    return app_root() / "app.py"


def presets_dir() -> Path:
    """The folder of the shipped preset specs (JSON)."""
    return app_root() / "presets"


def cache_dir() -> Path:
    """Where this machine keeps what the app computed once (STUDIO_CACHE_DIR, else the user's cache folder)."""
    import os

    folder = os.environ.get("STUDIO_CACHE_DIR")
    if not folder:
        from platformdirs import user_cache_dir

        folder = user_cache_dir(SHARE_NAME, appauthor=False)
    return Path(folder)

"""``python -m studio app [--port N] [--lang zh|en] [--headless]``: serve the Streamlit app.

Runs ``python -m streamlit run <app>/app.py --server.port N`` with the same interpreter; ``app.py`` is found
by :func:`studio.paths.app_script` (the repository root, or the app a wheel installs as data).
``--lang`` cannot go into the URL the browser opens, so it reaches the app as the environment variable
``KFS_DEFAULT_LANGUAGE`` (``en`` or ``zh``): the language a session starts in when its URL has no
``?lang=``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from studio.cli.main import EXIT_OK, Command, CommandError, positive_int
from studio.i18n import APP_LANGUAGE_VARIABLE as DEFAULT_LANGUAGE_VARIABLE
from studio.i18n import LANGUAGES, N_, _
from studio.paths import app_script

DEFAULT_PORT = 8501


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=positive_int, default=DEFAULT_PORT, help=_("the port to serve on (default {port})").format(port=DEFAULT_PORT)
    )
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        help=_(
            "the language a new session starts in when its address has no ?lang= "
            "(passed to the app as {variable}; default: the browser's language, else English)"
        ).format(variable=DEFAULT_LANGUAGE_VARIABLE),
    )
    parser.add_argument("--headless", action="store_true", help=_("do not open a browser; just print the address"))


def streamlit_command(port: int, app_file: Path | None = None, headless: bool = False) -> list[str]:
    """The command line that serves the app: this interpreter's Streamlit on ``app_file``."""
    command = [sys.executable, "-m", "streamlit", "run", str(app_file or app_script()), "--server.port", str(port)]
    if headless:
        command += ["--server.headless", "true"]
    return command


def app_environment(language: str | None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the app's process: this one, with ``KFS_DEFAULT_LANGUAGE`` set when a language is asked for."""
    environment = dict(os.environ if environ is None else environ)
    if language:
        environment[DEFAULT_LANGUAGE_VARIABLE] = language
    return environment


def _run(args: argparse.Namespace) -> int:
    app_file = app_script()
    if not app_file.is_file():
        raise CommandError(_("the app is not installed beside the studio package: '{path}' does not exist").format(path=app_file))
    command = streamlit_command(args.port, app_file, args.headless)
    print(_("serving the app on http://localhost:{port} (Ctrl-C stops it)").format(port=args.port), file=sys.stderr, flush=True)
    process = subprocess.Popen(command, cwd=app_file.parent, env=app_environment(args.lang))
    try:
        return process.wait()
    except KeyboardInterrupt:  # Streamlit got the same Ctrl-C: let it shut down
        try:
            process.wait(timeout=10)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            process.terminate()
            process.wait()
        return EXIT_OK


COMMANDS = [Command("app", N_("serve the Streamlit app (the studio in the browser)"), _add_arguments, _run, needs_tensorflow=False)]

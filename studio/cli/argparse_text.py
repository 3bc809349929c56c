"""argparse's own words ("usage:", "options", "the following arguments are required ...") in the CLI's language.

argparse looks its texts up with the module-level ``gettext`` functions it imported; :func:`use_translated_argparse`
points them at the studio's catalogue (``studio.i18n``), so ``python -m studio --help`` and usage errors follow
``LANG`` like the rest of the command line. The texts are listed below with ``N_`` so that the catalogue keeps
them; they are argparse's own ``%``-style messages, word for word (Python 3.11 to 3.13).
"""

from __future__ import annotations

import argparse

from studio import i18n
from studio.i18n import N_

ARGPARSE_TEXTS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("ignored explicit argument %r"),
    N_("can't open '%(filename)s': %(error)s"),
)


def _expected_arguments_marked() -> None:  # pragma: no cover - only here so the catalogue keeps the plural
    i18n.ngettext("expected %s argument", "expected %s arguments", 2)


def use_translated_argparse() -> None:
    """Make argparse look its texts up in the studio's catalogue (in the language in use when it formats them)."""
    argparse._ = i18n._  # argparse did `from gettext import gettext as _, ngettext`
    argparse.ngettext = i18n.ngettext

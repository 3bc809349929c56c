"""``python -m studio parse FILE.py [--model NAME]``: the spec JSON of a model defined by functional-API code.

The code is read with the ``ast`` module and never run. Notes (skipped lines, assumptions) go to stderr.
"""

from __future__ import annotations

import argparse
import sys

from studio.cli.main import EXIT_OK, Command, CommandError, write_text
from studio.i18n import N_, _


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.py", help=_("Python code that builds Keras models with the functional API"))
    parser.add_argument(
        "--model", metavar="NAME", help=_('the model\'s Keras name (e.g. "mnist model") or its variable; default: the last model')
    )
    parser.add_argument("--quiet", action="store_true", help=_("do not print the notes (skipped lines, assumptions) on stderr"))


def _run(args: argparse.Namespace) -> int:
    from studio.cli.specs import is_python_file, parse_python_file
    from studio.graph.checks import check_spec_limits
    from studio.io.pycode.result import note_kind_label

    if not is_python_file(args.file):
        raise CommandError(
            _("'{file}' is not a .py file; `parse` reads Python code (use `import` for .keras/.h5 files)").format(file=args.file)
        )
    result = parse_python_file(args.file)
    try:
        model = result.model(args.model)
    except KeyError as error:
        raise CommandError(str(error.args[0])) from None
    check_spec_limits(model.spec, args.file)  # the limits of every SPEC: nesting of models, nodes
    if not args.quiet:
        for note in result.notes:
            where = f"{args.file}:{note.line}" if note.line is not None else args.file
            print(
                _("note: {where}: ({note_kind}) {message}").format(where=where, note_kind=note_kind_label(note.kind), message=note.message),
                file=sys.stderr,
            )
    write_text(model.spec.to_json() + "\n")
    return EXIT_OK


COMMANDS = [
    Command("parse", N_("print the JSON spec of a model defined in a .py file (the code is read, never run)"), _add_arguments, _run)
]

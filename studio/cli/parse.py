"""``python -m studio parse FILE.py [--model NAME]``: the spec JSON of a model defined by functional-API code.

The code is read with the ``ast`` module and never run. Notes (skipped lines, assumptions) go to stderr.
"""

from __future__ import annotations

import argparse
import sys

from studio.cli.main import EXIT_OK, Command, CommandError, write_text


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.py", help="Python code that builds Keras models with the functional API")
    parser.add_argument(
        "--model", metavar="NAME", help="the model's Keras name (e.g. \"mnist model\") or its variable; default: the last model"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the notes (skipped lines, assumptions) on stderr")


def _run(args: argparse.Namespace) -> int:
    from studio.cli.specs import is_python_file, parse_python_file
    from studio.graph.checks import check_spec_limits

    if not is_python_file(args.file):
        raise CommandError(f"'{args.file}' is not a .py file; `parse` reads Python code (use `import` for .keras/.h5 files)")
    result = parse_python_file(args.file)
    try:
        model = result.model(args.model)
    except KeyError as error:
        raise CommandError(str(error.args[0])) from None
    check_spec_limits(model.spec, args.file)  # the limits of every SPEC: nesting of models, nodes
    if not args.quiet:
        for note in result.notes:
            where = f"{args.file}:{note.line}" if note.line is not None else args.file
            print(f"note: {where}: ({note.kind}) {note.message}", file=sys.stderr)
    write_text(model.spec.to_json() + "\n")
    return EXIT_OK


COMMANDS = [Command("parse", "print the JSON spec of a model defined in a .py file (the code is read, never run)", _add_arguments, _run)]

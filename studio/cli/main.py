"""Command line: ``python -m studio <command> ...`` (presets, summary, code, import, diagram, parse ...).

Adding a command: write ``add_arguments(parser)`` and ``run(args) -> exit code``, wrap them in a
:class:`Command` and either append it to ``BUILTIN_COMMANDS`` below or, for a command that lives in
its own module, give that module a ``COMMANDS`` list of :class:`Command` and add the module's name to
``COMMAND_MODULES``. Import heavy modules (Keras, TensorFlow) inside ``run``, not at the top of the
module, so building the parser stays cheap. Raise :class:`~studio.graph.spec.SpecError`,
:class:`CommandError` or ``OSError`` for bad input: :func:`main` prints them as ``error: ...`` and
exits with code 2; anything else is an internal error (exit code 1).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studio.backend import import_tensorflow_quietly
from studio.cli.argparse_text import use_translated_argparse
from studio.cli.terminal import TerminalStream
from studio.gate import LimitExceeded
from studio.graph.spec import Problem, SpecError
from studio.i18n import N_, _, language_from_environment, ngettext, use_language
from studio.limits import LIMIT_LABELS

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
DEBUG_VARIABLE = "STUDIO_DEBUG"
# Help texts are marked here and translated where the parser is built (main() sets the language first).
SPEC_HELP = N_("a preset key (see `python -m studio presets`), a JSON spec file, or a .py file of functional-API code (read, never run)")


class CommandError(Exception):
    """Bad input found by a command; printed as ``error: <message>`` with exit code 2."""


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, one-line help, how it adds its arguments and how it runs."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    needs_tensorflow: bool = True


def debug_enabled() -> bool:
    """Whether ``STUDIO_DEBUG=1`` asks for tracebacks of internal errors."""
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


def write_text(text: str) -> None:
    """Write text to stdout, replacing characters its encoding cannot show (rich's box lines on cp1252)."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        encoding = sys.stdout.encoding or "utf-8"
        sys.stdout.write(text.encode(encoding, errors="replace").decode(encoding))
    sys.stdout.flush()


def text_width(text: str) -> int:
    """How many terminal columns a text takes (a CJK character takes two)."""
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """The text padded with spaces to `width` terminal columns (right-aligned if asked)."""
    fill = " " * max(0, width - text_width(text))
    return fill + text if right else text + fill


# --- presets -----------------------------------------------------------------------------------


def _add_presets_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--params", action="store_true", help=_("build every preset and add its parameter count (VGG16 takes seconds)"))


def _run_presets(args: argparse.Namespace) -> int:
    from studio.graph.presets import preset_info, preset_names

    infos = [preset_info(key) for key in preset_names()]
    counts: dict[str, str] = {}
    if args.params:
        import_tensorflow_quietly()
        from studio.graph.presets import load_preset
        from studio.model.build import build_model

        for info in infos:
            counts[info.key] = f"{build_model(load_preset(info.key)).count_params():,}"
    header = [_("KEY"), _("SECTION"), *([_("PARAMS")] if args.params else []), _("DESCRIPTION")]
    numeric = 2 if args.params else -1  # the PARAMS column is right-aligned
    rows = [[info.key, _(info.section), *([counts[info.key]] if args.params else []), _(info.description)] for info in infos]
    widths = [max(text_width(row[column]) for row in [header, *rows]) for column in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [pad(row[column], width, right=column == numeric) for column, width in enumerate(widths)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    write_text("\n".join(lines) + "\n")
    return EXIT_OK


# --- summary -----------------------------------------------------------------------------------


def _add_spec_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help=_(SPEC_HELP))


def _run_summary(args: argparse.Namespace) -> int:
    from studio.cli.specs import display_analysis, resolve_spec

    spec = resolve_spec(args.spec)
    result = display_analysis(spec, args.spec)  # parameters counted from shapes: no weight is allocated
    if not result.ok:
        raise SpecError(result.problems or [Problem(None, "invalid", _("the model could not be built"))])
    model = result.model
    captured: list[str] = []
    # With a print_fn Keras renders the table with rich in plain-text mode (no colour codes) and hands
    # it over in one piece; the width follows the terminal (or $COLUMNS; 80 when not a terminal).
    model.summary(print_fn=lambda text, **_kwargs: captured.append(str(text)))
    text = "".join(captured)
    write_text(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


# --- code --------------------------------------------------------------------------------------


def _run_code(args: argparse.Namespace) -> int:
    from studio.cli.specs import resolve_spec
    from studio.io.codegen import generate_code

    code = generate_code(resolve_spec(args.spec))
    write_text(code if code.endswith("\n") else code + "\n")
    return EXIT_OK


# --- import ------------------------------------------------------------------------------------


def _add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_file", metavar="MODEL_FILE", help=_("a saved Keras model (.keras or .h5)"))


def _run_import(args: argparse.Namespace) -> int:
    from studio.model.importer import import_model_file

    write_text(import_model_file(args.model_file).to_json() + "\n")
    return EXIT_OK


# --- diagram -----------------------------------------------------------------------------------


def _add_diagram_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help=_(SPEC_HELP))
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help=_("where to write the diagram ('-' for stdout)"))
    parser.add_argument("--format", choices=("dot", "png", "svg"), help=_("default: from the suffix of FILE (.dot/.gv, .png, .svg)"))
    parser.add_argument("--no-shapes", dest="show_shapes", action="store_false", help=_("leave out the input and output shapes"))
    parser.add_argument("--show-dtype", action="store_true", help=_("show each layer's output dtype"))
    parser.add_argument("--no-layer-names", dest="show_layer_names", action="store_false", help=_("show layer types only"))
    parser.add_argument("--show-activations", dest="show_layer_activations", action="store_true", help=_("show each layer's activation"))
    parser.add_argument("--show-trainable", action="store_true", help=_("mark layers as trainable or frozen"))
    parser.add_argument("--expand-nested", action="store_true", help=_("draw the layers inside nested models"))
    parser.add_argument("--rankdir", choices=("TB", "LR"), default="TB", help=_("TB: top to bottom (default); LR: left to right"))
    parser.add_argument("--dpi", type=positive_int, default=72, help=_("resolution of PNG output (default 72)"))


def positive_int(text: str) -> int:
    """An argparse type: a whole number above zero, with a clear message otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("expected a positive whole number. Received: {text!r}").format(text=text)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(_("expected a positive whole number. Received: {value}").format(value=value))
    return value


def _run_diagram(args: argparse.Namespace) -> int:
    from studio.cli.specs import display_analysis, resolve_spec
    from studio.io.diagram import DiagramOptions, format_for_path, render_diagram

    to_stdout = args.output == "-"
    fmt = args.format or ("dot" if to_stdout else format_for_path(args.output))
    options = DiagramOptions(
        show_shapes=args.show_shapes,
        show_dtype=args.show_dtype,
        show_layer_names=args.show_layer_names,
        show_layer_activations=args.show_layer_activations,
        show_trainable=args.show_trainable,
        expand_nested=args.expand_nested,
        rankdir=args.rankdir,
        dpi=args.dpi,
    )
    spec = resolve_spec(args.spec)
    result = display_analysis(spec, args.spec)
    data = render_diagram(spec, fmt, options, result=result)
    if to_stdout:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        try:
            Path(args.output).write_bytes(data)
        except OSError as error:
            reason = error.strerror or str(error)
            raise CommandError(
                _("Cannot write the diagram to '{file}': {reason}; expected a writable file path").format(file=args.output, reason=reason)
            ) from error
        write_text(_("Wrote {file} ({format}, {size:,} bytes)").format(file=args.output, format=fmt, size=len(data)) + "\n")
    if not result.ok:
        count = len(result.problems)
        heading = ngettext(
            "warning: the spec does not build; the diagram marks its {count} problem:",
            "warning: the spec does not build; the diagram marks its {count} problems:",
            count,
        )
        lines = [heading.format(count=count)]
        lines += [f"  {problem.text()}" for problem in result.problems]
        print("\n".join(lines), file=sys.stderr)
    return EXIT_OK


BUILTIN_COMMANDS: list[Command] = [
    Command("presets", N_("list the shipped example specs"), _add_presets_arguments, _run_presets, needs_tensorflow=False),
    Command("summary", N_("print Keras's model.summary() of a spec"), _add_spec_argument, _run_summary),
    Command("code", N_("print the Python (Keras functional API) code of a spec"), _add_spec_argument, _run_code),
    Command("import", N_("print the JSON spec of a saved Keras model file"), _add_import_arguments, _run_import),
    Command("diagram", N_("draw a spec as DOT, PNG or SVG (problems marked when it does not build)"), _add_diagram_arguments, _run_diagram),
]
# Modules that each define ``COMMANDS: list[Command]``, imported when the parser is built.
COMMAND_MODULES: tuple[str, ...] = ("studio.cli.train", "studio.cli.script", "studio.cli.runs", "studio.cli.parse", "studio.cli.serve")


def all_commands() -> list[Command]:
    """The built-in commands followed by those of ``COMMAND_MODULES``; a name may be used once."""
    commands = list(BUILTIN_COMMANDS)
    for module_name in COMMAND_MODULES:
        commands += list(importlib.import_module(module_name).COMMANDS)
    seen: set[str] = set()
    for command in commands:
        if command.name in seen:
            raise ValueError(f"Two CLI commands are called '{command.name}'; every command needs its own name")
        seen.add(command.name)
    return commands


def build_parser(commands: list[Command] | None = None) -> argparse.ArgumentParser:
    """The argument parser with one subcommand per :class:`Command`."""
    parser = argparse.ArgumentParser(
        prog="python -m studio",
        description=_("Keras Functional Studio from the command line. SPEC is a preset key, a JSON spec file or a .py file."),
        epilog=_("Exit codes: 0 success, 2 bad input, 1 internal error. Set {variable}=1 for tracebacks.").format(variable=DEBUG_VARIABLE),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, title=_("commands"))
    for command in commands if commands is not None else all_commands():
        subparser = subparsers.add_parser(command.name, help=_(command.help), description=_(command.help))
        command.add_arguments(subparser)
        subparser.set_defaults(command_object=command)
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input (exit code 2); DiagramError counts once its module is loaded."""
    errors: list[type[BaseException]] = [SpecError, CommandError, OSError, LimitExceeded]
    diagram = sys.modules.get("studio.io.diagram")
    if diagram is not None:
        errors.append(diagram.DiagramError)
    return tuple(errors)


def error_message(error: BaseException) -> str:
    """The ``error: ...`` text for bad input; each problem of a SpecError on its own line."""
    if isinstance(error, SpecError) and len(error.problems) > 1:
        count = len(error.problems)
        heading = ngettext("error: {count} problem:", "error: {count} problems:", count).format(count=count)
        return "\n".join([heading, *(f"  {problem.text()}" for problem in error.problems)])
    if isinstance(error, SpecError) and error.problems:
        return _("error: {message}").format(message=error.problems[0].text())
    if isinstance(error, (RecursionError, MemoryError)):
        variables = ", ".join(variable for _label, variable in LIMIT_LABELS.values() if variable.startswith("KFS_MAX"))
        return _(
            "error: the input is too large or too deeply nested to process ({type_name}); "
            "lower the limits that let it through ({variables})"
        ).format(type_name=type(error).__name__, variables=variables)
    if isinstance(error, OSError) and error.strerror:
        if error.filename:
            return _("error: {reason} '{filename}'").format(reason=error.strerror, filename=error.filename)
        return _("error: {message}").format(message=error.strerror)
    return _("error: {message}").format(message=error)


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code (0 success, 2 bad input, 1 internal error)."""
    use_translated_argparse()
    with use_language(language_from_environment()):  # the CLI speaks the language LANG (LC_ALL, LANGUAGE) asks for
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except SystemExit as request:  # argparse: --help (0) or a usage error (2), already printed
        return request.code if isinstance(request.code, int) else EXIT_BAD_INPUT
    command: Command = args.command_object
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TerminalStream(sys.stdout), TerminalStream(sys.stderr)  # names from files reach the terminal inert
    try:
        return _run(command, args)
    finally:
        sys.stdout, sys.stderr = saved


def _run(command: Command, args: argparse.Namespace) -> int:
    """Run the command, turning every failure into a message and an exit code."""
    try:
        if command.needs_tensorflow:
            import_tensorflow_quietly()  # TensorFlow's start-up lines must not reach stderr
        return command.run(args)
    except BrokenPipeError:  # e.g. `... | head` stopped reading: end quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INTERNAL_ERROR
    except _user_errors() as error:
        print(error_message(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(_("error: interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except (RecursionError, MemoryError) as error:  # past what the limits catch: still bad input, never a traceback
        print(error_message(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:  # noqa: BLE001 - the one place where an unexpected failure becomes a message
        if debug_enabled():
            traceback.print_exc()
        else:
            message = _("internal error in '{command}': {type_name}: {error} (set {variable}=1 for the traceback)").format(
                command=command.name, type_name=type(error).__name__, error=error, variable=DEBUG_VARIABLE
            )
            print(message, file=sys.stderr)
        return EXIT_INTERNAL_ERROR

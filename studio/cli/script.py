"""``python -m studio script SPEC``: print (or write) the standalone training script of a spec."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.cli.main import EXIT_OK, SPEC_HELP, Command, CommandError, write_text
from studio.i18n import N_, _


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help=_("{spec_help}, or a project file saved by the studio").format(spec_help=_(SPEC_HELP)))
    parser.add_argument("--dataset", metavar="KEY", help=_("the data to train on (default: the preset's own, or the project's)"))
    parser.add_argument("--settings", metavar="FILE", help=_("compile/fit settings as JSON (default: the preset's, or the project's)"))
    parser.add_argument("-o", "--output", metavar="FILE", help=_("write the script to FILE instead of printing it"))


def _run(args: argparse.Namespace) -> int:
    from studio.cli.specs import is_python_file, resolve_spec_and_code_settings
    from studio.gate import read_file, read_json_text
    from studio.graph.presets import preset_names, resolve_spec
    from studio.io.project_file import read_project
    from studio.training.code_settings import settings_from_code
    from studio.training.script import training_script
    from studio.training.settings import SettingsError, settings_from_dict, settings_from_json

    settings = None
    dataset = args.dataset
    path = Path(args.spec)
    if is_python_file(args.spec):  # functional-API code: parsed (never run); its compile/fit settings are used
        spec, code_settings = resolve_spec_and_code_settings(args.spec)
        if code_settings:
            settings, problems = settings_from_code(spec, code_settings, dataset)
            for problem in problems:
                print(_("warning: {problem}").format(problem=problem), file=sys.stderr)
    elif args.spec not in preset_names() and path.is_file():
        project = read_project(read_file(path, "max_upload_mb", source=str(path)), source=str(path))
        spec = project.spec
        try:
            settings = settings_from_dict(project.settings) if project.settings else None
        except SettingsError as error:
            raise CommandError(_("the settings in '{path}' cannot be used: {error}").format(path=path, error=error)) from error
        dataset = dataset or (project.dataset or {}).get("key")
    else:
        spec = resolve_spec(args.spec)
    if args.settings:
        try:
            settings = settings_from_json(read_json_text(args.settings))  # size and JSON depth checked first
        except SettingsError as error:
            raise CommandError(
                _("the settings file '{settings}' cannot be used: {error}").format(settings=args.settings, error=error)
            ) from error
    try:
        script = training_script(spec, settings, dataset)
    except SettingsError as error:
        raise CommandError(str(error)) from error
    if args.output:
        Path(args.output).write_text(script, encoding="utf-8")
        write_text(
            _("Wrote {file} ({count} lines); run it with: python {file} --epochs 1").format(
                file=args.output, count=len(script.splitlines())
            )
            + "\n"
        )
    else:
        write_text(script)
    return EXIT_OK


COMMANDS = [Command("script", N_("print a standalone training script (data, model, compile, fit, save) for a spec"), _add_arguments, _run)]

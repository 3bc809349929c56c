"""``python -m studio runs``: list the stored training runs; show one, compare two, delete one."""

from __future__ import annotations

import argparse
import json
import time

from studio.cli.main import EXIT_OK, Command, CommandError, pad, text_width, write_text
from studio.cli.terminal import printable
from studio.i18n import N_, _


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-dir",
        "--dir",
        dest="runs_dir",
        metavar="DIR",
        help=_("the runs folder (default: $STUDIO_RUNS_DIR, else runs/ in your user data folder)"),
    )
    parser.add_argument("--status", choices=("running", "completed", "stopped", "failed"), help=_("only runs with this status"))
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--show", metavar="RUN_ID", help=_("everything stored about one run, as JSON"))
    group.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help=_("what differs between two runs"))
    group.add_argument("--delete", metavar="RUN_ID", help=_("delete one run and its files"))
    parser.add_argument("--json", action="store_true", help=_("the list as JSON"))


def _when(seconds: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds)) if seconds else "-"


def _metrics_text(metrics: dict) -> str:
    values = metrics.get("metrics", metrics) if isinstance(metrics, dict) else {}
    shown = [f"{printable(name)} {value:.4g}" for name, value in values.items() if isinstance(value, (int, float))][:3]
    return ", ".join(shown) or "-"


def _table(rows: list[list[str]]) -> str:
    widths = [max(text_width(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines = ("  ".join([*(pad(cell, w) for cell, w in zip(row, widths, strict=False)), row[-1]]).rstrip() for row in rows)
    return "\n".join(lines) + "\n"


def _run(args: argparse.Namespace) -> int:
    from studio.runs.compare import compare_runs, kind_label
    from studio.runs.store import RunStore, RunStoreError, plain, runs_dir, status_label

    store = RunStore(runs_dir(args.runs_dir))
    try:
        if args.show:
            record = store.get_run(args.show)
            data = {key: value for key, value in record.__dict__.items() if key != "folder"} | {"folder": str(record.folder)}
            write_text(json.dumps(plain(data), indent=2) + "\n")
            return EXIT_OK
        if args.compare:
            comparison = compare_runs(store, *args.compare)
            rows = [[_("WHAT"), _("WHERE"), _("RUN A"), _("RUN B")]]
            for difference in [*comparison.architecture, *comparison.settings, *comparison.dataset]:
                cells = [kind_label(difference.kind), difference.where, json.dumps(difference.before), json.dumps(difference.after)]
                rows.append([printable(cell) for cell in cells])
            write_text(_table(rows) if len(rows) > 1 else _("The two runs have the same architecture, settings and data.") + "\n")
            return EXIT_OK
        if args.delete:
            store.delete_run(args.delete)
            write_text(_("Deleted run {run}").format(run=printable(args.delete)) + "\n")
            return EXIT_OK
    except RunStoreError as error:
        raise CommandError(printable(error)) from error
    runs = store.list_runs(args.status)
    if args.json:
        write_text(json.dumps([plain(run.__dict__) for run in runs], indent=2) + "\n")
        return EXIT_OK
    if not runs:
        write_text(_("No runs stored in {folder}").format(folder=printable(store.root)) + "\n")
        return EXIT_OK
    rows = [[_("RUN"), _("STATUS"), _("STARTED"), _("EPOCHS"), _("DATA"), _("MODEL"), _("FINAL METRICS")]]
    for run in runs:
        data = str(run.dataset.get("name") or run.dataset.get("key") or "-")
        cells = [run.id, status_label(run.status), _when(run.started_at), str(run.epochs), data, run.name, _metrics_text(run.final_metrics)]
        rows.append([printable(cell) for cell in cells])
    write_text(_table(rows))
    return EXIT_OK


COMMANDS = [
    Command("runs", N_("list the stored training runs (or show, compare or delete one)"), _add_arguments, _run, needs_tensorflow=False)
]

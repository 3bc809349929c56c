"""The one history-CSV format (standard library only): the run store, ``studio train`` and the app's
download all write per-epoch records through :func:`history_csv`, so the three files are the same.

Columns: ``epoch`` first, then every other key of any record sorted by name; the wall-clock keys
``time`` and ``wall`` are left out (they say when, not how well). A value a record lacks, or ``None``,
is an empty cell. Lines end with ``\\n``.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SKIPPED = ("time", "wall")


def history_columns(records: Iterable[dict[str, Any]]) -> list[str]:
    """The CSV columns for these records: epoch, then the other keys sorted (wall-clock keys left out)."""
    names = {str(key) for record in records for key in record} - {"epoch", *SKIPPED}
    return ["epoch", *sorted(names)]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "item") and callable(value.item):  # a numpy scalar, without importing numpy
        value = value.item()
    return value


def history_csv(records: list[dict[str, Any]]) -> str:
    """Per-epoch records as CSV text, one row per record in the order given."""
    columns = history_columns(records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(name)) for name in columns])
    return buffer.getvalue()


def write_history_csv(path: str | Path, records: list[dict[str, Any]]) -> Path:
    """Write :func:`history_csv` to ``path`` under a temporary name, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        temporary.write_text(history_csv(records), encoding="utf-8", newline="")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path

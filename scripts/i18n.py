"""Keep the message catalogue in step with the code (Babel does the gettext work).

    .venv/bin/python scripts/i18n.py update      extract the marked strings, add new ones to messages.po, compile
    .venv/bin/python scripts/i18n.py missing     list the messages without a Chinese translation (exit 1 if any)
    .venv/bin/python scripts/i18n.py merge F.po  copy the translations of a PO fragment into messages.po, compile
    .venv/bin/python scripts/i18n.py compile     messages.po -> messages.mo

Strings are marked in the code with ``_()``, ``N_()`` and ``ngettext()`` (see ``studio/i18n.py``);
the preset descriptions come from ``presets/*.json``.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("app.py", "pages", "components", "studio")
PO_FILE = ROOT / "studio" / "locale" / "zh" / "LC_MESSAGES" / "messages.po"
MO_FILE = PO_FILE.with_suffix(".mo")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?:[!:][^{}]*)?\}")
SKIPPED_PARTS = {"node_modules", "canvas_frontend", "__pycache__", "tests"}


def extracted_messages() -> dict[str | tuple[str, str], list[str]]:
    """Every marked message in the code and the presets -> where it is used ("file:line")."""
    found: dict[str | tuple[str, str], list[str]] = {}
    for source in SOURCES:
        path = ROOT / source
        if path.is_file():
            options = [(path.name, "python")]
            path = path.parent
            only = {source}
        else:
            options = [("**.py", "python")]
            only = None
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(path), method_map=options, keywords=KEYWORDS, strip_comment_tags=True
        ):
            relative = str(Path(source) / filename) if only is None else filename
            if only is not None and filename not in only:
                continue
            if any(part in SKIPPED_PARTS for part in Path(relative).parts):
                continue
            if isinstance(message, tuple) and len(message) == 1:
                message = message[0]
            if not message:
                continue
            found.setdefault(message, []).append(f"{relative}:{lineno}")
    for preset in sorted((ROOT / "presets").glob("*.json")):
        spec = json.loads(preset.read_text(encoding="utf-8"))
        for field in ("description", "section"):
            if spec.get(field):
                found.setdefault(spec[field], []).append(f"presets/{preset.name}")
    return found


def load_catalog(path: Path = PO_FILE) -> Catalog:
    """The PO file as a Babel catalog (an empty Chinese one when the file does not exist yet)."""
    if not path.exists():
        return Catalog(locale="zh_Hans_CN", domain="messages", project="Keras Functional Studio")
    with path.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def save_catalog(catalog: Catalog, path: Path = PO_FILE) -> None:
    """Write the PO file sorted by message id, without line numbers (stable diffs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, sort_output=True, omit_header=False, include_lineno=False)
    path.write_bytes(buffer.getvalue())


def compiled(catalog: Catalog) -> bytes:
    """The .mo bytes of a catalog."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_catalog() -> None:
    """Write messages.mo from messages.po."""
    MO_FILE.write_bytes(compiled(load_catalog()))


def placeholders(text: str) -> list[str]:
    """The named placeholders of a message, each once, sorted ('{count}', '{name!r}'); a translation may repeat one."""
    return sorted(set(PLACEHOLDER.findall(text)))


def translation_problems(catalog: Catalog, wanted: dict) -> list[str]:
    """Messages that are used but not translated, and translations whose placeholders differ from the English."""
    problems = []
    for message_id, places in sorted(wanted.items(), key=lambda item: str(item[0])):
        message = catalog.get(message_id)
        where = ", ".join(places[:3])
        if message is None or message.fuzzy or not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            problems.append(f"untranslated: {message_id!r} ({where})")
            continue
        ids = message_id if isinstance(message_id, tuple) else (message_id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if any(placeholders(string) != placeholders(ids[0]) and placeholders(string) != placeholders(ids[-1]) for string in strings):
            problems.append(f"placeholders differ: {message_id!r} -> {message.string!r}")
    return problems


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Hold a lock on the catalogue while changing it (several editors may merge at once)."""
    PO_FILE.parent.mkdir(parents=True, exist_ok=True)
    with (PO_FILE.parent / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def update() -> int:
    """Add every extracted message to the catalogue (keeping translations), drop unused ones, compile."""
    with locked():
        catalog = load_catalog()
        wanted = extracted_messages()
        for message_id in wanted:
            if catalog.get(message_id) is None:
                catalog.add(message_id, string=("", "") if isinstance(message_id, tuple) else "")
        for message in list(catalog):
            if message.id and message.id not in wanted:
                catalog.delete(message.id)
        save_catalog(catalog)
        compile_catalog()
    missing = translation_problems(catalog, wanted)
    print(f"{len(wanted)} messages, {len(missing)} without a good translation")
    return 0


def merge(fragments: list[str]) -> int:
    """Copy the translated messages of PO fragments into the catalogue, then compile."""
    with locked():
        catalog = load_catalog()
        count = 0
        for fragment in fragments:
            with open(fragment, "rb") as handle:
                for message in read_po(handle, locale="zh_Hans_CN"):
                    string = _plural_forms(message.string, catalog.num_plurals)
                    if message.id and string:
                        existing = catalog.get(message.id)
                        if existing is None:
                            catalog.add(message.id, string=string)
                        else:
                            existing.string = string
                            existing.flags.discard("fuzzy")
                        count += 1
        save_catalog(catalog)
        compile_catalog()
    print(f"merged {count} translations")
    return 0


def _plural_forms(string: str | tuple[str, ...], count: int) -> str | tuple[str, ...]:
    """A translation with exactly the catalogue's number of plural forms (Chinese has one); '' when there is none."""
    if not isinstance(string, tuple):
        return string
    forms = [form for form in string if form]
    if not forms:
        return ""
    return tuple((forms + forms[-1:] * count)[:count])


def missing() -> int:
    """Print what lacks a translation; exit 1 if anything does."""
    problems = translation_problems(load_catalog(), extracted_messages())
    for problem in problems:
        print(problem)
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    """Run one of the commands above."""
    commands = {"update": update, "missing": missing, "compile": lambda: compile_catalog() or 0}
    if argv[:1] == ["merge"] and len(argv) > 1:
        return merge(argv[1:])
    if len(argv) != 1 or argv[0] not in commands:
        print(__doc__)
        return 2
    return commands[argv[0]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

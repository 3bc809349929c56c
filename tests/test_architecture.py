"""The layout's rules, read from the source: who may import whom, no import circles, a light graph core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("studio", "components", "pages")
# studio's packages, bottom to top; each may import only itself and the ones listed.
ALLOWED: dict[str, set[str]] = {
    "studio.catalog": set(),
    "studio.graph": {"studio.catalog"},
    "studio.runs": set(),
    "studio.model": {"studio.catalog", "studio.graph"},
    "studio.io": {"studio.catalog", "studio.graph", "studio.model"},
    "studio.training": {"studio.catalog", "studio.graph", "studio.model", "studio.io", "studio.runs"},
    "studio.cli": {"studio.catalog", "studio.graph", "studio.model", "studio.io", "studio.training", "studio.runs"},
}
# The package, its TensorFlow loader, its limits, the input gate that applies them, the message catalogue and
# where the app's files are: anyone may import them.
SHARED = {"studio", "studio.backend", "studio.limits", "studio.gate", "studio.i18n", "studio.paths"}
KERAS_FREE = ("studio.catalog.table", "studio.graph", "studio.runs", "studio.gate", "studio.limits", "studio.i18n", "studio.paths")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (a lazy import hides a circle, not removes it)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    """Our modules -> the modules they import (external ones kept by their top-level name)."""
    files = {_module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets = set()
        for imported in _imports(path):
            if imported.split(".")[0] in PACKAGES:
                while imported and imported not in files:  # `from studio.graph import edits` names a module or a symbol
                    imported = imported.rpartition(".")[0]
                if imported and imported != name:
                    targets.add(imported)
            else:
                targets.add(imported.split(".")[0])
        graph[name] = targets
    return graph


GRAPH = _graph()


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _reachable(start: str) -> set[str]:
    seen, pending = set(), [start]
    while pending:
        for target in GRAPH.get(pending.pop(), ()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


def test_the_graph_was_read() -> None:
    assert {"studio.graph.spec", "studio.graph.edits", "studio.model.build", "components.builder.canvas", "pages.builder"} <= set(GRAPH)
    assert "keras" in GRAPH["studio.model.build"] and "studio.graph.spec" in GRAPH["studio.model.build"]


def test_studio_never_imports_streamlit_or_components() -> None:
    bad = {module: sorted(GRAPH[module] & {"streamlit"} | {t for t in GRAPH[module] if t.startswith("components")})
           for module in GRAPH if module.startswith("studio")}
    assert {module: targets for module, targets in bad.items() if targets} == {}


def test_studio_packages_import_only_the_packages_below_them() -> None:
    wrong = {}
    for module, targets in GRAPH.items():
        package = _package(module)
        if package not in ALLOWED:
            continue
        for target in targets:
            if target.startswith("studio") and target not in SHARED and _package(target) not in ALLOWED[package] | {package}:
                wrong.setdefault(module, []).append(target)
    assert wrong == {}


@pytest.mark.parametrize("prefix", KERAS_FREE)
def test_the_pure_core_reaches_no_keras_or_tensorflow(prefix: str) -> None:
    heavy = {"keras", "tensorflow", "jax", "studio.backend"}
    leaks = {module: sorted(_reachable(module) & heavy) for module in GRAPH if module.startswith(prefix)}
    assert {module: found for module, found in leaks.items() if found} == {}


def test_no_import_circles_anywhere() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH.get(node, ()):
            if target not in GRAPH:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert circles == []


def test_importing_the_spec_loads_no_tensorflow() -> None:
    code = (
        "import sys, studio.graph.spec, studio.graph.intents, studio.runs.store;"
        "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"


def test_the_training_job_never_imports_the_run_store() -> None:
    assert not {module for module in _reachable("studio.training.job") if module.startswith("studio.runs.store")}

"""The runtime package's arrows: it never imports developer tools, and no import runs in a circle.

Read from the source (every ``import``, also those inside functions), so a lazy import that hides
a cycle is found too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sapbridge"
DEVELOPER_PACKAGES = ("devtools", "bench", "tests", "conftest", "scripts")



def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _owner(name: str) -> str | None:
    """The sapbridge module ``name`` (a module or a name in one) belongs to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = {_owner(i) for i in _imported(path) if i.startswith("sapbridge")}
        edges[name] = {t for t in targets if t and t != name}
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative enough here)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_the_runtime_never_imports_developer_tools() -> None:
    offending = [f"{name} imports {target}"
                 for name, path in MODULES.items()
                 for target in _imported(path) if target.split(".")[0] in DEVELOPER_PACKAGES]
    assert not offending


def test_no_runtime_module_is_a_generator_fake_or_baseline() -> None:
    words = ("synthetic", "baseline", "demo_sample", "fakesap")
    assert not [name for name in MODULES if any(w in name.rsplit(".", 1)[-1] for w in words)]


def test_no_import_runs_in_a_circle_between_modules() -> None:
    assert _cycles(_edges()) == []


def test_no_circle_between_packages() -> None:
    def package(module: str) -> str:
        return ".".join(module.split(".")[:2])

    edges: dict[str, set[str]] = {}
    for source, targets in _edges().items():
        edges.setdefault(package(source), set()).update(
            package(t) for t in targets if package(t) != package(source))
    assert _cycles(edges) == []


def test_odata_does_not_reach_into_sync() -> None:
    edges = _edges()
    upward = [f"{s} -> {t}" for s, targets in edges.items() for t in targets
              if s.startswith("sapbridge.odata") and t.startswith("sapbridge.sync")]
    assert not upward


def test_the_checker_sees_a_lazy_import_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [{"a", "b"}]

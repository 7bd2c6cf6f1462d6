"""The layers of docs/architecture.md hold: imports point down, and no module imports itself
through others."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "gateway"
ARCHITECTURE = REPO / "docs" / "architecture.md"
_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*`(gateway(?:\.\w+)?)`\s*\|")


def declared_layers() -> dict[str, int]:
    """`gateway.<package>` -> its layer, from the table in docs/architecture.md."""
    layers = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            layers[match.group(2)] = int(match.group(1))
    return layers


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imported(module: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """Every gateway module `module` imports, anywhere in it, with the line."""

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".") if is_package else module.split(".")[:-1]
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            # `from package import module` imports the module; `from module import name` the module
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        for name in names:
            target = resolve(name) if name.startswith("gateway") else None
            if target is not None and target != module:
                yield target, node.lineno


def unit(module: str) -> str:
    return ".".join(module.split(".")[:2])


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        edges[name].update(target for target, _ in imported(name, path, known))
    return edges


def test_every_package_has_a_layer() -> None:
    layers = declared_layers()
    units = {unit(name) for name in modules()} - {"gateway"}
    assert sorted(units - set(layers)) == [], "add these to docs/architecture.md's layers"
    assert sorted(set(layers) - units) == [], "docs/architecture.md names what is not there"


def test_imports_point_down() -> None:
    layers = declared_layers()
    known = modules()
    wrong = []
    for name, path in sorted(known.items()):
        for target, line in imported(name, path, known):
            here, there = unit(name), unit(target)
            if here != there and here in layers and layers.get(there, -1) >= layers[here]:
                where = f"{path.relative_to(REPO)}:{line}"
                wrong.append(
                    f"{where}: {here} (layer {layers[here]}) imports {target} "
                    f"(layer {layers.get(there)})"
                )
    assert wrong == []


def test_statement_support_imports_no_statement() -> None:
    """Statements import their support, never the reverse: what needs a statement belongs to
    a statement (as set-header's declaration belongs inside return-response's)."""
    known = modules()
    statements = {
        name
        for name, path in known.items()
        if name.rpartition(".")[0] == "gateway.statements" and path.name != "__init__.py"
    }
    wrong = [
        f"{path.relative_to(REPO)}:{line}: imports {target}"
        for name, path in sorted(known.items())
        if name.startswith("gateway.statements.support")
        for target, line in imported(name, path, known)
        if target in statements
    ]
    assert statements and wrong == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]

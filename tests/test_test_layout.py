"""Test modules import helpers, never each other: what two test modules share lives in a
helper module or a conftest, so that running or moving one test module never runs another."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

TESTS = REPO / "tests"


def imported_test_modules(path: Path) -> Iterator[tuple[str, int]]:
    """Each test module (tests.x.test_y) that the module at `path` imports, with the line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # Importing a name from test_y imports test_y; so does importing test_y from tests.x.
            names = [node.module]
            if not _is_test_module(node.module):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if _is_test_module(name):
                yield name, node.lineno


def _is_test_module(name: str) -> bool:
    return name.startswith("tests.") and name.rpartition(".")[2].startswith("test_")


def test_no_test_module_imports_another() -> None:
    wrong = [
        f"{path.relative_to(REPO)}:{line}: imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name, line in imported_test_modules(path)
    ]
    assert wrong == [], "move what is shared into a helper module or a conftest"


def test_the_finder_finds_both_forms(tmp_path: Path) -> None:
    module = tmp_path / "test_sample.py"
    # Written in pieces, so that a search of the tests for such imports finds none here.
    package = "tests"
    module.write_text(
        f"from {package}.statements.test_message_steps import run\n"
        f"from {package}.statements import test_registry\n"
        f"import {package}.proxy.test_resilience\n"
        f"from {package}.policies import compile_policy\n",
        encoding="utf-8",
    )
    assert sorted(imported_test_modules(module)) == [
        ("tests.proxy.test_resilience", 3),
        ("tests.statements.test_message_steps", 1),
        ("tests.statements.test_registry", 2),
    ]

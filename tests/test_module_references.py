"""Every `gateway.<module>` that prose names exists.

Prose is the comments and docstrings of gateway/, tests/, bench/ and tools/, docs/*.md and
README.md. Modules move (between packages, into support modules); a reference left behind
sends the reader looking for a file that is not there. A dotted name may go on past the
module to what the module defines (`gateway.runtime.step.Chain`): it resolves by importing
the longest prefix that is a module, then getting each further name as an attribute.
"""

from __future__ import annotations

import ast
import importlib
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

# Not preceded by a name, a dot, a slash or a dash: `src/gateway.py` or `my.gateway.x` is not
# one of ours.
DOTTED = re.compile(r"(?<![\w./-])gateway(?:\.[A-Za-z_]\w*)+")
# gateway.yaml (the policies directory's configuration) and gateway.schema.json are files.
FILE_SUFFIXES = (".yaml", ".yml", ".json")


def python_prose(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of each comment and docstring of a Python file."""
    source = path.read_text(encoding="utf-8")
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstring = body[0].value
                if isinstance(docstring.value, str):
                    for offset, line in enumerate(docstring.value.splitlines()):
                        yield docstring.lineno + offset, line


def prose() -> Iterator[tuple[Path, int, str]]:
    for folder in ("gateway", "tests", "bench", "tools"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for line, text in python_prose(path):
                yield path, line, text
    for path in [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]:
        for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield path, line, text


def resolves(name: str) -> bool:
    """Whether `name` is a module, or a module's attribute (nested to any depth)."""
    parts = name.split(".")
    for length in range(len(parts), 0, -1):
        module_name = ".".join(parts[:length])
        try:
            found: object = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            # Only this name (or a package of it) missing means "try a shorter prefix"; a module
            # that exists but fails to import is a real failure, raised as it is.
            if error.name is None or not f"{module_name}.".startswith(f"{error.name}."):
                raise
            continue
        for attribute in parts[length:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_every_dotted_gateway_name_in_prose_exists() -> None:
    missing = []
    for path, line, text in prose():
        for name in DOTTED.findall(text):
            if name.endswith(FILE_SUFFIXES) or resolves(name):
                continue
            missing.append(f"{path.relative_to(REPO)}:{line}: {name}")
    assert not missing, "names of modules that do not exist:\n" + "\n".join(missing)

"""Fuzz targets for what reads files at load: one policy file (XML, YAML) as `aigw lint` reads
it, gateway.yaml, and a whole policies directory as `aigw lint` and `aigw run` load it.

The property: bad input is diagnostics (each at a real `path:line:col`), never an exception,
and never the linter's `internal-error` ("please report it"); `load_gateway` may raise only
`DiagnosticError`.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from gateway.common.diagnostics import Diagnostic, DiagnosticError
from gateway.config.loader import load_gateway_config
from gateway.lint.linter import lint_file
from gateway.lint.unpriced import unpriced_warnings
from gateway.load import inspect_directory, load_gateway
from gateway.statements import default_registry

_REGISTRY = default_registry()
# One scratch folder per process, the files of each input written into it in turn.
_SCRATCH = Path(tempfile.mkdtemp(prefix="aigw-fuzz-"))
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)

# A directory bundle: gateway.yaml's text, then each further file after a `=== path` line.
FILE_MARK = re.compile(rb"^=== ([^\r\n]*)\r?\n", re.M)
# What a bundle's path may be: a few plain segments, so that no input writes outside its folder.
_SAFE_PATH = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,2}")


def check_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        where = diagnostic.location
        assert diagnostic.rule != "internal-error", diagnostic.format()
        assert where.path and where.line >= 1 and where.column >= 1, diagnostic.format()
        assert diagnostic.message, diagnostic.format()


def _fresh(name: str) -> Path:
    folder = _SCRATCH / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def _lint_one(data: bytes, name: str) -> None:
    path = _fresh("file") / name
    path.write_bytes(data)
    check_diagnostics(lint_file(path, _REGISTRY))


def policy_xml(data: bytes) -> None:
    """One policy file in XML, linted on its own: read, validated, compiled."""
    _lint_one(data, "policy.xml")


def policy_yaml(data: bytes) -> None:
    """One policy file in YAML, linted on its own."""
    _lint_one(data, "policy.yaml")


def gateway_yaml(data: bytes) -> None:
    """gateway.yaml read, built and cross-checked: a configuration or diagnostics."""
    path = _fresh("config") / "gateway.yaml"
    path.write_bytes(data)
    _, diagnostics = load_gateway_config(path)
    check_diagnostics(diagnostics)


def bundle_files(data: bytes) -> dict[str, bytes]:
    """A bundle's files by relative path; paths that could leave the folder are dropped."""
    marks = list(FILE_MARK.finditer(data))
    files = {"gateway.yaml": data[: marks[0].start()] if marks else data}
    ends = [mark.start() for mark in marks[1:]] + [len(data)] if marks else []
    for mark, end in zip(marks, ends, strict=True):
        name = mark.group(1).decode("utf-8", errors="replace").strip()
        if _SAFE_PATH.fullmatch(name) and ".." not in name and name not in files:
            files[name] = data[mark.end() : end]
    return files


def bundle(files: dict[str, bytes]) -> bytes:
    """The bundle of these files (gateway.yaml first), as `bundle_files` reads it back (each
    file then ends in a newline)."""
    parts = [files.get("gateway.yaml", b"")]
    for name, text in files.items():
        if name != "gateway.yaml":
            parts.append(b"=== " + name.encode() + b"\n" + text)
    return b"\n".join(part.removesuffix(b"\n") for part in parts) + b"\n"


def directory(data: bytes) -> None:
    """A whole policies directory, as `aigw lint` checks it and `aigw run` loads it."""
    root = _fresh("directory")
    for name, text in bundle_files(data).items():
        path = root / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text)
        except OSError:  # a file where a folder would go, or the reverse: not written
            continue
    inspection = inspect_directory(root, _REGISTRY, runtime_errors=False)
    check_diagnostics([*inspection.report.sorted(), *unpriced_warnings(inspection)])
    try:
        load_gateway(root, _REGISTRY)
    except DiagnosticError as error:
        assert error.diagnostics, "a DiagnosticError says what is wrong"
        check_diagnostics(error.diagnostics)

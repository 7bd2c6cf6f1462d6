"""The fuzz targets: each a function of bytes that returns when the code under test behaved
(a result, or the documented error for bad input) and raises when it did not (a crash, an
internal error, a broken oracle).

The same functions run under atheris (`tools/fuzz.py`: coverage-guided, for seconds in the
test suite and for as long as asked on demand), under hypothesis (tests/fuzz/test_targets.py)
and on every saved input of tests/fuzz/corpus/<target>/ (replayed by the suite). A target is
imported only when asked for: atheris instruments what its target imports, and no more.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"

# target -> the module of tests.fuzz that defines it (the function has the target's name)
TARGETS: dict[str, str] = {
    "policy_xml": "loading",
    "policy_yaml": "loading",
    "gateway_yaml": "loading",
    "directory": "loading",
    "expression": "expression_target",
    "sse": "streams",
    "translate_request": "translators",
    "translate_response": "translators",
    "translate_stream": "translators",
}


ALL = "all"  # every target in one process: the first byte picks the target of the rest


def target(name: str) -> Callable[[bytes], None]:
    if name == ALL:
        return _every_target()
    module = importlib.import_module(f"tests.fuzz.{TARGETS[name]}")
    return getattr(module, name)


def _every_target() -> Callable[[bytes], None]:
    functions = [target(name) for name in TARGETS]

    def every_target(data: bytes) -> None:
        if data:
            functions[data[0] % len(functions)](data[1:])

    return every_target


def picked(data: bytes) -> tuple[str, bytes]:
    """An input of the `all` target as (the target it goes to, that target's input)."""
    names = list(TARGETS)
    return names[data[0] % len(names)], data[1:]


def for_all(name: str, data: bytes) -> bytes:
    """`data`, an input of target `name`, as an input of the `all` target."""
    return bytes([list(TARGETS).index(name)]) + data


def corpus_inputs() -> list[tuple[str, Path]]:
    """(target, file) for every saved input, in a stable order."""
    return [
        (name, path)
        for name in TARGETS
        for path in sorted((CORPUS / name).glob("*"))
        if path.is_file()
    ]

"""Shared test fixtures: where the APIM corpus is, and a policies-directory builder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "apim-corpus"


def corpus_files() -> list[Path]:
    return sorted(CORPUS.rglob("*.xml"))


@pytest.fixture
def make_dir(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """Write `{relative path: text}` (dedented) under a fresh directory and return it."""

    def make(files: dict[str, str]) -> Path:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return tmp_path

    return make

"""docs/operations.md's tables are the built-in operations of gateway/config/styles.py."""

from __future__ import annotations

import re

from gateway.config.styles import BUILT_IN_OPERATIONS
from tests.conftest import REPO

ROW = re.compile(r"^\| `(\w+)` \| (\w+) \| (.+?) \|(?: (.+?) \|)?$", re.MULTILINE)


def _templates(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_the_operations_page_lists_every_operation_of_every_style() -> None:
    page = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    rows = ROW.findall(page)
    documented = {
        "openai": [(op, method, t) for op, method, cell, _ in rows if _ for t in _templates(cell)],
        "azure-openai": [
            (op, method, t) for op, method, _, cell in rows if cell for t in _templates(cell)
        ],
        "anthropic": [
            (op, method, t) for op, method, cell, rest in rows if not rest for t in _templates(cell)
        ],
    }
    for style, documented_operations in documented.items():
        built_in = [(op.id, op.method, op.url_template) for op in BUILT_IN_OPERATIONS[style]]
        assert sorted(documented_operations) == sorted(built_in), style

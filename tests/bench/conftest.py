"""The bench scripts are run as scripts (`python bench/soak.py`), which puts bench/ first on
sys.path so that they import each other by module name (`import latency`); the tests do the
same."""

from __future__ import annotations

import sys

from tests.conftest import REPO

BENCH = str(REPO / "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

"""bench/ is a folder of scripts, not a package: its modules import each other by bare name
(running a script puts bench/ on sys.path), so its tests put it on sys.path too."""

from __future__ import annotations

import sys

from tests.conftest import REPO

BENCH = REPO / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))

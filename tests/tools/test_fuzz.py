"""tools/fuzz.py in the suite: every fuzz target under atheris for half a minute, in one
process (`--target all`: one start, one instrumentation), from the repository's inputs and
the saved corpus, so a crash within easy reach of them fails the run (the long runs are on
demand: README, Tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.fuzz.targets import TARGETS

SECONDS = 30  # with the start and the seeds' first run, about a minute


def test_no_target_crashes_within_seconds_of_coverage_guided_fuzzing(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "tools/fuzz.py", "--seconds", str(SECONDS), "--target", "all",
         "--workdir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    [runs] = re.findall(r"^all\s+[\d.]+s\s+(\d+) runs  ok(?:  slow: \S+)*$", done.stdout, re.M)
    seeds = sum(1 for _ in (tmp_path / "all" / "seeds").iterdir())
    assert seeds > len(TARGETS) and int(runs) > seeds, done.stdout  # past the seeds: fuzzed

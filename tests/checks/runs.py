"""`aigw check DIR` run as a user runs it (a real process), and its report read by probe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.fakes.keys import GOOD_KEY


def check(
    root: Path, *options: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CHECK_GOOD_KEY": GOOD_KEY, **(env or {})}
    environment.pop("CHECK_UNSET_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check", str(root), "--timeout", "5", *options],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def lines_by_name(stdout: str) -> dict[str, str]:
    """`ok    backend x  detail` -> {"backend x": "ok    backend x  detail"}."""
    found = {}
    for line in stdout.splitlines():
        verdict, rest = line.split(None, 1)
        assert verdict in ("ok", "FAIL"), line
        name = " ".join(rest.split()[:2]).rstrip(",")
        found[name] = line
    return found

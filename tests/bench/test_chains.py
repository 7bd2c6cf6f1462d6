"""Every chain under bench/chains lints clean, as `aigw lint` sees it, with the environment the
benchmarks give it (bench/peers.py: MOCK_BASE, MOCK_SLOW_BASE, MOCK_API_KEY)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.lint.linter import lint_paths
from tests.bench.conftest import BENCH

CHAINS = sorted(path for path in (BENCH / "chains").iterdir() if path.is_dir())


def test_the_side_by_side_chains_are_there() -> None:
    assert {"governed", "passthrough-mock"} <= {path.name for path in CHAINS}


@pytest.mark.parametrize("chain", CHAINS, ids=lambda path: path.name)
def test_chain_lints_clean(chain: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_BASE", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("MOCK_SLOW_BASE", "http://127.0.0.1:1/slow/v1")
    monkeypatch.setenv("MOCK_API_KEY", "sk-bench")
    result = lint_paths([chain])
    assert result.files >= 2  # gateway.yaml and at least one policy file
    assert [str(diagnostic) for diagnostic in result.diagnostics] == []
    assert not result.failed

"""The ledger's tests run on both databases: `ledger_url` is a SQLite file, then a PostgreSQL
schema of its own (gateway.yaml's `ledger.url` for either)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ledger.postgres_servers import shared_schema


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'calls.ledger.sqlite'}"
        return
    with shared_schema() as url:
        yield url

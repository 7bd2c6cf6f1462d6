"""Both subscription stores keep the same contract: compare-and-swap, a version every change
moves, an audit log newest first. Redis is the real server (its own database, emptied)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from gateway.tenants.file_store import FileTenants
from gateway.tenants.location import open_store
from gateway.tenants.record import Tenant, digest
from gateway.tenants.store import StoreUnavailable, TenantStore
from tests.conftest import require_redis

REDIS_DB = "redis://127.0.0.1:6379/10"


def tenant(id: str, state: str = "active") -> Tenant:
    return Tenant(
        id=id,
        name=id,
        scope="all-apis",
        state=state,
        primary=digest(f"{id}-1"),
        secondary=digest(f"{id}-2"),
        created=1.0,
        updated=1.0,
    )


@pytest.fixture(params=["file", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TenantStore]:
    if request.param == "redis":
        require_redis()
        redis.Redis.from_url(REDIS_DB).flushdb()
        yield open_store(REDIS_DB)
    else:
        yield open_store(str(tmp_path / "subscriptions.json"))


def test_swap_compares_before_it_writes(store: TenantStore) -> None:
    async def scenario() -> None:
        first = await store.version()
        assert await store.swap("a", None, tenant("a"))
        assert not await store.swap("a", None, tenant("a"))  # exists already
        second = await store.version()
        assert second != first
        assert await store.load() == {"a": tenant("a")}
        # A change based on a stale read loses, and leaves the winner in place.
        assert await store.swap("a", tenant("a"), tenant("a", "suspended"))
        assert not await store.swap("a", tenant("a"), tenant("a", "cancelled"))
        assert (await store.load())["a"].state == "suspended"
        assert await store.version() != second
        assert await store.swap("a", tenant("a", "suspended"), None)
        assert await store.load() == {}
        await store.close()

    asyncio.run(scenario())


def test_audit_log_newest_first(store: TenantStore) -> None:
    async def scenario() -> None:
        for number in range(5):
            await store.audit(f'{{"n": {number}}}')
        assert await store.audit_log(3) == ['{"n": 4}', '{"n": 3}', '{"n": 2}']
        await store.close()

    asyncio.run(scenario())


def test_a_file_store_tells_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.json"
    path.write_text("{not json")
    with pytest.raises(StoreUnavailable, match=r"subscriptions\.json"):
        asyncio.run(FileTenants(path).load())


def test_redis_away_is_unavailable_without_the_password() -> None:
    store = open_store("redis://user:s3cret@127.0.0.1:1/0")

    async def scenario() -> None:
        try:
            await store.version()
        finally:
            await store.close()

    with pytest.raises(StoreUnavailable) as raised:
        asyncio.run(scenario())
    assert "s3cret" not in str(raised.value) and "127.0.0.1:1" in str(raised.value)

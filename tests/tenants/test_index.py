"""The index a serving process keeps: what it admits, and that it stops when told even when
the store's client swallows a cancellation (as a Redis client cancelled mid-command can)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from gateway.tenants.file_store import FileTenants
from gateway.tenants.index import Tenants
from gateway.tenants.record import Tenant, digest


class StubbornStore(FileTenants):
    """A file store whose version() swallows a cancellation and carries on."""

    async def version(self) -> str:
        with contextlib.suppress(asyncio.CancelledError):  # what the misbehaving client does
            await asyncio.sleep(0.05)
        return await super().version()


def test_admits_active_unexpired_subscriptions_only(tmp_path: Path) -> None:
    def made(id: str, state: str = "active", expires: float | None = None) -> Tenant:
        return Tenant(
            id=id,
            name=id,
            scope="all-apis",
            state=state,
            primary=digest(id),
            secondary=digest(id + "-2"),
            expires=expires,
        )

    async def scenario() -> None:
        store = FileTenants(tmp_path / "subscriptions.json")
        for tenant in (made("on"), made("off", "suspended"), made("old", expires=time.time())):
            assert await store.swap(tenant.id, None, tenant)
        tenants = Tenants(store, 0.05)
        await tenants.start()
        found = tenants.find(bytes.fromhex(digest("on")))
        assert found is not None and found.id == "on"
        assert tenants.find(bytes.fromhex(digest("on-2"))) is found
        assert tenants.find(bytes.fromhex(digest("off"))) is None
        assert tenants.find(bytes.fromhex(digest("old"))) is None
        await tenants.close()

    asyncio.run(scenario())


def test_close_ends_the_poll_even_when_the_client_swallows_the_cancel(tmp_path: Path) -> None:
    async def scenario() -> float:
        tenants = Tenants(StubbornStore(tmp_path / "subscriptions.json"), 0.05)
        await tenants.start()
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await tenants.close()
        assert tenants._task is not None and tenants._task.done()
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 1.0

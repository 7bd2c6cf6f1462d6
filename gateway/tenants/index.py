"""What one serving process knows of the subscriptions made at run time: an index by key
digest that admission reads without I/O, refreshed in the background whenever the store's
version moves (every `admin.refresh`, 0.25 s by default), so a change made through any
process or replica reaches every one within a second, with no restart.

While the store is away the last index read stays in force; a process that starts while it
is away admits no run-time subscription until the store answers (logged once, and once more
when it returns).
"""

from __future__ import annotations

import asyncio
import logging
import time

from gateway.config.apis import Subscription
from gateway.tenants.record import Tenant
from gateway.tenants.store import StoreUnavailable, TenantStore

log = logging.getLogger("aigw.subscriptions")


class Tenants:
    def __init__(self, store: TenantStore, refresh: float) -> None:
        self.store = store
        self.refresh = refresh
        self.records: dict[str, Tenant] = {}
        self._by_digest: dict[bytes, Subscription] = {}
        self._version: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.away = ""  # why the store did not answer the last refresh

    def find(self, digest: bytes) -> Subscription | None:
        """The active, unexpired subscription with a key of this digest (the request path)."""
        subscription = self._by_digest.get(digest)
        if subscription is None:
            return None
        if self.records[subscription.id].expired(time.time()):
            return None
        return subscription

    async def start(self) -> None:
        """Read the store once, then keep following it (idempotent: a reload calls it too)."""
        if self._task is not None:
            return
        await self._follow()
        self._task = asyncio.get_running_loop().create_task(self._polling())

    async def refreshed(self) -> dict[str, Tenant]:
        """Read the store now (after a change this process made): the records."""
        self._version = None
        await self._follow(raise_errors=True)
        return self.records

    async def close(self) -> None:
        # A cancel alone may not end the poll: a Redis client cancelled mid-command can
        # swallow the cancellation (seen: a process that never exited). The flag ends the
        # loop at its next wake whatever the client does; the wait is bounded either way.
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=self.refresh + 1)
        await self.store.close()

    async def _polling(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.refresh)
            if not self._closing:
                await self._follow()

    async def _follow(self, raise_errors: bool = False) -> None:
        try:
            version = await self.store.version()
            if version == self._version:
                return
            records = await self.store.load()
        except StoreUnavailable as error:
            if not self.away:
                log.error("subscriptions store unavailable, keeping what was read: %s", error)
            self.away = str(error)
            if raise_errors:
                raise
            return
        if self.away:
            log.warning("subscriptions store %s answers again", self.store.where)
            self.away = ""
        self._index(records)
        self._version = version

    def _index(self, records: dict[str, Tenant]) -> None:
        by_digest: dict[bytes, Subscription] = {}
        for tenant in records.values():
            if tenant.state != "active":
                continue  # a suspended or cancelled subscription's keys are "invalid"
            subscription = tenant.subscription()
            for key in (tenant.primary, tenant.secondary):
                by_digest[bytes.fromhex(key)] = subscription
        self.records = records
        self._by_digest = by_digest

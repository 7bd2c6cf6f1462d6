"""The ledger as the admin listener reads it (the dashboard, `GET /-/api/usage`): a database
of its own beside the writer's, opened as `aigw usage` opens it, so a read never waits in the
writer's queue nor shares its PostgreSQL connection; one query at a time on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gateway.ledger.databases import Database, ledger_url, open_database
from gateway.ledger.urls import redact
from gateway.proxy.live import Live

T = TypeVar("T")


class LedgerUnavailable(Exception):
    """The ledger is off, not there yet, or its database refused: said without a password."""


class LedgerReads:
    def __init__(self, live: Live) -> None:
        self.live = live
        self._url: str | None = None
        self._database: Database | None = None
        self._lock = asyncio.Lock()

    def url(self) -> str | None:
        gateway = self.live.gateway
        return ledger_url(gateway.config, gateway.root)

    def fleet_wide(self) -> bool:
        """PostgreSQL: every replica writes there, so a read counts the fleet."""
        url = self.url()
        return url is not None and not url.startswith("sqlite:")

    def described(self) -> str:
        url = self.url()
        return redact(url) if url is not None else "off"

    async def run(self, work: Callable[[Database], Awaitable[T]]) -> T:
        url = self.url()
        if url is None:
            raise LedgerUnavailable("the ledger is off (ledger.enabled: false)")
        async with self._lock:
            if url != self._url:  # a reload moved the ledger
                if self._database is not None:
                    await self._database.close()
                self._database, self._url = open_database(url, create=False), url
            assert self._database is not None
            try:
                return await work(self._database)
            except FileNotFoundError:
                raise LedgerUnavailable("no calls recorded yet (no ledger file)") from None
            except Exception as error:  # no table yet, a refused login: told, not raised
                message = f"{redact(url)}: {type(error).__name__}: {error}"
                raise LedgerUnavailable(message) from None

    async def close(self) -> None:
        if self._database is not None:
            await self._database.close()
            self._database = None

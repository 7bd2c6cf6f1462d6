"""Where subscriptions made at run time are kept: the contract every store keeps."""

from __future__ import annotations

from typing import Protocol

from gateway.tenants.record import Tenant


class StoreUnavailable(Exception):
    """The store could not be read or written; says why, never with a password."""


class TenantStore(Protocol):
    where: str  # for messages: the file, or the Redis URL without its password

    async def version(self) -> str:
        """Changes whenever any process changes a record: cheap, asked every refresh."""
        ...

    async def load(self) -> dict[str, Tenant]: ...

    async def swap(self, id: str, old: Tenant | None, new: Tenant | None) -> bool:
        """Replace `old` by `new` (None: absent) only if the stored record is still `old`;
        False when another change came first (the caller reads again and retries)."""
        ...

    async def audit(self, entry: str) -> None:
        """Append one audit entry (a JSON object's text)."""
        ...

    async def audit_log(self, limit: int) -> list[str]:
        """The latest `limit` entries, newest first."""
        ...

    async def close(self) -> None: ...

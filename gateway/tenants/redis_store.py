"""Subscriptions in Redis, for a fleet: one hash of records, a version every change bumps (each
process polls it), and the audit log as a capped stream. The three keys share a hash tag, so a
Redis Cluster keeps them in one slot and the compare-and-swap script may touch them together."""

from __future__ import annotations

from typing import Any

from gateway.stores.redis_urls import redis_client, without_password
from gateway.tenants.record import Tenant
from gateway.tenants.store import StoreUnavailable

RECORDS = "{aigw:tenants}:subscriptions"
VERSION = "{aigw:tenants}:version"
AUDIT = "{aigw:tenants}:audit"
AUDIT_MAX = 100_000  # entries kept (approximately: Redis trims whole nodes)

# Compare and swap one record: ARGV[2] is the record expected ("" for none), ARGV[3] the new
# one ("" to delete). Atomic in Redis, so two admins changing one subscription cannot both win.
SWAP = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
redis.call('INCR', KEYS[2])
return 1
"""


class RedisTenants:
    def __init__(self, url: str) -> None:
        self.where = without_password(url)
        self.client: Any = redis_client(url)
        self._swap = self.client.register_script(SWAP)

    async def version(self) -> str:
        value = await self._call(self.client.get(VERSION))
        return value.decode() if value is not None else "0"

    async def load(self) -> dict[str, Tenant]:
        records = await self._call(self.client.hgetall(RECORDS))
        return {id.decode(): Tenant.decode(text) for id, text in records.items()}

    async def swap(self, id: str, old: Tenant | None, new: Tenant | None) -> bool:
        expected = old.encode() if old is not None else ""
        replacement = new.encode() if new is not None else ""
        done = await self._call(
            self._swap(keys=[RECORDS, VERSION], args=[id, expected, replacement])
        )
        return bool(done)

    async def audit(self, entry: str) -> None:
        await self._call(
            self.client.xadd(AUDIT, {"entry": entry}, maxlen=AUDIT_MAX, approximate=True)
        )

    async def audit_log(self, limit: int) -> list[str]:
        entries = await self._call(self.client.xrevrange(AUDIT, count=limit))
        return [fields[b"entry"].decode() for _, fields in entries]

    async def close(self) -> None:
        await self.client.aclose()

    async def _call(self, pending: Any) -> Any:
        try:
            return await pending
        except Exception as error:  # connection refused, timeout, auth, ...
            raise StoreUnavailable(f"Redis {self.where}: {error}") from error

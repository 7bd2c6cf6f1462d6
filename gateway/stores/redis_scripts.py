"""One Lua script run, one round trip, with as little client work as a request can get by with.

A limit's check runs on every request, so what the Redis client does around the round trip
counts. On one server (`redis://`, `rediss://`, `unix://`) a run is an `EVALSHA` packed in one
`bytes` join and sent on the store's lean connection (`gateway.stores.resp`): one socket per
store and process, concurrent runs pipelined on it, replies parsed as they arrive; redis-py's
connections, pool and parser are not on the way. Through redis-py's asyncio connection
(StreamReader, its Python RESP parser, the pool) a request on the Redis token chain took
1,291k instructions, 1.39 to 1.40 times the chain in memory; this way 1,079k to 1,106k,
1.18 to 1.19 times (bench/instructions.py, tokens-redis against tokens-memory, two runs).

A Sentinel's master keeps redis-py's connections, which follow a failover: a run takes a
connection of the client's pool (kept out of it for the next run once it served one
cleanly), writes the same packed `EVALSHA` and reads the reply; a connection that failed goes
back to the pool, disconnected. A Redis Cluster routes each key's slot to its node, so there
the run goes through redis-py's own script call.

A server that does not know the script yet (a restart, `SCRIPT FLUSH`) answers NOSCRIPT: the
script is loaded and run again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from redis.exceptions import NoScriptError, ResponseError

from gateway.stores.resp import RespClient, pack


class LeanScript:
    def __init__(
        self, client: Any, source: str, cluster: bool, lean: RespClient | None = None
    ) -> None:
        self._client = client
        self._lean = lean
        self._source = source
        self._sha = hashlib.sha1(source.encode()).hexdigest().encode()
        self._registered = client.register_script(source) if cluster else None
        self._idle: list[Any] = []

    async def __call__(self, keys: Sequence[str], args: Sequence[object]) -> Any:
        if self._registered is not None:
            return await self._registered(keys=list(keys), args=list(args))
        command = pack([b"EVALSHA", self._sha, len(keys), *keys, *args])
        lean = self._lean
        if lean is not None:
            try:
                return await lean.call(command)
            except NoScriptError:
                await lean.execute(b"SCRIPT", b"LOAD", self._source)
                return await lean.call(command)
        try:
            return await self._run(command)
        except NoScriptError:
            await self._client.script_load(self._source)
            return await self._run(command)

    async def _run(self, command: bytes) -> Any:
        """A run on a connection of redis-py's pool (a Sentinel's master)."""
        pool = self._client.connection_pool
        # A connection that just served a run cleanly is kept here for the next one, out of
        # the pool: the pool's lock and bookkeeping cost a run about a sixth of its CPU.
        connection = self._idle.pop() if self._idle else await pool.get_connection()
        try:
            await connection.send_packed_command(command)
            reply = await connection.read_response()
        except ResponseError:
            await pool.release(connection)  # Redis answered; the pool decides what next
            raise
        except BaseException:
            # Cut mid-command (an error, a timeout, a cancelled request): what is left on the
            # connection would be read as the next command's reply. Start it afresh.
            await connection.disconnect()
            await pool.release(connection)
            raise
        self._idle.append(connection)
        return reply

    async def close(self) -> None:
        """Hand the kept connections back to the pool (before the client closes it)."""
        while self._idle:  # (none on a Cluster, whose client has no single pool)
            await self._client.connection_pool.release(self._idle.pop())

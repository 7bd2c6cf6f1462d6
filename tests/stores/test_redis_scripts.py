"""The limits' lean script runs on a Redis server of the test's own (its scripts are flushed),
through the lean connection (one server) and through redis-py's pool (a Sentinel's master)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
import redis

from gateway.stores.redis_scripts import LeanScript
from gateway.stores.redis_urls import redis_client
from gateway.stores.resp import for_client
from tests.redis_servers import RedisServer, free_ports

ECHO = "redis.call('INCRBY', KEYS[1], ARGV[1]) return {KEYS[1], ARGV[1]}"


@pytest.mark.parametrize("path", ["lean", "pool"])
def test_a_server_that_forgot_the_script_gets_it_again_and_a_cut_run_spoils_nothing(
    tmp_path: Path, path: str
) -> None:
    (port,) = free_ports(1)
    server = RedisServer(port, tmp_path).start()
    try:

        async def scenario() -> None:
            client = redis_client(f"redis://127.0.0.1:{port}/3")
            lean = for_client(client) if path == "lean" else None
            script = LeanScript(client, ECHO, cluster=False, lean=lean)
            assert await script(["a"], [1]) == [b"a", b"1"]  # loaded on NOSCRIPT, then run
            server.client().script_flush()  # a restart or SCRIPT FLUSH
            assert await script(["a"], [2]) == [b"a", b"2"]
            # A run cancelled before its reply (its request went away): the connection it
            # used must not hand that reply to the next run.
            cut = asyncio.ensure_future(script(["b"], [5]))
            await asyncio.sleep(0)
            cut.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cut
            for number in range(3):
                assert await script(["c"], [number]) == [b"c", str(number).encode()]
            await script.close()
            if lean is not None:
                await lean.close()
            await client.aclose()

        asyncio.run(scenario())
        assert int(redis.Redis(port=port, db=3).get("a") or 0) == 3  # the URL's database
    finally:
        server.stop()

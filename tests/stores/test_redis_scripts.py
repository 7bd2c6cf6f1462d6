"""The limits' lean script runs on a Redis server of the test's own (its scripts are flushed)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import redis

from gateway.stores.redis_scripts import LeanScript, _pack
from gateway.stores.redis_urls import redis_client
from tests.redis_servers import RedisServer, free_ports

ECHO = "redis.call('INCRBY', KEYS[1], ARGV[1]) return {KEYS[1], ARGV[1]}"


def test_a_command_is_packed_as_redis_reads_it() -> None:
    assert _pack([b"EVALSHA", "k", 12]) == b"*3\r\n$7\r\nEVALSHA\r\n$1\r\nk\r\n$2\r\n12\r\n"


def test_a_server_that_forgot_the_script_gets_it_again_and_a_cut_run_spoils_nothing(
    tmp_path: Path,
) -> None:
    (port,) = free_ports(1)
    server = RedisServer(port, tmp_path).start()
    try:

        async def scenario() -> None:
            client = redis_client(f"redis://127.0.0.1:{port}/3")
            script = LeanScript(client, ECHO, cluster=False)
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
            await client.aclose()

        asyncio.run(scenario())
        assert int(redis.Redis(port=port, db=3).get("a") or 0) == 3  # the URL's database
    finally:
        server.stop()

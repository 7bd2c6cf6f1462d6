"""The Redis store on real topologies: a Cluster's slots, a Sentinel failover, an outage."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from gateway.stores.counters import Change, StoreUnavailable, Window
from gateway.stores.redis import RedisCounters
from gateway.stores.redis_urls import RETRY_AFTER, BadStoreUrl, parse
from tests.redis_servers import RedisServer, cluster, free_ports, sentinel

MINUTE = Window(60)
FOREVER = Window(0)


def test_cluster_counters_spread_over_the_nodes_and_expire(tmp_path: Path) -> None:
    with cluster(tmp_path) as members:
        url = "redis+cluster://" + ",".join(f"127.0.0.1:{m.port}" for m in members[:1])

        async def scenario() -> None:
            store = RedisCounters(url)  # one startup node is enough to find the others
            for number in range(30):
                key = f"tenant-{number}"
                await store.add(key, number + 1, MINUTE, time.time())
                count = await store.consume(key, 5, number + 5, MINUTE, time.time())
                assert count.allowed is False and count.value == number + 1
            await store.close()

        asyncio.run(scenario())
        holding = [m.client().dbsize() for m in members]
        assert sum(holding) == 30 and all(holding), holding  # every node holds some
        for member in members:
            client = member.client()
            for stored in client.scan_iter("aigw:*"):
                assert 0 < client.pttl(stored) <= 61_000


def test_sentinel_failover_keeps_the_count_and_recovers(tmp_path: Path) -> None:
    with sentinel(tmp_path) as found:
        old_master = found.master_port()

        async def scenario() -> None:
            store = RedisCounters(found.url)
            now = time.time()
            # A window that never ends: a minute's could end during the failover (up to 30 s).
            assert (await store.add("team", 7, FOREVER, now)).value == 7
            found.master.client().execute_command("WAIT", 1, 2000)  # replicated
            found.master.stop()
            deadline = time.monotonic() + 30
            while True:  # refused while Sentinel promotes the replica, then served by it
                try:
                    count = await store.add("team", 1, FOREVER, now)
                    break
                except StoreUnavailable:
                    assert time.monotonic() < deadline, "no failover within 30 s"
                    await asyncio.sleep(0.2)
            assert count.value == 8
            await store.close()

        asyncio.run(scenario())
        assert found.master_port() == found.replica.port != old_master


def test_an_outage_fails_fast_and_the_store_recovers_when_redis_returns(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    server = RedisServer(port, tmp_path).start()
    try:

        async def scenario() -> None:
            store = RedisCounters(f"redis://127.0.0.1:{port}/0")
            assert (await store.add("k", 1, MINUTE, time.time())).value == 1
            server.stop()
            with pytest.raises(StoreUnavailable):
                await store.add("k", 1, MINUTE, time.time())
            server.start()  # back, empty (no persistence)
            with pytest.raises(StoreUnavailable, match="retrying"):  # still failing fast
                await store.add("k", 1, MINUTE, time.time())
            await asyncio.sleep(RETRY_AFTER)
            assert (await store.add("k", 2, MINUTE, time.time())).value == 2
            await store.close()

        asyncio.run(scenario())
    finally:
        server.stop()


def test_a_count_written_behind_that_cannot_be_written_is_reported() -> None:
    (port,) = free_ports(1)  # nothing listens there

    async def scenario() -> None:
        store = RedisCounters(f"redis://127.0.0.1:{port}/0")
        failures: list[StoreUnavailable] = []
        store.add_later([Change("k", 3, MINUTE)], time.time(), failures.append)
        assert failures == []  # nothing waited for Redis
        await store.close()  # the write behind is tried before the client closes
        assert len(failures) == 1

    asyncio.run(scenario())


def test_store_urls_are_checked_with_a_message_that_shows_the_form() -> None:
    address = parse("redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26379/main/2")
    assert address.hosts == (("10.0.0.1", 26379), ("10.0.0.2", 26379))
    assert (address.service, address.database) == ("main", 2)
    assert address.credentials == {"password": "s3cret"}
    assert parse("rediss+cluster://10.0.0.1:7000").tls
    with pytest.raises(BadStoreUrl, match=r"redis\+sentinel://127.0.0.1:26379/mymaster"):
        parse("redis+sentinel://10.0.0.1:26379")
    with pytest.raises(BadStoreUrl, match="host:port") as raised:
        parse("redis+cluster://user:s3cret@10.0.0.1")
    assert "s3cret" not in str(raised.value)


def test_redis_client_errors_are_store_unavailable_not_crashes() -> None:
    async def scenario() -> None:
        store = RedisCounters("redis+cluster://127.0.0.1:1")
        with pytest.raises(StoreUnavailable):
            await store.peek("k", MINUTE, time.time())
        await store.close()

    asyncio.run(scenario())

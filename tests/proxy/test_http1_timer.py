"""The read timeout's timer (gateway.proxy.http1), kept by the connection from one call to the
next rather than made and cancelled for every call: calls on a kept-alive connection still
time out as each one's own timeout says."""

from __future__ import annotations

import asyncio

import pytest

from gateway.proxy.pool import Pool
from gateway.proxy.upstream_errors import Timeout

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


async def serving(*delays: float | None) -> tuple[asyncio.Server, str]:
    """A server answering the requests on a connection, each after its delay (None: never)."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for delay in delays:
                await reader.readuntil(b"\r\n\r\n")
                if delay is None:
                    await reader.read()
                    return
                await asyncio.sleep(delay)
                writer.write(OK)
                await writer.drain()
            await reader.read()
        finally:
            writer.close()

    server = await asyncio.start_server(script, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"


def test_a_kept_alive_connection_keeps_its_timer_for_the_next_call() -> None:
    async def scenario() -> None:
        server, url = await serving(0, 0)
        pool = Pool()
        first = await pool.request("GET", url, [], None, 30)
        await first.read()
        timer = first.connection.timer
        assert timer is not None  # left set once the answer is read: the next call uses it
        second = await pool.request("GET", url, [], None, 30)
        assert second.connection is first.connection
        assert second.connection.timer is timer
        await second.read()
        pool.close()
        assert first.connection.timer is None  # a closed connection holds no timer
        server.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("first", [300, 0.05])
def test_a_call_on_a_kept_alive_connection_times_out_by_its_own_timeout(first: float) -> None:
    # 300: the timer the first call left is too late for the second, so it is set anew;
    # 0.05: it fires while the second call waits, and is set again for the second's end.
    async def scenario() -> None:
        server, url = await serving(0, None)
        pool = Pool()
        await (await pool.request("GET", url, [], None, first)).read()
        with pytest.raises(Timeout):
            await pool.request("GET", url, [], None, 0.3)
        server.close()

    asyncio.run(scenario())


def test_a_timer_firing_before_the_next_calls_timeout_waits_on_for_it() -> None:
    async def scenario() -> None:
        # The first call's 0.05 s timer fires while the second call (30 s) waits for its
        # answer: that call is not failed; the timer is set again for its own timeout.
        server, url = await serving(0, 0.3)
        pool = Pool()
        await (await pool.request("GET", url, [], None, 0.05)).read()
        second = await pool.request("GET", url, [], None, 30)
        assert (second.status, await second.read()) == (200, b"{}")
        server.close()

    asyncio.run(scenario())

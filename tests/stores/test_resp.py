"""The lean RESP connection against real Redis: the shared server (database 11) for replies,
pipelining, cancelled callers, drops and timeouts; servers of the tests' own for a password
and for TLS. Each on asyncio's loop and on uvloop's, the one the gateway serves on."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis
import uvloop
from redis.exceptions import AuthenticationError, ConnectionError, NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.stores.redis_urls import redis_client
from gateway.stores.resp import RespClient, for_client, pack
from tests.conftest import require_redis
from tests.redis_servers import RedisServer, free_ports

URL = "redis://127.0.0.1:6379/11"


def lean(url: str) -> RespClient:
    """The lean client the store makes for `url` (its settings read by redis-py)."""
    client = for_client(redis_client(url))
    assert client is not None
    return client


Scenario = Callable[[RespClient], Awaitable[Any]]
Run = Callable[[str, Scenario], Any]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Run:
    """Runs a scenario with a lean client for a URL on the loop of the parameter."""

    def running(url: str, scenario: Scenario) -> Any:
        async def main() -> Any:
            client = lean(url)
            try:
                return await scenario(client)
            finally:
                await client.close()

        return uvloop.run(main()) if request.param == "uvloop" else asyncio.run(main())

    return running


@pytest.fixture
def shared() -> str:
    require_redis()
    return URL


def test_a_command_is_packed_as_redis_reads_it() -> None:
    assert pack([b"EVALSHA", "k", 12]) == b"*3\r\n$7\r\nEVALSHA\r\n$1\r\nk\r\n$2\r\n12\r\n"


def test_cluster_and_sentinel_keep_redis_pys_connections() -> None:
    assert for_client(redis_client("redis+cluster://127.0.0.1:7000")) is None
    assert for_client(redis_client("redis+sentinel://127.0.0.1:26379/mymaster")) is None


def test_every_kind_of_reply_is_read_as_redis_py_reads_it(shared: str, run: Run) -> None:
    nested = "return {1, 'two', {3, {'four'}}, redis.status_reply('FINE'), {}}"
    large = b"x" * 300_000  # arrives in several reads

    async def scenario(client: RespClient) -> None:
        assert await client.execute("SET", "resp:a", "7") == b"OK"  # simple string
        assert await client.execute("INCRBY", "resp:a", 5) == 12  # integer
        assert await client.execute("GET", "resp:a") == b"12"  # bulk string
        assert await client.execute("GET", "resp:none") is None  # nil bulk string
        assert await client.execute("BLPOP", "resp:none", "0.01") is None  # nil array
        assert await client.execute("EVAL", nested, 0) == [1, b"two", [3, [b"four"]], b"FINE", []]
        [inside] = await client.execute("EVAL", "return {redis.error_reply('BAD it')}", 0)
        assert isinstance(inside, ResponseError) and str(inside) == "BAD it"  # as redis-py's
        with pytest.raises(ResponseError, match="unknown command"):
            await client.execute("NOSUCHCOMMAND")
        with pytest.raises(NoScriptError):
            await client.execute("EVALSHA", "0" * 40, 0)
        assert await client.execute("SET", "resp:large", large) == b"OK"
        assert await client.execute("GET", "resp:large") == large
        await client.execute("DEL", "resp:a", "resp:large")

    run(shared, scenario)
    assert redis.Redis.from_url(URL).get("resp:a") is None  # database 11, as the URL says


def test_concurrent_calls_share_one_connection_and_each_gets_its_own_reply(
    shared: str, run: Run
) -> None:
    async def scenario(client: RespClient) -> tuple[list[Any], list[Any]]:
        echoes = await asyncio.gather(*(client.execute("ECHO", f"n{i}") for i in range(300)))
        ids = await asyncio.gather(*(client.execute("CLIENT", "ID") for _ in range(20)))
        return echoes, ids

    echoes, ids = run(shared, scenario)
    assert echoes == [f"n{i}".encode() for i in range(300)]
    assert len(set(ids)) == 1


def test_a_cancelled_callers_reply_is_dropped_and_the_next_gets_its_own(
    shared: str, run: Run
) -> None:
    async def scenario(client: RespClient) -> list[Any]:
        await client.execute("DEL", "resp:list")
        waiting = asyncio.ensure_future(client.execute("BLPOP", "resp:list", "0.3"))
        behind = asyncio.ensure_future(client.execute("ECHO", "behind"))
        await asyncio.sleep(0.05)  # both sent; the BLPOP holds the connection
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        return [await behind, await client.execute("ECHO", "next")]

    assert run(shared, scenario) == [b"behind", b"next"]


def test_a_killed_connection_fails_its_calls_and_the_next_call_connects_again(
    shared: str, run: Run
) -> None:
    admin = redis.Redis.from_url(URL)

    async def scenario(client: RespClient) -> tuple[Any, Any, Any]:
        first = await client.execute("CLIENT", "ID")
        waiting = asyncio.ensure_future(client.execute("BLPOP", "resp:never", "2"))
        await asyncio.sleep(0.05)
        admin.execute_command("CLIENT", "KILL", "ID", first)
        with pytest.raises(ConnectionError, match="Connection closed by server"):
            await waiting
        second = await client.execute("CLIENT", "ID")
        admin.execute_command("CLIENT", "KILL", "ID", second)  # now idle
        for _ in range(200):  # the drop is seen when the loop reads the connection's end
            if client._connection is None or client._connection.lost:
                break
            await asyncio.sleep(0.01)
        return first, second, await client.execute("CLIENT", "ID")

    first, second, third = run(shared, scenario)
    assert len({first, second, third}) == 3


def test_no_reply_within_the_socket_timeout_drops_the_connection(shared: str, run: Run) -> None:
    async def scenario(client: RespClient) -> Any:
        with pytest.raises(RedisTimeoutError, match=r"Timeout reading from 127\.0\.0\.1:6379"):
            await client.execute("BLPOP", "resp:never", "2")
        return await client.execute("ECHO", "after")

    assert run(shared + "?socket_timeout=0.2", scenario) == b"after"


def test_a_closed_port_is_a_connection_error_naming_it(run: Run) -> None:
    (port,) = free_ports(1)

    async def scenario(client: RespClient) -> None:
        for _ in range(2):  # and again at the next call
            with pytest.raises(
                ConnectionError, match=rf"Error 111 connecting to 127\.0\.0\.1:{port}\."
            ):
                await client.execute("PING")

    run(f"redis://127.0.0.1:{port}/11", scenario)


def test_the_urls_password_and_user_authenticate_and_a_wrong_one_says_so(
    tmp_path: Path, run: Run
) -> None:
    (port,) = free_ports(1)
    server = RedisServer(port, tmp_path, ("--port", str(port), "--requirepass", "s3cret"))
    server.client = lambda: redis.Redis(port=port, password="s3cret")  # type: ignore[method-assign]
    server.start()
    base = f"127.0.0.1:{port}/11"

    async def ping(client: RespClient) -> Any:
        return await client.execute("PING")

    try:
        assert run(f"redis://:s3cret@{base}", ping) == b"PONG"
        assert run(f"redis://default:s3cret@{base}", ping) == b"PONG"
        with pytest.raises(AuthenticationError, match="invalid username-password pair"):
            run(f"redis://:wrong@{base}", ping)
        with pytest.raises(AuthenticationError, match="Authentication required"):
            run(f"redis://{base}", ping)
    finally:
        server.stop()


def test_rediss_speaks_tls_with_the_urls_certificate_settings(tmp_path: Path, run: Run) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: no certificate for the TLS server")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    plain, tls = free_ports(2)
    conf = tmp_path / "tls.conf"
    conf.write_text(
        f"port {plain}\ntls-port {tls}\ntls-cert-file {cert}\ntls-key-file {key}\n"
        "tls-auth-clients no\n"
    )
    server = RedisServer(plain, tmp_path / "server", (str(conf),)).start()

    async def scenario(client: RespClient) -> Any:
        await client.execute("SET", "resp:tls", "1")
        return await client.execute("GET", "resp:tls")

    try:
        assert run(f"rediss://localhost:{tls}/11?ssl_ca_certs={cert}", scenario) == b"1"
        with pytest.raises(ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            run(f"rediss://localhost:{tls}/11", scenario)  # not signed by a known authority
    finally:
        server.stop()


def test_a_unix_socket_url_connects_there(tmp_path: Path, run: Run) -> None:
    (port,) = free_ports(1)
    socket = tmp_path / "redis.sock"
    arguments = ("--port", str(port), "--unixsocket", str(socket))
    server = RedisServer(port, tmp_path / "server", arguments).start()

    async def scenario(client: RespClient) -> Any:
        await client.execute("SET", "resp:unix", "1")
        return await client.execute("CLIENT", "INFO")

    try:
        info = run(f"unix://{socket}?db=11", scenario)
        assert b"db=11" in info and b"addr=/" in info  # the socket, the URL's database
    finally:
        server.stop()

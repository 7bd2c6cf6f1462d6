"""A backend's answer that the gateway cannot pass on as it came: a status HTTP does not have.

The HTTP client reads any three digits (`HTTP/1.1 999 Odd`); passed on, the server failed on
it as it wrote the response, so the client got no answer at all while the access log
recorded 999. Now it is the backend's failure (`BackendConnectionFailure`, 500).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.proxy.observed import Gateway, observed_directory
from tests.proxy.processes import free_port


@pytest.fixture(scope="module")
def odd_backend() -> Iterator[int]:
    """A backend of the test's own that answers every request `HTTP/1.1 999 Odd`."""
    port = free_port()
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = [
            line for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")
        ]
        if length:
            await reader.readexactly(int(length[0].split(b":")[1]))
        writer.write(
            b"HTTP/1.1 999 Odd\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
        )
        await writer.drain()
        writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", port)
        ready.set()
        async with server:
            await server.serve_forever()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    ready.wait(10)
    yield port
    for task in asyncio.all_tasks(loop):
        loop.call_soon_threadsafe(task.cancel)
    thread.join(10)


@pytest.fixture(scope="module")
def gateway(odd_backend: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway_yaml = f"""
backends:
  odd: {{url: "http://127.0.0.1:{odd_backend}/v1"}}
apis:
  odd: {{path: odd, style: openai, backend: odd, subscription-required: false}}
"""
    yield from observed_directory(tmp_path_factory.mktemp("odd"), gateway_yaml, {})


@pytest.mark.parametrize("stream", [False, True])
def test_a_backend_status_http_does_not_have_gets_a_500_not_a_dropped_connection(
    gateway: Gateway, stream: bool
) -> None:
    body = {"model": "m", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.post(f"{gateway.base}/odd/chat/completions", json=body, timeout=20)
    assert answer.status_code == 500
    assert answer.json()["message"] == (
        "The backend 'odd' answered with status 999, which HTTP does not have."
    )
    assert gateway.line_of(answer.headers["x-request-id"])["status"] == 500

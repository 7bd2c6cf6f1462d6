"""The backend call: its URL (set-backend-service's base-url, and where gateway.yaml's
`set-backend-service.allowed-urls` lets it send a request), and an answer the gateway cannot
pass on as it came: a status HTTP does not have. The HTTP client reads any three digits
(`HTTP/1.1 999 Odd`); passed on, the server failed on it as it wrote the response, so the
client got no answer at all while the access log recorded 999. Now it is the backend's
failure (`BackendConnectionFailure`, 500)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.config.backends import Backend, Credentials
from gateway.config.secrets import ConfigValue
from gateway.expressions.model import ContextModel, HeaderDictionary, RequestModel
from gateway.proxy.credentials import Credentials as BackendCredentials
from gateway.proxy.sessions import Sessions
from gateway.proxy.upstream import Upstream
from gateway.runtime.context import RequestContext
from gateway.runtime.forwarding import ForwardOptions
from tests.proxy.observed import Gateway, observed_directory
from tests.proxy.processes import fake_providers, free_port, raw_paths_received, serving

FROM_HEADER = """<policies>
    <inbound>
        <set-backend-service base-url='@(context.Request.Headers.GetValueOrDefault("x-backend", ""))' />
    </inbound>
    <backend><forward-request timeout="10" /></backend>
    <outbound />
</policies>"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    """A gateway that sends each request to the base URL its `x-backend` header names, with
    one fake provider's /allowed listed and another provider not."""
    root = Path(tmp_path_factory.mktemp("base-urls"))
    with fake_providers(2) as (listed, other):
        (root / "gateway.yaml").write_text(
            f"""
backends:
  fake: {{url: "http://127.0.0.1:{listed}/v1", provider: openai}}
apis:
  chat: {{path: llm, style: openai, backend: fake, subscription-required: false}}
set-backend-service:
  allowed-urls: ["http://127.0.0.1:{listed}/allowed/"]
"""
        )
        (root / "global.xml").write_text(FROM_HEADER)
        with serving(root) as url:
            yield url, listed, other


def chat_to(gateway: str, base_url: str) -> httpx.Response:
    return httpx.post(
        f"{gateway}/llm/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-backend": base_url},
        timeout=10,
    )


def test_a_base_url_under_an_allowed_prefix_is_called(gateway: tuple[str, int, int]) -> None:
    url, listed, _ = gateway
    raw_paths_received(listed)
    chat_to(url, f"HTTP://127.0.0.1:{listed}/allowed/./x")  # the fake answers it 404
    assert raw_paths_received(listed) == ["/allowed/x/chat/completions"]


def test_a_base_url_from_a_request_header_naming_an_unlisted_host_is_refused(
    gateway: tuple[str, int, int],
) -> None:
    url, _, other = gateway
    raw_paths_received(other)
    answer = chat_to(url, f"http://127.0.0.1:{other}/v1")
    assert (answer.status_code, raw_paths_received(other)) == (500, [])
    assert "set-backend-service.allowed-urls" in answer.text


@pytest.mark.parametrize(
    "path", ["/allowed/../admin", "/allowed/%2e%2e/admin", "/allowed/..%2fadmin", "/allowedx"]
)
def test_a_base_url_climbing_out_of_an_allowed_prefix_is_refused(
    gateway: tuple[str, int, int], path: str
) -> None:
    url, listed, _ = gateway
    raw_paths_received(listed)
    answer = chat_to(url, f"http://127.0.0.1:{listed}{path}")
    assert (answer.status_code, raw_paths_received(listed)) == (500, [])


def test_an_unreadable_base_url_is_refused_with_what_to_fix(
    gateway: tuple[str, int, int],
) -> None:
    url, listed, _ = gateway
    raw_paths_received(listed)
    answer = chat_to(url, "http://[::1/v1")
    assert (answer.status_code, raw_paths_received(listed)) == (500, [])
    assert "Invalid IPv6 URL" in answer.text and "scheme://host[:port]/path" in answer.text


def test_a_backend_url_from_the_environment_that_cannot_be_read_is_a_500_naming_the_variable(
    tmp_path: Path,
) -> None:
    (tmp_path / "gateway.yaml").write_text(
        """
backends:
  fake: {url: "${env:AIGW_TEST_BACKEND_URL}", provider: openai}
apis:
  chat: {path: llm, style: openai, backend: fake, subscription-required: false}
"""
    )
    # The value may hold a password: the answer names the variable, never the value.
    env = {**os.environ, "AIGW_TEST_BACKEND_URL": "http://user:hunter2@[::1/v1"}
    with serving(tmp_path, env) as url:
        answer = chat_to(url, "")
    assert answer.status_code == 500
    message = answer.json()["message"]
    assert "${env:AIGW_TEST_BACKEND_URL} cannot be read (Invalid IPv6 URL)" in message
    assert "hunter2" not in message


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

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):  # how the fixture stops it
            loop.run_until_complete(serve())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    yield port
    for task in asyncio.all_tasks(loop):
        loop.call_soon_threadsafe(task.cancel)
    thread.join(10)


@pytest.fixture(scope="module")
def odd_gateway(odd_backend: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway_yaml = f"""
backends:
  odd: {{url: "http://127.0.0.1:{odd_backend}/v1"}}
apis:
  odd: {{path: odd, style: openai, backend: odd, subscription-required: false}}
"""
    yield from observed_directory(tmp_path_factory.mktemp("odd"), gateway_yaml, {})


@pytest.mark.parametrize("stream", [False, True])
def test_a_backend_status_http_does_not_have_gets_a_500_not_a_dropped_connection(
    odd_gateway: Gateway, stream: bool
) -> None:
    body = {"model": "m", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.post(f"{odd_gateway.base}/odd/chat/completions", json=body, timeout=20)
    assert answer.status_code == 500
    assert answer.json()["message"] == (
        "The backend 'odd' answered with status 999, which HTTP does not have."
    )
    assert odd_gateway.line_of(answer.headers["x-request-id"])["status"] == 500


def test_the_backend_gets_its_credentials_once_in_place_of_the_clients() -> None:
    """The head of a call without redirects (its credential lines formatted once per backend,
    gateway.proxy.credentials) is the head the per-call way makes (a call that follows
    redirects): the client's copy of a credential header is not sent on, ours goes once."""
    heads: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()

    async def scenario() -> int:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = int(server.sockets[0].getsockname()[1])
        backend = Backend(
            id="b",
            url=ConfigValue(f"http://127.0.0.1:{port}/v1"),
            credentials=Credentials(headers={"Authorization": ConfigValue("Bearer ours")}),
        )
        upstream = Upstream({"b": backend}, Sessions(), BackendCredentials())
        for follow in (False, True):
            client = {"authorization": "Bearer theirs", "X-Mine": "1"}
            request = RequestModel(Method="GET", Headers=HeaderDictionary(client))
            context = RequestContext(ContextModel(Request=request), backend_path="/chat")
            await upstream.send(context, ForwardOptions(10, follow_redirects=follow), "b")
            assert context.model.Response.Body is not None
        server.close()
        return port

    port = asyncio.run(scenario())
    sent = f"GET /v1/chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Mine: 1\r\n"
    assert heads == [(sent + "Authorization: Bearer ours\r\n\r\n").encode()] * 2
